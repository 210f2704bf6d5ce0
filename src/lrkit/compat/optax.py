r"""optax's schedule functions (``optax.schedules``) as lrkit schedules (imports no framework).

Same names, arguments and defaults as optax, so migration is one line::

    lr = optax.warmup_cosine_decay_schedule(0.0, 1e-3, warmup_steps=100, decay_steps=1000)
    lr = lrkit.compat.optax.warmup_cosine_decay_schedule(0.0, 1e-3, 100, 1000)

``schedule(count)`` is optax's value at step count ``count``, and every lrkit schedule is
itself usable as an optax schedule (``optax.sgd(learning_rate=schedule)``). optax computes in
float32 unless ``jax_enable_x64`` is on.

Step counts are kept as floats, so optax's giant counts (``decay_steps=10**12``) work under
``jax.jit`` too, where a Python int beyond int32 overflows (exact up to 2**53).

Where optax silently falls back (``transition_steps <= 0`` gives the constant ``init_value``),
so does this module, since that is optax's documented result; negative ``transition_begin``
(which optax treats as 0) is refused instead.

>>> from lrkit.compat import optax as co
>>> s = co.piecewise_constant_schedule(0.1, {10: 0.5, 20: 0.1})
>>> s(9), s(10), round(s(20), 12)
(0.1, 0.05, 0.005)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lrkit import _validate as v
from lrkit._core import Schedule
from lrkit.compat import _common as c
from lrkit.compose import Shift, join
from lrkit.schedules import Constant, Cosine, Exponential, Linear, PiecewiseConstant, Polynomial

__all__ = [
    "constant_schedule",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "exponential_decay",
    "join_schedules",
    "linear_onecycle_schedule",
    "linear_schedule",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polynomial_schedule",
    "sgdr_schedule",
    "warmup_constant_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
]


def _delayed(schedule: Schedule, transition_begin: int) -> Schedule:
    begin = float(c.count("transition_begin", transition_begin))
    return Shift(schedule, begin) if begin else schedule


def constant_schedule(value: float) -> Schedule:
    """``optax.constant_schedule``.

    Examples:
        >>> lrkit.compat.optax.constant_schedule(0.1)(1000)
        0.1
    """
    return Constant(c.rate("value", value))


def polynomial_schedule(
    init_value: float,
    end_value: float,
    power: float,
    transition_steps: int,
    transition_begin: int = 0,
) -> Schedule:
    r"""``optax.polynomial_schedule``.

    $$\eta(t) = (I - E)\left(1 - \frac{\operatorname{clip}(t - B, 0, T)}{T}\right)^{P} + E$$

    ``transition_steps <= 0`` gives the constant ``init_value``, as in optax.

    Examples:
        >>> s = lrkit.compat.optax.polynomial_schedule(0.1, 0.0, 2.0, 10, transition_begin=5)
        >>> s(5), round(s(10), 12), s(15)
        (0.1, 0.025, 0.0)
    """
    init, end = c.rate("init_value", init_value), c.rate("end_value", end_value)
    steps = float(v.number("transition_steps", transition_steps))
    if steps <= 0:
        return Constant(init)
    return _delayed(
        Polynomial(init, steps, end_lr=end, power=c.positive("power", power)), transition_begin
    )


def linear_schedule(
    init_value: float, end_value: float, transition_steps: float, transition_begin: int = 0
) -> Schedule:
    r"""``optax.linear_schedule``: linear from ``init_value`` to ``end_value``, then held.

    Examples:
        >>> s = lrkit.compat.optax.linear_schedule(0.0, 0.1, transition_steps=10)
        >>> s(0), s(5), s(10), s(20)
        (0.0, 0.05, 0.1, 0.1)
    """
    init, end = c.rate("init_value", init_value), c.rate("end_value", end_value)
    steps = float(v.number("transition_steps", transition_steps))
    if steps <= 0:
        return Constant(init)
    return _delayed(Linear(init, steps, end_lr=end), transition_begin)


def piecewise_constant_schedule(
    init_value: float, boundaries_and_scales: Mapping[int, float] | None = None
) -> Schedule:
    r"""``optax.piecewise_constant_schedule``: scales multiply in from each boundary on.

    $$\eta(t) = I \prod_{i : b_i \le t} s_i$$

    At a boundary the new value already applies (``t >= b``; Keras' ``PiecewiseConstantDecay``
    uses ``t > b``).

    Examples:
        >>> s = lrkit.compat.optax.piecewise_constant_schedule(0.1, {10: 0.5})
        >>> s(9), s(10)
        (0.1, 0.05)
    """
    init = c.rate("init_value", init_value)
    bounds, values = _knots(init, boundaries_and_scales)
    return PiecewiseConstant(bounds, values) if bounds else Constant(init)


def _knots(
    init: float, boundaries_and_scales: Mapping[int, float] | None
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Sorted boundaries and the cumulative values ``init * s_1 * ... * s_i`` after each."""
    if boundaries_and_scales is None:
        return (), (init,)
    if not isinstance(boundaries_and_scales, Mapping):
        raise TypeError(
            "Argument `boundaries_and_scales` must be a dict {step: scale}. "
            f"Received: boundaries_and_scales={boundaries_and_scales!r}"
        )
    bounds: list[float] = []
    values = [init]
    for b, s in sorted(boundaries_and_scales.items()):
        bounds.append(float(c.count(f"boundaries_and_scales key {b!r}", b)))
        values.append(values[-1] * v.nonnegative(f"boundaries_and_scales[{b!r}]", s))
    return tuple(bounds), tuple(values)


def exponential_decay(
    init_value: float,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> Schedule:
    r"""``optax.exponential_decay``, with its delay, staircase and bound.

    $$\eta(t) = \operatorname{bound}\left(I\, r^{p}\right), \qquad
    p = \frac{\max(t - B, 0)}{T} \text{ (or its floor with staircase)}$$

    ``end_value`` is a floor for $r < 1$ and a ceiling for $r > 1$ (required then: lrkit
    schedules never grow without bound). ``transition_steps <= 0`` or ``decay_rate == 0``
    give the constant ``init_value``, as in optax.

    Examples:
        >>> s = lrkit.compat.optax.exponential_decay(0.1, 10, 0.5, transition_begin=5)
        >>> s(5), s(15), s(25)
        (0.1, 0.05, 0.025)
    """
    init = c.rate("init_value", init_value)
    steps = float(v.number("transition_steps", transition_steps))
    rate = c.rate("decay_rate", decay_rate)
    if steps <= 0 or rate == 0:
        return Constant(init)
    end = None if end_value is None else c.rate("end_value", end_value)
    rate = c.decay_rate("decay_rate", rate, end, "end_value")
    decay = Exponential(init, rate, steps, c.boolean("staircase", staircase), end)
    return _delayed(decay, transition_begin)


def cosine_decay_schedule(
    init_value: float, decay_steps: int, alpha: float = 0.0, exponent: float = 1.0
) -> Schedule:
    r"""``optax.cosine_decay_schedule``.

    $$\eta(t) = I\left((1 - \alpha)\left[\tfrac12\left(1 + \cos\frac{\pi \min(t, T)}{T}
    \right)\right]^{p} + \alpha\right)$$

    Examples:
        >>> s = lrkit.compat.optax.cosine_decay_schedule(0.1, decay_steps=100, alpha=0.1)
        >>> s(0), round(s(50), 12), round(s(100), 12)
        (0.1, 0.055, 0.01)
    """
    init = c.rate("init_value", init_value)
    alpha = c.fraction("alpha", alpha)
    return Cosine(
        init,
        float(c.positive("decay_steps", decay_steps)),
        alpha * init,
        c.positive("exponent", exponent),
    )


def piecewise_interpolate_schedule(
    interpolate_type: str,
    init_value: float,
    boundaries_and_scales: Mapping[int, float] | None = None,
) -> Schedule:
    r"""``optax.piecewise_interpolate_schedule``: linear or cosine between knots.

    The knots are $(0, I)$ and $(b_i, I\prod_{j \le i} s_j)$; between two knots the value is
    interpolated (``"linear"`` or half-cosine ``"cosine"``); after the last it is held.

    Examples:
        >>> s = lrkit.compat.optax.piecewise_interpolate_schedule("linear", 0.1, {10: 0.5})
        >>> s(0), s(5), s(10), s(20)
        (0.1, 0.075, 0.05, 0.05)
    """
    kind = c.choice("interpolate_type", interpolate_type, ("linear", "cosine"))
    init = c.rate("init_value", init_value)
    bounds, values = _knots(init, boundaries_and_scales)
    starts = (0.0, *bounds)
    phases: list[Schedule | None] = []
    for start, end, a, b in zip(starts[:-1], starts[1:], values[:-1], values[1:], strict=True):
        length = end - start
        if length <= 0:
            phases.append(None)
        elif kind == "linear":
            phases.append(Linear(a, length, end_lr=b))
        else:
            phases.append(Cosine(a, length, b))
    phases.append(Constant(values[-1]))
    return join(phases, list(bounds))


def linear_onecycle_schedule(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    r"""``optax.linear_onecycle_schedule``: three linear phases.

    Up from ``peak_value / div_factor`` to ``peak_value`` by step
    ``int(pct_start * transition_steps)``, back down to the start by
    ``int(pct_final * transition_steps)``, then down to
    ``peak_value / (div_factor * final_div_factor)`` at ``transition_steps``; held after.

    Examples:
        >>> s = lrkit.compat.optax.linear_onecycle_schedule(100, 0.1)
        >>> s(0), s(30), s(85), round(s(100), 12)
        (0.004, 0.1, 0.004, 4e-07)
    """
    steps = c.positive_count("transition_steps", transition_steps)
    div = c.positive("div_factor", div_factor)
    knots = {
        int(v.number("pct_start", pct_start) * steps): div,
        int(v.number("pct_final", pct_final) * steps): 1.0 / div,
        steps: 1.0 / c.positive("final_div_factor", final_div_factor),
    }
    return piecewise_interpolate_schedule("linear", c.rate("peak_value", peak_value) / div, knots)


def cosine_onecycle_schedule(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    r"""``optax.cosine_onecycle_schedule``: half-cosine up, then half-cosine down.

    Up from ``peak_value / div_factor`` to ``peak_value`` by step
    ``int(pct_start * transition_steps)``, then down to
    ``peak_value / (div_factor * final_div_factor)`` at ``transition_steps``; held after.

    Examples:
        >>> s = lrkit.compat.optax.cosine_onecycle_schedule(100, 0.1)
        >>> s(0), s(30), round(s(100), 12)
        (0.004, 0.1, 4e-07)
    """
    steps = c.positive_count("transition_steps", transition_steps)
    div = c.positive("div_factor", div_factor)
    knots = {
        int(v.number("pct_start", pct_start) * steps): div,
        steps: 1.0 / (div * c.positive("final_div_factor", final_div_factor)),
    }
    return piecewise_interpolate_schedule("cosine", c.rate("peak_value", peak_value) / div, knots)


def warmup_constant_schedule(init_value: float, peak_value: float, warmup_steps: int) -> Schedule:
    r"""``optax.warmup_constant_schedule``: linear warmup, then ``peak_value``.

    As in optax, ``warmup_steps <= 0`` gives the constant ``init_value`` (not ``peak_value``).

    Examples:
        >>> s = lrkit.compat.optax.warmup_constant_schedule(0.0, 0.1, warmup_steps=10)
        >>> s(0), s(5), s(10), s(1000)
        (0.0, 0.05, 0.1, 0.1)
    """
    return linear_schedule(init_value, peak_value, warmup_steps)


def warmup_cosine_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    decay_steps: int,
    end_value: float = 0.0,
    exponent: float = 1.0,
) -> Schedule:
    r"""``optax.warmup_cosine_decay_schedule``: **``decay_steps`` includes the warmup**.

    Linear from ``init_value`` to ``peak_value`` over ``warmup_steps``, then cosine down to
    ``end_value`` at step ``decay_steps`` (so the cosine lasts ``decay_steps - warmup_steps``;
    Keras' ``CosineDecay`` counts its ``decay_steps`` after the warmup); held after.

    Examples:
        >>> s = lrkit.compat.optax.warmup_cosine_decay_schedule(0.0, 0.1, 10, 110)
        >>> s(0), s(10), round(s(60), 12), s(110)
        (0.0, 0.1, 0.05, 0.0)
    """
    warmup = float(c.count("warmup_steps", warmup_steps))
    decay = float(v.number("decay_steps", decay_steps))
    if decay - warmup <= 0:
        raise ValueError(
            "Argument `decay_steps` must be > `warmup_steps` (it includes the warmup). "
            f"Received: warmup_steps={warmup_steps!r}, decay_steps={decay_steps!r}"
        )
    peak = c.rate("peak_value", peak_value)
    end = c.rate("end_value", end_value) if peak else 0.0  # optax: alpha = 0 when peak == 0
    cosine = Cosine(peak, decay - warmup, end, c.positive("exponent", exponent))
    return _after_warmup(init_value, peak, warmup, cosine)


def _after_warmup(init_value: float, peak: float, warmup: float, schedule: Schedule) -> Schedule:
    """optax's ``join_schedules([linear_schedule(init, peak, warmup), schedule], [warmup])``."""
    return join_schedules([linear_schedule(init_value, peak, warmup), schedule], [warmup])


def warmup_exponential_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> Schedule:
    r"""``optax.warmup_exponential_decay_schedule``: linear warmup, then ``exponential_decay``.

    The decay's clock (and its ``transition_begin``) starts after the warmup.

    Examples:
        >>> s = lrkit.compat.optax.warmup_exponential_decay_schedule(0.0, 0.1, 10, 10, 0.5)
        >>> s(0), s(10), s(20)
        (0.0, 0.1, 0.05)
    """
    decay = exponential_decay(
        peak_value, transition_steps, decay_rate, transition_begin, staircase, end_value
    )
    warmup = float(c.count("warmup_steps", warmup_steps))
    return _after_warmup(init_value, c.rate("peak_value", peak_value), warmup, decay)


def sgdr_schedule(cosine_kwargs: Iterable[Mapping[str, Any]]) -> Schedule:
    r"""``optax.sgdr_schedule``: ``warmup_cosine_decay_schedule`` pieces one after another.

    Each dict holds the arguments of one :func:`warmup_cosine_decay_schedule`; piece $i$
    starts where the previous ones' ``decay_steps`` add up to.

    Examples:
        >>> kw = dict(init_value=0.0, peak_value=0.1, warmup_steps=5, decay_steps=50)
        >>> s = lrkit.compat.optax.sgdr_schedule([kw, kw])
        >>> s(5), s(50), s(55)
        (0.1, 0.0, 0.1)
    """
    pieces: list[Schedule] = []
    boundaries: list[float] = []
    step = 0.0
    for i, kwargs in enumerate(cosine_kwargs):
        if not isinstance(kwargs, Mapping):
            raise TypeError(
                f"Argument `cosine_kwargs[{i}]` must be a dict of "
                f"warmup_cosine_decay_schedule arguments. Received: {kwargs!r}"
            )
        pieces.append(warmup_cosine_decay_schedule(**kwargs))
        step += kwargs["decay_steps"]
        boundaries.append(step)
    if not pieces:
        raise ValueError("Argument `cosine_kwargs` must hold at least one dict. Received: []")
    return join_schedules(pieces, boundaries[:-1])


def join_schedules(schedules: Sequence[Schedule], boundaries: Sequence[float]) -> Schedule:
    r"""``optax.join_schedules``: schedule $i$ from boundary $b_{i-1}$ on, on its own clock.

    Schedule $i$ sees the local step $t - b_{i-1}$; at a boundary the next schedule already
    applies. Boundaries that leave a schedule no steps drop it, as in optax.

    Examples:
        >>> from lrkit.compat import optax as co
        >>> s = co.join_schedules([co.linear_schedule(0.0, 0.1, 10),
        ...                        co.cosine_decay_schedule(0.1, 100)], [10])
        >>> s(5), s(10), round(s(60), 12)
        (0.05, 0.1, 0.05)
    """
    parts = v.sequence("schedules", schedules)
    for i, s in enumerate(parts):
        if not isinstance(s, Schedule):
            raise TypeError(
                f"Argument `schedules[{i}]` must be an lrkit schedule (build it with "
                f"lrkit.compat.optax). Received: {s!r} of type {type(s).__name__}"
            )
    bounds = v.numbers("boundaries", boundaries, min_len=0)
    if len(bounds) != len(parts) - 1:
        raise ValueError(
            "Argument `boundaries` must have one item fewer than `schedules`. Received: "
            f"{len(parts)} schedules, boundaries={list(bounds)!r}"
        )
    if any(b < a for a, b in itertools.pairwise(bounds)):
        raise ValueError(
            f"Argument `boundaries` must be non-decreasing. Received: boundaries={list(bounds)!r}"
        )
    return join(list(parts), list(bounds))
