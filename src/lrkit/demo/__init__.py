"""``lrkit demo``: train one small network per schedule on real data and show which trains fastest.

The experiment: a multi-layer perceptron 784-256-10 (ReLU, softmax cross-entropy) on
Fashion-MNIST (:mod:`lrkit.demo.data`; scikit-learn's digits when Fashion-MNIST is not installed),
trained with SGD with momentum 0.9, batch 128, once per schedule, from the same initial weights
and in the same data order (one seed). It prints a table (final and best test accuracy, the
first epoch that reaches the target accuracy, wall time) and writes to ``lrkit-demo/``:
``schedules.png`` (the seed's chart of the schedules), ``accuracy.png`` (test accuracy after
each epoch), ``report.md`` (both charts, the table, the recipes) and ``results.json``.

The schedules (:func:`recipes`) are the seed's five with the seed's own parameters scaled to
this model and budget, plus a cosine decay and a 1cycle:

- **rates** x (peak / 0.001): the seed's schedules peak at 0.001 (the default rate of Keras'
  Adam); SGD with momentum on this model trains best with peaks of 0.05 to 0.1. Each
  schedule's peak is the one the training benchmark's sweep picked, on a validation split of
  the training set, for a budget of 8 epochs (:data:`PEAKS`).
- **time** x (epochs / 50): the seed's constants describe about 50 epochs (its exponential
  decay has fallen to 1% by then, its one-cycle has reached its floor); the demo trains for
  ``--epochs`` (default 8), so decay constants are multiplied and ramp lengths divided by
  ``50 / epochs``.

The rate is set at each epoch's start by the drop-in callback
:class:`lrkit.keras.LearningRateScheduler`, exactly as in the seed (``--update epoch``, the
default). ``--update step`` sets it before every update instead (``t = step /
steps_per_epoch`` epochs, computed inside Keras' train step by :func:`lrkit.keras.schedule`),
as the training benchmark does: on short budgets that is worth a few tenths of a point.
``--framework torch`` runs the same experiment in a plain PyTorch loop driven by
:class:`lrkit.torch.LRScheduler`.

Progress bars go to standard error; the table (Markdown) to standard output.

The package, one job per module: :mod:`~lrkit.demo.data` (the datasets),
:mod:`~lrkit.demo.recipes` (the experiment's constants and schedules), :mod:`~lrkit.demo.runs`
(a run's record, the progress bar), :mod:`~lrkit.demo.keras_mlp` and
:mod:`~lrkit.demo.torch_mlp` (the model and training loop per framework),
:mod:`~lrkit.demo.training` (:func:`train`), :mod:`~lrkit.demo.report` (table, charts,
``report.md``) and :mod:`~lrkit.demo.cli` (``lrkit demo``). The text task (``--task text``):
:mod:`~lrkit.demo.text_data` (Python's own source as bytes), :mod:`~lrkit.demo.text_recipes`
(its schedules), :mod:`~lrkit.demo.gpt` (the transformer and its PyTorch training loop) and
:mod:`~lrkit.demo.text` (its runs, table, charts and report). It uses only lrkit's public API.
"""

from __future__ import annotations

from lrkit.demo.cli import DemoError, add_arguments, main, resolve_schedules, run
from lrkit.demo.recipes import (
    BATCH_SIZE,
    DEFAULT_EPOCHS,
    HIDDEN,
    MOMENTUM,
    PEAKS,
    RECIPES,
    SEED_HORIZON,
    SEED_LR,
    TARGET,
    recipe,
    recipes,
)
from lrkit.demo.report import (
    accuracy_chart,
    describe_machine,
    machine,
    results_table,
    schedules_chart,
    summary,
    write_report,
)
from lrkit.demo.runs import Progress, Run
from lrkit.demo.training import train

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_EPOCHS",
    "HIDDEN",
    "MOMENTUM",
    "PEAKS",
    "RECIPES",
    "SEED_HORIZON",
    "SEED_LR",
    "TARGET",
    "DemoError",
    "Progress",
    "Run",
    "accuracy_chart",
    "add_arguments",
    "describe_machine",
    "machine",
    "main",
    "recipe",
    "recipes",
    "resolve_schedules",
    "results_table",
    "run",
    "schedules_chart",
    "summary",
    "train",
    "write_report",
]
