r"""Named recipes: schedules people know by name, built only from leaf formulas and combinators.

Each is a :class:`~lrkit._core.Compound`: its formula is the one of the schedule its
``build()`` returns, so it shares one code path with everything users compose themselves.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from lrkit import _params as p
from lrkit import _validate as v
from lrkit._core import Compound, Schedule
from lrkit.compose import Restarts, join, sequence
from lrkit.schedules import Constant, Cosine, Exponential, InverseSqrt, Linear, OneMinusSqrt


@dataclasses.dataclass(frozen=True, repr=False)
class LinearToZero(Compound, name="linear_to_zero"):
    r"""Linear decay to zero over the whole budget ("D2Z"): ``linear(start_lr, T, end_lr=0)``.

    $$\eta(t) = \eta_0 \left(1 - \min(t, T)/T\right)$$

    Reaches 0 at $T$ and stays there. Robust under a fixed budget (Li et al. 2020;
    Bergsma et al. 2025).

    Examples:
        >>> s = lrkit.linear_to_zero(start_lr=0.1, decay_steps=100)
        >>> s(0), s(50), s(100)
        (0.1, 0.05, 0.0)
    """

    example: ClassVar[str] = "linear_to_zero(start_lr=0.1, decay_steps=100)"

    start_lr: float = p.rate(r"$\eta_0$.")
    decay_steps: float = p.length("$T$, the whole budget.")

    def build(self) -> Schedule:
        return Linear(self.start_lr, self.decay_steps)


@dataclasses.dataclass(frozen=True, repr=False)
class Noam(Compound, name="noam"):
    r"""The Transformer schedule (Vaswani et al. 2017), with 1-based step $s = t + 1$.

    $$\eta(t) = c\, d^{-1/2} \min\left(s^{-1/2},\ s\, W^{-3/2}\right)$$

    Rises linearly until $s = W$ (``t = W - 1``), where it peaks at $c\,(dW)^{-1/2}$, then
    decays as $s^{-1/2}$. Built as ``linear(...) >> inverse_sqrt(...)``.

    Examples:
        >>> s = lrkit.noam(d_model=512, warmup_steps=4000)
        >>> round(s(0) * 1e7, 4), round(s(3999), 8), round(s(15999), 8)
        (1.7469, 0.00069877, 0.00034939)
    """

    example: ClassVar[str] = "noam(d_model=512, warmup_steps=400)"

    d_model: float = p.length("$d$, the model width.")
    warmup_steps: float = p.length("$W$, the warmup length.", lo=1.0)
    factor: float = p.real("$c$.", 1.0, lo=0.0, lo_open=True)

    def build(self) -> Schedule:
        W = self.warmup_steps
        peak = self.factor * self.d_model**-0.5 * W**-0.5
        decay = InverseSqrt(peak, timescale=W)
        if W == 1:
            return decay
        return Linear(peak / W, W - 1, end_lr=peak) >> decay


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

    Examples:
        >>> s = lrkit.cosine_restarts(start_lr=0.1, first_decay_steps=10, t_mul=2.0)
        >>> s(0), round(s(5), 12), s(10), round(s(20), 12), s(30)
        (0.1, 0.05, 0.1, 0.05, 0.1)
    """

    example: ClassVar[str] = (
        "cosine_restarts(start_lr=0.1, first_decay_steps=20, t_mul=2.0, m_mul=0.8)"
    )

    start_lr: float = p.rate(r"$\eta_0$.")
    first_decay_steps: float = p.length("$T$, the first cycle's length.")
    t_mul: float = p.real(r"$\mu$, the period multiplier.", 2.0, lo=1.0)
    m_mul: float = p.factor("$m$, the amplitude multiplier.", 1.0)
    end_lr: float = p.rate(r"$\eta_1 \le \eta_0$.", 0.0)

    def _check(self) -> None:
        v.not_greater("end_lr", self.end_lr, "start_lr", self.start_lr)

    def build(self) -> Schedule:
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

    Examples:
        >>> s = lrkit.cyclic(base_lr=0.001, max_lr=0.006, step_size_up=10)
        >>> s(0), s(10), s(20), s(30)
        (0.001, 0.006, 0.001, 0.006)
        >>> h = lrkit.cyclic(0.001, 0.006, 10, mode="triangular2")
        >>> h(10), h(30)
        (0.006, 0.0035)
    """

    example: ClassVar[str] = (
        "cyclic(base_lr=0.001, max_lr=0.006, step_size_up=20, mode='exp_range', gamma=0.99)"
    )

    base_lr: float = p.rate(r"$\eta_b$, the bottom of each cycle.")
    max_lr: float = p.rate(r"The top, $\ge \eta_b$.")
    step_size_up: float = p.length("The rise's length.", 2000)
    step_size_down: float | None = p.length(
        "The fall's length; ``None``: ``step_size_up``.", None, optional=True
    )
    mode: str = p.choice(
        "The amplitude rule, see above.", ("triangular", "triangular2", "exp_range"), "triangular"
    )
    gamma: float = p.factor(r"$\gamma$ for ``\"exp_range\"``.", 1.0, lo_open=True)

    def _check(self) -> None:
        v.not_greater("base_lr", self.base_lr, "max_lr", self.max_lr)

    def build(self) -> Schedule:
        up = self.step_size_up
        down = up if self.step_size_down is None else self.step_size_down
        triangle = Linear(0.0, up, end_lr=1.0) >> Linear(1.0, down)
        wave: Schedule = Restarts(
            triangle, up + down, amplitude_mul=0.5 if self.mode == "triangular2" else 1.0
        )
        if self.mode == "exp_range":
            wave = wave * Exponential(1.0, self.gamma)
        return wave * (self.max_lr - self.base_lr) + self.base_lr


@dataclasses.dataclass(frozen=True, repr=False)
class OneCyclePolicy(Compound, name="one_cycle_policy", aliases=("onecycle",)):
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

    Examples:
        >>> s = lrkit.one_cycle_policy(max_lr=0.1, total_steps=100)
        >>> s(0), s(30), s(100)
        (0.004, 0.1, 4e-07)
    """

    example: ClassVar[str] = "one_cycle_policy(max_lr=0.1, total_steps=100, three_phase=True)"

    max_lr: float = p.rate(r"$\eta_{max}$, the peak.")
    total_steps: float = p.length("$T$, the whole length.")
    pct_start: float = p.real(
        "$p$, the fraction of $T$ spent rising.", 0.3, lo=0.0, hi=1.0, lo_open=True, hi_open=True
    )
    div_factor: float = p.real(
        r"$\delta$: the start is $\eta_{max}/\delta$.", 25.0, lo=0.0, lo_open=True
    )
    final_div_factor: float = p.real(
        r"$\phi$: the end is $\eta_{max}/(\delta\phi)$.", 1e4, lo=0.0, lo_open=True
    )
    anneal: str = p.choice("The shape of each phase.", ("cos", "linear"), "cos")
    three_phase: bool = p.flag("Come back down to the start before the final decay.", False)

    def _check(self) -> None:
        if self.three_phase and self.pct_start >= 0.5:
            raise ValueError(
                "Argument `pct_start` must be in (0, 0.5) with three_phase=True. "
                f"Received: pct_start={self.pct_start!r}"
            )

    def build(self) -> Schedule:
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
    return Linear(start, length, end_lr=end)


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

    example: ClassVar[str] = (
        "warmup_stable_decay(peak_lr=0.1, warmup_steps=100, stable_steps=700, decay_steps=200, "
        "decay_shape='1-sqrt')"
    )

    peak_lr: float = p.rate("The rate of the stable phase.")
    warmup_steps: float = p.time("$W$, the warmup's length.")
    stable_steps: float = p.time("$S$, the stable phase's length.")
    decay_steps: float = p.length("$D$, the cooldown's length.")
    decay_shape: str = p.choice("The cooldown's shape.", ("linear", "cosine", "1-sqrt"), "cosine")
    end_lr: float = p.rate("The rate at the end, held after.", 0.0)
    warmup_start_lr: float = p.rate("The rate at $t = 0$.", 0.0)

    def _check(self) -> None:
        v.not_greater("end_lr", self.end_lr, "peak_lr", self.peak_lr)

    def build(self) -> Schedule:
        peak, end, D = self.peak_lr, self.end_lr, self.decay_steps
        decay = {
            "linear": Linear(peak, D, end_lr=end),
            "cosine": Cosine(peak, D, end),
            "1-sqrt": OneMinusSqrt(peak, D, end),
        }[self.decay_shape]
        W, S = self.warmup_steps, self.stable_steps
        return join(
            [Linear(self.warmup_start_lr, W, end_lr=peak) if W else None, Constant(peak), decay],
            [W, W + S],
        )
