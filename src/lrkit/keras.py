r"""Keras 3: a drop-in ``LearningRateScheduler`` (per epoch or per batch), in-graph schedules that
save and load, and plateau reduction on top of any schedule.

Importing this module imports Keras (on whichever backend it runs: TensorFlow, JAX or PyTorch)
and registers :class:`KerasSchedule` with Keras' serialization, under ``"lrkit>KerasSchedule"``.
Import it before ``keras.models.load_model`` reads a model saved with an lrkit schedule: Keras
imports nothing but its own packages while loading.

Two ways to drive the rate:

- **a callback** (:class:`LearningRateScheduler`, :class:`ReduceOnPlateau`) sets the optimizer's
  rate from Python, at the start of each epoch (the seed's way) or before every batch; it takes
  lrkit schedules and plain functions ``f(epoch)`` / ``f(epoch, lr)`` alike, and can drive other
  hyperparameters (momentum, ``beta_1``, weight decay) too;
- **in-graph** (:func:`schedule`): the optimizer evaluates the schedule inside its compiled
  train step at every update, and the schedule is saved with the model.

>>> import keras, lrkit, lrkit.keras
>>> s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=90), steps=10)
>>> optimizer = keras.optimizers.SGD(learning_rate=lrkit.keras.schedule(s))
>>> callback = lrkit.keras.LearningRateScheduler(s, unit="step")  # or per step, from Python
"""

from __future__ import annotations

import logging
import math
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

try:
    import keras
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("lrkit.keras needs Keras 3: pip install 'lrkit[keras]'") from e

if not hasattr(keras, "ops"):  # pragma: no cover - Keras 2 has no keras.ops
    raise ImportError(f"lrkit.keras needs Keras 3. Found Keras {keras.__version__}")

from lrkit import _validate as v
from lrkit._adapt import Clock, rate_source
from lrkit._core import Config, ConfigError, Schedule, from_config
from lrkit._ops import MATH, Array, Ops, is_real_number

__all__ = [
    "KerasOps",
    "KerasSchedule",
    "LearningRateScheduler",
    "ReduceOnPlateau",
    "schedule",
]

_KerasLRSchedule: Any = keras.optimizers.schedules.LearningRateSchedule
_Callback: Any = keras.callbacks.Callback


class KerasOps(Ops):
    """``keras.ops`` on the active backend's tensors, so a formula traces into a compiled step.

    >>> import keras, lrkit
    >>> from lrkit.keras import KerasOps
    >>> t = keras.ops.convert_to_tensor([0.0, 50.0, 100.0])
    >>> ops = KerasOps.of("float32")
    >>> keras.ops.convert_to_numpy(lrkit.cosine(0.1, 100).evaluate(t, ops)).round(6)
    array([0.1 , 0.05, 0.  ], dtype=float32)
    """

    @staticmethod
    def library() -> Any:
        return keras.ops

    def to_dtype(self, t: Any) -> Array:
        return keras.ops.cast(t, self.dtype)

    def full_like(self, x: Array, value: float) -> Array:
        return keras.ops.full_like(x, value, dtype=self.dtype)

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        return keras.ops.cast(keras.ops.where(cond, a, b), self.dtype)

    def minimum(self, a: Array, b: Array | float) -> Array:
        return keras.ops.minimum(a, b)

    def maximum(self, a: Array, b: Array | float) -> Array:
        return keras.ops.maximum(a, b)

    def clip(self, x: Array, lo: float, hi: float) -> Array:
        return keras.ops.clip(x, lo, hi)

    def np_dtype(self, t: Array) -> Any:
        return np.dtype(self.dtype)


# --------------------------------------------------------------------------------------
# In-graph schedules.
# --------------------------------------------------------------------------------------


class KerasSchedule(_KerasLRSchedule):  # type: ignore[misc]
    """An lrkit schedule as a Keras ``LearningRateSchedule``, evaluated in the train step.

    The optimizer calls it with its update counter ``step`` (0 for the first update) and it
    returns ``schedule(step)``, or ``schedule(step / steps_per_epoch)`` when the schedule counts
    epochs. It is computed with ``keras.ops`` in float32, inside the compiled step, on every
    backend. Its config is the lrkit config, so ``model.save`` / ``keras.models.load_model``
    restore it (no ``custom_objects``, safe mode) once ``lrkit.keras`` is imported.

    Build it with :func:`schedule`. Keras counts raw optimizer calls: with
    ``gradient_accumulation_steps=k`` the schedule sees micro-batches, k per update.
    """

    def __init__(self, schedule: Schedule, steps_per_epoch: float | None = None) -> None:
        if isinstance(schedule, _KerasLRSchedule) or not isinstance(schedule, Schedule):
            raise TypeError(
                f"Argument `schedule` must be an lrkit schedule. Received: schedule={schedule!r}"
            )
        schedule.to_config()  # a wrapped Python function has no config and cannot be traced
        if steps_per_epoch is not None:
            steps_per_epoch = v.positive("steps_per_epoch", steps_per_epoch)
        self.schedule = schedule
        self.steps_per_epoch = steps_per_epoch
        self._clock = Clock(steps_per_epoch)
        self._ops = KerasOps.of("float32")

    def __call__(self, step: Any) -> Any:
        # The clock's time, as every adapter and lrkit.stretch compute it (whole epochs, then
        # the remainder: exact epoch starts under XLA).
        t = self._clock.time(keras.ops.cast(step, "float32"), self._ops)
        return self.schedule.evaluate(keras.ops.maximum(t, 0.0), self._ops)

    def get_config(self) -> Config:
        return {"schedule": self.schedule.to_config(), "steps_per_epoch": self.steps_per_epoch}

    @classmethod
    def from_config(cls, config: Config) -> KerasSchedule:
        # A saved model is input like any config: refused with ConfigError, never KeyError.
        if not isinstance(config, dict) or not set(config) <= {"schedule", "steps_per_epoch"}:
            raise ConfigError(
                "A KerasSchedule config is a dict with the keys `schedule` and "
                f"`steps_per_epoch`. Received: {v.short(config)}"
            )
        if "schedule" not in config:
            raise ConfigError(
                f"A KerasSchedule config needs a `schedule` key. Received: {v.short(config)}"
            )
        return cls(from_config(config["schedule"]), config.get("steps_per_epoch"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KerasSchedule):
            return NotImplemented
        return (self.schedule, self.steps_per_epoch) == (other.schedule, other.steps_per_epoch)

    def __hash__(self) -> int:
        return hash((self.schedule, self.steps_per_epoch))

    def __repr__(self) -> str:
        per_epoch = (
            "" if self.steps_per_epoch is None else f", steps_per_epoch={self.steps_per_epoch}"
        )
        return f"KerasSchedule({self.schedule!r}{per_epoch})"


keras.saving.register_keras_serializable(package="lrkit")(KerasSchedule)


def schedule(s: Schedule, steps_per_epoch: float | None = None) -> KerasSchedule:
    """``s`` as a Keras ``LearningRateSchedule``, computed in-graph at every optimizer update.

    Give ``steps_per_epoch`` when ``s`` counts epochs: update ``k`` then uses
    ``s(k / steps_per_epoch)``. Without it ``s`` counts updates: update ``k`` uses ``s(k)``.
    Import ``lrkit.keras`` before ``keras.models.load_model`` reads a model saved with it.

    >>> import keras, lrkit, lrkit.keras
    >>> lr = lrkit.keras.schedule(lrkit.cosine(start_lr=0.1, decay_steps=10), steps_per_epoch=50)
    >>> optimizer = keras.optimizers.SGD(learning_rate=lr)
    >>> round(float(lr(250)), 6), round(float(lr(500)), 6)     # epoch 5 and epoch 10
    (0.05, 0.0)
    """
    return KerasSchedule(s, steps_per_epoch)


# --------------------------------------------------------------------------------------
# Callbacks.
# --------------------------------------------------------------------------------------


def _print(message: str) -> None:
    """Print the way Keras' own callbacks do (stdout, or the absl log when Keras is quiet)."""
    if keras.config.is_interactive_logging_enabled():
        sys.stdout.write(message + "\n")
        sys.stdout.flush()
    else:
        logging.getLogger("absl").info(message)


def _number(value: Any) -> float | None:
    """``value`` as a float if it is a real number or a scalar tensor/array, else ``None``."""
    if isinstance(value, bool | np.bool_):
        return None
    if is_real_number(value):
        return float(value)
    if isinstance(value, np.ndarray) or keras.ops.is_tensor(value):
        kind = keras.backend.standardize_dtype(value.dtype)
        if tuple(value.shape) == () and kind.startswith(("float", "int", "uint", "bfloat")):
            return _float(value)
    return None


def _rate_value(value: Any, t: float, what: str = "learning rate") -> float:
    """Check what a user's function returned: a finite number >= 0."""
    out = _number(value)
    if out is None:
        raise ValueError(f"The output of the `schedule` function should be a float. Got: {value}")
    if not math.isfinite(out) or out < 0:
        raise ValueError(
            f"The schedule returned {what}={value!r} at time {t!r}; "
            f"a {what} must be a finite number >= 0."
        )
    return out


def _time(t: float) -> float:
    """Whole times as ``int`` (Keras passes epochs as ints, and the seed's functions expect it)."""
    return int(t) if float(t).is_integer() else float(t)


def _float(x: Any) -> float:
    """A scalar tensor or Keras variable as a Python float."""
    if isinstance(x, keras.Variable):
        x = x.value
    if hasattr(x, "detach"):  # a torch tensor that requires grad warns on float()
        x = x.detach()
    return float(x)


def _iterations(optimizer: Any) -> int:
    return int(_float(optimizer.iterations))


class LearningRateScheduler(_Callback):  # type: ignore[misc]
    r"""Set the optimizer's learning rate from a schedule: a drop-in for Keras' own callback.

    ``schedule`` is an lrkit schedule, or a plain function ``f(epoch)`` or ``f(epoch, lr)`` as in
    ``keras.callbacks.LearningRateScheduler`` (``lr`` is the optimizer's current rate). Which
    of the two a function takes is read from its signature, so a ``TypeError`` raised inside
    it reaches you (Keras' callback retries with one argument and hides it).

    When the rate is set:

    - ``unit="epoch"`` (default), ``per_batch=False``: at the start of each epoch, to
      ``schedule(epoch)`` (0-based), exactly like Keras' callback;
    - ``unit="epoch"``, ``per_batch=True``: before every batch, to
      ``schedule(epoch + batch / steps_per_epoch)``; ``steps_per_epoch`` comes from ``fit``
      when Keras knows it (arrays, datasets of known length) and must be given otherwise;
    - ``unit="step"`` (always per batch): before every batch, to ``schedule(step)``, ``step``
      being ``optimizer.iterations``, the number of updates done so far (so a resumed model
      continues where it stopped).

    ``epoch`` is ``fit``'s own epoch index, so ``fit(initial_epoch=k)`` resumes the sequence.
    The rate is logged under ``learning_rate`` at each epoch's end (``History``, ``CSVLogger``),
    and ``verbose=1`` prints Keras' line once per epoch. The optimizer must hold a plain float
    rate: one built with a ``LearningRateSchedule`` cannot be set (use :func:`schedule` alone).

    Other hyperparameters: ``hyperparameters={"momentum": s_m, "beta_1": s_b, ...}`` sets each
    named optimizer attribute from its own schedule (same unit) at the start of every epoch and
    logs it. Keras compiles these attributes into the train step as constants, so a change
    rebuilds the train function (once per epoch at most; cheap next to an epoch of training).

    Args:
        schedule: an lrkit schedule, or a function ``f(epoch)`` / ``f(epoch, lr)``.
        verbose: 0 quiet, 1 print the rate set at each epoch's start.
        unit: ``"epoch"`` or ``"step"``, the unit ``schedule`` counts in.
        per_batch: update before every batch (default: ``True`` for steps, ``False`` for epochs).
        steps_per_epoch: batches per epoch, for ``per_batch`` epochs when Keras does not know.
        hyperparameters: optimizer attribute name -> lrkit schedule or ``f(epoch)``.

    >>> import numpy as np, keras, lrkit, lrkit.keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    >>> s = lrkit.step(start_lr=0.1, step_size=2, gamma=0.5)
    >>> history = model.fit(np.ones((8, 2)), np.ones(8), epochs=4, verbose=0,
    ...                     callbacks=[lrkit.keras.LearningRateScheduler(s)])
    >>> [round(lr, 6) for lr in history.history["learning_rate"]]
    [0.1, 0.1, 0.05, 0.05]
    """

    def __init__(
        self,
        schedule: Schedule | Callable[..., Any],
        verbose: int = 0,
        *,
        unit: str = "epoch",
        per_batch: bool | None = None,
        steps_per_epoch: int | None = None,
        hyperparameters: Mapping[str, Schedule | Callable[[Any], Any]] | None = None,
    ) -> None:
        super().__init__()
        self.schedule = schedule
        self._source = _source("schedule", schedule)
        self.verbose = verbose
        self.unit = v.choice("unit", unit, ("epoch", "step"))
        if per_batch is None:
            per_batch = unit == "step"
        self.per_batch = v.boolean("per_batch", per_batch)
        if unit == "step" and not per_batch:
            raise ValueError(
                "Argument `per_batch` must be True with unit='step': a schedule that counts "
                "optimizer steps is updated before every batch. Received: per_batch=False"
            )
        if steps_per_epoch is not None:
            steps_per_epoch = _count("steps_per_epoch", steps_per_epoch, minimum=1)
        self.steps_per_epoch = steps_per_epoch
        self.hyperparameters = _hyperparameters(hyperparameters)
        self._steps: int | None = None
        self._clock = Clock()
        self._epoch = 0

    # -- the rate ----------------------------------------------------------------------

    def _base_rate(self, t: float, optimizer: Any) -> tuple[float, Any]:
        """The schedule's value at ``t``, and the value as the user's function returned it."""
        source = self._source
        if source.function is None:
            if not isinstance(self.schedule, Schedule):  # f(epoch): show what it returned
                value = self.schedule(_time(t))
                return _rate_value(value, t), value
            value = self.schedule(t)
            return value, value
        current = _float(optimizer.learning_rate)
        value = source.function(_time(t), current)
        return _rate_value(value, t), value

    def _rate(self, t: float, optimizer: Any) -> tuple[float, Any]:
        return self._base_rate(t, optimizer)

    def _set_rate(self, t: float, epoch: int, announce: bool) -> None:
        optimizer = self.model.optimizer
        rate, shown = self._rate(t, optimizer)
        optimizer.learning_rate = rate
        if announce and self.verbose > 0:
            _print(f"\nEpoch {epoch + 1}: {type(self).__name__} setting learning rate to {shown}.")

    def _set_hyperparameters(self, epoch: int) -> None:
        if not self.hyperparameters:
            return
        optimizer = self.model.optimizer
        t = epoch if self.unit == "epoch" else _iterations(optimizer)
        changed = False
        for name, s in self.hyperparameters.items():
            value = float(s(t)) if isinstance(s, Schedule) else _rate_value(s(t), t, name)
            if value != getattr(optimizer, name):
                setattr(optimizer, name, value)
                changed = True
        if changed:  # the compiled step holds the old values as constants
            self.model.make_train_function(force=True)

    # -- Keras hooks -------------------------------------------------------------------

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        optimizer = self.model.optimizer
        _check_settable(optimizer, type(self).__name__)
        _check_hyperparameters(optimizer, self.hyperparameters)
        if self.per_batch:
            if getattr(self.model, "steps_per_execution", 1) != 1:
                raise ValueError(
                    f"{type(self).__name__}(per_batch=True) needs steps_per_execution=1 in "
                    "model.compile(): Keras calls callbacks once per "
                    f"{self.model.steps_per_execution} steps. Use lrkit.keras.schedule(...) "
                    "as the optimizer's learning_rate to change the rate at every step."
                )
            if self.unit == "epoch":
                self._steps = self._resolve_steps_per_epoch()
                self._clock = Clock(self._steps)

    def _resolve_steps_per_epoch(self) -> int:
        """The batches per epoch: Keras' count when it has one, else the user's."""
        known = (self.params or {}).get("steps")
        given = self.steps_per_epoch
        if known is None:
            if given is None:
                raise ValueError(
                    f"{type(self).__name__}(per_batch=True, unit='epoch') needs the number of "
                    "batches per epoch, and Keras does not know it for this data (it has no "
                    "length). Give steps_per_epoch=... to the callback (or to fit())."
                )
            return given
        if given is not None and given != known:
            raise ValueError(
                f"Argument `steps_per_epoch` differs from the {known} batches per epoch of "
                f"this fit(); leave it out to use Keras' count. Received: steps_per_epoch={given}"
            )
        return int(known)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch
        self._set_hyperparameters(epoch)
        if not self.per_batch:
            self._set_rate(epoch, epoch, announce=True)

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if not self.per_batch:
            return
        if self.unit == "step":
            t: float = _iterations(self.model.optimizer)
        else:
            assert self._steps is not None  # set in on_train_begin
            t = self._clock.time(self._epoch * self._steps + batch, MATH)
        self._set_rate(t, self._epoch, announce=batch == 0)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None:
            return
        optimizer = self.model.optimizer
        logs["learning_rate"] = _float(optimizer.learning_rate)
        for name in self.hyperparameters:
            logs[name] = float(getattr(optimizer, name))


def _source(name: str, fn: Any, *, allow_lr: bool = True) -> Any:
    """What the callback takes, as the one adapter contract (:func:`lrkit._adapt.rate_source`);
    a Keras ``LearningRateSchedule`` is refused with the way to use it."""
    if isinstance(fn, _KerasLRSchedule):
        raise TypeError(
            f"Argument `{name}` is a Keras LearningRateSchedule, which runs inside the "
            "optimizer: pass it as the optimizer's learning_rate, without this callback. "
            f"Received: {name}={fn!r}"
        )
    if is_real_number(fn):
        raise TypeError(
            f"Argument `{name}` must be an lrkit schedule or a function f(epoch) or "
            f"f(epoch, lr). Received: {name}={fn!r} of type {type(fn).__name__}"
        )
    return rate_source(name, fn, allow_lr=allow_lr)


def _hyperparameters(
    given: Mapping[str, Schedule | Callable[[Any], Any]] | None,
) -> dict[str, Schedule | Callable[[Any], Any]]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise TypeError(
            "Argument `hyperparameters` must be a dict of optimizer attribute name -> schedule. "
            f"Received: hyperparameters={given!r}"
        )
    out: dict[str, Schedule | Callable[[Any], Any]] = {}
    for name, s in given.items():
        if not isinstance(name, str) or name == "learning_rate":
            raise ValueError(
                "Argument `hyperparameters` names optimizer attributes other than the learning "
                f"rate (which `schedule` drives). Received: {name!r}"
            )
        _source(f"hyperparameters[{name!r}]", s, allow_lr=False)
        out[name] = s
    return out


def _check_settable(optimizer: Any, who: str) -> None:
    current = getattr(optimizer, "_learning_rate", None)
    if isinstance(current, _KerasLRSchedule):
        raise TypeError(
            f"{who} cannot set the learning rate of this optimizer: it was built with a "
            f"LearningRateSchedule ({current!r}), and Keras does not let a callback change it. "
            "Either build the optimizer with a float, e.g. "
            "keras.optimizers.SGD(learning_rate=0.01), and keep the callback, or drop the "
            "callback and give the schedule to the optimizer: "
            "keras.optimizers.SGD(learning_rate=lrkit.keras.schedule(s))."
        )
    if not isinstance(current, keras.Variable):
        raise TypeError(
            f"{who} needs an optimizer whose learning rate is a float (held in a variable). "
            f"Received an optimizer with learning_rate={current!r}"
        )


def _check_hyperparameters(optimizer: Any, hyperparameters: Mapping[str, Any]) -> None:
    for name in hyperparameters:
        current = getattr(optimizer, name, None)
        if not is_real_number(current):
            raise ValueError(
                f"Cannot schedule `{name}` of {type(optimizer).__name__}: it has no numeric "
                f"attribute `{name}` (it holds {current!r}). Build the optimizer with a number "
                f"for it, e.g. {type(optimizer).__name__}({name}=0.9)."
            )
        if name == "momentum" and isinstance(optimizer, keras.optimizers.SGD) and current == 0:
            raise ValueError(
                "Cannot schedule `momentum` of an SGD optimizer built with momentum=0.0: it "
                "keeps no velocity to apply it to. Build it with momentum > 0, e.g. "
                "keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)."
            )


class ReduceOnPlateau(LearningRateScheduler):
    r"""Any schedule, multiplied by a factor that drops when a monitored metric stalls.

    The rate is $\max(\eta(t)\,c,\ \min(\eta(t), \eta_{min}))$: the schedule $\eta$ (warmup,
    cosine, anything) times the plateau factor $c$, which starts at ``scale`` (1) and is
    multiplied by ``factor`` each time ``monitor`` has not improved for ``patience`` epochs.
    The reduction never takes the rate below ``min_lr``, and never lifts the schedule's own
    value up to it. Everything else is Keras' ``ReduceLROnPlateau``: the same defaults, an
    absolute ``min_delta``, a reduction on the ``patience``-th bad epoch (``wait >= patience``),
    ``cooldown`` epochs before counting again, none once the rate is at ``min_lr``, a warning
    when ``monitor`` is missing, and ``mode="auto"`` from the metric's direction. With a
    constant schedule it gives the same rates as Keras' callback.

    The rate itself is set like :class:`LearningRateScheduler` (``unit``, ``per_batch``,
    ``hyperparameters``); a function ``f(epoch, lr)`` is refused, since ``lr`` would already
    hold the factor. The factor lives in the callback (``.scale``): to resume, pass the old
    callback's ``scale``.

    Args:
        schedule: an lrkit schedule or a function ``f(epoch)``.
        monitor, factor, patience, verbose, mode, min_delta, cooldown, min_lr: as in Keras.
        scale: the factor to start from (1.0; a previous run's ``.scale`` to resume).

    >>> import lrkit, lrkit.keras
    >>> s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=90), steps=10)
    >>> plateau = lrkit.keras.ReduceOnPlateau(s, monitor="val_loss", factor=0.5, patience=3)
    """

    def __init__(
        self,
        schedule: Schedule | Callable[[Any], Any],
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        *,
        scale: float = 1.0,
        unit: str = "epoch",
        per_batch: bool | None = None,
        steps_per_epoch: int | None = None,
        hyperparameters: Mapping[str, Schedule | Callable[[Any], Any]] | None = None,
    ) -> None:
        super().__init__(
            schedule,
            verbose,
            unit=unit,
            per_batch=per_batch,
            steps_per_epoch=steps_per_epoch,
            hyperparameters=hyperparameters,
        )
        if self._source.takes_lr:
            raise TypeError(
                "Argument `schedule` must be an lrkit schedule or a function f(epoch): with "
                "f(epoch, lr) the plateau factor would compound through `lr`. "
                f"Received: schedule={schedule!r}"
            )
        if not isinstance(monitor, str):
            raise TypeError(f"Argument `monitor` must be a string. Received: monitor={monitor!r}")
        self.monitor = monitor
        self.factor = v.number("factor", factor)
        if not 0 <= self.factor < 1:
            raise ValueError(f"Argument `factor` must be in [0, 1). Received: factor={factor!r}")
        self.patience = _count("patience", patience)
        self.mode = v.choice("mode", mode, ("auto", "min", "max"))
        self.min_delta = abs(v.number("min_delta", min_delta))
        self.cooldown = _count("cooldown", cooldown)
        self.min_lr = v.nonnegative("min_lr", min_lr)
        self.scale = v.positive("scale", scale)
        self.best: float | None = None
        self.wait = 0
        self.cooldown_counter = 0
        self._lower_is_better: bool | None = None

    def _rate(self, t: float, optimizer: Any) -> tuple[float, Any]:
        base, _ = self._base_rate(t, optimizer)
        rate = max(base * self.scale, min(base, self.min_lr))
        return rate, rate

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        super().on_epoch_end(epoch, logs)
        logs = {} if logs is None else logs
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is "
                f"not available. Available metrics are: {','.join(list(logs.keys()))}.",
                stacklevel=2,
            )
            return
        current = float(current)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            rate = _float(self.model.optimizer.learning_rate)
            if self.wait >= self.patience and rate > np.float32(self.min_lr):
                self.scale *= self.factor
                self.cooldown_counter = self.cooldown
                self.wait = 0
                if self.verbose > 0:
                    _print(
                        f"\nEpoch {epoch + 1}: ReduceOnPlateau reducing the learning rate's "
                        f"factor to {self.scale}."
                    )

    def _improved(self, current: float) -> bool:
        if self.best is None:
            return True
        if self._lower_is_better is None:
            self._lower_is_better = self._direction_is_down()
        if self._lower_is_better:
            return current + self.min_delta < self.best
        return current - self.min_delta > self.best

    def _direction_is_down(self) -> bool:
        """``mode``, or in ``"auto"`` mode the monitored metric's own direction (as Keras)."""
        if self.mode != "auto":
            return self.mode == "min"
        name = self.monitor.removeprefix("val_")
        if name == "loss":
            return True
        for metric in _metrics(self.model):
            direction = getattr(metric, "_direction", None)
            if metric.name == name and direction in ("up", "down"):
                return bool(direction == "down")
        raise ValueError(
            f"ReduceOnPlateau received monitor={self.monitor}, but Keras isn't able to "
            "automatically determine whether that metric should be maximized or minimized. "
            "Pass `mode='max'` in order to monitor based on the highest metric value, or pass "
            "`mode='min'` in order to use the lowest value."
        )


def _metrics(model: Any) -> list[Any]:
    """The model's metric objects, with the compiled metrics' containers opened."""
    out: list[Any] = []
    for m in getattr(model, "metrics", []):
        inner = getattr(m, "metrics", None)
        out.extend(inner if isinstance(inner, list) else [m])
    return out


def _count(name: str, value: Any, minimum: int = 0) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < minimum:
        raise ValueError(
            f"Argument `{name}` must be an integer >= {minimum}. Received: {name}={value!r}"
        )
    return int(value)
