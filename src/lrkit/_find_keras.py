"""The range test for a compiled Keras 3 model, on any backend: :func:`find_lr`.

Exposed as ``lrkit.keras.find_lr``. The loop, the smoothing, the stop rule and the result are
:mod:`lrkit.find`'s; this module trains one update per step with ``model.train_on_batch`` and
puts everything back afterwards.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

from lrkit.find import RangeTest, restore_global_random, run, save_global_random

__all__ = ["find_lr"]


class _Sweep(keras.optimizers.schedules.LearningRateSchedule):  # type: ignore[misc]
    """The sweep's rates as a table indexed by the optimizer's own counter: read inside the
    compiled train step on every backend, with the exact float32 of each recorded rate."""

    def __init__(self, rates: list[float], first_iteration: int, accumulation: int) -> None:
        self.table = np.asarray(rates, dtype="float32")
        self.first, self.accumulation = first_iteration, accumulation

    def __call__(self, step: Any) -> Any:
        k = keras.ops.floor_divide(keras.ops.cast(step, "int64") - self.first, self.accumulation)
        k = keras.ops.clip(k, 0, len(self.table) - 1)
        return keras.ops.take(keras.ops.convert_to_tensor(self.table), k)

    def get_config(self) -> dict[str, Any]:
        return {"rates": self.table.tolist(), "first_iteration": self.first}


def find_lr(
    model: Any,
    x: Any,
    y: Any = None,
    *,
    batch_size: int = 32,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exponential",
    beta: float = 0.98,
    diverge_threshold: float = 4.0,
    validation_data: tuple[Any, Any] | None = None,
    shuffle: bool = True,
    seed: int = 0,
    verbose: bool | str = "auto",
) -> RangeTest:
    """Run a learning-rate range test on a compiled Keras model, then restore it.

    Each of the ``num_steps`` steps is one optimizer update at the sweep's rate (see
    :mod:`lrkit.find`): ``model.train_on_batch`` on one batch, or on
    ``optimizer.gradient_accumulation_steps`` batches when the optimizer accumulates (the
    recorded loss is then their mean). ``x``/``y`` are arrays, cut into batches of
    ``batch_size`` in an order drawn from ``seed`` (the global generators are not used), and
    re-shuffled on each pass; or ``x`` is an iterable of ``(inputs, targets)`` batches (a
    ``tf.data.Dataset``, a ``keras.utils.PyDataset``, a generator) and ``y`` is None. With
    ``validation_data=(x_val, y_val)``, the recorded loss is the validation loss after each
    update (``model.test_on_batch`` over it, in batches of ``batch_size``).

    The optimizer's rate is driven by a table schedule indexed by its iteration counter, so
    the rate schedule or variable the model was compiled with is never assigned to; the
    train function is rebuilt for the test and the model's own put back afterwards.

    Afterwards, whether it returns, stops early, or is interrupted by an exception or
    ``KeyboardInterrupt`` (re-raised), the model's variables (weights, BatchNorm statistics,
    seed-generator states), its metrics' variables, the optimizer's variables (slots, the
    iteration counter, its rate) and its rate or schedule, and the global random states
    (Python, NumPy, Keras' global seed generator, and torch's on the torch backend) are
    exactly as before. An optimizer that was not built yet is built first (with its initial,
    zero state, which is what training would have built).

    Args:
        model: a compiled ``keras.Model``.
        x, y: the training data (see above).
        batch_size: samples per batch when ``x`` is an array.
        start_lr, end_lr, num_steps, mode, beta, diverge_threshold: the sweep, the smoothing
            and the stop rule (:func:`lrkit.find.check_settings`).
        validation_data: optional ``(x_val, y_val)``; its loss is what is recorded.
        shuffle, seed: the order of the array batches.
        verbose: a ``keras.utils.Progbar`` (rate and smoothed loss) on a terminal
            (``"auto"``), always (``True``) or never (``False``).

    Returns:
        The :class:`lrkit.RangeTest`.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"Argument `model` must be a keras.Model. Received: model={model!r}")
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        raise ValueError(
            "Argument `model` must be compiled with an optimizer and a loss "
            f"(model.compile(optimizer=..., loss=...)) before find_lr. Received: model={model!r} "
            "(not compiled)"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(
            f"Argument `batch_size` must be an integer >= 1. Received: batch_size={batch_size!r}"
        )
    rates = _rates(start_lr, end_lr, num_steps, mode)
    optimizer = model.optimizer
    accumulation = int(getattr(optimizer, "gradient_accumulation_steps", None) or 1)
    batches = _batches(x, y, batch_size, shuffle, seed)
    pending: list[Any] = []
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    saved = _save(model)  # before the first batch: drawing it may use the global generators
    bar = _progbar(num_steps, verbose)

    def step(k: int, rate: float) -> float:
        total = 0.0
        for _ in range(accumulation):
            xb, yb = pending.pop() if pending else next(batches)
            total += float(model.train_on_batch(xb, yb, return_dict=True)["loss"])
        if validation_data is None:
            return total / accumulation
        return _validation_loss(model, validation_data, batch_size)

    try:
        pending.append(next(batches))  # raises on empty data, before the first update
        iteration = int(keras.ops.convert_to_numpy(optimizer._iterations))
        optimizer._learning_rate = _Sweep(rates, iteration, accumulation)
        model.train_function = None  # traced anew: it reads the table schedule
        if keras.backend.backend() == "jax":
            # jax.jit caches traces by function, and the train function is jitted from the
            # bound method model.train_step: jitting it again would replay the trace that
            # read the old rate. A new function object is traced anew.
            cls = type(model)

            def train_step(state: Any, data: Any) -> Any:
                return cls.train_step(model, state, data)

            object.__setattr__(model, "train_step", train_step)
        return run(
            step,
            start_lr=start_lr,
            end_lr=end_lr,
            num_steps=num_steps,
            mode=mode,
            beta=beta,
            diverge_threshold=diverge_threshold,
            accumulation_steps=accumulation,
            monitor="train" if validation_data is None else "validation",
            progress=bar if bar is not None else False,
        )
    finally:
        _restore(model, saved)


def _rates(start_lr: float, end_lr: float, num_steps: int, mode: str) -> list[float]:
    from lrkit.find import check_settings, sweep_rates

    s = check_settings(start_lr, end_lr, num_steps, mode)
    return sweep_rates(s["start_lr"], s["end_lr"], s["num_steps"], s["mode"])


def _batches(x: Any, y: Any, batch_size: int, shuffle: bool, seed: int) -> Iterator[Any]:
    """Batches ``(inputs, targets)`` without end; a ValueError naming ``x`` when there are none."""
    if hasattr(x, "shape") or isinstance(x, list | tuple | dict):
        n = _length(x)
        if n == 0:
            shown = f"x with shape {_shape(x)}" if hasattr(x, "shape") else f"x={x!r:.80}"
            raise ValueError(f"Argument `x` has no samples. Received: {shown}")
        if y is not None and _length(y) != n:
            raise ValueError(
                f"Arguments `x` and `y` must have the same length. Received: {n} and {_length(y)}"
            )
        rng = np.random.default_rng(seed)  # private: the global generators are left alone

        def arrays() -> Iterator[Any]:
            while True:
                order = rng.permutation(n) if shuffle else np.arange(n)
                for i in range(0, n, batch_size):
                    index = order[i : i + batch_size]
                    yield _take(x, index), None if y is None else _take(y, index)

        return arrays()
    if y is not None:
        raise ValueError(
            "Argument `y` must be None when `x` is a dataset or an iterable of batches. "
            f"Received: y of type {type(y).__name__}"
        )

    def iterable() -> Iterator[Any]:
        while True:
            empty = True
            for batch in x:
                empty = False
                if isinstance(batch, list | tuple) and len(batch) >= 2:
                    yield batch[0], batch[1]
                else:
                    yield batch, None
            if empty:
                raise ValueError(f"Argument `x` has no batches. Received: x={x!r}")

    return iterable()


def _length(a: Any) -> int:
    if isinstance(a, dict):
        return _length(next(iter(a.values()))) if a else 0
    if isinstance(a, list | tuple) and a and hasattr(a[0], "shape"):
        return _length(a[0])  # several inputs
    return int(a.shape[0]) if hasattr(a, "shape") else len(a)


def _shape(a: Any) -> Any:
    return (
        getattr(a, "shape", None)
        if not isinstance(a, dict)
        else {k: _shape(v) for k, v in a.items()}
    )


def _take(a: Any, index: np.ndarray) -> Any:
    if isinstance(a, dict):
        return {k: _take(v, index) for k, v in a.items()}
    if isinstance(a, list | tuple) and a and hasattr(a[0], "shape"):
        return type(a)(_take(v, index) for v in a)
    return np.asarray(a)[index]


def _validation_loss(model: Any, data: tuple[Any, Any], batch_size: int) -> float:
    xv, yv = data
    n = _length(xv)
    total = 0.0
    for i in range(0, n, batch_size):
        index = np.arange(i, min(i + batch_size, n))
        size = len(index)
        loss = model.test_on_batch(_take(xv, index), _take(yv, index), return_dict=True)["loss"]
        total += float(loss) * size
    return total / n if n else math.nan


class _Progbar:
    """Keras' own progress bar, showing the rate and the smoothed loss."""

    def __init__(self, total: int) -> None:
        self.bar = keras.utils.Progbar(total, stateful_metrics=["lr", "loss"], unit_name="step")

    def update(self, step: int, rate: float, smoothed: float) -> None:
        self.bar.update(step, values=[("lr", rate), ("loss", smoothed)])

    def close(self) -> None:
        pass


def _progbar(total: Any, verbose: bool | str) -> _Progbar | None:
    on_terminal = hasattr(sys.stdout, "isatty") and sys.stdout.isatty()  # Progbar writes there
    if verbose is False or (verbose == "auto" and not on_terminal):
        return None
    return _Progbar(total if isinstance(total, int) else 0)


# -- saving and restoring ------------------------------------------------------------------


def _values(variables: Any) -> list[tuple[Any, np.ndarray]]:
    return [(v, np.array(keras.ops.convert_to_numpy(v.value), copy=True)) for v in variables]


def _save(model: Any) -> dict[str, Any]:
    from keras.src.backend.common import global_state

    optimizer = model.optimizer
    seed_generator = global_state.get_global_attribute("global_seed_generator")
    saved: dict[str, Any] = {
        "model": _values(model.variables),
        "metrics": _values(model.metrics_variables),
        "optimizer": _values(optimizer.variables),
        "learning_rate": optimizer._learning_rate,
        "train_function": model.train_function,
        "random": save_global_random(),
        "seed_generator": seed_generator,
        "seed_state": None if seed_generator is None else _values([seed_generator.state]),
    }
    if keras.backend.backend() == "torch":
        import torch

        saved["torch"] = torch.get_rng_state()
    return saved


def _restore(model: Any, saved: dict[str, Any]) -> None:
    from keras.src.backend.common import global_state

    optimizer = model.optimizer
    optimizer._learning_rate = saved["learning_rate"]
    model.train_function = saved["train_function"]
    if "train_step" in vars(model):  # the JAX backend's fresh train step (see find_lr)
        object.__delattr__(model, "train_step")
    for variable, value in (*saved["model"], *saved["optimizer"], *saved["metrics"]):
        variable.assign(value)
    known = {id(v) for v, _ in saved["metrics"]}
    for variable in model.metrics_variables:
        if id(variable) not in known:  # a metric built during the test: as a fresh one is
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
    restore_global_random(saved["random"])
    if saved["seed_generator"] is None:
        global_state.set_global_attribute("global_seed_generator", None)
    else:
        global_state.set_global_attribute("global_seed_generator", saved["seed_generator"])
        for variable, value in saved["seed_state"]:
            variable.assign(value)
    if "torch" in saved:
        import torch

        torch.set_rng_state(saved["torch"])
