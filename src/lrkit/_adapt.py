"""What every framework adapter shares: one way to take a schedule, and one clock.

- :func:`rate_source` turns what a user passes (an lrkit schedule, a number, a plain function
  ``f(epoch)`` or ``f(epoch, lr)``) into one :class:`RateSource`, at construction.
- :class:`Clock` turns the framework's counter into schedule time: optimizer updates are
  ``count // accumulation_steps``, and in epochs they go through :func:`lrkit.compose.
  stretched_time`, the formula of ``lrkit.stretch``. The Keras callback, the Keras in-graph
  schedule and the torch scheduler all read a schedule through it, so they see bit-identical
  times, and ``stretch(s, steps_per_epoch)`` evaluated per update gives the same rates.

Framework-free: the adapters above it import their framework.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from lrkit._core import FunctionSchedule, Schedule, as_schedule, positional_arity
from lrkit._ops import MATH, Array, NumpyOps, Ops, is_real_number
from lrkit.compat.torch import Plan
from lrkit.compose import Product, Scale, Shift, Sum, stretched_time
from lrkit.schedules import Linear


@dataclasses.dataclass(frozen=True)
class RateSource:
    """A schedule, or a user's function of ``(epoch, lr)`` that needs the current rate."""

    schedule: Schedule | None
    function: Callable[[Any, float], Any] | None = None

    @property
    def takes_lr(self) -> bool:
        return self.function is not None


def rate_source(name: str, value: Any, *, allow_lr: bool = True) -> RateSource:
    """``value`` as a :class:`RateSource`; a bad value is refused here, naming ``name``.

    A function's arity is read from its signature (never by calling it and catching a
    ``TypeError``, which would hide the user's own errors). ``f(epoch)`` becomes a
    :class:`~lrkit.FunctionSchedule`, whose every output is checked (a finite number >= 0).
    """
    if isinstance(value, Schedule):
        return RateSource(value)
    if isinstance(value, Plan):  # callable (the multiplier), but its rates need a base rate
        raise TypeError(
            f"Argument `{name}` is a PyTorch scheduler's plan, {value!r}, whose rates depend on "
            f"the optimizer's initial rate: give {value.kind}(..., base_lr=<that rate>) or "
            "plan.bind(<that rate>) (lrkit.torch.LRScheduler binds plans itself)."
        )
    if is_real_number(value):
        return RateSource(as_schedule(value))
    if callable(value) and not isinstance(value, type):
        arity = positional_arity(value)
        if arity == 0:
            raise TypeError(
                f"Argument `{name}` must take the epoch as its first argument. "
                f"Received: {name}={value!r}"
            )
        if arity in (1, -1):
            return RateSource(FunctionSchedule(value))
        if not allow_lr:
            raise TypeError(
                f"Argument `{name}` must be an lrkit schedule or a function f(epoch) of one "
                f"argument, the time. Received: {name}={value!r} taking {arity} positional "
                "arguments"
            )
        return RateSource(None, value)
    raise TypeError(
        f"Argument `{name}` must be an lrkit schedule, a function f(epoch) or a number. "
        f"Received: {name}={value!r} of type {type(value).__name__}"
    )


@dataclasses.dataclass(frozen=True)
class Clock:
    """The framework's counter -> schedule time.

    ``steps_per_epoch=None``: the schedule counts optimizer updates. Otherwise it counts
    epochs of ``steps_per_epoch`` updates. ``accumulation_steps`` micro-batches make one update.
    """

    steps_per_epoch: float | None = None
    accumulation_steps: int = 1

    def updates(self, count: Any) -> Any:
        return count // self.accumulation_steps if self.accumulation_steps != 1 else count

    def time(self, count: Any, ops: Ops = MATH) -> Array:
        """Schedule time of ``count`` (a Python int, or an array/tensor of ``ops``' library)."""
        updates = self.updates(count)
        if self.steps_per_epoch is None:
            return updates
        return stretched_time(updates, self.steps_per_epoch, ops)


#: The most counter values a rate table holds: 4 MiB of float32, the weights of a small layer.
TABLE_LIMIT = 2**20


def rate_table(schedule: Schedule, clock: Clock, dtype: Any) -> np.ndarray | None:
    """``schedule``'s rate at every counter value ``0 .. n`` (through ``clock``), where from
    ``n`` on the rate no longer changes: rate ``k`` is ``table[min(k, n)]``. A compiled graph
    looks a rate up in one gather, where the formula costs a dispatch per scalar op.

    Each rate is the NumPy (float64) value rounded once to ``dtype``. ``None`` when the schedule
    never settles (``duration`` is ``None``) or settles after more than :data:`TABLE_LIMIT`
    counts: the formula serves those.

    >>> import lrkit
    >>> rate_table(lrkit.cosine(0.1, 4), Clock(), "float64").round(6).tolist()
    [0.1, 0.085355, 0.05, 0.014645, 0.0, 0.0]
    """
    end, per = schedule.duration, clock.steps_per_epoch or 1.0
    if end is None or not (end * per + 2) * clock.accumulation_steps < TABLE_LIMIT:
        return None  # never settles, or too late (an infinite or NaN end included)
    # One update past the end: the clock's rounding can put the end's own count just short.
    n = (math.ceil(end * per) + 1) * clock.accumulation_steps
    t = clock.time(np.arange(n + 1), NumpyOps(np.float64))
    return np.asarray(schedule(t), dtype=dtype)


#: What an adapter does on resume when the checkpoint was written under another schedule.
ON_CHANGE = ("refuse", "keep_count", "continue")


def take_over(new: Schedule, at: float, rate: float) -> Schedule:
    r"""``new``, bent so that it passes through ``rate`` at time ``at`` and equals ``new`` from
    its end on: the schedule a run continues with when its plan changes (``on_change=
    "continue"``).

    With $s$ the new schedule, $T$ its end, $r$ the run's rate at $a$ and
    $w(t) = (T - t) / (T - a)$ falling from 1 at $a$ to 0 at $T$:

    - $r \ge s(a)$: $\eta(t) = s(t) + (r - s(a))\, w(t)$ (an offset that fades out);
    - $r < s(a)$: $\eta(t) = s(t)\,\bigl(1 - (1 - r / s(a))\, w(t)\bigr)$ (a factor that
      rises to 1), which stays $\ge 0$ where an offset would go below 0.

    Both are plain lrkit schedules (``sum``/``product`` of ``s`` and a ``shift``-ed
    ``linear``), so they save, print and resume again. When $r = s(a)$ (a warmup-stable-decay
    run given a longer stable phase) the result is ``new`` itself: no change at all. Before
    ``at`` the value is not used.

    >>> import lrkit
    >>> s = take_over(lrkit.cosine(0.1, 100), at=50, rate=0.02)
    >>> round(s(50), 12), s(100) == lrkit.cosine(0.1, 100)(100)
    (0.02, True)
    """
    end = new.duration
    if end is None or end <= at:
        ends = "has no end" if end is None else f"ends at t={end:g}"
        raise ValueError(
            f"on_change='continue' needs a new schedule that ends after the resume point "
            f"(t={at:g}) to take over smoothly; {new.spec()} {ends}. Give a schedule planned "
            "for the whole, longer run, or choose on_change='keep_count'."
        )
    planned = float(new(at))
    if rate == planned:
        return new
    if rate > planned:
        fade = Shift(Linear(1.0, end - at, end_lr=0.0), at)
        return Sum(new, Scale(fade, rate - planned))
    return Product(new, Shift(Linear(rate / planned, end - at, end_lr=1.0), at))
