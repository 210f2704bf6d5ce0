"""``lrkit demo``: train one small network per schedule on real data and show which trains fastest.

The experiment: a multi-layer perceptron 784-256-10 (ReLU, softmax cross-entropy) on
Fashion-MNIST (:mod:`lrkit.data`; scikit-learn's digits when Fashion-MNIST is not installed),
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
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

import lrkit
from lrkit._core import Schedule

if TYPE_CHECKING:
    from lrkit.data import Dataset

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_EPOCHS",
    "HIDDEN",
    "MOMENTUM",
    "PEAKS",
    "RECIPES",
    "SEED_HORIZON",
    "TARGET",
    "Progress",
    "Run",
    "add_arguments",
    "main",
    "recipe",
    "recipes",
    "results_table",
    "run",
    "train",
]

HIDDEN = 256
BATCH_SIZE = 128
MOMENTUM = 0.9
DEFAULT_EPOCHS = 8
#: The demo's default target: at its 8 epochs the constant rate stays below it (about 87.3%
#: here) while cosine and 1cycle pass it; the benchmark's thresholds are 88.5% and 89%.
TARGET = 0.88
#: The rate the seed's schedules peak at (its ``start_lr``/``max_lr``).
SEED_LR = 0.001
#: The number of epochs the seed's constants describe; :func:`recipe` compresses it to the budget.
SEED_HORIZON = 50.0
#: Steps the train step runs per call from Python (Keras' ``steps_per_execution``): an epoch is
#: about 3x faster than one call per batch on 2 cores. Per-batch callbacks need 1.
STEPS_PER_EXECUTION = 50

#: The schedules of the demo, in the order they are shown.
RECIPES = (
    "constant",
    "time_based_decay",
    "exponential_decay",
    "constant_then_exponential_decay",
    "one_cycle",
    "cosine",
    "onecycle",
)

#: Each recipe's peak rate: the one the training benchmark's sweep picked for a budget of 8
#: epochs (validation split of the training set); see ``benchmarks/results/training.md``.
PEAKS: dict[str, float] = {
    "constant": 0.05,
    "time_based_decay": 0.05,
    "exponential_decay": 0.1,
    "constant_then_exponential_decay": 0.1,
    "one_cycle": 0.1,
    "cosine": 0.1,
    "onecycle": 0.05,
}


def recipe(name: str, epochs: float, peak: float) -> Schedule:
    """The demo's schedule ``name`` for a budget of ``epochs``, peaking at ``peak``.

    The seed's five keep the seed's shapes: rates scaled by ``peak / 0.001``, time by
    ``epochs / 50`` (see the module documentation). ``cosine`` decays from ``peak`` to 0 at
    ``epochs``; ``onecycle`` is PyTorch's/optax's 1cycle (30% warm-up from ``peak / 25``,
    cosine annealing to ``peak / 250000`` at ``epochs``).

    >>> from lrkit.demo import recipe
    >>> recipe("exponential_decay", epochs=10, peak=0.1)
    exponential_decay(start_lr=0.1, exp_decay=0.5)
    >>> recipe("one_cycle", epochs=10, peak=0.1)(2)        # the seed's ramp ends at 10 * 10/50
    0.1
    """
    if name not in RECIPES:
        raise ValueError(f"Argument `name` must be one of {RECIPES}. Received: name={name!r}")
    if not (isinstance(epochs, int | float) and epochs > 0):
        raise ValueError(f"Argument `epochs` must be > 0. Received: epochs={epochs!r}")
    if not (isinstance(peak, int | float) and peak > 0):
        raise ValueError(f"Argument `peak` must be > 0. Received: peak={peak!r}")
    scale = peak / SEED_LR
    speed = SEED_HORIZON / epochs  # > 1 when the budget is shorter than the seed's horizon

    def r(x: float) -> float:  # a rounded constant keeps the text form readable
        return float(f"{x:.6g}")

    if name == "constant":
        return lrkit.constant(start_lr=r(0.001 * scale))
    if name == "time_based_decay":
        return lrkit.time_based_decay(start_lr=r(0.001 * scale), decay=r(0.1 * speed))
    if name == "exponential_decay":
        return lrkit.exponential_decay(start_lr=r(0.001 * scale), exp_decay=r(0.1 * speed))
    if name == "constant_then_exponential_decay":
        return lrkit.constant_then_exponential_decay(
            start_lr=r(0.001 * scale), rampup_epochs=r(10 / speed), exp_decay=r(0.1 * speed)
        )
    if name == "one_cycle":
        return lrkit.one_cycle(
            start_lr=r(0.0001 * scale),
            min_lr=r(0.00001 * scale),
            max_lr=r(0.001 * scale),
            rampup_epochs=r(10 / speed),
            sustain_epochs=0,
            exp_decay=r(0.8**speed),
        )
    if name == "cosine":
        return lrkit.cosine(start_lr=r(peak), decay_steps=epochs)
    return lrkit.one_cycle_policy(max_lr=r(peak), total_steps=epochs)


def recipes(epochs: float, peaks: Mapping[str, float] | None = None) -> dict[str, Schedule]:
    """Every recipe of :data:`RECIPES` for ``epochs``, with :data:`PEAKS` (or ``peaks``)."""
    chosen = {**PEAKS, **(peaks or {})}
    return {name: recipe(name, epochs, chosen[name]) for name in RECIPES}


# -- training ------------------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    """One training run: what was trained and the test accuracy after each epoch."""

    name: str
    schedule: Schedule
    test_accuracy: list[float]
    seconds: float
    seed: int = 0

    @property
    def final(self) -> float:
        """Test accuracy after the last epoch."""
        return self.test_accuracy[-1]

    @property
    def best(self) -> float:
        return max(self.test_accuracy)

    @property
    def best_epoch(self) -> int:
        """The (1-based) epoch after which the test accuracy was highest."""
        return int(np.argmax(self.test_accuracy)) + 1

    def first_reaching(self, target: float) -> int | None:
        """The first (1-based) epoch after which the test accuracy is >= ``target``."""
        return next((i + 1 for i, a in enumerate(self.test_accuracy) if a >= target), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "schedule": self.schedule.spec(),
            "config": self.schedule.to_config(),
            "seed": self.seed,
            "test_accuracy": [round(a, 5) for a in self.test_accuracy],
            "seconds": round(self.seconds, 2),
        }


class Progress:
    """A one-line progress bar per run on a terminal; a line per finished run elsewhere."""

    def __init__(self, stream: TextIO | None = None, width: int = 24) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = ""
        self.start = time.perf_counter()

    def begin(self, label: str) -> None:
        self.label, self.start = label, time.perf_counter()
        self.update(0.0, "")

    def update(self, fraction: float, status: str) -> None:
        if not self.live:
            return
        done = round(self.width * min(max(fraction, 0.0), 1.0))
        bar = "#" * done + "." * (self.width - done)
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r{self.label:<34} [{bar}] {status:<26} {elapsed:6.1f}s")
        self.stream.flush()

    def end(self, status: str) -> None:
        elapsed = time.perf_counter() - self.start
        if self.live:
            self.update(1.0, status)
            self.stream.write("\n")
        else:
            self.stream.write(f"{self.label:<34} {status:<26} {elapsed:6.1f}s\n")
        self.stream.flush()


def train(
    data: Dataset,
    schedule: Schedule,
    *,
    epochs: int,
    seed: int = 0,
    name: str = "",
    framework: str = "keras",
    update: str = "epoch",
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> Run:
    """Train the demo's MLP on ``data`` with ``schedule`` (in epochs) for ``epochs`` epochs.

    ``update="step"`` sets the rate before every update to ``schedule(step / steps_per_epoch)``;
    ``update="epoch"`` sets it at each epoch's start to ``schedule(epoch)``. The test accuracy
    is measured after every epoch. ``framework`` is ``"keras"`` (on the active Keras backend)
    or ``"torch"`` (a plain PyTorch loop).
    """
    if framework not in ("keras", "torch"):
        raise ValueError(
            f"Argument `framework` must be 'keras' or 'torch'. Received: framework={framework!r}"
        )
    if update not in ("step", "epoch"):
        raise ValueError(
            f"Argument `update` must be 'step' or 'epoch'. Received: update={update!r}"
        )
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"Argument `epochs` must be an integer >= 1. Received: epochs={epochs!r}")
    fit = _train_keras if framework == "keras" else _train_torch
    if progress is not None:
        progress.begin(name or schedule.spec())
    start = time.perf_counter()
    accuracy = fit(data, schedule, epochs, seed, update, batch_size, progress)
    result = Run(name or schedule.spec(), schedule, accuracy, time.perf_counter() - start, seed)
    if progress is not None:
        progress.end(f"final {result.final:.2%}  best {result.best:.2%}")
    return result


def _status(epoch: int, epochs: int, accuracy: float | None) -> str:
    shown = "" if accuracy is None else f"  test {accuracy:.2%}"
    return f"epoch {epoch}/{epochs}{shown}"


def _train_keras(
    data: Dataset,
    schedule: Schedule,
    epochs: int,
    seed: int,
    update: str,
    batch_size: int,
    progress: Progress | None,
) -> list[float]:
    import keras

    import lrkit.keras

    # One model per run: TensorFlow would warn that each new train step is "retraced".
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    keras.backend.clear_session()  # forget earlier runs' models (memory, layer names)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((data.features,)),
            keras.layers.Dense(HIDDEN, activation="relu"),
            keras.layers.Dense(len(data.classes)),
        ]
    )
    steps = math.ceil(len(data.x_train) / batch_size)
    callbacks: list[Any] = []
    if update == "step":
        rate: Any = lrkit.keras.schedule(schedule, steps_per_epoch=steps)
    else:
        rate = float(schedule(0))
        callbacks.append(lrkit.keras.LearningRateScheduler(schedule))
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=rate, momentum=MOMENTUM),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        steps_per_execution=min(STEPS_PER_EXECUTION, steps),
    )
    if progress is not None:
        callbacks.append(_keras_progress(keras, progress, epochs, steps))
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=batch_size,
        epochs=epochs,
        shuffle=True,
        validation_data=(data.x_test, data.y_test),
        validation_batch_size=1000,
        callbacks=callbacks,
        verbose=0,
    )
    return [float(a) for a in history.history["val_accuracy"]]


def _keras_progress(keras: Any, progress: Progress, epochs: int, steps: int) -> Any:
    class KerasProgress(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epoch = epoch
            self.accuracy: float | None = getattr(self, "accuracy", None)

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            fraction = (self.epoch + (batch + 1) / steps) / epochs
            progress.update(fraction, _status(self.epoch + 1, epochs, self.accuracy))

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.accuracy = float((logs or {}).get("val_accuracy", math.nan))
            progress.update((epoch + 1) / epochs, _status(epoch + 1, epochs, self.accuracy))

    return KerasProgress()


def _train_torch(
    data: Dataset,
    schedule: Schedule,
    epochs: int,
    seed: int,
    update: str,
    batch_size: int,
    progress: Progress | None,
) -> list[float]:
    import torch

    from lrkit.torch import LRScheduler

    torch.manual_seed(seed)
    hidden, output = (
        torch.nn.Linear(data.features, HIDDEN),
        torch.nn.Linear(HIDDEN, len(data.classes)),
    )
    model = torch.nn.Sequential(hidden, torch.nn.ReLU(), output)
    for layer in (hidden, output):  # Keras' initialisation, so both frameworks start alike
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    x_train, y_train = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    x_test, y_test = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    n = len(x_train)
    steps = math.ceil(n / batch_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=float(schedule(0)), momentum=MOMENTUM)
    per_step = update == "step"
    scheduler = LRScheduler(
        optimizer, schedule, unit="epoch", steps_per_epoch=steps if per_step else None
    )
    generator = torch.Generator().manual_seed(seed)
    loss_fn = torch.nn.CrossEntropyLoss()
    accuracy: list[float] = []
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(n, generator=generator)
        for batch in range(steps):
            index = order[batch * batch_size : (batch + 1) * batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x_train[index]), y_train[index]).backward()
            optimizer.step()
            if per_step:
                scheduler.step()
            if progress is not None and batch % 50 == 49:
                last = accuracy[-1] if accuracy else None
                progress.update(
                    (epoch + (batch + 1) / steps) / epochs, _status(epoch + 1, epochs, last)
                )
        if not per_step:
            scheduler.step()
        model.eval()
        with torch.no_grad():
            correct = (model(x_test).argmax(dim=1) == y_test).sum().item()
        accuracy.append(correct / len(x_test))
        if progress is not None:
            progress.update((epoch + 1) / epochs, _status(epoch + 1, epochs, accuracy[-1]))
    return accuracy


# -- results -------------------------------------------------------------------------------


def _percent(x: float) -> str:
    return f"{100 * x:.2f}%"


def results_table(runs: Sequence[Run], target: float = TARGET) -> str:
    """The results as a Markdown table: one row per run, in order.

    >>> from lrkit.demo import Run, results_table
    >>> run = Run("cosine", lrkit.cosine(0.1, 3), [0.80, 0.885, 0.884], seconds=4.0)
    >>> print(results_table([run], target=0.885))
    | schedule | final test acc | best test acc (epoch) | first epoch >= 88.5% | wall time |
    |----------|---------------:|----------------------:|---------------------:|----------:|
    | cosine   |         88.40% |            88.50% (2) |                    2 |     4.0 s |
    """
    header = (
        "schedule",
        "final test acc",
        "best test acc (epoch)",
        f"first epoch >= {100 * target:.1f}%",
        "wall time",
    )
    rows = []
    for r in runs:
        first = r.first_reaching(target)
        rows.append(
            (
                r.name,
                _percent(r.final),
                f"{_percent(r.best)} ({r.best_epoch})",
                "-" if first is None else str(first),
                f"{r.seconds:.1f} s",
            )
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    lines.append(
        "|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|"
    )
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(runs: Sequence[Run], target: float = TARGET) -> str:
    """One line: which schedule reached the target first, and which ended highest."""
    reached = [(first, -r.final, r.name) for r in runs if (first := r.first_reaching(target))]
    best = max(runs, key=lambda r: r.final)
    if reached:
        first, _, name = min(reached)
        fastest = f"first to {100 * target:.1f}%: {name} (after {first} epochs)"
    else:
        fastest = f"no schedule reached {100 * target:.1f}%"
    return f"{fastest}; highest final accuracy: {best.name} ({_percent(best.final)})"


def machine() -> dict[str, Any]:
    """The machine and library versions, for reports."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    versions = {
        "python": platform.python_version(),
        "lrkit": lrkit.__version__,
        "numpy": np.__version__,
    }
    for module in ("keras", "tensorflow", "jax", "torch"):
        if module in sys.modules:
            versions[module] = str(getattr(sys.modules[module], "__version__", "?"))
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "system": f"{platform.system()} {platform.release()}",
        "versions": versions,
    }


def describe_machine(info: Mapping[str, Any]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    return (
        f"{info['cpus_usable'] or info['cpus']} CPUs ({info['cpu']}), {info['system']}; {versions}"
    )


# -- charts and report ---------------------------------------------------------------------


def schedules_chart(
    schedules: Mapping[str, Schedule], path: Path, epochs: int, steps_per_epoch: int | None
) -> Path:
    """The seed's chart: every schedule's rate over the budget, on an axis in epochs: every
    update's rate (per update), or each epoch's rate drawn flat within the epoch (per epoch)."""
    from lrkit import plot

    title = f"The schedules over {epochs} epochs"
    update = "epoch" if steps_per_epoch is None else "step"
    fig = plot.figure(
        dict(schedules), epochs, steps_per_epoch=steps_per_epoch, update=update, title=title
    )
    fig.savefig(path, dpi=120)
    return path


def accuracy_chart(runs: Sequence[Run], path: Path, target: float, title: str) -> Path:
    """Test accuracy after each epoch, one line per run, the target dashed."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for r in runs:
        epochs = np.arange(1, len(r.test_accuracy) + 1)
        ax.plot(epochs, 100 * np.asarray(r.test_accuracy), marker="o", markersize=3, label=r.name)
    ax.axhline(
        100 * target, color="grey", linestyle="--", linewidth=1, label=f"target {100 * target:g}%"
    )
    # Zoom on the end of training, where schedules differ; early epochs may fall below.
    top = max(max(r.best for r in runs), target)
    lowest = min(min(r.test_accuracy) for r in runs)
    bottom = max(lowest, min(min(r.final for r in runs), target) - 0.02)
    ax.set_ylim(100 * bottom - 0.3, 100 * top + 0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    fig.savefig(path, dpi=120)
    return path


def write_report(
    out: Path,
    runs: Sequence[Run],
    *,
    data: Dataset,
    setup: Mapping[str, Any],
    target: float,
    command: str,
) -> Path:
    """``report.md``: the setup, the table, both charts, the recipes and how to reproduce."""
    from lrkit.data import describe

    info = machine()
    update = (
        "before every update, to schedule(step / steps_per_epoch), computed in the train step"
        if setup["update"] == "step"
        else "at each epoch's start, to schedule(epoch), by the drop-in callback"
    )
    recipe_rows = "\n".join(f"| {r.name} | `{r.schedule.spec()}` |" for r in runs)
    first_line = summary(runs, target)
    text = f"""# lrkit demo: which schedule trains fastest?

{describe(data)}. A multi-layer perceptron {data.features}-{HIDDEN}-{len(data.classes)} (ReLU) \
trained with SGD (momentum {MOMENTUM}, batch {setup["batch_size"]}) for {setup["epochs"]} epochs, \
once per schedule, from the same initial weights and in the same data order (seed \
{setup["seed"]}); {setup["framework"]}. The rate is set {update}.

## Results

{results_table(runs, target)}

{first_line[0].upper() + first_line[1:]}.

![Test accuracy after each epoch](accuracy.png)

One run per schedule and one seed: differences of a few tenths of a percent are within the \
noise between seeds. The training benchmark of the lrkit repository \
(`benchmarks/results/training.md`) has the full protocol: budgets of 3 to 15 epochs, two \
seeds, every schedule's peak tuned on a validation split.

## The schedules

![The schedules](schedules.png)

| name | schedule (lrkit text form, time in epochs) |
|------|------|
{recipe_rows}

The seed's five (`constant` to `one_cycle`) keep the seed's shapes and parameters, scaled to \
this model and budget. Rates are multiplied by peak / {SEED_LR}: the seed's schedules peak at \
{SEED_LR}, while SGD with momentum on this model trains best with peaks of 0.05 to 0.1 (each \
schedule's peak is the one the training benchmark's sweep picked at 8 epochs). Time is \
compressed by {setup["epochs"]} / {SEED_HORIZON:g}: the seed's constants describe about \
{SEED_HORIZON:g} epochs (its exponential decay is down to 1% by then). `cosine` decays to 0 \
over the budget; `onecycle` is the 1cycle of PyTorch and optax (30% warm-up from peak / 25, \
then down to peak / 250,000).

## Reproduce

```
{command}
```

Machine: {describe_machine(info)}.
"""
    path = out / "report.md"
    path.write_text(text, encoding="utf-8")
    return path


# -- the command ---------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``lrkit demo``."""
    parser.add_argument(
        "--epochs",
        type=int,
        default=DEFAULT_EPOCHS,
        help=f"training budget in epochs (default {DEFAULT_EPOCHS}); every schedule spans it",
    )
    parser.add_argument(
        "--schedules",
        nargs="+",
        metavar="SPEC",
        help="schedules to compare: names of the demo's recipes (" + ", ".join(RECIPES) + ") "
        'or text forms with time in epochs, e.g. "cosine(0.05, 8)" (default: all recipes)',
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="directory with the Fashion-MNIST IDX files (default: $LRKIT_DATA, "
        "/usr/share/datasets/fashion-mnist, ~/.keras/datasets/fashion-mnist; "
        "scikit-learn's digits when none has them)",
    )
    parser.add_argument(
        "--out",
        default="lrkit-demo",
        metavar="DIR",
        help="where to write the charts, report.md and results.json (default lrkit-demo)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--backend",
        choices=("tensorflow", "jax", "torch"),
        help="Keras backend (default: $KERAS_BACKEND, else tensorflow)",
    )
    parser.add_argument(
        "--framework",
        choices=("keras", "torch"),
        default="keras",
        help="train with Keras (default) or a plain PyTorch loop (lrkit.torch.LRScheduler)",
    )
    parser.add_argument(
        "--update",
        choices=("step", "epoch"),
        default="epoch",
        help="set the rate once per epoch with the drop-in callback, as the seed does "
        "(default), or before every update, in-graph",
    )
    parser.add_argument(
        "--target",
        type=float,
        default=TARGET,
        help=f"test accuracy to reach, as a fraction (default {TARGET})",
    )


class DemoError(Exception):
    """Bad options: reported as one line."""


def resolve_schedules(specs: Sequence[str] | None, epochs: int) -> dict[str, Schedule]:
    """``{label: schedule}`` for ``--schedules``: recipe names or text forms (labelled as given)."""
    if not specs:
        return recipes(epochs)
    out: dict[str, Schedule] = {}
    for spec in specs:
        text = spec.strip()
        if text in RECIPES:
            out[text] = recipe(text, epochs, PEAKS[text])
            continue
        from lrkit.spec import SpecError, parse

        try:
            out[text] = parse(text)
        except SpecError as e:
            raise DemoError(f"--schedules {text!r}: {e}") from None
    return out


def _keras_backend(requested: str | None) -> str:
    """Select the Keras backend before Keras is imported; the backend in use."""
    if requested is not None:
        loaded = sys.modules.get("keras")
        if loaded is not None and loaded.backend.backend() != requested:
            raise DemoError(
                f"--backend {requested}: Keras is already running on "
                f"{loaded.backend.backend()} in this process"
            )
        os.environ["KERAS_BACKEND"] = requested
    import keras

    return str(keras.backend.backend())


def run(args: argparse.Namespace) -> int:
    """Run ``lrkit demo`` with parsed ``args``; the exit status."""
    try:
        return _run(args)
    except (DemoError, FileNotFoundError, ValueError) as e:
        print(f"lrkit demo: error: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from lrkit.data import describe, load

    if args.epochs < 1:
        raise DemoError(f"--epochs must be >= 1, got {args.epochs}")
    if not 0 < args.target <= 1:
        raise DemoError(f"--target is a fraction in (0, 1], got {args.target}")
    if args.framework == "torch" and args.backend is not None:
        raise DemoError("--backend selects Keras' backend; it has no effect with --framework torch")
    schedules = resolve_schedules(args.schedules, args.epochs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    data = load(args.data)
    if args.framework == "keras":
        backend = _keras_backend(args.backend)  # before anything imports Keras
        engine = f"Keras {_keras_version()} on {backend}"
    else:
        import torch

        engine = f"PyTorch {torch.__version__}"
    steps = math.ceil(len(data.x_train) / BATCH_SIZE)
    print(describe(data))
    print(
        f"MLP {data.features}-{HIDDEN}-{len(data.classes)}, SGD momentum {MOMENTUM}, batch "
        f"{BATCH_SIZE}, {args.epochs} epochs, {engine}, rate set every "
        f"{'update' if args.update == 'step' else 'epoch'}; {len(schedules)} schedules",
        flush=True,
    )
    progress = Progress()
    runs = [
        train(
            data,
            s,
            epochs=args.epochs,
            seed=args.seed,
            name=name,
            framework=args.framework,
            update=args.update,
            progress=progress,
        )
        for name, s in schedules.items()
    ]
    table = results_table(runs, args.target)
    print("\n" + table + "\n")
    print(summary(runs, args.target))

    setup = {
        "epochs": args.epochs,
        "seed": args.seed,
        "batch_size": BATCH_SIZE,
        "framework": engine,
        "update": args.update,
    }
    command = _command(args)
    schedules_chart(
        {r.name: r.schedule for r in runs},
        out / "schedules.png",
        args.epochs,
        steps if args.update == "step" else None,
    )
    accuracy_chart(runs, out / "accuracy.png", args.target, f"{data.name}: test accuracy")
    report = write_report(out, runs, data=data, setup=setup, target=args.target, command=command)
    results = {
        "data": describe(data),
        "setup": setup,
        "target": args.target,
        "runs": [r.to_json() for r in runs],
        "machine": machine(),
    }
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(
        f"wrote {report}, {out / 'schedules.png'}, {out / 'accuracy.png'}, {out / 'results.json'}"
    )
    return 0


def _keras_version() -> str:
    import keras

    return str(keras.__version__)


def _command(args: argparse.Namespace) -> str:
    """The ``lrkit demo`` command line that repeats this run (options left at defaults omitted)."""
    import shlex

    defaults = argparse.ArgumentParser()
    add_arguments(defaults)
    words = ["lrkit", "demo"]
    for option, value in vars(args).items():
        if option in ("command", "run") or value == defaults.get_default(option):
            continue
        values = value if isinstance(value, list) else [value]
        words += ["--" + option.replace("_", "-"), *(str(v) for v in values)]
    return " ".join(shlex.quote(w) for w in words)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lrkit.demo [options]``: the same as ``lrkit demo [options]``."""
    parser = argparse.ArgumentParser(prog="lrkit demo", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
