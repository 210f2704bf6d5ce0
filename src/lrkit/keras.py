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

import json
import logging
import math
import os
import sys
import warnings
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

import numpy as np

try:
    import keras
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("lrkit.keras needs Keras 3: pip install 'lrkit[keras]'") from e

if not hasattr(keras, "ops"):  # pragma: no cover - Keras 2 has no keras.ops
    raise ImportError(f"lrkit.keras needs Keras 3. Found Keras {keras.__version__}")

from lrkit import _validate as v
from lrkit._adapt import ON_CHANGE, Clock, rate_source, rate_table, take_over
from lrkit._core import Config, ConfigError, Schedule, from_config
from lrkit._ops import MATH, Array, Ops, is_real_number
from lrkit.control import Plateau, horizon_problem, warn_horizon

__all__ = [
    "HorizonCheck",
    "KerasOps",
    "KerasSchedule",
    "LearningRateScheduler",
    "ReduceOnPlateau",
    "ResumeCheck",
    "change_plan",
    "find_lr",
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
    epochs, inside the compiled step. On TensorFlow, a schedule that settles (within
    :data:`lrkit._adapt.TABLE_LIMIT` counts) is a table the optimizer's counter looks its rate
    up in (the float64 rate rounded once); otherwise it is computed with ``keras.ops`` in
    float32. Its config is the lrkit config, so ``model.save`` / ``keras.models.load_model``
    restore it (no ``custom_objects``, safe mode) once ``lrkit.keras`` is imported.

    Build it with :func:`schedule`. Keras calls a schedule with its raw call counter: with
    ``gradient_accumulation_steps=k`` that counts micro-batches, k per update, so give the same
    ``accumulation_steps=k`` here and the schedule counts updates.

    ``on_change`` (saved in the config) is the policy :meth:`resume_from` applies when the
    plan changes on resume (see :func:`change_plan`); ``plan`` is the schedule it was given,
    kept when a take-over bent it (``schedule`` is then what runs).
    """

    def __init__(
        self,
        schedule: Schedule,
        steps_per_epoch: float | None = None,
        *,
        accumulation_steps: int = 1,
        on_change: str = "refuse",
        plan: Schedule | None = None,
    ) -> None:
        if isinstance(schedule, _KerasLRSchedule) or not isinstance(schedule, Schedule):
            raise TypeError(
                f"Argument `schedule` must be an lrkit schedule. Received: schedule={schedule!r}"
            )
        schedule.to_config()  # a wrapped Python function has no config and cannot be traced
        if steps_per_epoch is not None:
            steps_per_epoch = v.positive("steps_per_epoch", steps_per_epoch)
        self.schedule = schedule
        self.steps_per_epoch = steps_per_epoch
        self.accumulation_steps = _count("accumulation_steps", accumulation_steps, minimum=1)
        self.on_change = v.choice("on_change", on_change, ON_CHANGE)
        self.plan = schedule if plan is None else plan
        self._clock = Clock(steps_per_epoch, self.accumulation_steps)
        self._ops = KerasOps.of("float32")

    def __call__(self, step: Any) -> Any:
        if _is_counter(step) and self._table is not None:
            return _look_up(self._table, step)
        # The clock's time, as every adapter and lrkit.stretch compute it (micro-batches to
        # updates, then whole epochs and the remainder: exact epoch starts under XLA).
        t = self._clock.time(keras.ops.cast(step, "float32"), self._ops)
        if not _is_counter(step):  # a time below 0 is held at 0, as in Schedule.__call__
            t = keras.ops.maximum(t, 0.0)
        return self.schedule.evaluate(t, self._ops)

    @cached_property
    def _table(self) -> np.ndarray | None:
        """The rates by counter value, looked up in a compiled TensorFlow step: there each
        scalar op of a formula costs a dispatch (a cosine is seven ops), a lookup three
        (``benchmarks/keras_step.py``). On JAX, XLA fuses a formula's ops into one kernel, and
        PyTorch's eager step would copy the table each time: those compute the formula."""
        if keras.backend.backend() != "tensorflow":
            return None
        return rate_table(self.schedule, self._clock, "float32")

    def get_config(self) -> Config:
        config: Config = {
            "schedule": self.schedule.to_config(),
            "steps_per_epoch": self.steps_per_epoch,
            "accumulation_steps": self.accumulation_steps,
        }
        if self.on_change != "refuse":
            config["on_change"] = self.on_change
        if self.plan != self.schedule:
            config["plan"] = self.plan.to_config()
        return config

    @classmethod
    def from_config(cls, config: Config) -> KerasSchedule:
        # A saved model is input like any config: refused with ConfigError, never KeyError.
        if not isinstance(config, dict) or "schedule" not in config or not set(config) <= _KEYS:
            raise ConfigError(
                "A KerasSchedule config is a dict with a `schedule` key and optionally "
                f"{', '.join(sorted(_KEYS - {'schedule'}))}. Received: {v.short(config)}"
            )
        plan = config.get("plan")
        return cls(
            from_config(config["schedule"]),
            config.get("steps_per_epoch"),
            accumulation_steps=config.get("accumulation_steps", 1),
            on_change=config.get("on_change", "refuse"),
            plan=None if plan is None else from_config(plan),
        )

    def _key(self) -> tuple[Any, ...]:
        return (
            self.schedule,
            self.steps_per_epoch,
            self.accumulation_steps,
            self.on_change,
            self.plan,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KerasSchedule):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        per_epoch = (
            "" if self.steps_per_epoch is None else f", steps_per_epoch={self.steps_per_epoch}"
        )
        k = self.accumulation_steps
        accumulation = "" if k == 1 else f", accumulation_steps={k}"
        policy = "" if self.on_change == "refuse" else f", on_change={self.on_change!r}"
        plan = "" if self.plan == self.schedule else f", plan={self.plan!r}"
        return f"KerasSchedule({self.schedule!r}{per_epoch}{accumulation}{policy}{plan})"

    def resume_from(self, previous: Any, step: int) -> KerasSchedule:
        """The schedule to run from update ``step`` on, when ``previous`` ran before it.

        ``previous`` is the run's own schedule (a :class:`KerasSchedule`, as
        ``keras.models.load_model`` restores it). The same plan (or a take-over of this
        plan) continues as it is; under another plan, ``on_change`` decides: ``"refuse"``
        raises ``ValueError``, ``"keep_count"`` returns this schedule, ``"continue"`` returns
        it bent to start from the rate ``previous`` gives at ``step`` and to reach its own
        value at its end (:func:`lrkit._adapt.take_over`), keeping ``plan`` in the config.
        """
        if not isinstance(previous, KerasSchedule):
            raise TypeError(
                "Argument `previous` must be the run's lrkit.keras.KerasSchedule. "
                f"Received: previous={previous!r}"
            )
        if previous.plan == self.plan and previous._clock == self._clock:
            return previous if previous.on_change == self.on_change else self._as(previous)
        if self.on_change == "keep_count":
            return self
        if self.on_change == "refuse":
            raise ValueError(
                f"The run being resumed was planned with {previous.plan.spec()}, and the "
                f"schedule given is {self.plan.spec()}. Choose what a resume under a new plan "
                "does when you build it: lrkit.keras.schedule(..., on_change='continue') "
                "takes over from the run's rate and reaches the schedule's end; "
                "on_change='keep_count' uses it as it is from the saved count."
            )
        rate = float(previous.schedule(previous._clock.time(step)))
        at = float(self._clock.time(step))
        bent = take_over(self.plan, at, rate)
        return self._running(bent)

    def _as(self, previous: KerasSchedule) -> KerasSchedule:
        """``previous``'s schedule under this one's policy."""
        return self._running(previous.schedule)

    def _running(self, schedule: Schedule) -> KerasSchedule:
        """This one, running ``schedule`` for its plan."""
        return KerasSchedule(
            schedule,
            self.steps_per_epoch,
            accumulation_steps=self.accumulation_steps,
            on_change=self.on_change,
            plan=self.plan,
        )


#: The keys of a KerasSchedule config (what get_config writes).
_KEYS = {"schedule", "steps_per_epoch", "accumulation_steps", "on_change", "plan"}

keras.saving.register_keras_serializable(package="lrkit")(KerasSchedule)


def _is_counter(step: Any) -> bool:
    """Whether ``step`` is a Keras variable of integers: what the optimizer passes, its update
    counter, which starts at 0 and only counts up. It needs no clamp at 0, and in a compiled
    loop a clamp costs as much as the rest of a cosine (``benchmarks/keras_step.py``)."""
    return isinstance(step, keras.Variable) and "int" in keras.backend.standardize_dtype(step.dtype)


def _look_up(table: np.ndarray, counter: Any) -> Any:
    """``table[min(counter, n)]``, from a count of updates that is never negative (a Keras
    counter, or ``optimizer.iterations``, a tensor under gradient accumulation) on TensorFlow:
    the rate of a schedule that no longer changes from count ``n`` on
    (:func:`lrkit._adapt.rate_table`)."""
    import tensorflow as tf

    return tf.gather(table, tf.minimum(tf.convert_to_tensor(counter), len(table) - 1))


def schedule(
    s: Schedule,
    steps_per_epoch: float | None = None,
    *,
    accumulation_steps: int = 1,
    on_change: str = "refuse",
) -> KerasSchedule:
    """``s`` as a Keras ``LearningRateSchedule``, computed in-graph at every optimizer update.

    Give ``steps_per_epoch`` when ``s`` counts epochs: update ``k`` then uses
    ``s(k / steps_per_epoch)``. Without it ``s`` counts updates: update ``k`` uses ``s(k)``.
    With an optimizer built with ``gradient_accumulation_steps=k``, give
    ``accumulation_steps=k`` too: Keras calls the schedule with its count of micro-batches,
    which this divides back to updates (``steps_per_epoch`` then counts updates as well).
    Import ``lrkit.keras`` before ``keras.models.load_model`` reads a model saved with it.
    ``on_change`` is the policy of :func:`change_plan` (saved in the config).

    >>> import keras, lrkit, lrkit.keras
    >>> lr = lrkit.keras.schedule(lrkit.cosine(start_lr=0.1, decay_steps=10), steps_per_epoch=50)
    >>> optimizer = keras.optimizers.SGD(learning_rate=lr)
    >>> round(float(lr(250)), 6), round(float(lr(500)), 6)     # epoch 5 and epoch 10
    (0.05, 0.0)
    """
    return KerasSchedule(
        s, steps_per_epoch, accumulation_steps=accumulation_steps, on_change=on_change
    )


def change_plan(model: Any, new: KerasSchedule) -> KerasSchedule:
    """Give a loaded model's optimizer a new in-graph schedule, under ``new.on_change``.

    For a model restored with ``keras.models.load_model`` (its optimizer holds the run's
    schedule and update count): applies :meth:`KerasSchedule.resume_from` at
    ``optimizer.iterations``, sets the result as the optimizer's learning rate and returns
    it. A weights-only checkpoint (``BackupAndRestore``, ``load_weights``) holds the count but
    no schedule, so there the schedule the model was compiled with simply runs from the
    restored count (``"keep_count"``); use the callback to apply a policy there.
    """
    if not isinstance(new, KerasSchedule):
        raise TypeError(
            f"Argument `new` must be an lrkit.keras.KerasSchedule. Received: new={new!r}"
        )
    return _resume(model, new, model.optimizer._learning_rate)


def _resume(model: Any, new: KerasSchedule, previous: Any) -> KerasSchedule:
    """``new.resume_from(previous)`` at the optimizer's count, set as its learning rate."""
    optimizer = model.optimizer
    chosen = new.resume_from(previous, _iterations(optimizer))
    if chosen is not optimizer._learning_rate:
        optimizer.learning_rate = chosen
        if getattr(model, "train_function", None) is not None:  # it holds the old schedule
            model.make_train_function(force=True)
    return chosen


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
    """A scalar tensor or Keras variable as a Python float.

    Through NumPy, as Keras' own callbacks read it: under a ``tf.distribute`` strategy a
    variable's value is a ``MirroredVariable``, which ``float()`` refuses. A torch tensor is
    detached instead (``float()`` warns on one that requires grad, NumPy on any).
    """
    if isinstance(x, keras.Variable):
        x = x.value
    if hasattr(x, "detach"):
        return float(x.detach())
    return float(keras.ops.convert_to_numpy(x))


def _iterations(optimizer: Any) -> int:
    return int(_float(optimizer.iterations))


if keras.backend.backend() == "tensorflow":
    import tensorflow as _tf

    def _tf_variable(value: Any) -> bool:
        """A plain TensorFlow variable on one device (not mirrored across replicas)."""
        return isinstance(value, _tf.Variable) and not isinstance(
            value, _tf.distribute.DistributedValues
        )


def _same_rate(a: float, b: float) -> bool:
    """Equal as the float32 a rate variable stores."""
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b)) + 1e-12


def _rate_setter(optimizer: Any) -> Callable[[float], None]:
    """A function that sets ``optimizer.learning_rate``, as cheaply as the backend allows.

    Keras' setter converts, casts and checks the value for any input, about 70 us on
    TensorFlow: a twentieth of a small model's train step when the rate is set before every
    batch. On TensorFlow a plain variable takes one raw assignment op instead (about 11 us;
    a Python float converts to float32 inside it). Resolved once per epoch, not per batch.
    """
    variable = optimizer.learning_rate  # the variable itself (a LossScaleOptimizer's inner one)
    value: Any = variable.value if isinstance(variable, keras.Variable) else None
    if keras.backend.backend() == "tensorflow" and _tf_variable(value):
        assign, handle, dtype = _tf.raw_ops.AssignVariableOp, value.handle, value.dtype
        if dtype == _tf.float32:
            return lambda rate: assign(resource=handle, value=rate)
        return lambda rate: assign(resource=handle, value=_tf.constant(rate, dtype))

    def set_rate(rate: float) -> None:
        optimizer.learning_rate = rate

    return set_rate


class _RateInTrainStep:
    """The optimizer's rate set from ``plan`` inside every compiled train step.

    The model's ``train_step`` is wrapped (on the instance) to assign ``plan(iterations)`` to
    the rate variable before the update (computed in float64 and rounded to the variable's
    dtype as a Python write rounds it), and after it to record the rate just used and assign
    the next update's. So between two
    batches ``optimizer.learning_rate`` holds the next rate, as the Python path leaves it at
    a batch's start (and as Keras' own schedules report it). The train function is rebuilt
    around the wrapped step and runs only while the callback arms it before each batch: a
    later ``fit`` without the callback (after one interrupted before ``on_train_end``) makes
    it remove itself and run Keras' own function, so the schedule never outlives its callback.
    """

    def __init__(self, model: Any, plan: Schedule) -> None:
        self.model, self.plan, self.armed = model, plan, False
        self._keras_function = model.train_function
        optimizer = model.optimizer
        variable = optimizer.learning_rate.value  # a plain tf.Variable (_in_graph_plan)
        self.last_used = last_used = _tf.Variable(variable, trainable=False)
        ops = KerasOps.of("float64")
        table = rate_table(plan, Clock(), "float64")  # as KerasSchedule looks rates up
        train_step = model.train_step

        def set_rate() -> None:
            if table is not None:
                rate = _look_up(table, optimizer.iterations)
            else:
                rate = plan.evaluate(_tf.cast(optimizer.iterations, _tf.float64), ops)
            variable.assign(_tf.cast(rate, variable.dtype))

        def step_with_rate(data: Any) -> Any:
            set_rate()  # exact whatever moved the counter or the rate since the last step
            logs = train_step(data)
            last_used.assign(variable)
            set_rate()
            return logs

        self._step_with_rate = step_with_rate
        model.train_step = step_with_rate
        model.make_train_function(force=True)
        compiled = model.train_function

        def train_function(iterator: Any) -> Any:
            if not self.armed:  # a fit() the callback is not part of: leave its rate be
                self.detach(restore_rate=False)
                model.make_train_function()
                return model.train_function(iterator)
            self.armed = False
            return compiled(iterator)

        self._function = train_function
        self.attach()

    def reusable(self, model: Any, plan: Schedule) -> bool:
        """Whether a new fit of ``model`` under ``plan`` can run this compiled step again (Keras
        kept its train function: no compile or rebuild since), without tracing it anew."""
        return (
            model is self.model
            and plan is self.plan
            and (model.train_function is self._keras_function)
        )

    def attached(self) -> bool:
        return bool(self.model.train_function is self._function)

    def attach(self) -> None:
        # The wrapped train_step is the model's only during a fit: a retrace (a new input
        # shape) then includes the rate, and nothing built after the fit does.
        self.model.train_step = self._step_with_rate
        self.model.train_function = self._function

    def detach(self, restore_rate: bool = True) -> None:
        model = self.model
        if model.__dict__.get("train_step") is self._step_with_rate:
            del model.train_step
        if model.train_function is self._function:
            model.train_function = self._keras_function
            if restore_rate:  # as the Python path leaves it: the rate of the last update
                model.optimizer.learning_rate.value.assign(self.last_used)


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
      continues where it stopped). On TensorFlow an lrkit schedule is then evaluated inside
      the compiled train step (in float64, rounded to the rate variable as a Python write
      rounds it), which spares the write from Python between two steps; the rates, History
      and ``verbose`` lines are the same. The train function is rebuilt for the fit and
      restored at its end.

    ``epoch`` is ``fit``'s own epoch index, so ``fit(initial_epoch=k)`` resumes the sequence.
    The rate is logged under ``learning_rate`` at each epoch's end (``History``, ``CSVLogger``),
    and ``verbose=1`` prints Keras' line once per epoch. The optimizer must hold a plain float
    rate: one built with a ``LearningRateSchedule`` cannot be set (use :func:`schedule` alone).

    **Changing the plan on resume.** Keras saves no state of a callback (``BackupAndRestore``
    and ``model.save`` keep the weights, the optimizer and the epoch), so at the first epoch
    of a resumed ``fit`` (``optimizer.iterations > 0`` and, in epochs, ``initial_epoch > 0``)
    the callback compares the rate the optimizer holds, the last one set, with what
    ``schedule`` gives at that update. If they differ, the plan changed, and ``on_change``
    decides: ``"refuse"`` (default) raises ``ValueError``; ``"keep_count"`` uses ``schedule``
    as it is (the rate may jump); ``"continue"`` bends ``schedule`` to pass through the run's
    last rate and to reach its own value at its end (:func:`lrkit._adapt.take_over`). Only
    the learning rate is checked; a function ``f(epoch, lr)`` is never checked.

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
        on_change: ``"refuse"``, ``"keep_count"`` or ``"continue"``: what a resumed ``fit``
            does when the run's rate shows it was planned with another schedule.

    >>> import numpy as np, keras, lrkit, lrkit.keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    >>> s = lrkit.step(start_lr=0.1, step_size=2, gamma=0.5)
    >>> history = model.fit(np.ones((8, 2)), np.ones(8), epochs=4, verbose=0,
    ...                     callbacks=[lrkit.keras.LearningRateScheduler(s)])
    >>> [round(lr, 6) for lr in history.history["learning_rate"]]
    [0.1, 0.1, 0.05, 0.05]
    """

    _rate_is_the_schedule = True  # the rate is schedule(t) (ReduceOnPlateau scales it)

    def __init__(
        self,
        schedule: Schedule | Callable[..., Any],
        verbose: int = 0,
        *,
        unit: str = "epoch",
        per_batch: bool | None = None,
        steps_per_epoch: int | None = None,
        hyperparameters: Mapping[str, Schedule | Callable[[Any], Any]] | None = None,
        on_change: str = "refuse",
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
        self._horizon_warned = False
        self._rival_warned = False
        self._last_set: float | None = None  # the rate this callback set last (float32)
        self._set_optimizer_rate: Callable[[float], None] | None = None
        self.on_change = v.choice("on_change", on_change, ON_CHANGE)
        self._taken_over: Schedule | None = None  # the plan, bent on a resume ("continue")
        self._resume_checked = False
        # unit="step": the optimizer's update count, kept here when each batch makes exactly
        # one update (reading optimizer.iterations costs as much as setting the rate); None
        # when it is read before every batch instead.
        self._updates: int | None = None
        self._count_updates = False
        self._in_step: _RateInTrainStep | None = None  # unit="step" on TensorFlow: in-graph

    # -- the rate ----------------------------------------------------------------------

    def _base_rate(self, t: float, optimizer: Any) -> tuple[float, Any]:
        """The schedule's value at ``t``, and the value as the user's function returned it."""
        source = self._source
        if self._taken_over is not None:
            value = float(self._taken_over(t))
            return value, value
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
        # Another scheduler is looked for once per epoch (at its first batch when per batch):
        # reading the rate back costs as much as setting it, and waits for the step before.
        if announce and self._last_set is not None and not self._rival_warned:
            self._check_unchanged(_float(optimizer.learning_rate))
        rate, shown = self._rate(t, optimizer)
        if self._set_optimizer_rate is None:
            self._set_optimizer_rate = _rate_setter(optimizer)
        self._set_optimizer_rate(rate)
        self._last_set = float(np.float32(rate))
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
            self._leave_train_step()
            self.model.make_train_function(force=True)

    def _check_resume(self, epoch: int) -> None:
        """At the first epoch of a resumed fit: apply ``on_change`` if the plan changed."""
        optimizer = self.model.optimizer
        done = _iterations(optimizer)
        if done == 0 or self._source.takes_lr or (self.unit == "epoch" and epoch == 0):
            self._taken_over = None
            return  # a fresh run, or nothing to compare with
        if self.unit == "step":
            last: float = done - 1
        elif self.per_batch:
            assert self._steps is not None  # set in on_train_begin
            last = self._clock.time(epoch * self._steps - 1, MATH)
        else:
            last = epoch - 1
        ran = _float(optimizer.learning_rate)
        planned, _ = self._rate(last, optimizer)
        if _same_rate(ran, planned):
            return
        # An in-graph rate leaves the next update's there (a model saved by ModelCheckpoint
        # during the fit, or a fit interrupted before its end).
        if self.unit == "step" and _same_rate(ran, self._rate(done, optimizer)[0]):
            return
        if self.on_change == "keep_count":
            return
        unit = "step" if self.unit == "step" else "epoch"
        if self.on_change == "refuse":
            raise ValueError(
                f"{type(self).__name__}: the run being resumed used learning rate {ran:.6g} "
                f"at its last update ({unit} {last:g}), but the schedule given has "
                f"{planned:.6g} there: the plan changed since the checkpoint. Choose what a "
                f"resume under a new plan does when you build the callback: "
                f"{type(self).__name__}(..., on_change='continue') takes over from the run's "
                "rate and reaches the schedule's end; on_change='keep_count' uses the "
                "schedule as it is from the saved count."
            )
        plan = self._source.schedule
        assert plan is not None  # f(epoch, lr) returned above
        if plan.duration is None:
            raise ValueError(
                f"on_change='continue' needs a schedule with an end to take over towards; "
                f"{plan!r} has none. Choose on_change='keep_count'."
            )
        self._taken_over = take_over(plan, float(last), ran)

    # -- Keras hooks -------------------------------------------------------------------

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._resume_checked = False  # checked at the first epoch: after BackupAndRestore
        optimizer = self.model.optimizer
        _check_settable(optimizer, type(self).__name__)
        _check_hyperparameters(optimizer, self.hyperparameters)
        self._last_set = None
        self._warn_about_siblings(_fit_callbacks())
        self._check_horizon()
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
            else:
                # Counted from each epoch's start (on_epoch_begin): BackupAndRestore restores
                # optimizer.iterations in its own on_train_begin, which may run after this one.
                self._count_updates = _one_update_per_batch(self.model)
                self._updates = None

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

    # -- no silent mistakes -------------------------------------------------------------

    def _check_horizon(self) -> None:
        """Warn once if the schedule ends long before or after this fit() (HorizonWarning)."""
        params = self.params or {}
        if self._horizon_warned or not isinstance(self._source.schedule, Schedule):
            return
        self._horizon_warned = warn_horizon(
            horizon_problem(
                self._source.schedule.duration,
                unit=self.unit,
                steps_per_epoch=params.get("steps"),
                epochs=params.get("epochs"),
                to_epochs="give unit='epoch' (and per_batch=True to update every batch)",
                to_steps="give unit='step'",
            ),
            f"lrkit.keras.{type(self).__name__}",
            stacklevel=2,
        )

    def _warn_about_siblings(self, callbacks: list[Any]) -> None:
        """Warn once, naming them, about other callbacks of this fit() that set the rate."""
        rivals = [
            cb
            for cb in callbacks
            if cb is not self and isinstance(cb, (*_RATE_SETTERS, LearningRateScheduler))
        ]
        if not rivals or self._rival_warned:
            return
        self._rival_warned = True
        names = ", ".join(sorted({_qualified(cb) for cb in rivals}))
        warnings.warn(
            f"{names} in the same fit() sets the learning rate too; lrkit.keras."
            f"{type(self).__name__} sets its schedule's rate at every "
            f"{'batch' if self.per_batch else 'epoch'} and overrides it, so its changes (and "
            "its 'reducing learning rate' messages) have no lasting effect. Keep one: "
            "lrkit.keras.ReduceOnPlateau(schedule, ...) reduces on a plateau on top of any "
            "schedule.",
            UserWarning,
            stacklevel=2,
        )

    def _check_unchanged(self, now: float) -> None:
        """Warn once if something else changed the rate since this callback set it."""
        ours = self._last_set
        assert ours is not None
        if abs(now - ours) <= 1e-6 * max(abs(ours), 1e-30):
            return
        self._rival_warned = True
        warnings.warn(
            f"The learning rate was changed from {ours:.6g} to {now:.6g} by another callback or "
            f"scheduler since lrkit.keras.{type(self).__name__} set it; lrkit overrides it. "
            "Keep one callback that sets the rate (lrkit.keras.ReduceOnPlateau reduces on a "
            "plateau on top of any schedule).",
            UserWarning,
            stacklevel=3,
        )

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch
        self._set_optimizer_rate = None  # resolved again at the epoch's first setting
        if self.per_batch and self.unit == "step" and self._count_updates:
            self._updates = _iterations(self.model.optimizer)  # once per epoch, not per batch
        if not self._resume_checked:
            self._resume_checked = True
            self._check_resume(epoch)
        self._set_hyperparameters(epoch)
        self._enter_train_step()
        if not self.per_batch:
            self._set_rate(epoch, epoch, announce=True)

    def _in_graph_plan(self) -> Schedule | None:
        """The schedule to evaluate inside the compiled train step, or None to set the rate
        from Python before every batch.

        In-graph when the schedule counts steps, is lrkit's own (traceable, no ``f(epoch)``)
        and the backend is TensorFlow with a plain, single-device rate variable: a write from
        Python between two train steps waits for the step before it to finish, which costs
        several percent of a small model's step (``benchmarks/keras_step.py``).
        """
        if self._source.function is not None or not self._rate_is_the_schedule:
            return None  # f(epoch, lr), or a rate that is more than the schedule
        if self.unit != "step":
            return None
        plan = self._taken_over or self.schedule
        if keras.backend.backend() != "tensorflow" or not isinstance(plan, Schedule):
            return None
        try:
            plan.to_config()  # a wrapped Python function cannot be traced
        except TypeError:
            return None
        variable = self.model.optimizer.learning_rate
        if not isinstance(variable, keras.Variable) or not _tf_variable(variable.value):
            return None
        return plan

    def _enter_train_step(self) -> None:
        plan = self._in_graph_plan()
        if plan is None:
            self._leave_train_step()
            return
        self._updates = None  # the step reads optimizer.iterations itself
        if self._in_step is not None and self._in_step.attached():
            if self._in_step.plan is plan:
                return  # attached (a later epoch of this fit)
            self._leave_train_step()
        if self._in_step is not None and self._in_step.reusable(self.model, plan):
            self._in_step.attach()  # an earlier fit's compiled step, not traced again
        else:
            self._in_step = _RateInTrainStep(self.model, plan)

    def _leave_train_step(self) -> None:
        if self._in_step is not None:
            self._in_step.detach()
            self._in_step = None

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._in_step is not None:
            self._in_step.detach()  # kept, for the next fit to attach again

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if not self.per_batch:
            return
        if self._in_step is not None:
            self._in_step.armed = True
            if batch == 0:  # from Python once per epoch: the fit's first rate, and the check
                self._set_rate(_iterations(self.model.optimizer), self._epoch, announce=True)
            return
        if self.unit == "step":
            if self._updates is None:
                t: float = _iterations(self.model.optimizer)
            else:
                t = self._updates
                self._updates += 1
        else:
            assert self._steps is not None  # set in on_train_begin
            t = self._clock.time(self._epoch * self._steps + batch, MATH)
        self._set_rate(t, self._epoch, announce=batch == 0)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        optimizer = self.model.optimizer
        if self._updates is not None and self._updates != _iterations(optimizer):
            warnings.warn(
                f"{type(self).__name__}: optimizer.iterations is {_iterations(optimizer)} at the "
                f"end of epoch {epoch + 1}, where one update per batch gives {self._updates}: "
                "something besides fit's train step updates this optimizer. This epoch's rates "
                "followed the batch count; from now on they follow optimizer.iterations, read "
                "before every batch.",
                stacklevel=2,
            )
            self._updates = None
        rate = optimizer.learning_rate
        if self._in_step is not None:  # the variable holds the next rate; log the last one
            self._last_set = float(np.float32(self._in_step.plan(_iterations(optimizer))))
            rate = self._in_step.last_used
        if logs is None:
            return
        logs["learning_rate"] = _float(rate)
        for name in self.hyperparameters:
            logs[name] = float(getattr(optimizer, name))


def _one_update_per_batch(model: Any) -> bool:
    """Whether each batch of ``fit`` updates the optimizer exactly once: Keras' own train
    step, with weights to train, and an optimizer that never skips an update (a
    ``LossScaleOptimizer`` skips those whose gradients are not finite)."""
    own_step = getattr(type(model).train_step, "__module__", "").startswith("keras.")
    skips = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    # with gradient accumulation a batch is a micro-batch: k of them make one update
    accumulates = (getattr(model.optimizer, "gradient_accumulation_steps", None) or 1) > 1
    return own_step and not skips and not accumulates and bool(model.trainable_weights)


#: Keras' own callbacks that set the learning rate.
_RATE_SETTERS: tuple[type, ...] = (
    keras.callbacks.LearningRateScheduler,
    keras.callbacks.ReduceLROnPlateau,
)


def _qualified(callback: Any) -> str:
    kind = type(callback)
    module = "keras.callbacks" if kind in _RATE_SETTERS else kind.__module__
    return f"{module}.{kind.__qualname__}"


def _fit_callbacks() -> list[Any]:
    """The callbacks of the running fit(): Keras gives a callback no view of its siblings, but
    the ``CallbackList`` calling ``on_train_begin`` holds them (a few frames up the stack)."""
    frame = sys._getframe(1)
    for _ in range(8):
        frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            break
        holder = frame.f_locals.get("self")
        if isinstance(holder, keras.callbacks.CallbackList):
            return list(holder.callbacks)
    return []


class HorizonCheck(_Callback):  # type: ignore[misc]
    """A callback that checks an in-graph schedule's length against ``fit()``'s.

    An in-graph schedule (:func:`schedule`) runs inside the optimizer and never sees
    ``fit()``'s epochs and batches; this callback does, at the start of training, and warns
    once (:class:`lrkit.HorizonWarning`) if the schedule ends long before the run (an epoch
    schedule built without ``steps_per_epoch`` decays to its end in a few batches) or long
    after it. lrkit's own callbacks check themselves; this one is for in-graph schedules.

    >>> import numpy as np, keras, lrkit, lrkit.keras
    >>> s = lrkit.cosine(start_lr=0.1, decay_steps=4)  # meant as 4 epochs
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(lrkit.keras.schedule(s)), loss="mse")
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = model.fit(np.ones((64, 2)), np.ones(64), batch_size=8, epochs=4, verbose=0,
    ...                   callbacks=[lrkit.keras.HorizonCheck()])
    >>> print(str(caught[0].message).split(": ", 1)[1])
    the schedule ends at 4 steps but training runs 32 updates (4 epochs): the rate reaches
    its end value early and the remaining updates are wasted; did you mean an epoch schedule?
    Read it in epochs: build it with lrkit.keras.schedule(s, steps_per_epoch=8).
    """

    def __init__(self) -> None:
        super().__init__()
        self._warned = False

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        rate = getattr(self.model.optimizer, "_learning_rate", None)
        if self._warned or not isinstance(rate, KerasSchedule):
            return
        params = self.params or {}
        steps, epochs = params.get("steps"), params.get("epochs")
        self._warned = warn_horizon(
            horizon_problem(
                rate.schedule.duration,
                unit="step" if rate.steps_per_epoch is None else "epoch",
                steps_per_epoch=rate.steps_per_epoch or steps,
                total_steps=None if steps is None or epochs is None else steps * epochs,
                epochs=epochs,
                to_epochs="build it with lrkit.keras.schedule(s, steps_per_epoch={spe})",
                to_steps="build it with lrkit.keras.schedule(s), without steps_per_epoch",
            ),
            "lrkit.keras.HorizonCheck",
            stacklevel=2,
        )


#: The file :class:`ResumeCheck` keeps in ``BackupAndRestore``'s ``backup_dir``.
PLAN_FILE = "lrkit_schedule.json"


class ResumeCheck(_Callback):  # type: ignore[misc]
    """Apply an in-graph schedule's ``on_change`` when ``BackupAndRestore`` resumes a run.

    ``BackupAndRestore`` keeps the weights and the optimizer's update count, not its
    schedule: a resumed ``fit`` simply runs the schedule the model was compiled with from the
    restored count, whatever its ``on_change``. With this callback beside it, the schedule
    that ran is kept in the backup directory too (:data:`PLAN_FILE`, written at the start of
    training and deleted with the backup when the fit completes), and at the first epoch of a
    resumed fit the compiled schedule's policy applies, as :func:`change_plan` applies it after
    ``load_model``: an unchanged plan continues; under a new plan ``"refuse"`` raises
    ``ValueError`` before any update, ``"keep_count"`` runs it from the count, ``"continue"``
    bends it to start from the run's rate at the resume step and reach its own end. The order
    of the callbacks does not matter.

    >>> import keras, lrkit, lrkit.keras
    >>> s = lrkit.keras.schedule(lrkit.cosine(0.1, 400), on_change="continue")
    >>> callbacks = [keras.callbacks.BackupAndRestore("backup/"), lrkit.keras.ResumeCheck()]
    """

    def __init__(self) -> None:
        super().__init__()
        self._path: str | None = None
        self._weights: str | None = None
        self._pending = False  # the check waits for the first epoch: after the restore

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        rate = getattr(self.model.optimizer, "_learning_rate", None)
        if not isinstance(rate, KerasSchedule):
            raise TypeError(
                "lrkit.keras.ResumeCheck applies an in-graph lrkit schedule's on_change: compile "
                "the model with an optimizer whose learning_rate is lrkit.keras.schedule(...) "
                "(lrkit's LearningRateScheduler callback checks a resume itself). Received: "
                f"learning_rate={v.short(rate)}"
            )
        backups = [
            cb for cb in _fit_callbacks() if isinstance(cb, keras.callbacks.BackupAndRestore)
        ]
        if len(backups) != 1:
            raise ValueError(
                "lrkit.keras.ResumeCheck keeps the schedule beside the checkpoint of "
                "keras.callbacks.BackupAndRestore and needs exactly one in the same fit(). "
                f"Received: {len(backups)}"
            )
        self._path = os.path.join(backups[0].backup_dir, PLAN_FILE)
        self._weights = getattr(backups[0], "_weights_path", None)
        self._pending = True

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._pending:
            return
        self._pending = False
        assert self._path is not None  # set in on_train_begin
        optimizer = self.model.optimizer
        current = optimizer._learning_rate
        step = _iterations(optimizer)
        restored = step > 0 and (self._weights is None or os.path.exists(self._weights))
        if restored and os.path.exists(self._path):
            with open(self._path, encoding="utf-8") as f:
                previous = KerasSchedule.from_config(json.load(f))
            current = _resume(self.model, current, previous)
        elif restored and current.on_change != "keep_count":
            warnings.warn(
                f"lrkit.keras.ResumeCheck: the checkpoint restored at update {step} has no "
                f"record of the schedule it ran ({self._path} is missing: it was written "
                "without ResumeCheck), so a change of plan cannot be seen; the compiled "
                "schedule runs from the restored count, as on_change='keep_count' would.",
                UserWarning,
                stacklevel=2,
            )
        os.makedirs(os.path.dirname(self._path) or ".", exist_ok=True)
        with open(self._path, "w", encoding="utf-8") as f:
            json.dump(current.get_config(), f)


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
    callback's ``scale``, or save :meth:`state_dict` and :meth:`load_state_dict` it into the
    new callback to continue exactly (best and counters too). The state machine is
    :class:`lrkit.control.Plateau` with ``rule="keras"``.

    Args:
        schedule: an lrkit schedule or a function ``f(epoch)``.
        monitor: the metric watched, a key of the epoch's logs (``"val_loss"``).
        factor: what the plateau factor is multiplied by at each reduction (0.1), in [0, 1).
        patience: epochs without improvement before a reduction (10).
        verbose: 0 quiet, 1 print the rate at each epoch's start and each reduction.
        mode: ``"min"`` (lower is better), ``"max"``, or ``"auto"`` (the metric's own direction).
        min_delta: the least change that counts as an improvement (absolute, 1e-4).
        cooldown: epochs after a reduction before bad epochs are counted again (0).
        min_lr: the reduction never takes the rate below this (0.0).
        scale: the factor to start from (1.0; a previous run's ``.scale`` to resume).
        unit: ``"epoch"`` or ``"step"``, the unit ``schedule`` counts in.
        per_batch: update before every batch (default: ``True`` for steps, ``False`` for epochs).
        steps_per_epoch: batches per epoch, for ``per_batch`` epochs when Keras does not know.
        hyperparameters: optimizer attribute name -> lrkit schedule or ``f(epoch)``.

    >>> import lrkit, lrkit.keras
    >>> s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=90), steps=10)
    >>> plateau = lrkit.keras.ReduceOnPlateau(s, monitor="val_loss", factor=0.5, patience=3)
    """

    _rate_is_the_schedule = False  # scaled by the plateau factor: set from Python

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
        # The plateau factor is part of the rate and is not saved by Keras: a resume cannot
        # tell a changed plan from a factor not passed back (`scale`), so the count is kept.
        self.on_change = "keep_count"
        if self._source.takes_lr:
            raise TypeError(
                "Argument `schedule` must be an lrkit schedule or a function f(epoch): with "
                "f(epoch, lr) the plateau factor would compound through `lr`. "
                f"Received: schedule={schedule!r}"
            )
        if not isinstance(monitor, str):
            raise TypeError(f"Argument `monitor` must be a string. Received: monitor={monitor!r}")
        self.monitor = monitor
        self.mode = v.choice("mode", mode, ("auto", "min", "max"))
        self.min_delta = abs(v.number("min_delta", min_delta))
        # The state machine every adapter shares, on Keras' rule (lrkit.control.Plateau).
        self.plateau = Plateau(
            rule="keras",
            mode=mode,
            factor=factor,
            patience=patience,
            threshold=self.min_delta,
            threshold_mode="abs",
            cooldown=cooldown,
            min_lr=min_lr,
        )
        self.plateau.scales = [float(v.positive("scale", scale))]
        self._loaded = False
        self.factor, self.patience = self.plateau.factor, self.plateau.patience
        self.cooldown, self.min_lr = self.plateau.cooldown, self.plateau.min_lrs[0]

    # The plateau's state, under the names of Keras' callback (and lrkit 0.1's).
    @property
    def scale(self) -> float:
        return self.plateau.scales[0]

    @scale.setter
    def scale(self, value: float) -> None:
        self.plateau.scales = [float(v.positive("scale", value))]

    @property
    def best(self) -> float | None:
        return self.plateau.best

    @property
    def wait(self) -> int:
        return self.plateau.num_bad

    @property
    def cooldown_counter(self) -> int:
        return self.plateau.cooldown_counter

    def _rate(self, t: float, optimizer: Any) -> tuple[float, Any]:
        base, _ = self._base_rate(t, optimizer)
        rate = self.plateau.rate(base)
        return rate, rate

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        if self._loaded:  # resuming from load_state_dict(): keep the whole state
            self._loaded = False
        else:  # as Keras: a new fit() forgets best and counters, keeps the factor
            self.plateau.reset()

    def state_dict(self) -> dict[str, Any]:
        """The plateau's state (``best``, ``num_bad``, ``cooldown_counter``, ``scales``) and
        options, as plain Python types (``json.dumps`` writes it)."""
        return {"options": self.plateau.options(), "plateau": self.plateau.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a saved :meth:`state_dict`; the next ``fit()`` continues from it exactly
        (instead of forgetting ``best`` and the counters, as a fresh ``fit()`` does)."""
        if not isinstance(state, dict) or not {"options", "plateau"} <= set(state):
            raise ValueError(
                "Argument `state` must come from lrkit.keras.ReduceOnPlateau.state_dict(). "
                f"Received: {state!r}"
            )
        saved, given = dict(state["options"]), self.plateau.options()
        if "auto" in (saved.get("mode"), given["mode"]):  # "auto" resolves at the 1st epoch
            saved.pop("mode", None)
            given.pop("mode")
        if saved != given:
            raise ValueError(
                "The saved ReduceOnPlateau state was made with other options: saved "
                f"{state['options']!r}, given {self.plateau.options()!r}"
            )
        self.plateau.load_state_dict(state["plateau"])
        if self.plateau.mode == "auto" and state["options"].get("mode") in ("min", "max"):
            self.plateau.mode = state["options"]["mode"]
        self._loaded = True

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
        if self.plateau.mode == "auto":
            self.plateau.mode = "min" if self._direction_is_down() else "max"
        rate = _float(self.model.optimizer.learning_rate)
        if self.plateau.step(float(current), [rate]) and self.verbose > 0:
            _print(
                f"\nEpoch {epoch + 1}: ReduceOnPlateau reducing the learning rate's "
                f"factor to {self.scale}."
            )

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
    return v.count(name, value, minimum)


from lrkit._find_keras import find_lr  # noqa: E402  (the range test, lrkit.find)
