"""Train the demo's MLP with one schedule, in Keras or PyTorch: :func:`train`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from lrkit import Schedule
from lrkit.demo.keras_mlp import train_keras
from lrkit.demo.recipes import BATCH_SIZE
from lrkit.demo.runs import Progress, Run
from lrkit.demo.torch_mlp import train_torch

if TYPE_CHECKING:
    from lrkit.demo.data import Dataset

__all__ = ["train"]


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
    fit = train_keras if framework == "keras" else train_torch
    if progress is not None:
        progress.begin(name or schedule.spec())
    start = time.perf_counter()
    accuracy = fit(data, schedule, epochs, seed, update, batch_size, progress)
    result = Run(name or schedule.spec(), schedule, accuracy, time.perf_counter() - start, seed)
    if progress is not None:
        progress.end(f"final {result.final:.2%}  best {result.best:.2%}")
    return result
