r"""PyTorch's ``torch.optim.lr_scheduler`` classes as lrkit schedules (imports no framework).

Each constructor takes the PyTorch class's own arguments and defaults, minus the optimizer,
and returns a plain lrkit schedule: ``schedule(k)`` is the rate PyTorch sets for the k-th
(0-based) ``step()``. Migration is one line::

    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
    scheduler = lrkit.torch.LRScheduler(optimizer, ct.StepLR(step_size=30), relative=True)

Most PyTorch schedulers multiply each parameter group's initial rate, so their constructors
here take ``base_lr=1.0``: the default gives that **multiplier** (what a ``LambdaLR`` would
return, and what :class:`lrkit.torch.LRScheduler` with ``relative=True`` scales by each
group's initial rate); ``base_lr=0.1`` gives the **absolute** rates of an optimizer built
with ``lr=0.1`` (for ``LRScheduler``'s default, ``relative=False``).
Arguments PyTorch gives as absolute rates (``eta_min``) are absolute rates here too, so with
them pass the optimizer's ``base_lr`` (with the default ``base_lr=1.0``, ``eta_min`` reads as
a fraction of the base rate). :func:`CyclicLR` and :func:`OneCycleLR` set absolute rates, as in
PyTorch, and have no ``base_lr`` multiplier.

PyTorch computes most of these recursively (each rate from the previous one); lrkit computes
the closed form, which PyTorch documents and uses for ``step(epoch)``. The two agree to
rounding except where noted.

>>> from lrkit.compat import torch as ct
>>> s = ct.StepLR(step_size=30, gamma=0.1, base_lr=0.05)
>>> s(29), round(s(30), 12)
(0.05, 0.005)
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence

from lrkit import _validate as v
from lrkit._core import Schedule
from lrkit.compat import _common as c
from lrkit.compose import Join, Restarts, join
from lrkit.recipes import CosineRestarts, Cyclic, anneal
from lrkit.schedules import (
    Cosine,
    Exponential,
    Linear,
    MultiStep,
    PiecewiseConstant,
    Polynomial,
    Step,
)

__all__ = [
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "OneCycleMomentum",
    "PolynomialLR",
    "SequentialLR",
    "StepLR",
]


def StepLR(step_size: float, gamma: float = 0.1, *, base_lr: float = 1.0) -> Schedule:  # noqa: N802
    r"""``torch.optim.lr_scheduler.StepLR``: multiply by ``gamma`` every ``step_size`` steps.

    $$\eta(t) = \eta_0\, \gamma^{\lfloor t / P \rfloor}$$

    Args:
        step_size: $P > 0$.
        gamma: $\gamma \in [0, 1]$ (PyTorch also accepts a growing $\gamma > 1$; lrkit
            schedules never grow without bound, so it is refused here).
        base_lr: $\eta_0$; the default 1.0 gives the multiplier.

    Examples:
        >>> s = lrkit.compat.torch.StepLR(step_size=2, gamma=0.5)
        >>> [s(k) for k in range(5)]
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    return Step(c.rate("base_lr", base_lr), c.positive("step_size", step_size), _factor(gamma))


def MultiStepLR(  # noqa: N802
    milestones: Iterable[int], gamma: float = 0.1, *, base_lr: float = 1.0
) -> Schedule:
    r"""``torch.optim.lr_scheduler.MultiStepLR``: multiply by ``gamma`` at each milestone.

    $$\eta(t) = \eta_0\, \gamma^{\#\{i : m_i \le t\}}$$

    As in PyTorch, ``milestones`` is a multiset (a ``Counter``): a milestone given twice
    multiplies by $\gamma^2$ there. Order does not matter.

    Args:
        milestones: steps $m_i \ge 0$.
        gamma: $\gamma \ge 0$.
        base_lr: $\eta_0$; the default 1.0 gives the multiplier.

    Examples:
        >>> s = lrkit.compat.torch.MultiStepLR(milestones=[2, 4, 4], gamma=0.5)
        >>> [s(k) for k in range(6)]
        [1.0, 1.0, 0.5, 0.5, 0.125, 0.125]
    """
    if isinstance(milestones, str | bytes) or not isinstance(milestones, Iterable):
        raise TypeError(
            f"Argument `milestones` must be a list of steps. Received: milestones={milestones!r}"
        )
    items = list(milestones)
    steps = sorted(v.nonnegative(f"milestones[{i}]", m) for i, m in enumerate(items))
    gamma = c.rate("gamma", gamma)
    base_lr = c.rate("base_lr", base_lr)
    if not steps:
        raise ValueError(f"Argument `milestones` must not be empty. Received: milestones={items!r}")
    times = Counter(steps)
    if max(times.values()) == 1:
        return MultiStep(base_lr, tuple(steps), gamma)
    # Repeated milestones compound: the value after m is base * gamma**(milestones <= m),
    # PyTorch's own closed form.
    bounds = sorted(times)
    values = [base_lr] + [base_lr * gamma ** bisect.bisect_right(steps, m) for m in bounds]
    return PiecewiseConstant(tuple(bounds), tuple(values))


def ConstantLR(  # noqa: N802
    factor: float = 1.0 / 3, total_iters: int = 5, *, base_lr: float = 1.0
) -> Schedule:
    r"""``torch.optim.lr_scheduler.ConstantLR``: ``factor`` times the rate until ``total_iters``.

    $$\eta(t) = \begin{cases} f\,\eta_0 & t < N \\ \eta_0 & t \ge N \end{cases}$$

    Args:
        factor: $f \in [0, 1]$.
        total_iters: $N \ge 1$ (PyTorch's ``total_iters=0`` keeps $f\eta_0$ for ever in its
            recursive form and gives $\eta_0$ in its closed form; refused here).
        base_lr: $\eta_0$; the default 1.0 gives the multiplier.

    Examples:
        >>> s = lrkit.compat.torch.ConstantLR(factor=0.5, total_iters=2)
        >>> [s(k) for k in range(4)]
        [0.5, 0.5, 1.0, 1.0]
    """
    factor = c.fraction("factor", factor)
    total_iters = c.positive_count("total_iters", total_iters)
    base_lr = c.rate("base_lr", base_lr)
    return PiecewiseConstant((total_iters,), (base_lr * factor, base_lr))


def LinearLR(  # noqa: N802
    start_factor: float = 1.0 / 3,
    end_factor: float = 1.0,
    total_iters: float = 5,
    *,
    base_lr: float = 1.0,
) -> Schedule:
    r"""``torch.optim.lr_scheduler.LinearLR``: a factor moving linearly, then held.

    $$\eta(t) = \eta_0 \left(f_0 + (f_1 - f_0)\,\frac{\min(t, N)}{N}\right)$$

    Args:
        start_factor: $f_0 \in (0, 1]$. end_factor: $f_1 \in [0, 1]$.
        total_iters: $N > 0$.
        base_lr: $\eta_0$; the default 1.0 gives the multiplier.

    Examples:
        >>> s = lrkit.compat.torch.LinearLR(start_factor=0.25, total_iters=3)
        >>> [s(k) for k in range(5)]
        [0.25, 0.5, 0.75, 1.0, 1.0]
    """
    start_factor = v.in_range("start_factor", start_factor, 0.0, 1.0, lo_open=True)
    end_factor = c.fraction("end_factor", end_factor)
    total_iters = c.positive("total_iters", total_iters)
    base_lr = c.rate("base_lr", base_lr)
    return Linear(base_lr * start_factor, total_iters, end_lr=base_lr * end_factor)


def ExponentialLR(gamma: float, *, base_lr: float = 1.0) -> Schedule:  # noqa: N802
    r"""``torch.optim.lr_scheduler.ExponentialLR``: multiply by ``gamma`` every step.

    $$\eta(t) = \eta_0\, \gamma^{t}$$

    Args:
        gamma: $\gamma \in (0, 1]$ (a growing $\gamma > 1$ is refused: lrkit schedules never
            grow without bound).
        base_lr: $\eta_0$; the default 1.0 gives the multiplier.

    Examples:
        >>> s = lrkit.compat.torch.ExponentialLR(gamma=0.5)
        >>> [s(k) for k in range(4)]
        [1.0, 0.5, 0.25, 0.125]
    """
    gamma = v.positive("gamma", _factor(gamma))
    return Exponential(c.rate("base_lr", base_lr), gamma, 1)


def PolynomialLR(  # noqa: N802
    total_iters: float = 5, power: float = 1.0, *, base_lr: float = 1.0
) -> Schedule:
    r"""``torch.optim.lr_scheduler.PolynomialLR``: polynomial decay to 0 over ``total_iters``.

    $$\eta(t) = \eta_0 \left(1 - \frac{\min(t, N)}{N}\right)^{p}$$

    Args:
        total_iters: $N > 0$. power: $p > 0$.
        base_lr: $\eta_0$; the default 1.0 gives the multiplier.

    Examples:
        >>> s = lrkit.compat.torch.PolynomialLR(total_iters=4, power=2.0)
        >>> [s(k) for k in range(6)]
        [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    total_iters = c.positive("total_iters", total_iters)
    power = c.positive("power", power)
    return Polynomial(c.rate("base_lr", base_lr), total_iters, end_lr=0.0, power=power)


def CosineAnnealingLR(  # noqa: N802
    T_max: float,
    eta_min: float = 0.0,
    *,
    base_lr: float = 1.0,
    hold_after_T_max: bool = False,
) -> Schedule:
    r"""``torch.optim.lr_scheduler.CosineAnnealingLR``, **including its rise after ``T_max``**.

    $$\eta(t) = \eta_{min} + (\eta_0 - \eta_{min})\,\tfrac12\left(1 + \cos\frac{\pi t}{T}
    \right)$$

    PyTorch does not stop at ``T_max``: the cosine goes on, so the rate climbs back to
    $\eta_0$ at $2T$, falls again by $3T$, and so on (period $2T$). That is usually a bug in
    the user's setup (training ran longer than ``T_max``), but it is what PyTorch does, so
    it is reproduced by default. ``hold_after_T_max=True`` holds $\eta_{min}$ after ``T_max``
    instead (lrkit's :class:`~lrkit.schedules.Cosine`).

    PyTorch computes this recursively; its recursion drifts from this closed form by a few
    units in the last place per step, visibly only near $\eta_{min}$.

    Args:
        T_max: $T > 0$, the half period.
        eta_min: $\eta_{min} \ge 0$, an absolute rate as in PyTorch (give ``base_lr`` too).
        base_lr: $\eta_0$; the default 1.0 gives the multiplier.
        hold_after_T_max: hold $\eta_{min}$ after ``T_max`` instead of rising again.

    Examples:
        >>> s = lrkit.compat.torch.CosineAnnealingLR(T_max=10, eta_min=0.001, base_lr=0.1)
        >>> s(0), round(s(5), 12), s(10), round(s(15), 12), s(20)
        (0.1, 0.0505, 0.001, 0.0505, 0.1)
        >>> h = lrkit.compat.torch.CosineAnnealingLR(10, 0.001, base_lr=0.1, hold_after_T_max=True)
        >>> h(15), h(20)
        (0.001, 0.001)
    """
    T_max = c.positive("T_max", T_max)
    eta_min = c.rate("eta_min", eta_min)
    base_lr = c.rate("base_lr", base_lr)
    down = Cosine(base_lr, T_max, eta_min)
    if c.boolean("hold_after_T_max", hold_after_T_max):
        return down
    up = Cosine(eta_min, T_max, base_lr)
    return Restarts(Join((down, up), (T_max,)), 2 * T_max)


def CosineAnnealingWarmRestarts(  # noqa: N802
    T_0: int, T_mult: int = 1, eta_min: float = 0.0, *, base_lr: float = 1.0
) -> Schedule:
    r"""``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`` (SGDR), stepped once per step.

    $$\eta(t) = \eta_{min} + (\eta_0 - \eta_{min})\,\tfrac12\left(1 + \cos\frac{\pi\,
    T_{cur}}{T_i}\right)$$

    Cycle $i$ lasts $T_i = T_0 T_{mult}^i$ steps and $T_{cur}$ counts the steps since it began.
    As in PyTorch, $\eta_{min}$ is approached but never reached. Fractional epochs (PyTorch's
    ``step(epoch + i / iters)``) are the same formula at fractional ``t``.

    Args:
        T_0: $T_0 \ge 1$, the first cycle's length (an ``int``, as in PyTorch).
        T_mult: $T_{mult} \ge 1$ (an ``int``, as in PyTorch).
        eta_min: $\eta_{min}$, an absolute rate as in PyTorch (give ``base_lr`` too).
        base_lr: $\eta_0 \ge \eta_{min}$; the default 1.0 gives the multiplier.

    Examples:
        >>> s = lrkit.compat.torch.CosineAnnealingWarmRestarts(T_0=4, T_mult=2)
        >>> [round(s(k), 4) for k in (0, 2, 3, 4, 8, 11, 12)]
        [1.0, 0.5, 0.1464, 1.0, 0.5, 0.0381, 1.0]
    """
    T_0 = c.positive_count("T_0", T_0)
    T_mult = c.positive_count("T_mult", T_mult)
    eta_min = c.rate("eta_min", eta_min)
    base_lr = c.rate("base_lr", base_lr)
    v.not_greater("eta_min", eta_min, "base_lr", base_lr)
    return CosineRestarts(base_lr, T_0, t_mul=T_mult, end_lr=eta_min)


def CyclicLR(  # noqa: N802
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: object = None,
    scale_mode: str = "cycle",
    cycle_momentum: bool = True,
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
) -> Schedule:
    r"""``torch.optim.lr_scheduler.CyclicLR``: the learning-rate part (absolute rates).

    Triangular cycles between ``base_lr`` and ``max_lr``: up over ``step_size_up`` steps, down
    over ``step_size_down``; ``"triangular2"`` halves the height each cycle and
    ``"exp_range"`` scales it by $\gamma^t$. Built as :class:`~lrkit.schedules.Cyclic`.

    ``base_lr`` here is PyTorch's (the bottom of the cycle), not a multiplier. The momentum
    arguments are accepted so the same keywords build both, but the momentum cycle is not
    part of the returned rate schedule. A custom ``scale_fn`` (a Python function) cannot be
    saved in a config and is refused: compose ``lrkit.cyclic`` with a product instead.

    Examples:
        >>> s = lrkit.compat.torch.CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=4)
        >>> [round(s(k), 6) for k in (0, 2, 4, 6, 8)]
        [0.001, 0.0035, 0.006, 0.0035, 0.001]
    """
    if scale_fn is not None:
        raise ValueError(
            "Argument `scale_fn` is not supported by lrkit.compat (a Python function has no "
            "config); use mode='triangular', 'triangular2' or 'exp_range', or multiply "
            f"lrkit.cyclic(...) by another schedule. Received: scale_fn={scale_fn!r}"
        )
    c.choice("scale_mode", scale_mode, ("cycle", "iterations"))
    c.boolean("cycle_momentum", cycle_momentum)
    c.rate("base_momentum", base_momentum)
    c.rate("max_momentum", max_momentum)
    up = c.positive("step_size_up", step_size_up)
    down = up if step_size_down is None else c.positive("step_size_down", step_size_down)
    return Cyclic(
        c.rate("base_lr", base_lr),
        c.rate("max_lr", max_lr),
        up,
        down,
        c.choice("mode", mode, ("triangular", "triangular2", "exp_range")),
        gamma,
    )


def _one_cycle_phases(
    max_lr: float,
    total_steps: int | None,
    epochs: int | None,
    steps_per_epoch: int | None,
    pct_start: float,
    anneal_strategy: str,
    div_factor: float,
    final_div_factor: float,
    three_phase: bool,
) -> tuple[list[float], str, dict[str, float]]:
    """Phase ends (PyTorch's own ``end_step`` values), the anneal shape, and the levels."""
    if total_steps is not None:
        total = c.positive_count("total_steps", total_steps)
    elif epochs is not None and steps_per_epoch is not None:
        total = c.positive_count("epochs", epochs) * c.positive_count(
            "steps_per_epoch", steps_per_epoch
        )
    else:
        raise ValueError(
            "Arguments `total_steps`, or both `epochs` and `steps_per_epoch`, must be given. "
            f"Received: total_steps=None, epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}"
        )
    pct = v.number("pct_start", pct_start)
    # PyTorch ends phase 1 at step pct*T - 1 (phase 2 at 2*pct*T - 2 with three phases) and the
    # last phase at T - 1, one step before lrkit's own onecycle. A phase of length <= 0 makes
    # PyTorch divide by zero or extrapolate, so it is refused.
    lengths = [pct * total - 1, total * (1 - pct)]
    if three_phase:
        lengths = [pct * total - 1, pct * total - 1, total + 1 - 2 * pct * total]
    if not (0 <= pct <= 1 and min(lengths) > 0):
        raise ValueError(
            "Argument `pct_start` must be in [0, 1] and leave every phase a positive length "
            "(PyTorch divides by zero or extrapolates otherwise). "
            f"Received: pct_start={pct_start!r}, total_steps={total}, three_phase={three_phase}"
        )
    ends = [float(pct * total) - 1]
    if three_phase:
        ends.append(float(2 * pct * total) - 2)
    ends.append(total - 1)
    top = c.rate("max_lr", max_lr)
    initial = top / c.positive("div_factor", div_factor)
    levels = {
        "initial": initial,
        "max": top,
        "min": initial / c.positive("final_div_factor", final_div_factor),
    }
    return ends, c.choice("anneal_strategy", anneal_strategy, ("cos", "linear")), levels


def _anneal_join(ends: list[float], shape: str, levels: Sequence[float]) -> Schedule:
    phases: list[Schedule] = []
    start = 0.0
    for end, a, b in zip(ends, levels[:-1], levels[1:], strict=True):
        length = end - start
        phases.append(anneal(shape, a, b, length))
        start = end
    return Join(tuple(phases), tuple(ends[:-1]))


def OneCycleLR(  # noqa: N802
    max_lr: float,
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    r"""``torch.optim.lr_scheduler.OneCycleLR``: the learning rate, step for step as PyTorch.

    From ``max_lr / div_factor`` up to ``max_lr``, then down to
    ``max_lr / (div_factor * final_div_factor)`` (with ``three_phase``: up, back down to the
    start, then down to the minimum), each phase annealed with a half cosine or linearly.
    PyTorch ends the first phase at step ``pct_start * total_steps - 1`` and the last at
    ``total_steps - 1`` (one step earlier than :class:`lrkit.one_cycle_policy`, which follows the
    paper and optax); this is reproduced exactly.

    **Past the end it holds the minimum.** PyTorch raises ``ValueError`` after step
    ``total_steps``, and at step ``total_steps`` itself extrapolates the last phase (above
    the minimum for ``"cos"``, below it, even negative, for ``"linear"``); lrkit holds the
    minimum from step ``total_steps - 1`` on.

    The momentum arguments are accepted so the same keywords build both schedules:
    :func:`OneCycleMomentum` gives the momentum (or ``betas[0]``) PyTorch sets.

    Examples:
        >>> s = lrkit.compat.torch.OneCycleLR(max_lr=0.1, total_steps=11, pct_start=0.5)
        >>> s(0), round(s(4.5), 12), s(10), s(1000)
        (0.004, 0.1, 4e-07, 4e-07)
    """
    c.boolean("cycle_momentum", cycle_momentum)
    c.rate("base_momentum", base_momentum)
    c.rate("max_momentum", max_momentum)
    c.boolean("three_phase", three_phase)
    ends, shape, lv = _one_cycle_phases(
        max_lr,
        total_steps,
        epochs,
        steps_per_epoch,
        pct_start,
        anneal_strategy,
        div_factor,
        final_div_factor,
        three_phase,
    )
    if three_phase:
        levels = [lv["initial"], lv["max"], lv["initial"], lv["min"]]
    else:
        levels = [lv["initial"], lv["max"], lv["min"]]
    return _anneal_join(ends, shape, levels)


def OneCycleMomentum(  # noqa: N802
    max_lr: float,
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    r"""The momentum (or Adam's ``betas[0]``) that ``OneCycleLR`` sets, as a schedule.

    It mirrors the rate: ``max_momentum`` down to ``base_momentum`` while the rate rises, then
    back up (with ``three_phase``: down, up, then held at ``max_momentum``), on the same phase
    ends as :func:`OneCycleLR`; held after the end. Takes ``OneCycleLR``'s arguments.

    Examples:
        >>> m = lrkit.compat.torch.OneCycleMomentum(max_lr=0.1, total_steps=11, pct_start=0.5)
        >>> m(0), round(m(4.5), 12), m(10)
        (0.95, 0.85, 0.95)
    """
    if not c.boolean("cycle_momentum", cycle_momentum):
        raise ValueError(
            "Argument `cycle_momentum` is False: OneCycleLR then leaves the momentum alone, "
            "so there is no momentum schedule. Received: cycle_momentum=False"
        )
    c.boolean("three_phase", three_phase)
    ends, shape, _ = _one_cycle_phases(
        max_lr,
        total_steps,
        epochs,
        steps_per_epoch,
        pct_start,
        anneal_strategy,
        div_factor,
        final_div_factor,
        three_phase,
    )
    hi, lo = c.rate("max_momentum", max_momentum), c.rate("base_momentum", base_momentum)
    levels = [hi, lo, hi, hi] if three_phase else [hi, lo, hi]
    return _anneal_join(ends, shape, levels)


def SequentialLR(schedulers: Sequence[Schedule], milestones: Sequence[int]) -> Schedule:  # noqa: N802
    r"""``torch.optim.lr_scheduler.SequentialLR``: each schedule from its milestone on.

    Schedule $i$ runs from milestone $m_{i-1}$ (from 0 for the first) with its own clock
    restarted there, so it sees $t - m_{i-1}$: that is what PyTorch's ``SequentialLR`` does
    (it resets the scheduler to its step 0 at the milestone). A milestone of 0 skips the
    first schedule, as in PyTorch. Built as :func:`lrkit.join`.

    Build the parts with the ``lrkit.compat.torch`` constructors and the same ``base_lr``.
    (In PyTorch, ``CyclicLR`` and ``OneCycleLR`` overwrite the optimizer's ``initial_lr``
    when constructed, which silently changes the base rate of the *other* schedulers in the
    sequence; here each part keeps its own.)

    Examples:
        >>> from lrkit.compat import torch as ct
        >>> s = ct.SequentialLR([ct.LinearLR(0.1, total_iters=2), ct.ExponentialLR(0.5)], [2])
        >>> [round(s(k), 6) for k in range(5)]
        [0.1, 0.55, 1.0, 0.5, 0.25]
    """
    parts = v.sequence("schedulers", schedulers)
    bounds = v.numbers("milestones", milestones, min_len=0)
    if any(b < a for a, b in itertools.pairwise(bounds)):
        raise ValueError(
            f"Argument `milestones` must be non-decreasing. Received: milestones={list(bounds)!r}"
        )
    if len(bounds) != len(parts) - 1:
        raise ValueError(
            "Argument `milestones` must have one item fewer than `schedulers`. Received: "
            f"{len(parts)} schedulers, milestones={list(bounds)!r}"
        )
    for i, s in enumerate(parts):
        if not isinstance(s, Schedule):
            raise TypeError(
                f"Argument `schedulers[{i}]` must be an lrkit schedule (build it with "
                f"lrkit.compat.torch). Received: {s!r} of type {type(s).__name__}"
            )
    return join(list(parts), list(bounds))


def _factor(gamma: float) -> float:
    """A decay factor in ``[0, 1]``; PyTorch's growing ``gamma > 1`` has no lrkit equivalent."""
    value = c.rate("gamma", gamma)
    if value > 1:
        raise ValueError(
            "Argument `gamma` must be <= 1: a factor > 1 makes the rate grow without bound, "
            f"which lrkit schedules never do. Received: gamma={gamma!r}"
        )
    return value
