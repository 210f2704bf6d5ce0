r"""The catalogue: the seed's five schedules and the standard families.

Every schedule here is a frozen dataclass whose formula is written once, branch-free, in
``_f``. Time ``t`` is in the user's unit (epochs or steps); ``T`` is a length in that unit.
Each docstring gives the formula, what happens before, between and after its phases, and
examples that print the values at the boundaries. Named compounds (:class:`OneCycle`,
:class:`WarmupStableDecay`, ...) are built from :mod:`lrkit.compose` pieces, so they share
one code path with everything users compose themselves.
"""

from __future__ import annotations

import dataclasses
import math

from lrkit import _validate as v
from lrkit._core import Compound, Schedule
from lrkit._ops import Array, Ops

# --------------------------------------------------------------------------------------
# The seed's five, under the seed's own parameter names.
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, repr=False)
class Constant(Schedule, name="constant"):
    r"""A constant rate (the seed's "Constant Learning Rate").

    $$\eta(t) = \eta_0$$

    Args:
        start_lr: the rate $\eta_0$, ``>= 0``.

    Examples:
        >>> s = lrkit.constant(start_lr=0.001)
        >>> s(0), s(100)
        (0.001, 0.001)
    """

    start_lr: float

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))

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

    Args:
        start_lr: $\eta_0$, the rate at ``t = 0``.
        decay: $k \ge 0$.

    Examples:
        >>> s = lrkit.time_based_decay(start_lr=0.001, decay=0.1)
        >>> s(0), s(10), s(90)
        (0.001, 0.0005, 0.0001)
    """

    start_lr: float
    decay: float

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("decay", v.nonnegative("decay", self.decay))

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.start_lr / (1.0 + self.decay * t)


@dataclasses.dataclass(frozen=True, repr=False)
class ExponentialDecay(Schedule, name="exponential_decay"):
    r"""The seed's "Exponential Decay": $\eta_0 e^{-k t}$.

    $$\eta(t) = \eta_0 \, e^{-k t}$$

    Decreasing for ``exp_decay > 0``. For the Keras/optax parametrisation (a rate per
    ``decay_steps``, staircase, floor) see :class:`Exponential`.

    Args:
        start_lr: $\eta_0$.
        exp_decay: $k \ge 0$.

    Examples:
        >>> s = lrkit.exponential_decay(start_lr=0.001, exp_decay=0.1)
        >>> s(0), round(s(10), 10)
        (0.001, 0.0003678794)
    """

    start_lr: float
    exp_decay: float

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("exp_decay", v.nonnegative("exp_decay", self.exp_decay))

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

    Args:
        start_lr: $\eta_0$.
        rampup_epochs: $R \ge 0$, how long the rate is held.
        exp_decay: $k \ge 0$.
        continuous: measure the decay from $R$ (no jump) instead of from 0.

    Examples:
        >>> s = lrkit.constant_then_exponential_decay(0.001, rampup_epochs=10, exp_decay=0.1)
        >>> s(9), round(s(10), 10)
        (0.001, 0.0003678794)
        >>> c = lrkit.constant_then_exponential_decay(0.001, 10, 0.1, continuous=True)
        >>> c(9), c(10), round(c(20), 10)
        (0.001, 0.001, 0.0003678794)
    """

    start_lr: float
    rampup_epochs: float
    exp_decay: float
    continuous: bool = False

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("rampup_epochs", v.nonnegative("rampup_epochs", self.rampup_epochs))
        self._set("exp_decay", v.nonnegative("exp_decay", self.exp_decay))
        self._set("continuous", v.boolean("continuous", self.continuous))

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
    :class:`OneCycle`.

    Args:
        start_lr: $\eta_s$, the rate at ``t = 0``.
        min_lr: $\eta_{min}$, the floor of the decay.
        max_lr: $\eta_{max} \ge \eta_{min}$, the peak.
        rampup_epochs: $R \ge 0$.
        sustain_epochs: $S \ge 0$.
        exp_decay: $\gamma \in [0, 1]$, the factor per unit of time after the peak.

    Examples:
        >>> s = lrkit.one_cycle(start_lr=0.0001, min_lr=0.00001, max_lr=0.001,
        ...                     rampup_epochs=10, sustain_epochs=0, exp_decay=0.8)
        >>> s(0), s(5), s(10), round(s(11), 10), round(s(100), 10)
        (0.0001, 0.00055, 0.001, 0.000802, 1e-05)
    """

    start_lr: float
    min_lr: float
    max_lr: float
    rampup_epochs: float
    sustain_epochs: float
    exp_decay: float

    def __post_init__(self) -> None:
        for name in ("start_lr", "min_lr", "max_lr", "rampup_epochs", "sustain_epochs"):
            self._set(name, v.nonnegative(name, getattr(self, name)))
        self._set("exp_decay", v.in_range("exp_decay", self.exp_decay, 0.0, 1.0))
        v.not_greater("min_lr", self.min_lr, "max_lr", self.max_lr)

    def _f(self, t: Array, ops: Ops) -> Array:
        r, s = self.rampup_epochs, self.sustain_epochs
        slope = (self.max_lr - self.start_lr) / r if r > 0 else 0.0
        ramp = slope * t + self.start_lr
        decay = (self.max_lr - self.min_lr) * ops.power(
            self.exp_decay, ops.maximum(t - r - s, 0.0)
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

    Args:
        start_lr: $\eta_0$.
        step_size: $P > 0$.
        gamma: $\gamma \in [0, 1]$.

    Examples:
        >>> s = lrkit.step(start_lr=0.1, step_size=30)
        >>> s(29), round(s(30), 12), round(s(60), 12)
        (0.1, 0.01, 0.001)
    """

    start_lr: float
    step_size: float
    gamma: float = 0.1

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("step_size", v.positive("step_size", self.step_size))
        self._set("gamma", v.in_range("gamma", self.gamma, 0.0, 1.0))

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.start_lr * ops.power(self.gamma, ops.floor_div(t, self.step_size))


@dataclasses.dataclass(frozen=True, repr=False)
class MultiStep(Schedule, name="multistep"):
    r"""Multiply by ``gamma`` at each milestone (PyTorch ``MultiStepLR``).

    $$\eta(t) = \eta_0\, \gamma^{\#\{i : m_i \le t\}}$$

    The drop at $m_i$ applies from $t = m_i$ on. Constant after the last milestone.

    Args:
        start_lr: $\eta_0$.
        milestones: strictly increasing times $m_i \ge 0$.
        gamma: $\gamma \ge 0$.

    Examples:
        >>> s = lrkit.multistep(start_lr=0.1, milestones=[30, 80])
        >>> s(29), round(s(30), 12), round(s(80), 12)
        (0.1, 0.01, 0.001)
    """

    start_lr: float
    milestones: tuple[float, ...]
    gamma: float = 0.1

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("milestones", v.numbers("milestones", self.milestones, increasing=True))
        self._set("gamma", v.nonnegative("gamma", self.gamma))

    def _f(self, t: Array, ops: Ops) -> Array:
        count = ops.full_like(t, 0.0)
        for m in self.milestones:
            count = count + ops.where(t >= m, 1.0, 0.0)
        return self.start_lr * ops.power(self.gamma, count)

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

    Args:
        boundaries: strictly increasing times $b_i \ge 0$ (may be empty).
        values: ``len(boundaries) + 1`` rates $v_i \ge 0$.
        closed: ``"left"`` or ``"right"``, see above.

    Examples:
        >>> s = lrkit.piecewise_constant(boundaries=[10, 20], values=[0.1, 0.05, 0.01])
        >>> s(9), s(10), s(20)
        (0.1, 0.05, 0.01)
        >>> k = lrkit.piecewise_constant([10, 20], [0.1, 0.05, 0.01], closed="right")
        >>> k(10), k(11)
        (0.1, 0.05)
    """

    boundaries: tuple[float, ...]
    values: tuple[float, ...]
    closed: str = "left"

    def __post_init__(self) -> None:
        self._set(
            "boundaries", v.numbers("boundaries", self.boundaries, min_len=0, increasing=True)
        )
        self._set("values", v.numbers("values", self.values))
        self._set("closed", v.choice("closed", self.closed, ("left", "right")))
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

    Rising or falling (a linear warmup is ``linear(0, peak, W)``). Monotone.

    Args:
        start_lr: $\eta_0$.
        end_lr: $\eta_1$, reached at $t = T$ and held after.
        decay_steps: $T > 0$.

    Examples:
        >>> s = lrkit.linear(start_lr=0.1, end_lr=0.0, decay_steps=10)
        >>> s(0), s(5), s(10), s(20)
        (0.1, 0.05, 0.0, 0.0)
    """

    start_lr: float
    end_lr: float
    decay_steps: float

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("end_lr", v.nonnegative("end_lr", self.end_lr))
        self._set("decay_steps", v.positive("decay_steps", self.decay_steps))

    def _f(self, t: Array, ops: Ops) -> Array:
        p = _progress(t, ops, self.decay_steps)
        if self.start_lr == 0.0:  # a warmup from 0: the same value, two ops fewer
            return self.end_lr * p
        return self.start_lr * (1.0 - p) + self.end_lr * p

    @property
    def duration(self) -> float | None:
        return self.decay_steps


@dataclasses.dataclass(frozen=True, repr=False)
class LinearToZero(Compound, name="linear_to_zero"):
    r"""Linear decay to zero over the whole budget ("D2Z"): ``linear(start_lr, 0, T)``.

    $$\eta(t) = \eta_0 \left(1 - \min(t, T)/T\right)$$

    Reaches 0 at $T$ and stays there. Robust under a fixed budget (Li et al. 2020;
    Bergsma et al. 2025).

    Examples:
        >>> s = lrkit.linear_to_zero(start_lr=0.1, decay_steps=100)
        >>> s(0), s(50), s(100)
        (0.1, 0.05, 0.0)
    """

    start_lr: float
    decay_steps: float

    def build(self) -> Schedule:
        return Linear(self.start_lr, 0.0, self.decay_steps)

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("decay_steps", v.positive("decay_steps", self.decay_steps))


@dataclasses.dataclass(frozen=True, repr=False)
class Polynomial(Schedule, name="polynomial"):
    r"""Polynomial decay (Keras ``PolynomialDecay``, optax ``polynomial_schedule``).

    $$\eta(t) = (\eta_0 - \eta_1)\,(1 - t'/T')^{k} + \eta_1$$

    Without ``cycle``: $t' = \min(t, T)$, $T' = T$; ``end_lr`` is held after $T$.
    With ``cycle``: $t' = t$ and $T' = T \lceil t / T \rceil$ ($T' = T$ at $t = 0$), so the
    rate jumps back up at each multiple of $T$, as in Keras.

    Args:
        start_lr: $\eta_0$.
        end_lr: $\eta_1$.
        decay_steps: $T > 0$.
        power: $k > 0$.
        cycle: Keras' ``cycle`` behaviour.

    Examples:
        >>> s = lrkit.polynomial(start_lr=0.1, end_lr=0.0, decay_steps=10, power=2)
        >>> s(0), round(s(5), 12), s(10)
        (0.1, 0.025, 0.0)
    """

    start_lr: float
    end_lr: float
    decay_steps: float
    power: float = 1.0
    cycle: bool = False

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("end_lr", v.nonnegative("end_lr", self.end_lr))
        self._set("decay_steps", v.positive("decay_steps", self.decay_steps))
        self._set("power", v.positive("power", self.power))
        self._set("cycle", v.boolean("cycle", self.cycle))

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

    Args:
        start_lr: $\eta_0$.
        decay_rate: $r \ge 0$.
        decay_steps: $T > 0$.
        staircase: decay in whole steps of $T$.

    Examples:
        >>> s = lrkit.inverse_time(start_lr=0.1, decay_rate=1.0, decay_steps=10)
        >>> s(0), s(10), s(30)
        (0.1, 0.05, 0.025)
    """

    start_lr: float
    decay_rate: float
    decay_steps: float = 1.0
    staircase: bool = False

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("decay_rate", v.nonnegative("decay_rate", self.decay_rate))
        self._set("decay_steps", v.positive("decay_steps", self.decay_steps))
        self._set("staircase", v.boolean("staircase", self.staircase))

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

    Args:
        start_lr: $\eta_0$.
        decay_rate: $r > 0$.
        decay_steps: $T > 0$.
        staircase: decay in whole steps of $T$.
        end_lr: floor (``r < 1``) or ceiling (``r >= 1``), or ``None``.

    Examples:
        >>> s = lrkit.exponential(start_lr=0.1, decay_rate=0.5, decay_steps=10)
        >>> s(0), s(10), round(s(15), 10)
        (0.1, 0.05, 0.0353553391)
        >>> f = lrkit.exponential(0.1, 0.5, 10, staircase=True, end_lr=0.03)
        >>> f(15), f(20), f(40)
        (0.05, 0.03, 0.03)
    """

    start_lr: float
    decay_rate: float
    decay_steps: float = 1.0
    staircase: bool = False
    end_lr: float | None = None

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("decay_rate", v.positive("decay_rate", self.decay_rate))
        self._set("decay_steps", v.positive("decay_steps", self.decay_steps))
        self._set("staircase", v.boolean("staircase", self.staircase))
        if self.end_lr is not None:
            self._set("end_lr", v.nonnegative("end_lr", self.end_lr))
        elif self.decay_rate > 1:
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

    Args:
        start_lr: $\eta_0$.
        decay_steps: $T > 0$.
        end_lr: $\eta_1$ (``alpha * start_lr`` in Keras' terms, ``eta_min`` in PyTorch's).
        exponent: $k > 0$ (optax's ``exponent``).

    Examples:
        >>> s = lrkit.cosine(start_lr=0.1, decay_steps=100)
        >>> s(0), round(s(50), 12), s(100), s(1000)
        (0.1, 0.05, 0.0, 0.0)
    """

    start_lr: float
    decay_steps: float
    end_lr: float = 0.0
    exponent: float = 1.0

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("decay_steps", v.positive("decay_steps", self.decay_steps))
        self._set("end_lr", v.nonnegative("end_lr", self.end_lr))
        self._set("exponent", v.positive("exponent", self.exponent))

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

    start_lr: float
    decay_steps: float
    end_lr: float = 0.0

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("decay_steps", v.positive("decay_steps", self.decay_steps))
        self._set("end_lr", v.nonnegative("end_lr", self.end_lr))

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

    Args:
        start_lr: $\eta_0$.
        decay_steps: $T > 0$.
        end_lr: $\eta_1 \le \eta_0$.
        lower: $L$. upper: $U > L$.

    Examples:
        >>> s = lrkit.tanh_decay(start_lr=0.1, decay_steps=90)
        >>> round(s(0), 6), round(s(60), 6), round(s(90), 6)
        (0.099999, 0.05, 0.000247)
    """

    start_lr: float
    decay_steps: float
    end_lr: float = 0.0
    lower: float = -6.0
    upper: float = 3.0

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("decay_steps", v.positive("decay_steps", self.decay_steps))
        self._set("end_lr", v.nonnegative("end_lr", self.end_lr))
        v.not_greater("end_lr", self.end_lr, "start_lr", self.start_lr)
        self._set("lower", v.number("lower", self.lower))
        self._set("upper", v.number("upper", self.upper))
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

    Args:
        start_lr: $\eta_0$, the rate at ``t = 0``.
        timescale: $\tau > 0$.

    Examples:
        >>> s = lrkit.inverse_sqrt(start_lr=0.1, timescale=100)
        >>> s(0), s(300)
        (0.1, 0.05)
    """

    start_lr: float
    timescale: float = 1.0

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("timescale", v.positive("timescale", self.timescale))

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.start_lr / ops.sqrt((t + self.timescale) / self.timescale)


# --------------------------------------------------------------------------------------
# Named compounds, built from lrkit.compose.
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, repr=False)
class Noam(Compound, name="noam"):
    r"""The Transformer schedule (Vaswani et al. 2017), with 1-based step $s = t + 1$.

    $$\eta(t) = c\, d^{-1/2} \min\left(s^{-1/2},\ s\, W^{-3/2}\right)$$

    Rises linearly until $s = W$ (``t = W - 1``), where it peaks at $c\,(dW)^{-1/2}$, then
    decays as $s^{-1/2}$. Built as ``linear(...) >> inverse_sqrt(...)``.

    Args:
        d_model: $d > 0$. warmup_steps: $W \ge 1$. factor: $c > 0$.

    Examples:
        >>> s = lrkit.noam(d_model=512, warmup_steps=4000)
        >>> round(s(0) * 1e7, 4), round(s(3999), 8), round(s(15999), 8)
        (1.7469, 0.00069877, 0.00034939)
    """

    d_model: float
    warmup_steps: float
    factor: float = 1.0

    def __post_init__(self) -> None:
        self._set("d_model", v.positive("d_model", self.d_model))
        self._set("warmup_steps", v.number("warmup_steps", self.warmup_steps))
        if self.warmup_steps < 1:
            raise ValueError(
                "Argument `warmup_steps` must be >= 1. "
                f"Received: warmup_steps={self.warmup_steps!r}"
            )
        self._set("factor", v.positive("factor", self.factor))

    def build(self) -> Schedule:
        W = self.warmup_steps
        peak = self.factor * self.d_model**-0.5 * W**-0.5
        decay = InverseSqrt(peak, timescale=W)
        if W == 1:
            return decay
        return Linear(peak / W, peak, W - 1) >> decay


@dataclasses.dataclass(frozen=True, repr=False)
class CosineRestarts(Compound, name="cosine_restarts"):
    r"""Cosine annealing with warm restarts (SGDR; Keras ``CosineDecayRestarts``, PyTorch
    ``CosineAnnealingWarmRestarts``).

    $$\eta(t) = \eta_1 + m^{i}\,(\eta_0 - \eta_1)\,\tfrac12\left(1 + \cos\frac{\pi\,
    (t - t_i)}{T\,\mu^{i}}\right), \qquad t_i \le t < t_{i+1}$$

    Cycle $i$ starts at $t_i = T(\mu^i - 1)/(\mu - 1)$ ($= iT$ when $\mu = 1$) and lasts
    $T\mu^i$. At each $t_i$ the rate jumps back to $\eta_1 + m^i(\eta_0 - \eta_1)$; within a
    cycle it falls towards, but does not reach, ``end_lr``. Built as
    ``end_lr + restarts(cosine(start_lr - end_lr, T), T, t_mul, m_mul)``.

    Args:
        start_lr: $\eta_0$. first_decay_steps: $T > 0$.
        t_mul: $\mu \ge 1$, period multiplier. m_mul: $m \in [0, 1]$, amplitude multiplier.
        end_lr: $\eta_1 \le \eta_0$.

    Examples:
        >>> s = lrkit.cosine_restarts(start_lr=0.1, first_decay_steps=10, t_mul=2.0)
        >>> s(0), round(s(5), 12), s(10), round(s(20), 12), s(30)
        (0.1, 0.05, 0.1, 0.05, 0.1)
    """

    start_lr: float
    first_decay_steps: float
    t_mul: float = 2.0
    m_mul: float = 1.0
    end_lr: float = 0.0

    def __post_init__(self) -> None:
        self._set("start_lr", v.nonnegative("start_lr", self.start_lr))
        self._set("end_lr", v.nonnegative("end_lr", self.end_lr))
        v.not_greater("end_lr", self.end_lr, "start_lr", self.start_lr)
        self._set("first_decay_steps", v.positive("first_decay_steps", self.first_decay_steps))
        self._set("t_mul", v.number("t_mul", self.t_mul))
        if self.t_mul < 1:
            raise ValueError(f"Argument `t_mul` must be >= 1. Received: t_mul={self.t_mul!r}")
        self._set("m_mul", v.in_range("m_mul", self.m_mul, 0.0, 1.0))

    def build(self) -> Schedule:
        from lrkit.compose import Restarts

        T = self.first_decay_steps
        cycles = Restarts(
            Cosine(self.start_lr - self.end_lr, T),
            T,
            period_mul=self.t_mul,
            amplitude_mul=self.m_mul,
        )
        return cycles + self.end_lr if self.end_lr else cycles


@dataclasses.dataclass(frozen=True, repr=False)
class Cyclic(Compound, name="cyclic"):
    r"""Cyclical learning rates (Smith 2017; PyTorch ``CyclicLR``).

    $$\eta(t) = \eta_b + (\eta_{max} - \eta_b)\, \operatorname{tri}(t)\, a(t)$$

    $\operatorname{tri}$ rises linearly from 0 to 1 over ``step_size_up``, falls back to 0
    over ``step_size_down``, and repeats. The amplitude $a$ is 1 (``"triangular"``), halves
    each cycle (``"triangular2"``), or is $\gamma^t$ (``"exp_range"``). Continuous.

    Args:
        base_lr: $\eta_b$, the bottom of each cycle. max_lr: the top, $\ge \eta_b$.
        step_size_up: $> 0$. step_size_down: $> 0$, defaults to ``step_size_up``.
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: $\gamma \in (0, 1]$ for ``"exp_range"``.

    Examples:
        >>> s = lrkit.cyclic(base_lr=0.001, max_lr=0.006, step_size_up=10)
        >>> s(0), s(10), s(20), s(30)
        (0.001, 0.006, 0.001, 0.006)
        >>> h = lrkit.cyclic(0.001, 0.006, 10, mode="triangular2")
        >>> h(10), h(30)
        (0.006, 0.0035)
    """

    base_lr: float
    max_lr: float
    step_size_up: float = 2000
    step_size_down: float | None = None
    mode: str = "triangular"
    gamma: float = 1.0

    def __post_init__(self) -> None:
        self._set("base_lr", v.nonnegative("base_lr", self.base_lr))
        self._set("max_lr", v.nonnegative("max_lr", self.max_lr))
        v.not_greater("base_lr", self.base_lr, "max_lr", self.max_lr)
        self._set("step_size_up", v.positive("step_size_up", self.step_size_up))
        if self.step_size_down is not None:
            self._set("step_size_down", v.positive("step_size_down", self.step_size_down))
        self._set("mode", v.choice("mode", self.mode, ("triangular", "triangular2", "exp_range")))
        self._set("gamma", v.in_range("gamma", self.gamma, 0.0, 1.0, lo_open=True))

    def build(self) -> Schedule:
        from lrkit.compose import Restarts

        up = self.step_size_up
        down = up if self.step_size_down is None else self.step_size_down
        triangle = Linear(0.0, 1.0, up) >> Linear(1.0, 0.0, down)
        wave: Schedule = Restarts(
            triangle, up + down, amplitude_mul=0.5 if self.mode == "triangular2" else 1.0
        )
        if self.mode == "exp_range":
            wave = wave * Exponential(1.0, self.gamma)
        return wave * (self.max_lr - self.base_lr) + self.base_lr


@dataclasses.dataclass(frozen=True, repr=False)
class OneCycle(Compound, name="onecycle"):
    r"""Smith's 1cycle policy, parametrised as in PyTorch's ``OneCycleLR`` and optax.

    Two phases (default): anneal from $\eta_{max}/\delta$ up to $\eta_{max}$ over
    $pT$, then down to $\eta_{max}/(\delta\,\phi)$ at $T$. Three phases (``three_phase``): up
    over $pT$, back down to $\eta_{max}/\delta$ over the next $pT$, then down to
    $\eta_{max}/(\delta\,\phi)$ at $T$. Each phase anneals with a half cosine
    (``anneal="cos"``) or linearly (``anneal="linear"``):

    $$\operatorname{cos}(a \to b, x) = b + (a - b)\tfrac12(1 + \cos \pi x),\qquad
    \operatorname{lin}(a \to b, x) = a(1-x) + b x$$

    Continuous; peaks at $t = pT$; holds the final value after $T$ (PyTorch raises there).
    This puts the peak at $pT$ and the end at $T$, like optax; PyTorch puts them one step
    earlier, which :func:`lrkit.compat.torch.OneCycleLR` reproduces. The seed's different
    "one cycle" is :class:`OneCycleSeed` (``lrkit.one_cycle``).

    Args:
        max_lr: $\eta_{max}$. total_steps: $T > 0$.
        pct_start: $p \in (0, 1)$ (``< 0.5`` with ``three_phase``).
        div_factor: $\delta > 0$. final_div_factor: $\phi > 0$.
        anneal: ``"cos"`` or ``"linear"``. three_phase: see above.

    Examples:
        >>> s = lrkit.onecycle(max_lr=0.1, total_steps=100)
        >>> s(0), s(30), s(100)
        (0.004, 0.1, 4e-07)
    """

    max_lr: float
    total_steps: float
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    anneal: str = "cos"
    three_phase: bool = False

    def __post_init__(self) -> None:
        self._set("max_lr", v.nonnegative("max_lr", self.max_lr))
        self._set("total_steps", v.positive("total_steps", self.total_steps))
        self._set("div_factor", v.positive("div_factor", self.div_factor))
        self._set("final_div_factor", v.positive("final_div_factor", self.final_div_factor))
        self._set("anneal", v.choice("anneal", self.anneal, ("cos", "linear")))
        self._set("three_phase", v.boolean("three_phase", self.three_phase))
        top = 0.5 if self.three_phase else 1.0
        self._set("pct_start", v.number("pct_start", self.pct_start))
        if not 0.0 < self.pct_start < top:
            raise ValueError(
                f"Argument `pct_start` must be in (0, {top})"
                f"{' with three_phase=True' if self.three_phase else ''}. "
                f"Received: pct_start={self.pct_start!r}"
            )

    def build(self) -> Schedule:
        from lrkit.compose import sequence

        initial = self.max_lr / self.div_factor
        final = initial / self.final_div_factor
        up = self.pct_start * self.total_steps
        lengths: tuple[float, ...] = (up, self.total_steps - up)
        levels: tuple[float, ...] = (initial, self.max_lr, final)
        if self.three_phase:
            lengths = (up, up, self.total_steps - 2 * up)
            levels = (initial, self.max_lr, initial, final)
        return sequence(
            *(
                anneal(self.anneal, a, b, n)
                for a, b, n in zip(levels[:-1], levels[1:], lengths, strict=True)
            )
        )


def anneal(shape: str, start: float, end: float, length: float) -> Schedule:
    """One phase from ``start`` to ``end`` over ``length``: ``"cos"`` or ``"linear"``."""
    if shape == "cos":
        return Cosine(start, length, end)
    return Linear(start, end, length)


@dataclasses.dataclass(frozen=True, repr=False)
class WarmupStableDecay(Compound, name="warmup_stable_decay"):
    r"""Warmup-stable-decay ("trapezoidal"; MiniCPM, Hägele et al. 2024; Hugging Face's
    ``warmup_stable_decay``).

    Linear warmup from ``warmup_start_lr`` to ``peak_lr`` over $W$, hold ``peak_lr`` for $S$,
    then cool down to ``end_lr`` over $D$ with a ``"linear"``, ``"cosine"`` or ``"1-sqrt"``
    shape (:class:`Linear`, :class:`Cosine`, :class:`OneMinusSqrt`); hold ``end_lr`` after.
    The total length is $W + S + D$. Continuous.

    Examples:
        >>> s = lrkit.warmup_stable_decay(peak_lr=0.1, warmup_steps=10, stable_steps=80,
        ...                               decay_steps=10, decay_shape="linear")
        >>> s(0), s(5), s(10), s(90), s(95), s(100)
        (0.0, 0.05, 0.1, 0.1, 0.05, 0.0)
    """

    peak_lr: float
    warmup_steps: float
    stable_steps: float
    decay_steps: float
    decay_shape: str = "cosine"
    end_lr: float = 0.0
    warmup_start_lr: float = 0.0

    def __post_init__(self) -> None:
        self._set("peak_lr", v.nonnegative("peak_lr", self.peak_lr))
        self._set("warmup_steps", v.nonnegative("warmup_steps", self.warmup_steps))
        self._set("stable_steps", v.nonnegative("stable_steps", self.stable_steps))
        self._set("decay_steps", v.positive("decay_steps", self.decay_steps))
        self._set(
            "decay_shape", v.choice("decay_shape", self.decay_shape, ("linear", "cosine", "1-sqrt"))
        )
        self._set("end_lr", v.nonnegative("end_lr", self.end_lr))
        self._set("warmup_start_lr", v.nonnegative("warmup_start_lr", self.warmup_start_lr))
        v.not_greater("end_lr", self.end_lr, "peak_lr", self.peak_lr)

    def build(self) -> Schedule:
        from lrkit.compose import join

        peak, end, D = self.peak_lr, self.end_lr, self.decay_steps
        decay = {
            "linear": Linear(peak, end, D),
            "cosine": Cosine(peak, D, end),
            "1-sqrt": OneMinusSqrt(peak, D, end),
        }[self.decay_shape]
        W, S = self.warmup_steps, self.stable_steps
        return join(
            [Linear(self.warmup_start_lr, peak, W) if W else None, Constant(peak), decay],
            [W, W + S],
        )
