r"""Keras' ``keras.optimizers.schedules`` classes as lrkit schedules (imports no framework).

Same names, arguments and defaults as Keras 3, so migration is one line::

    lr = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=1000, alpha=0.01)
    lr = lrkit.compat.keras.CosineDecay(0.1, decay_steps=1000, alpha=0.01)

``schedule(step)`` is the rate Keras uses at optimizer step ``step``. The ``name`` argument is
accepted for compatibility and has no effect (lrkit schedules have no op names). Keras
computes in float32; lrkit in the input's precision (float64 for Python numbers).

>>> from lrkit.compat import keras as ck
>>> s = ck.PiecewiseConstantDecay(boundaries=[100, 200], values=[0.1, 0.01, 0.001])
>>> s(100), s(101)
(0.1, 0.01)
"""

from __future__ import annotations

from collections.abc import Sequence

from lrkit import _validate as v
from lrkit._core import Schedule
from lrkit.compat import _common as c
from lrkit.compose import Join
from lrkit.recipes import CosineRestarts
from lrkit.schedules import Cosine, Exponential, InverseTime, Linear, PiecewiseConstant, Polynomial

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
]


def ExponentialDecay(  # noqa: N802
    initial_learning_rate: float,
    decay_steps: float,
    decay_rate: float,
    staircase: bool = False,
    name: str = "ExponentialDecay",
) -> Schedule:
    r"""``keras.optimizers.schedules.ExponentialDecay``.

    $$\eta(t) = \eta_0\, r^{p}, \qquad p = t / T \text{ or } \lfloor t / T \rfloor
    \text{ (staircase)}$$

    Keras also accepts a growing ``decay_rate > 1``; lrkit schedules never grow without bound,
    so it is refused here (``lrkit.exponential`` takes a ceiling).

    Examples:
        >>> s = lrkit.compat.keras.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
        >>> s(0), s(10), s(20)
        (0.1, 0.05, 0.025)
    """
    rate = c.decay_rate("decay_rate", decay_rate, None, "a ceiling (Keras has none)")
    return Exponential(
        c.rate("initial_learning_rate", initial_learning_rate),
        rate,
        c.positive("decay_steps", decay_steps),
        c.boolean("staircase", staircase),
    )


def PiecewiseConstantDecay(  # noqa: N802
    boundaries: Sequence[float], values: Sequence[float], name: str = "PiecewiseConstant"
) -> Schedule:
    r"""``keras.optimizers.schedules.PiecewiseConstantDecay``: boundaries are inclusive.

    $$\eta(t) = v_i \quad\text{for } b_{i-1} < t \le b_i$$

    A boundary belongs to the piece that ends there (``step <= boundary``), unlike PyTorch and
    optax: built as ``lrkit.piecewise_constant(..., closed="right")``.

    Examples:
        >>> s = lrkit.compat.keras.PiecewiseConstantDecay([10, 20], [0.1, 0.05, 0.01])
        >>> s(10), s(11), s(20), s(21)
        (0.1, 0.05, 0.05, 0.01)
    """
    return PiecewiseConstant(tuple(boundaries), tuple(values), closed="right")


def PolynomialDecay(  # noqa: N802
    initial_learning_rate: float,
    decay_steps: float,
    end_learning_rate: float = 0.0001,
    power: float = 1.0,
    cycle: bool = False,
    name: str = "PolynomialDecay",
) -> Schedule:
    r"""``keras.optimizers.schedules.PolynomialDecay``, with Keras' ``cycle``.

    $$\eta(t) = (\eta_0 - \eta_1)\,(1 - t'/T')^{k} + \eta_1$$

    Without ``cycle``, $t' = \min(t, T)$ and $T' = T$; with it, $t' = t$ and
    $T' = T\lceil t/T \rceil$ ($T' = T$ at $t = 0$).

    Examples:
        >>> s = lrkit.compat.keras.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)
        >>> s(0), s(5), s(10), s(20)
        (0.1, 0.05, 0.0, 0.0)
    """
    return Polynomial(
        c.rate("initial_learning_rate", initial_learning_rate),
        c.positive("decay_steps", decay_steps),
        end_lr=c.rate("end_learning_rate", end_learning_rate),
        power=c.positive("power", power),
        cycle=c.boolean("cycle", cycle),
    )


def InverseTimeDecay(  # noqa: N802
    initial_learning_rate: float,
    decay_steps: float,
    decay_rate: float,
    staircase: bool = False,
    name: str = "InverseTimeDecay",
) -> Schedule:
    r"""``keras.optimizers.schedules.InverseTimeDecay``.

    $$\eta(t) = \frac{\eta_0}{1 + r\,p}, \qquad p = t/T \text{ or } \lfloor t/T \rfloor$$

    Examples:
        >>> s = lrkit.compat.keras.InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0)
        >>> s(0), s(10), s(30)
        (0.1, 0.05, 0.025)
    """
    return InverseTime(
        c.rate("initial_learning_rate", initial_learning_rate),
        c.rate("decay_rate", decay_rate),
        c.positive("decay_steps", decay_steps),
        c.boolean("staircase", staircase),
    )


def CosineDecay(  # noqa: N802
    initial_learning_rate: float,
    decay_steps: float,
    alpha: float = 0.0,
    name: str = "CosineDecay",
    warmup_target: float | None = None,
    warmup_steps: float = 0,
) -> Schedule:
    r"""``keras.optimizers.schedules.CosineDecay``, with or without its linear warmup.

    Without ``warmup_target``: cosine from $\eta_0$ = ``initial_learning_rate`` down to
    $\alpha\eta_0$ over ``decay_steps``, then held. With it: linear from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then cosine from
    ``warmup_target`` down to ``alpha * warmup_target`` over ``decay_steps`` more steps:
    **``decay_steps`` excludes the warmup** (optax's ``warmup_cosine_decay_schedule``
    includes it).

    Examples:
        >>> s = lrkit.compat.keras.CosineDecay(0.0, decay_steps=100, warmup_target=0.1,
        ...                                   warmup_steps=10)
        >>> s(0), s(5), s(10), round(s(60), 12), s(110)
        (0.0, 0.05, 0.1, 0.05, 0.0)
    """
    lr0 = c.rate("initial_learning_rate", initial_learning_rate)
    steps = c.positive("decay_steps", decay_steps)
    alpha = c.fraction("alpha", alpha)
    warmup = c.rate("warmup_steps", warmup_steps)
    if warmup_target is None:
        return Cosine(lr0, steps, alpha * lr0)
    target = c.rate("warmup_target", warmup_target)
    decay = Cosine(target, steps, alpha * target)
    if warmup == 0:
        return decay
    return Join((Linear(lr0, warmup, end_lr=target), decay), (warmup,))


def CosineDecayRestarts(  # noqa: N802
    initial_learning_rate: float,
    first_decay_steps: float,
    t_mul: float = 2.0,
    m_mul: float = 1.0,
    alpha: float = 0.0,
    name: str = "SGDRDecay",
) -> Schedule:
    r"""``keras.optimizers.schedules.CosineDecayRestarts`` (SGDR).

    $$\eta(t) = \eta_0\left((1 - \alpha)\, m^{i}\, \tfrac12\left(1 + \cos \pi f\right)
    + \alpha\right)$$

    Cycle $i$ lasts ``first_decay_steps * t_mul**i`` and $f$ is the fraction of it elapsed.
    Built as ``lrkit.cosine_restarts``, which restarts exactly at the first step of each
    cycle. Keras finds the cycle with a float32 logarithm (when ``t_mul != 1``), which can
    land in the previous cycle right at a restart step and return that cycle's end value,
    ``alpha * initial_learning_rate``, for that one step (e.g. ``first_decay_steps=171,
    t_mul=1.412334`` at step 171).

    Examples:
        >>> s = lrkit.compat.keras.CosineDecayRestarts(0.1, first_decay_steps=10, m_mul=0.5)
        >>> s(0), s(10), s(30)
        (0.1, 0.05, 0.025)
    """
    lr0 = c.rate("initial_learning_rate", initial_learning_rate)
    alpha = c.fraction("alpha", alpha)
    t_mul = v.number("t_mul", t_mul)
    if t_mul < 1:
        raise ValueError(f"Argument `t_mul` must be >= 1. Received: t_mul={t_mul!r}")
    if v.number("m_mul", m_mul) > 1:
        raise ValueError(
            "Argument `m_mul` must be <= 1: Keras accepts a larger one, but each restart's peak "
            "then grows by m_mul without bound, which lrkit schedules never do (docs/compat.md)"
            f". Received: m_mul={m_mul!r}"
        )
    return CosineRestarts(
        lr0,
        c.positive("first_decay_steps", first_decay_steps),
        t_mul,
        c.fraction("m_mul", m_mul),
        alpha * lr0,
    )
