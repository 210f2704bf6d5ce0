r"""The catalogue: the seed's five schedules and the standard families.

Leaf formulas only: every schedule here is a frozen dataclass whose formula is written once,
branch-free, in ``_f``, and whose arguments are declared once (:mod:`lrkit._params`). Time
``t`` is in the user's unit (epochs or steps); ``T`` is a length in that unit. Each docstring
gives the formula, what happens before, between and after its phases, and examples that print
the values at the boundaries. Combinators are in :mod:`lrkit.compose`; named compounds built
from them (1cycle, warmup-stable-decay, ...) in :mod:`lrkit.recipes`.
"""

from __future__ import annotations

import dataclasses
import math
from functools import cached_property
from typing import ClassVar

from lrkit import _params as p
from lrkit import _validate as v
from lrkit._core import Schedule
from lrkit._ops import Array, Ops

# --------------------------------------------------------------------------------------
# The seed's five, under the seed's own parameter names.
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, repr=False)
class Constant(Schedule, name="constant"):
    r"""A constant rate (the seed's "Constant Learning Rate").

    $$\eta(t) = \eta_0$$

    Examples:
        >>> s = lrkit.constant(start_lr=0.001)
        >>> s(0), s(100)
        (0.001, 0.001)
    """

    example: ClassVar[str] = "constant(start_lr=0.001)"

    start_lr: float = p.rate(r"$\eta_0$, the rate.")

    def _f(self, t: Array, ops: Ops) -> Array:
        return ops.full_like(t, self.start_lr)

    @property
    def duration(self) -> float | None:
        return 0.0


@dataclasses.dataclass(frozen=True, repr=False)
class TimeBasedDecay(Schedule, name="time_based_decay"):
    r"""The seed's "Time-based Decay": $\eta_0 / (1 + k t)$.

    $$\eta(t) = \frac{\eta_0}{1 + k\,t}$$

    Decreasing for ``decay > 0``; never reaches 0. Equal to the seed's function (whose
    ``previous_lr`` is reset to 1 on every call, so it is not recursive).

    Examples:
        >>> s = lrkit.time_based_decay(start_lr=0.001, decay=0.1)
        >>> s(0), s(10), s(90)
        (0.001, 0.0005, 0.0001)
    """

    example: ClassVar[str] = "time_based_decay(start_lr=0.001, decay=0.1)"

    start_lr: float = p.rate(r"$\eta_0$, the rate at $t = 0$.")
    decay: float = p.real(r"$k$, the decay coefficient.", lo=0.0)

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.start_lr / (1.0 + self.decay * t)


@dataclasses.dataclass(frozen=True, repr=False)
class ExponentialDecay(Schedule, name="exponential_decay"):
    r"""The seed's "Exponential Decay": $\eta_0 e^{-k t}$.

    $$\eta(t) = \eta_0 \, e^{-k t}$$

    Decreasing for ``exp_decay > 0``. For the Keras/optax parametrisation (a rate per
    ``decay_steps``, staircase, floor) see :class:`Exponential`.

    Examples:
        >>> s = lrkit.exponential_decay(start_lr=0.001, exp_decay=0.1)
        >>> s(0), round(s(10), 10)
        (0.001, 0.0003678794)
    """

    example: ClassVar[str] = "exponential_decay(start_lr=0.001, exp_decay=0.1)"

    start_lr: float = p.rate(r"$\eta_0$, the rate at $t = 0$.")
    exp_decay: float = p.real(r"$k$, the decay coefficient (the seed's name).", lo=0.0)

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.start_lr * ops.exp(-self.exp_decay * t)


@dataclasses.dataclass(frozen=True, repr=False)
class ConstantThenExponentialDecay(Schedule, name="constant_then_exponential_decay"):
    r"""The seed's "Constant then exponential decayed": hold, then decay exponentially.

    $$\eta(t) = \begin{cases} \eta_0 & t < R \\ \eta_0\, e^{-k t} & t \ge R \end{cases}$$

    Exactly the seed's formula: after ``rampup_epochs`` the decay is measured from ``t = 0``,
    so the rate **jumps** down at $t = R$ (from $\eta_0$ to $\eta_0 e^{-kR}$). With
    ``continuous=True`` the decay is measured from $R$ instead,
    $\eta_0 e^{-k(t-R)}$, and the curve has no jump. Non-increasing either way.

    Examples:
        >>> s = lrkit.constant_then_exponential_decay(0.001, rampup_epochs=10, exp_decay=0.1)
        >>> s(9), round(s(10), 10)
        (0.001, 0.0003678794)
        >>> c = lrkit.constant_then_exponential_decay(0.001, 10, 0.1, continuous=True)
        >>> c(9), c(10), round(c(20), 10)
        (0.001, 0.001, 0.0003678794)
    """

    example: ClassVar[str] = (
        "constant_then_exponential_decay(start_lr=0.001, rampup_epochs=10, exp_decay=0.1)"
    )

    start_lr: float = p.rate(r"$\eta_0$, the rate held first.")
    rampup_epochs: float = p.time("$R$, how long the rate is held (the seed's name).")
    exp_decay: float = p.real("$k$, the decay coefficient.", lo=0.0)
    continuous: bool = p.flag("Measure the decay from $R$ (no jump) instead of from 0.", False)

    def _f(self, t: Array, ops: Ops) -> Array:
        r = self.rampup_epochs
        decayed = self.start_lr * ops.exp(-self.exp_decay * ((t - r) if self.continuous else t))
        return ops.where(t < r, self.start_lr, decayed)

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        return (self.rampup_epochs,) if 0 < self.rampup_epochs < until else ()


@dataclasses.dataclass(frozen=True, repr=False)
class OneCycleSeed(Schedule, name="one_cycle"):
    r"""The seed's "One Cycle Learning Rate": linear ramp, sustain, exponential decay to a floor.

    $$\eta(t) = \begin{cases}
        \eta_s + \frac{\eta_{max} - \eta_s}{R}\, t & t < R \\
        \eta_{max} & R \le t < R + S \\
        (\eta_{max} - \eta_{min})\, \gamma^{\,t - R - S} + \eta_{min} & t \ge R + S
    \end{cases}$$

    Rises linearly from ``start_lr`` (at 0) towards ``max_lr`` (reached at $R$), holds
    ``max_lr`` for $S$, then decays geometrically by $\gamma$ per unit of time towards
    ``min_lr``, which it approaches but never goes below. Continuous at $R$ and $R+S$.
    This is the seed's own formula; for Smith's 1cycle as PyTorch and optax define it see
    :class:`OneCyclePolicy`.

    Examples:
        >>> s = lrkit.one_cycle(start_lr=0.0001, min_lr=0.00001, max_lr=0.001,
        ...                     rampup_epochs=10, sustain_epochs=0, exp_decay=0.8)
        >>> s(0), s(5), s(10), round(s(11), 10), round(s(100), 10)
        (0.0001, 0.00055, 0.001, 0.000802, 1e-05)
    """

    example: ClassVar[str] = (
        "one_cycle(start_lr=0.0001, min_lr=1e-05, max_lr=0.001, rampup_epochs=10, "
        "sustain_epochs=5, exp_decay=0.8)"
    )

    start_lr: float = p.rate(r"$\eta_s$, the rate at $t = 0$.")
    min_lr: float = p.rate(r"$\eta_{min}$, the floor of the decay.")
    max_lr: float = p.rate(r"$\eta_{max} \ge \eta_{min}$, the peak.")
    rampup_epochs: float = p.time("$R$, the length of the ramp.")
    sustain_epochs: float = p.time("$S$, how long the peak is held.")
    exp_decay: float = p.factor(
        r"$\gamma$, the factor per unit of time after the peak (the seed's name)."
    )

    def _check(self) -> None:
        v.not_greater("min_lr", self.min_lr, "max_lr", self.max_lr)

    def _f(self, t: Array, ops: Ops) -> Array:
        r, s = self.rampup_epochs, self.sustain_epochs
        slope = (self.max_lr - self.start_lr) / r if r > 0 else 0.0
        ramp = slope * t + self.start_lr
        # The decay's own time is 0 at r + s as the phase test rounds it (t - r - s need not
        # be: 0 ** 5.7e-14 is 0 where the seed's exact 0 ** 0 is 1).
        decay = (self.max_lr - self.min_lr) * ops.power(
            self.exp_decay, ops.maximum(t - (r + s), 0.0)
        ) + self.min_lr
        return ops.where(t < r, ramp, ops.where(t < r + s, self.max_lr, decay))

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        r, s = self.rampup_epochs, self.sustain_epochs
        return tuple(b for b in sorted({r, r + s}) if 0 < b < until)


# --------------------------------------------------------------------------------------
# Step-wise families.
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, repr=False)
class Step(Schedule, name="step"):
    r"""Multiply by ``gamma`` every ``step_size`` (PyTorch ``StepLR``).

    $$\eta(t) = \eta_0\, \gamma^{\lfloor t / P \rfloor}$$

    Drops happen *at* $t = kP$ (the new value applies from that time on). Non-increasing.

    Examples:
        >>> s = lrkit.step(start_lr=0.1, step_size=30)
        >>> s(29), round(s(30), 12), round(s(60), 12)
        (0.1, 0.01, 0.001)
    """

    example: ClassVar[str] = "step(start_lr=0.1, step_size=30, gamma=0.5)"

    start_lr: float = p.rate(r"$\eta_0$.")
    step_size: float = p.length("$P$, the time between drops.")
    gamma: float = p.factor(r"$\gamma$, the factor of each drop.", 0.1)

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.start_lr * ops.power(self.gamma, ops.floor_div(t, self.step_size))


@dataclasses.dataclass(frozen=True, repr=False)
class MultiStep(Schedule, name="multistep"):
    r"""Multiply by ``gamma`` at each milestone (PyTorch ``MultiStepLR``).

    $$\eta(t) = \eta_0\, \gamma^{\#\{i : m_i \le t\}}$$

    The drop at $m_i$ applies from $t = m_i$ on. Constant after the last milestone.

    Examples:
        >>> s = lrkit.multistep(start_lr=0.1, milestones=[30, 80])
        >>> s(29), round(s(30), 12), round(s(80), 12)
        (0.1, 0.01, 0.001)
    """

    example: ClassVar[str] = "multistep(start_lr=0.1, milestones=[30, 80])"

    start_lr: float = p.rate(r"$\eta_0$.")
    milestones: tuple[float, ...] = p.times("$m_i$, the times of the drops.")
    gamma: float = p.real(r"$\gamma$, the factor of each drop.", 0.1, lo=0.0)

    def _f(self, t: Array, ops: Ops) -> Array:
        count = ops.full_like(t, 0.0)
        for m in self.milestones:
            count = count + ops.where(t >= m, 1.0, 0.0)
        return self.start_lr * ops.power(self.gamma, count)

    @cached_property
    def _peak(self) -> float:
        # After the last milestone: start_lr * gamma ** len(milestones) (gamma > 1 grows).
        try:
            return self.start_lr * max(self.gamma, 1.0) ** len(self.milestones)
        except OverflowError:
            return math.inf

    @property
    def duration(self) -> float | None:
        return self.milestones[-1]

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        return tuple(m for m in self.milestones if 0 < m < until)


@dataclasses.dataclass(frozen=True, repr=False)
class PiecewiseConstant(Schedule, name="piecewise_constant"):
    r"""Piecewise-constant values between boundaries.

    $$\eta(t) = v_i \quad\text{for } b_{i-1} \le t < b_i \qquad (b_{-1} = 0,\ b_n = \infty)$$

    With ``closed="left"`` (the default, like PyTorch and optax) a boundary belongs to the
    piece that starts there: $\eta(b_i) = v_{i+1}$. With ``closed="right"`` (like Keras'
    ``PiecewiseConstantDecay``) it belongs to the piece that ends there: $\eta(b_i) = v_i$.

    Examples:
        >>> s = lrkit.piecewise_constant(boundaries=[10, 20], values=[0.1, 0.05, 0.01])
        >>> s(9), s(10), s(20)
        (0.1, 0.05, 0.01)
        >>> k = lrkit.piecewise_constant([10, 20], [0.1, 0.05, 0.01], closed="right")
        >>> k(10), k(11)
        (0.1, 0.05)
    """

    example: ClassVar[str] = "piecewise_constant(boundaries=[30, 60], values=[0.1, 0.05, 0.01])"

    boundaries: tuple[float, ...] = p.times(
        "$b_i$, where one value ends and the next begins (may be empty).", min_len=0
    )
    values: tuple[float, ...] = p.rates("$v_i$, one more than `boundaries`.")
    closed: str = p.choice(
        "Which piece a boundary belongs to, see above.", ("left", "right"), "left"
    )

    def _check(self) -> None:
        if len(self.values) != len(self.boundaries) + 1:
            raise ValueError(
                "Argument `values` must have one more item than `boundaries`. "
                f"Received: boundaries={list(self.boundaries)!r}, values={list(self.values)!r}"
            )

    def _f(self, t: Array, ops: Ops) -> Array:
        out = ops.full_like(t, self.values[-1])
        for b, value in zip(reversed(self.boundaries), reversed(self.values[:-1]), strict=True):
            out = ops.where((t < b) if self.closed == "left" else (t <= b), value, out)
        return out

    @property
    def duration(self) -> float | None:
        return self.boundaries[-1] if self.boundaries else 0.0

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        return tuple(b for b in self.boundaries if 0 < b < until)


# --------------------------------------------------------------------------------------
# Smooth decays towards an end value, then hold.
# --------------------------------------------------------------------------------------


def _progress(t: Array, ops: Ops, length: float) -> Array:
    """Fraction of ``length`` elapsed, clipped to ``[0, 1]``."""
    return ops.clip(t / length, 0.0, 1.0)


@dataclasses.dataclass(frozen=True, repr=False)
class Linear(Schedule, name="linear"):
    r"""Linear interpolation from ``start_lr`` to ``end_lr`` over ``decay_steps``, then hold.

    $$\eta(t) = \eta_0 (1 - p) + \eta_1\, p, \qquad p = \min(t, T) / T$$

    Rising or falling (a linear warmup is ``linear(0, W, end_lr=peak)``). Monotone.

    Examples:
        >>> s = lrkit.linear(start_lr=0.1, decay_steps=10, end_lr=0.0)
        >>> s(0), s(5), s(10), s(20)
        (0.1, 0.05, 0.0, 0.0)
    """

    example: ClassVar[str] = "linear(start_lr=0.1, decay_steps=80, end_lr=0.01)"

    start_lr: float = p.rate(r"$\eta_0$, the rate at $t = 0$.")
    decay_steps: float = p.length("$T$, the length of the ramp.")
    end_lr: float = p.rate(
        r"$\eta_1$, reached at $T$ and held after (keyword only).", 0.0, kw_only=True
    )

    def _f(self, t: Array, ops: Ops) -> Array:
        p = _progress(t, ops, self.decay_steps)
        if self.start_lr == 0.0:  # a warmup from 0: the same value, two ops fewer
            return self.end_lr * p
        return self.start_lr * (1.0 - p) + self.end_lr * p

    @property
    def duration(self) -> float | None:
        return self.decay_steps


@dataclasses.dataclass(frozen=True, repr=False)
class Polynomial(Schedule, name="polynomial"):
    r"""Polynomial decay (Keras ``PolynomialDecay``, optax ``polynomial_schedule``).

    $$\eta(t) = (\eta_0 - \eta_1)\,(1 - t'/T')^{k} + \eta_1$$

    Without ``cycle``: $t' = \min(t, T)$, $T' = T$; ``end_lr`` is held after $T$.
    With ``cycle``: $t' = t$ and $T' = T \lceil t / T \rceil$ ($T' = T$ at $t = 0$), so the
    rate jumps back up at each multiple of $T$, as in Keras.

    Examples:
        >>> s = lrkit.polynomial(start_lr=0.1, decay_steps=10, end_lr=0.0, power=2)
        >>> s(0), round(s(5), 12), s(10)
        (0.1, 0.025, 0.0)
    """

    example: ClassVar[str] = (
        "polynomial(start_lr=0.1, decay_steps=40, end_lr=0.001, power=2.0, cycle=True)"
    )

    start_lr: float = p.rate(r"$\eta_0$.")
    decay_steps: float = p.length("$T$.")
    end_lr: float = p.rate(r"$\eta_1$ (keyword only).", 0.0, kw_only=True)
    power: float = p.real("$k$ (keyword only).", 1.0, lo=0.0, lo_open=True, kw_only=True)
    cycle: bool = p.flag("Keras' ``cycle`` behaviour (keyword only).", False, kw_only=True)

    def _f(self, t: Array, ops: Ops) -> Array:
        T = self.decay_steps
        horizon = T * ops.maximum(ops.ceil_div(t, T), 1.0) if self.cycle else T
        # 1 - t/T computed as (T - t)/T: exactly 0 at the end, even where division is inexact
        # (XLA's float32), so a fractional power never meets a negative base.
        remaining = ops.maximum(horizon - t, 0.0) / horizon
        return (self.start_lr - self.end_lr) * remaining**self.power + self.end_lr

    @property
    def duration(self) -> float | None:
        return None if self.cycle else self.decay_steps


@dataclasses.dataclass(frozen=True, repr=False)
class InverseTime(Schedule, name="inverse_time"):
    r"""Inverse-time decay (Keras ``InverseTimeDecay``).

    $$\eta(t) = \frac{\eta_0}{1 + r\, p}, \qquad p = t/T \ \text{or}\ \lfloor t/T \rfloor
    \text{ (staircase)}$$

    Decreasing for $r > 0$, never reaches 0. :class:`TimeBasedDecay` is the case $T = 1$.

    Examples:
        >>> s = lrkit.inverse_time(start_lr=0.1, decay_rate=1.0, decay_steps=10)
        >>> s(0), s(10), s(30)
        (0.1, 0.05, 0.025)
    """

    example: ClassVar[str] = (
        "inverse_time(start_lr=0.1, decay_rate=1.0, decay_steps=10, staircase=True)"
    )

    start_lr: float = p.rate(r"$\eta_0$.")
    decay_rate: float = p.real("$r$.", lo=0.0)
    decay_steps: float = p.length("$T$.", 1.0)
    staircase: bool = p.flag("Decay in whole steps of $T$.", False)

    def _f(self, t: Array, ops: Ops) -> Array:
        p = ops.floor_div(t, self.decay_steps) if self.staircase else t / self.decay_steps
        return self.start_lr / (1.0 + self.decay_rate * p)


@dataclasses.dataclass(frozen=True, repr=False)
class Exponential(Schedule, name="exponential"):
    r"""Exponential decay by a rate per period (Keras ``ExponentialDecay``, optax
    ``exponential_decay``), with optional staircase and bound.

    $$\eta(t) = \operatorname{bound}\!\left(\eta_0\, r^{p}\right), \qquad
    p = t/T \ \text{or}\ \lfloor t/T \rfloor \text{ (staircase)}$$

    For $r < 1$, ``end_lr`` is a floor ($\max$); for $r \ge 1$ it is a ceiling ($\min$), as
    in optax, and for $r > 1$ it is required, so the rate never grows without bound. Monotone.

    Examples:
        >>> s = lrkit.exponential(start_lr=0.1, decay_rate=0.5, decay_steps=10)
        >>> s(0), s(10), round(s(15), 10)
        (0.1, 0.05, 0.0353553391)
        >>> f = lrkit.exponential(0.1, 0.5, 10, staircase=True, end_lr=0.03)
        >>> f(15), f(20), f(40)
        (0.05, 0.03, 0.03)
    """

    example: ClassVar[str] = (
        "exponential(start_lr=0.1, decay_rate=0.5, decay_steps=10, end_lr=0.005)"
    )

    start_lr: float = p.rate(r"$\eta_0$.")
    decay_rate: float = p.real("$r$, the factor per $T$.", lo=0.0, lo_open=True)
    decay_steps: float = p.length("$T$.", 1.0)
    staircase: bool = p.flag("Decay in whole steps of $T$.", False)
    end_lr: float | None = p.rate(
        "A floor (``r < 1``) or ceiling (``r >= 1``).", None, optional=True
    )

    def _check(self) -> None:
        if self.end_lr is None and self.decay_rate > 1:
            raise ValueError(
                "Argument `end_lr` is required when `decay_rate` > 1 (a growing rate needs a "
                f"ceiling). Received: decay_rate={self.decay_rate!r}, end_lr=None"
            )

    def _f(self, t: Array, ops: Ops) -> Array:
        p = ops.floor_div(t, self.decay_steps) if self.staircase else t / self.decay_steps
        if self.decay_rate >= 1 and self.end_lr is not None:
            # Growing to the ceiling: written from the ceiling down, so nothing overflows in
            # any dtype (a float32 start * rate**p would reach inf, and 0 * inf is NaN).
            if self.start_lr == 0 or self.end_lr <= self.start_lr or self.decay_rate == 1:
                return ops.full_like(t, min(self.start_lr, self.end_lr))
            reach = math.log(self.end_lr / self.start_lr) / math.log(self.decay_rate)
            return self.end_lr * ops.power(self.decay_rate, ops.minimum(p - reach, 0.0))
        out = self.start_lr * ops.power(self.decay_rate, p)
        if self.end_lr is None:
            return out
        return ops.maximum(out, self.end_lr)  # a floor (rate < 1)


@dataclasses.dataclass(frozen=True, repr=False)
class Cosine(Schedule, name="cosine"):
    r"""Cosine decay from ``start_lr`` to ``end_lr`` over ``decay_steps``, then hold.

    $$\eta(t) = \eta_1 + (\eta_0 - \eta_1)\left[\tfrac12\left(1 +
    \cos\frac{\pi \min(t, T)}{T}\right)\right]^{k}$$

    Monotone (falling when ``end_lr <= start_lr``, rising otherwise, so it also serves as a
    cosine warmup). Holds ``end_lr`` after $T$ (PyTorch's ``CosineAnnealingLR`` rises again;
    :mod:`lrkit.compat` reproduces that where asked).

    Examples:
        >>> s = lrkit.cosine(start_lr=0.1, decay_steps=100)
        >>> s(0), round(s(50), 12), s(100), s(1000)
        (0.1, 0.05, 0.0, 0.0)
    """

    example: ClassVar[str] = "cosine(start_lr=0.1, decay_steps=100, end_lr=0.001, exponent=2.0)"

    start_lr: float = p.rate(r"$\eta_0$.")
    decay_steps: float = p.length("$T$.")
    end_lr: float = p.rate(
        r"$\eta_1$ (``alpha * start_lr`` in Keras' terms, ``eta_min`` in PyTorch's).", 0.0
    )
    exponent: float = p.real("$k$ (optax's ``exponent``).", 1.0, lo=0.0, lo_open=True)

    def _f(self, t: Array, ops: Ops) -> Array:
        one_plus_cos = 1.0 + ops.cos(math.pi * ops.minimum(t, self.decay_steps) / self.decay_steps)
        if self.exponent != 1.0:
            return (
                self.end_lr + (self.start_lr - self.end_lr) * (0.5 * one_plus_cos) ** self.exponent
            )
        # (a - b) * 0.5 * (1 + cos) is exact to reorder (halving is exact): one op fewer.
        out = (0.5 * (self.start_lr - self.end_lr)) * one_plus_cos
        return out + self.end_lr if self.end_lr else out

    @property
    def duration(self) -> float | None:
        return self.decay_steps


@dataclasses.dataclass(frozen=True, repr=False)
class OneMinusSqrt(Schedule, name="one_minus_sqrt"):
    r"""The "1-sqrt" cooldown (Hägele et al. 2024): falls fast at first, then slowly.

    $$\eta(t) = \eta_1 + (\eta_0 - \eta_1)\left(1 - \sqrt{\min(t, T)/T}\right)$$

    Monotone; holds ``end_lr`` after $T$. Used as the decay phase of
    :class:`WarmupStableDecay`.

    Examples:
        >>> s = lrkit.one_minus_sqrt(start_lr=0.1, decay_steps=100)
        >>> s(0), s(25), s(100)
        (0.1, 0.05, 0.0)
    """

    example: ClassVar[str] = "one_minus_sqrt(start_lr=0.1, decay_steps=100)"

    start_lr: float = p.rate(r"$\eta_0$.")
    decay_steps: float = p.length("$T$.")
    end_lr: float = p.rate(r"$\eta_1$.", 0.0)

    def _f(self, t: Array, ops: Ops) -> Array:
        p = _progress(t, ops, self.decay_steps)
        return self.end_lr + (self.start_lr - self.end_lr) * (1.0 - ops.sqrt(p))

    @property
    def duration(self) -> float | None:
        return self.decay_steps


@dataclasses.dataclass(frozen=True, repr=False)
class TanhDecay(Schedule, name="tanh_decay"):
    r"""Hyperbolic-tangent decay (Hsueh et al. 2019; timm's ``TanhLRScheduler``).

    $$\eta(t) = \eta_1 + \tfrac12(\eta_0 - \eta_1)\left(1 - \tanh\left(L + (U - L)\,
    \tfrac{\min(t,T)}{T}\right)\right)$$

    Non-increasing; holds its value at $T$ after $T$. With the paper's $L=-6$, $U=3$ it starts
    a hair below ``start_lr`` (by a factor $\tfrac12(1-\tanh(-6)) \approx 0.999994$) and ends a
    hair above ``end_lr``.

    Examples:
        >>> s = lrkit.tanh_decay(start_lr=0.1, decay_steps=90)
        >>> round(s(0), 6), round(s(60), 6), round(s(90), 6)
        (0.099999, 0.05, 0.000247)
    """

    example: ClassVar[str] = "tanh_decay(start_lr=0.1, decay_steps=100, end_lr=0.001)"

    start_lr: float = p.rate(r"$\eta_0$.")
    decay_steps: float = p.length("$T$.")
    end_lr: float = p.rate(r"$\eta_1 \le \eta_0$.", 0.0)
    lower: float = p.real("$L$.", -6.0, typical=(-10.0, 0.0))
    upper: float = p.real("$U > L$.", 3.0, typical=(-10.0, 15.0))

    def _check(self) -> None:
        v.not_greater("end_lr", self.end_lr, "start_lr", self.start_lr)
        if self.upper <= self.lower:
            raise ValueError(
                "Argument `upper` must be > `lower`. "
                f"Received: lower={self.lower!r}, upper={self.upper!r}"
            )

    def _f(self, t: Array, ops: Ops) -> Array:
        p = _progress(t, ops, self.decay_steps)
        x = self.lower + (self.upper - self.lower) * p
        return self.end_lr + 0.5 * (self.start_lr - self.end_lr) * (1.0 - ops.tanh(x))

    @property
    def duration(self) -> float | None:
        return self.decay_steps


@dataclasses.dataclass(frozen=True, repr=False)
class InverseSqrt(Schedule, name="inverse_sqrt"):
    r"""Inverse square-root decay (Vaswani et al.'s "Noam" after its warmup; Hugging Face's
    ``inverse_sqrt``).

    $$\eta(t) = \frac{\eta_0}{\sqrt{(t + \tau)/\tau}}$$

    Decreasing, never reaches 0. Put a warmup in front with :func:`lrkit.warmup`
    (``warmup(inverse_sqrt(peak, timescale=W), steps=W)`` is Hugging Face's schedule) or use
    :class:`Noam`.

    Examples:
        >>> s = lrkit.inverse_sqrt(start_lr=0.1, timescale=100)
        >>> s(0), s(300)
        (0.1, 0.05)
    """

    example: ClassVar[str] = "inverse_sqrt(start_lr=0.1, timescale=10)"

    start_lr: float = p.rate(r"$\eta_0$, the rate at $t = 0$.")
    timescale: float = p.length(r"$\tau$.", 1.0)

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.start_lr / ops.sqrt((t + self.timescale) / self.timescale)
