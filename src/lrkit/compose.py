r"""Composition: put schedules one after another, in front of each other, in cycles, and combine
their values.

Every piece here is a schedule too (a frozen dataclass with a config), so composites nest,
print, compare, pickle and save like the catalogue. The named recipes
(:class:`~lrkit.recipes.OneCyclePolicy`, :class:`~lrkit.recipes.WarmupStableDecay`, ...) are
built from these same pieces.

The rule for time: a phase that starts at $b$ sees **local time** $t - b$, so every phase's
own formula starts from its own ``t = 0`` (optax's ``join_schedules`` semantics).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Sequence
from functools import cached_property
from typing import ClassVar

import numpy as np

from lrkit import _params as p
from lrkit import _validate as v
from lrkit._core import Compound, Schedule, as_phase
from lrkit._ops import MATH, Array, NumpyOps, Ops
from lrkit.schedules import Cosine, Exponential, Linear, OneMinusSqrt


@dataclasses.dataclass(frozen=True, repr=False)
class Join(Schedule, name="join"):
    r"""Phases one after another: phase $i$ runs on $[b_{i-1}, b_i)$ with local time.

    $$\eta(t) = s_i(t - b_{i-1}) \quad\text{for } b_{i-1} \le t < b_i
    \qquad (b_{-1} = 0,\ b_n = \infty)$$

    At a boundary the next phase applies (its local time is 0 there). The last phase runs
    for ever; a phase that ends before its boundary holds its final value until then.
    Continuous exactly when each phase ends at the value the next one starts from.

    Examples:
        >>> s = lrkit.Join([lrkit.linear(0.0, 5, end_lr=0.1), lrkit.cosine(0.1, 10)], [5])
        >>> s(0), s(5), s(10), s(15)
        (0.0, 0.1, 0.05, 0.0)
    """

    python_name: ClassVar[str] = "lrkit.Join"
    example: ClassVar[str] = (
        "join(schedules=[linear(start_lr=0.0, decay_steps=10, end_lr=0.1), "
        "cosine(start_lr=0.1, decay_steps=90)], boundaries=[10])"
    )

    schedules: tuple[Schedule, ...] = p.schedules("The phases.")
    boundaries: tuple[float, ...] = p.times(
        "``len(schedules) - 1`` times ``> 0`` where the phases change.", min_len=0
    )

    def _check(self) -> None:
        if len(self.boundaries) != len(self.schedules) - 1:
            raise ValueError(
                "Argument `boundaries` must have one item fewer than `schedules`. Received: "
                f"{len(self.schedules)} schedules, boundaries={list(self.boundaries)!r}"
            )
        if self.boundaries and self.boundaries[0] <= 0:
            raise ValueError(
                "Argument `boundaries` must start above 0 (a phase of zero length never runs). "
                f"Received: boundaries={list(self.boundaries)!r}"
            )

    def _starts(self) -> tuple[float, ...]:
        return (0.0, *self.boundaries)

    @staticmethod
    def sequence(*schedules: Schedule) -> Schedule:
        """:func:`sequence`, for ``a >> b`` (the model reaches it through the registry)."""
        return sequence(*schedules)

    def _f(self, t: Array, ops: Ops) -> Array:
        starts = self._starts()
        if ops.scalar:  # evaluate the active phase only
            i = bisect.bisect_right(self.boundaries, t)
            return self.schedules[i]._f(t - starts[i], ops)
        first, last = 0, len(self.schedules) - 1
        span = ops.span(t)
        if span is not None:  # concrete values: compute only the phases they reach
            first = bisect.bisect_right(self.boundaries, span[0])
            last = bisect.bisect_right(self.boundaries, span[1])
        if first == last:  # all in one phase: its local time is never negative
            return self.schedules[last]._f(t - starts[last] if last else t, ops)
        out = self.schedules[last]._f(ops.maximum(t - starts[last], 0.0), ops)
        for i in range(last - 1, first - 1, -1):
            local = t if i == 0 else ops.maximum(t - starts[i], 0.0)
            out = ops.where(t < self.boundaries[i], self.schedules[i]._f(local, ops), out)
        return out

    @property
    def duration(self) -> float | None:
        last = self.schedules[-1].duration
        return None if last is None else self._starts()[-1] + last

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        out: list[float] = []
        ends = (*self.boundaries, math.inf)
        for start, end, s in zip(self._starts(), ends, self.schedules, strict=True):
            if start >= until:
                break
            if start > 0:
                out.append(start)
            out.extend(start + b for b in s.breakpoints(until - start) if start + b < end)
        return tuple(b for b in out if b < until)


def join(schedules: Sequence[Schedule | None], boundaries: Sequence[float]) -> Schedule:
    """:class:`Join`, leniently: phases that are ``None`` or of zero length are dropped.

    >>> lrkit.join([None, lrkit.constant(0.1)], [0])
    constant(start_lr=0.1)
    """
    phases = v.sequence("schedules", schedules)
    bounds = v.numbers("boundaries", boundaries, min_len=0)
    if len(bounds) != len(phases) - 1:
        raise ValueError(
            "Argument `boundaries` must have one item fewer than `schedules`. Received: "
            f"{len(phases)} schedules, boundaries={list(bounds)!r}"
        )
    starts, ends = (0.0, *bounds), (*bounds, math.inf)
    kept = [(s, b) for s, b, e in zip(phases, starts, ends, strict=True) if s is not None and e > b]
    if not kept:
        raise ValueError(
            "Argument `schedules` must hold a phase of non-zero length. "
            f"Received: schedules={list(phases)!r}, boundaries={list(bounds)!r}"
        )
    schedules_kept: tuple[Schedule, ...] = tuple(s for s, _ in kept if s is not None)
    if len(schedules_kept) == 1:
        return schedules_kept[0]
    return Join(schedules_kept, tuple(b for _, b in kept[1:]))


def sequence(*schedules: Schedule) -> Schedule:
    """Run each schedule for its own ``duration``, then the next (``a >> b``).

    >>> s = lrkit.linear(0.0, 5, end_lr=0.1) >> lrkit.cosine(0.1, 10)
    >>> s.boundaries, s(5), s(15)
    ((5,), 0.1, 0.0)
    """
    phases: list[Schedule] = []
    bounds: list[float] = []
    t: float = 0  # stays an int while the durations are ints, for a tidy repr
    for i, given in enumerate(schedules):
        s = as_phase(f"schedules[{i}]", given)
        if phases:
            bounds.append(t)
        parts = s.schedules if isinstance(s, Join) else (s,)
        offsets = s._starts() if isinstance(s, Join) else (0,)
        phases.extend(parts)
        bounds.extend(t + b for b in offsets[1:])
        if i < len(schedules) - 1:
            d = s.duration
            if not d:
                raise ValueError(
                    f"Cannot run another schedule after {s!r}: it has no end of its own. "
                    "Give its length with lrkit.join([...], boundaries=[...])."
                )
            t += d
    if not phases:
        raise ValueError("sequence() needs at least one schedule")
    if len(phases) == 1:
        return phases[0]
    return Join(tuple(phases), tuple(bounds))


@dataclasses.dataclass(frozen=True, repr=False)
class Warmup(Compound, name="warmup"):
    r"""A warmup of ``steps`` in front of ``schedule``, from ``start_lr`` up to ``schedule(0)``.

    $$\eta(t) = \begin{cases} w(t) & t < W \\ s(t - W) & t \ge W \end{cases}$$

    with $w$ rising from ``start_lr`` to $s(0)$: ``"linear"``, ``"cosine"`` (half cosine), or
    ``"exponential"`` (geometric; needs ``start_lr > 0``). The warmup does **not** count
    inside the wrapped schedule: its clock starts at $W$, so the total length is
    $W + $ ``schedule.duration`` (Keras' ``CosineDecay`` convention; optax counts it inside,
    see ``lrkit.compat``). Continuous at $W$.

    Examples:
        >>> s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=90), steps=10)
        >>> s(0), s(5), s(10), s(100)
        (0.0, 0.05, 0.1, 0.0)
    """

    example: ClassVar[str] = (
        "warmup(cosine(start_lr=0.1, decay_steps=90), steps=10, shape='cosine')"
    )

    schedule: Schedule = p.schedule("The schedule that runs after the warmup.")
    steps: float = p.time("$W$, the warmup's length.")
    shape: str = p.choice("The warmup's shape.", ("linear", "cosine", "exponential"), "linear")
    start_lr: float = p.rate("The rate at $t = 0$.", 0.0)

    def _check(self) -> None:
        if self.shape == "exponential" and self.start_lr <= 0:
            raise ValueError(
                "Argument `start_lr` must be > 0 for an exponential warmup. "
                f"Received: start_lr={self.start_lr!r}"
            )
        if self.shape == "exponential" and self.steps > 0 and float(self.schedule(0)) <= 0:
            raise ValueError(
                "Argument `schedule` must start above 0 for an exponential warmup to reach it. "
                f"Received: schedule={self.schedule!r}"
            )

    def build(self) -> Schedule:
        W, a = self.steps, self.start_lr
        if W == 0:
            return self.schedule
        b = float(self.schedule(0))
        ramp: Schedule
        if self.shape == "linear":
            ramp = Linear(a, W, end_lr=b)
        elif self.shape == "cosine":
            ramp = Cosine(a, W, b)
        else:
            ramp = Exponential(a, b / a, W, end_lr=b)
        return Join((ramp, self.schedule), (W,))


@dataclasses.dataclass(frozen=True, repr=False)
class Cooldown(Compound, name="cooldown"):
    r"""``schedule`` until ``at``, then a cooldown from its rate there to ``end_lr`` over
    ``length`` ("decay anytime", Hägele et al. 2024, arXiv 2405.18392).

    $$\eta(t) = \begin{cases} s(t) & t < a \\ c(t - a) & t \ge a \end{cases}$$

    with $c$ falling from $s(a)$ to ``end_lr`` over $L$: ``"linear"``, ``"cosine"`` (half
    cosine) or ``"1-sqrt"`` (:class:`~lrkit.schedules.Linear`, :class:`~lrkit.schedules.Cosine`,
    :class:`~lrkit.schedules.OneMinusSqrt`); ``end_lr`` holds after $a + L$. Any schedule can
    be cooled down from any step without planning the decay in advance (for example a
    constant rate, or a warmup-stable-decay run stopped early). Continuous at $a$; the total
    length is $a + L$.

    Examples:
        >>> s = lrkit.cooldown(lrkit.constant(0.1), at=50, length=20, shape="linear")
        >>> s(0), s(49), s(50), s(60), s(70), s(100)
        (0.1, 0.1, 0.1, 0.05, 0.0, 0.0)
        >>> s = lrkit.cooldown(lrkit.constant(0.1), at=50, length=100)   # "1-sqrt"
        >>> s(50), s(75), s(150)
        (0.1, 0.05, 0.0)
    """

    example: ClassVar[str] = (
        "cooldown(warmup(constant(start_lr=0.1), steps=10), at=60, length=40, shape='1-sqrt')"
    )

    schedule: Schedule = p.schedule("The schedule that runs until the cooldown.")
    at: float = p.time("$a$, when the cooldown starts (from the rate $s(a)$).")
    length: float = p.length("$L$, the cooldown's length.")
    shape: str = p.choice("The cooldown's shape.", ("linear", "cosine", "1-sqrt"), "1-sqrt")
    end_lr: float = p.rate("The rate at the end, held after.", 0.0)

    def build(self) -> Schedule:
        a, L, end = self.at, self.length, self.end_lr
        start = float(self.schedule(a))
        decay: Schedule = {
            "linear": Linear(start, L, end_lr=end),
            "cosine": Cosine(start, L, end),
            "1-sqrt": OneMinusSqrt(start, L, end),
        }[self.shape]
        return join([self.schedule, decay], [a])


#: Cycles a scalar call of :class:`Restarts` finds by bisection (each one way through the
#: compiled function's branches); later cycles use the logarithm.
SCALAR_CYCLES = 24


@dataclasses.dataclass(frozen=True, repr=False)
class Restarts(Schedule, name="restarts"):
    r"""Repeat ``schedule`` in cycles; cycle $i$ is $\mu^i$ times longer and $m^i$ times lower.

    $$\eta(t) = m^{i}\, s\!\left(\frac{t - t_i}{\mu^{i}}\right), \qquad
    t_i = P\,\frac{\mu^{i} - 1}{\mu - 1}\ (= iP \text{ if } \mu = 1) \le t < t_{i+1}$$

    The wrapped schedule's first ``period`` of time is stretched to fill each cycle, and the
    value jumps back to $m^i s(0)$ at each $t_i$. Never ends.

    Examples:
        >>> s = lrkit.restarts(lrkit.linear(0.1, 10, end_lr=0.0), period=10, amplitude_mul=0.5)
        >>> s(0), s(5), s(10), s(15)
        (0.1, 0.05, 0.05, 0.025)
    """

    example: ClassVar[str] = (
        "restarts(linear(start_lr=0.1, decay_steps=25), period=25, period_mul=1.5, "
        "amplitude_mul=0.7)"
    )

    schedule: Schedule = p.schedule("The cycle's shape (its time from 0 to ``period``).")
    period: float = p.length("$P$, the first cycle's length.")
    period_mul: float = p.real(r"$\mu$, the period multiplier.", 1.0, lo=1.0)
    amplitude_mul: float = p.factor("$m$, the amplitude multiplier.", 1.0)

    def _start(self, i: Array, ops: Ops) -> Array:
        P, mu = self.period, self.period_mul
        return P * ops.powm1(mu, i) / (mu - 1.0)

    def _cycle(self, t: Array, ops: Ops) -> tuple[Array, Array, Array]:
        """The cycle that holds ``t``: its local time, and its stretch and amplitude factors."""
        P, mu, m = self.period, self.period_mul, self.amplitude_mul
        if mu == 1.0:
            i = ops.floor_div(t, P)
            return t - i * P, 1.0, ops.power(m, i)
        if ops.scalar:
            # One number: bisect the first cycles' starts (a compiled scalar call becomes a
            # few comparisons and the cycle's constants); beyond them, the formula below.
            bounds, begins, stretches, amplitudes = self._scalar_cycles
            c = bisect.bisect_right(bounds, t) - 1
            if 0 <= c < len(bounds) - 1:
                return (t - begins[c]) / stretches[c], stretches[c], amplitudes[c]
        span = ops.span(t)
        table = None if span is None else self._table(span[1])  # no walrus: AutoGraph warns
        if table is not None:
            # Concrete NumPy values: look the cycle up among the precomputed starts.
            starts, stretch, amplitude = (a.astype(t.dtype, copy=False) for a in table)
            cycle_starts = starts * self._slack(t, ops)
            first, last = np.searchsorted(cycle_starts, np.array(span), side="right") - 1
            if first == last:  # all in one cycle (a chunk, mostly): its constants, same bits
                return (t - starts[last]) / stretch[last], stretch[last], amplitude[last]
            k = np.searchsorted(cycle_starts, t, side="right") - 1
            return (t - starts[k]) / stretch[k], stretch[k], amplitude[k]
        i = ops.floor(ops.log(1.0 + t * (mu - 1.0) / P) / math.log(mu))
        # The logarithm can land one cycle off right at a boundary; settle it against the
        # starts.
        slack = self._slack(t, ops)
        i = ops.where(t < self._start(i, ops) * slack, i - 1.0, i)
        i = ops.where(t >= self._start(i + 1.0, ops) * slack, i + 1.0, i)
        stretch = ops.power(mu, i)
        return (t - self._start(i, ops)) / stretch, stretch, ops.power(m, i)

    @staticmethod
    def _slack(t: Array, ops: Ops) -> float:
        """A computed start can be a few ulps off (``P (mu - 1) / (mu - 1)`` need not be
        ``P``; XLA also divides by multiplying with a reciprocal), so a time within 8 ulps
        below a start counts as that start: at a boundary the new cycle wins, as in exact
        arithmetic. The table and the formula use the same rule."""
        return 1.0 - 8.0 * ops.eps(t)

    @cached_property
    def _scalar_cycles(self) -> tuple[tuple[float, ...], ...]:
        """For one float: the first cycles' starts as the formula settles a time against
        them (times the slack), and their starts, stretches and amplitudes, each computed
        by the formula's own ``math`` arithmetic (so both ways give the same bits)."""
        i: list[float] = []
        starts: list[float] = []
        for k in map(float, range(SCALAR_CYCLES)):
            try:
                start = float(self._start(k, MATH))
            except OverflowError:
                break
            if not start < 2.0**53:  # beyond any exact time: the formula's business
                break
            i.append(k)
            starts.append(start)
        slack = self._slack(0.0, MATH)
        return (
            tuple(s * slack for s in starts),
            tuple(starts),
            tuple(float(MATH.power(self.period_mul, k)) for k in i),
            tuple(float(MATH.power(self.amplitude_mul, k)) for k in i),
        )

    def _table(self, until: float) -> tuple[np.ndarray, ...] | None:
        """Starts, stretches and amplitudes of the cycles up to ``until``, in float64, by the
        formula's own float64 arithmetic (so both paths see the same starts)."""
        mu = self.period_mul
        n = math.log1p(until * (mu - 1.0) / self.period) / math.log(mu) + 2
        if n > 4096:
            return None
        i = np.arange(math.ceil(n) + 1, dtype=np.float64)
        ops = NumpyOps.of(np.dtype(np.float64))
        return self._start(i, ops), ops.power(mu, i), ops.power(self.amplitude_mul, i)

    def _f(self, t: Array, ops: Ops) -> Array:
        local, _, amplitude = self._cycle(t, ops)
        out = self.schedule._f(ops.clip(local, 0.0, self.period), ops)
        return out if self.amplitude_mul == 1.0 else out * amplitude

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        out: list[float] = []
        i = 0
        inner = [b for b in self.schedule.breakpoints(self.period) if b < self.period]
        while len(out) < 10_000:
            start = float(self._start(i, MATH)) if self.period_mul != 1 else i * self.period
            if start >= until:
                break
            if start > 0:
                out.append(start)
            out.extend(start + b * self.period_mul**i for b in inner)
            i += 1
        return tuple(b for b in out if b < until)


@dataclasses.dataclass(frozen=True, repr=False)
class Scale(Schedule, name="scale"):
    r"""``schedule`` times a constant ``factor >= 0`` (``schedule * factor``).

    $$\eta(t) = c\, s(t)$$

    Examples:
        >>> (lrkit.linear(0.1, 10, end_lr=0.0) * 0.5)(0)
        0.05
    """

    example: ClassVar[str] = "scale(cosine(start_lr=1.0, decay_steps=100), factor=0.1)"

    schedule: Schedule = p.schedule("The schedule to scale.")
    factor: float = p.real("$c$.", lo=0.0)

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.schedule._f(t, ops) * self.factor

    @cached_property
    def _peak(self) -> float:
        return self.schedule._peak * self.factor

    @property
    def duration(self) -> float | None:
        return self.schedule.duration

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        return self.schedule.breakpoints(until)


class _Pair(Schedule):
    a: Schedule
    b: Schedule

    @property
    def duration(self) -> float | None:
        da, db = self.a.duration, self.b.duration
        return None if da is None or db is None else max(da, db)

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        return tuple(sorted(set(self.a.breakpoints(until)) | set(self.b.breakpoints(until))))


@dataclasses.dataclass(frozen=True, repr=False)
class Sum(_Pair, name="sum"):
    r"""The sum of two schedules (``a + b``; ``a + 0.001`` adds a constant).

    $$\eta(t) = a(t) + b(t)$$

    Examples:
        >>> (lrkit.linear(0.1, 10, end_lr=0.0) + 0.01)(10)
        0.01
    """

    python_name: ClassVar[str] = "lrkit.Sum"
    example: ClassVar[str] = (
        "sum(a=cosine(start_lr=0.09, decay_steps=100), b=constant(start_lr=0.01))"
    )

    a: Schedule = p.schedule("The first term.")
    b: Schedule = p.schedule("The second term.")

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.a._f(t, ops) + self.b._f(t, ops)

    @cached_property
    def _peak(self) -> float:
        return self.a._peak + self.b._peak


@dataclasses.dataclass(frozen=True, repr=False)
class Product(_Pair, name="product"):
    r"""The product of two schedules (``a * b``), e.g. a decay times a cyclic factor.

    $$\eta(t) = a(t)\, b(t)$$

    Examples:
        >>> (lrkit.linear(0.1, 10, end_lr=0.0) * lrkit.linear(1.0, 10, end_lr=0.0))(5)
        0.025
    """

    python_name: ClassVar[str] = "lrkit.Product"
    example: ClassVar[str] = (
        "product(a=cosine(start_lr=1.0, decay_steps=100), "
        "b=linear(start_lr=0.1, decay_steps=50, end_lr=0.05))"
    )

    a: Schedule = p.schedule("The first factor.")
    b: Schedule = p.schedule("The second factor.")

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.a._f(t, ops) * self.b._f(t, ops)

    @cached_property
    def _peak(self) -> float:
        return self.a._peak * self.b._peak


@dataclasses.dataclass(frozen=True, repr=False)
class Clip(Schedule, name="clip"):
    r"""``schedule`` kept within a floor ``min_lr`` and/or a ceiling ``max_lr``.

    $$\eta(t) = \min(\max(s(t), \eta_{min}), \eta_{max})$$

    Examples:
        >>> s = lrkit.clip(lrkit.linear(0.1, 10, end_lr=0.0), min_lr=0.02)
        >>> s(5), s(10)
        (0.05, 0.02)
    """

    example: ClassVar[str] = "clip(inverse_sqrt(start_lr=1.0), min_lr=0.01, max_lr=0.5)"

    schedule: Schedule = p.schedule("The schedule to clip.")
    min_lr: float | None = p.rate("The floor.", None, optional=True)
    max_lr: float | None = p.rate("The ceiling.", None, optional=True)

    def _check(self) -> None:
        if self.min_lr is None and self.max_lr is None:
            raise ValueError("Arguments `min_lr` and `max_lr` are both None: give at least one.")
        if self.min_lr is not None and self.max_lr is not None:
            v.not_greater("min_lr", self.min_lr, "max_lr", self.max_lr)

    def _f(self, t: Array, ops: Ops) -> Array:
        out = self.schedule._f(t, ops)
        if self.min_lr is not None:
            out = ops.maximum(out, self.min_lr)
        if self.max_lr is not None:
            out = ops.minimum(out, self.max_lr)
        return out

    @property
    def duration(self) -> float | None:
        return self.schedule.duration

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        return self.schedule.breakpoints(until)


@dataclasses.dataclass(frozen=True, repr=False)
class Shift(Schedule, name="shift"):
    r"""``schedule`` delayed by ``delay`` (held at its start value before), or advanced if
    ``delay < 0``.

    $$\eta(t) = s(\max(t - d, 0))$$

    Examples:
        >>> s = lrkit.shift(lrkit.linear(0.1, 10, end_lr=0.0), delay=5)
        >>> s(0), s(5), s(10)
        (0.1, 0.1, 0.05)
    """

    example: ClassVar[str] = "shift(cosine(start_lr=0.1, decay_steps=100), delay=10)"

    schedule: Schedule = p.schedule("The schedule to delay.")
    delay: float = p.real("$d$ (negative: advance).")

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.schedule._f(ops.maximum(t - self.delay, 0.0), ops)

    @property
    def duration(self) -> float | None:
        d = self.schedule.duration
        return None if d is None else max(d + self.delay, 0.0)

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        inner = self.schedule.breakpoints(until - self.delay)
        return tuple(b + self.delay for b in inner if 0 < b + self.delay < until)


@dataclasses.dataclass(frozen=True, repr=False)
class Staircase(Schedule, name="staircase"):
    r"""``schedule`` sampled at whole multiples of ``step_size`` and held in between.

    $$\eta(t) = s\left(h \lfloor t / h \rfloor\right)$$

    Examples:
        >>> s = lrkit.staircase(lrkit.linear(0.1, 10, end_lr=0.0), step_size=5)
        >>> s(4), s(5), s(9)
        (0.1, 0.05, 0.05)
    """

    example: ClassVar[str] = "staircase(cosine(start_lr=0.1, decay_steps=100), step_size=10)"

    schedule: Schedule = p.schedule("The schedule to sample.")
    step_size: float = p.length("$h$.")

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.schedule._f(ops.floor_div(t, self.step_size) * self.step_size, ops)

    @property
    def duration(self) -> float | None:
        d = self.schedule.duration
        return None if d is None else math.ceil(d / self.step_size) * self.step_size

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        return self.schedule.breakpoints(until)


@dataclasses.dataclass(frozen=True, repr=False)
class Stretch(Schedule, name="stretch"):
    r"""``schedule`` slowed down by ``factor``: one unit of its time takes ``factor`` units.

    $$\eta(t) = s(t / k)$$

    The conversion between units: a schedule written in epochs runs per step as
    ``stretch(s, steps_per_epoch)``.

    Examples:
        >>> s = lrkit.stretch(lrkit.linear(0.1, 10, end_lr=0.0), factor=100)   # epochs -> steps
        >>> s(500), s(1000)
        (0.05, 0.0)
    """

    example: ClassVar[str] = "stretch(cosine(start_lr=0.1, decay_steps=10), factor=10)"

    schedule: Schedule = p.schedule("The schedule to slow down.")
    factor: float = p.length("$k$, units of time per unit of the schedule's time.")

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.schedule._f(stretched_time(t, self.factor, ops), ops)

    @property
    def duration(self) -> float | None:
        d = self.schedule.duration
        return None if d is None else d * self.factor

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        return tuple(b * self.factor for b in self.schedule.breakpoints(until / self.factor))


def stretched_time(t: Array, factor: float, ops: Ops) -> Array:
    """``t / factor``, as :class:`Stretch` and every adapter compute it (steps -> epochs).

    Whole units first, then the remainder: ``t / k`` alone can land just below a whole number
    at ``t = n k`` under XLA (``t * (1/k)``), and a step at that epoch would come late. The
    adapters call this one function, so a schedule reads the same times in all of them.
    """
    whole = ops.floor_div(t, factor)
    return whole + (t - whole * factor) / factor
