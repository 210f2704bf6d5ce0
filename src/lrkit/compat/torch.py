r"""PyTorch's ``torch.optim.lr_scheduler`` classes as lrkit plans (imports no framework).

Each constructor takes the PyTorch class's own arguments and defaults, minus the optimizer.
Migration is one line, with no extra flag::

    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
    scheduler = lrkit.torch.LRScheduler(optimizer, ct.StepLR(step_size=30))

A PyTorch scheduler's rate depends on each parameter group's initial rate (``initial_lr``,
the ``lr`` the optimizer was built with): ``StepLR`` multiplies it, ``CosineAnnealingLR``
anneals from it to the absolute ``eta_min``, ``SWALR`` anneals from it to ``swa_lr``. So a
constructor returns a :class:`Plan`: the rule waiting for that rate. :class:`lrkit.torch.
LRScheduler` binds it to each group's ``initial_lr``, as PyTorch does, and applies the
momentum (or Adam's ``betas[0]``) that ``CyclicLR`` and ``OneCycleLR`` cycle. Per-group lists
(``CyclicLR``'s ``base_lr``/``max_lr``, ``OneCycleLR``'s ``max_lr`` and momenta, ``SWALR``'s
``swa_lr``, ``LambdaLR``'s ``lr_lambda``) give a list of plans, one per group.

Outside PyTorch (Keras, optax, plots), ``plan.bind(base_lr)`` is the plain lrkit schedule of
the rates for a base rate, and every constructor taking ``base_lr=<rate>`` returns that
schedule directly. Calling a plan, ``plan(t)``, gives the rates for a base rate of 1 (the
multiplier, what a ``LambdaLR`` would return).

PyTorch computes most of these recursively (each rate from the previous one); lrkit computes
the closed form, which PyTorch documents and uses for ``step(epoch)``. The two agree to
rounding except where noted (``docs/compat.md``; ``tests/test_compat_parity.py`` checks
every class).

>>> from lrkit.compat import torch as ct
>>> s = ct.StepLR(step_size=30, gamma=0.1, base_lr=0.05)
>>> s(29), round(s(30), 12)
(0.05, 0.005)
>>> plan = ct.StepLR(step_size=30, gamma=0.1)
>>> plan.bind(0.05) == s
True
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, cast

from lrkit import _validate as v
from lrkit._core import FunctionSchedule, Schedule
from lrkit._ops import Array, Ops
from lrkit.compat import _common as c
from lrkit.compose import Join, Product, Restarts, Shift, join
from lrkit.recipes import CosineRestarts, Cyclic, anneal
from lrkit.schedules import (
    Constant,
    Cosine,
    Exponential,
    Linear,
    MultiStep,
    PiecewiseConstant,
    Polynomial,
    Step,
)

__all__ = [
    "SWALR",
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "OneCycleMomentum",
    "Plan",
    "PolynomialLR",
    "SequentialLR",
    "StepLR",
    "bind_plans",
]


# -- plans ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Plan:
    """A PyTorch scheduler's rule, waiting for a parameter group's initial rate.

    ``bind(base_lr)`` is the plain lrkit schedule of the rates PyTorch sets for a group whose
    ``initial_lr`` is ``base_lr`` (absolute schedulers, ``CyclicLR`` and ``OneCycleLR``,
    ignore it). ``momentum`` is the momentum (or ``betas[0]``) schedule the scheduler sets,
    or ``None``. :class:`lrkit.torch.LRScheduler` binds plans itself.
    """

    #: The PyTorch class and the arguments it was given, for messages.
    kind: str
    arguments: tuple[tuple[str, Any], ...]
    rates: Callable[[float], Schedule]
    momentum: Schedule | None = None
    #: ``ChainedScheduler`` multiplies the factors of the schedulers that scale the current
    #: rate (PyTorch's "chainable" ones); ``None`` for the others.
    factor: Schedule | None = None
    #: In a ``SequentialLR``, PyTorch restarts a part from the group's initial rate, except a
    #: part with no closed form (``MultiplicativeLR``): at its milestone it multiplies the
    #: current rate by ``continues(0)`` and goes on from there. Its factor, or ``None``.
    continues: Schedule | None = None

    def bind(self, base_lr: float) -> Schedule:
        """The rates for a group whose initial rate is ``base_lr``, as an lrkit schedule."""
        return _saveable(self.rates(c.rate("base_lr", base_lr)), self._call_text(base_lr))

    def __call__(self, t: Any) -> Any:
        """The rates for a base rate of 1 (the multiplier)."""
        return self.bind(1.0)(t)

    def _call_text(self, base_lr: float) -> str:
        args = ", ".join(f"{k}={_text(x)}" for k, x in self.arguments)
        return f"lrkit.compat.torch.{self.kind}({args}).bind({base_lr!r})"

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={_text(x)}" for k, x in self.arguments)
        return f"lrkit.compat.torch.{self.kind}({args})"


def _text(value: Any) -> str:
    if isinstance(value, Plan | Schedule):
        return repr(value)
    if callable(value):
        return f"<function {getattr(value, '__qualname__', type(value).__name__)}>"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_text(x) for x in value) + "]"
    return repr(value)


class _Named:
    """A scalar function with a stable name (a saved config records the name only)."""

    def __init__(self, fn: Callable[[Any], float], name: str) -> None:
        self.fn = fn
        self.__qualname__ = name

    def __call__(self, t: Any) -> float:
        return float(self.fn(t))


def _saveable(schedule: Schedule, name: str) -> Schedule:
    """``schedule``, or, if a user's Python function is inside it (which has no config), the
    same values as one named function (its name is what a checkpoint records)."""
    try:
        schedule.to_config()
    except TypeError:
        return FunctionSchedule(_Named(schedule, name))
    return schedule


def _plan(
    kind: str,
    arguments: dict[str, Any],
    rates: Callable[[float], Schedule],
    base_lr: float | None,
    *,
    momentum: Schedule | None = None,
    chainable: bool = False,
    continues: Schedule | None = None,
) -> Plan | Schedule:
    """The schedule for ``base_lr`` if one was given, else the plan."""
    if base_lr is not None:
        return rates(c.rate("base_lr", base_lr))
    factor = rates(1.0) if chainable else None
    return Plan(kind, tuple(arguments.items()), rates, momentum, factor, continues)


def bind_plans(
    schedule: Any, base_lrs: Sequence[float], relative: bool
) -> tuple[Any, list[Schedule | None] | None, bool]:
    """Plans bound to each group's initial rate, their momentum schedules, and ``relative``.

    ``schedule`` is what ``lrkit.torch.LRScheduler`` was given: one value for every group or
    a list with one per group. Values that are not plans pass through unchanged. Returns the
    value to use instead, a per-group momentum list (``None`` if no plan sets one), and
    whether the values are factors: a bound plan gives rates, so ``relative=True`` (which the
    docs of lrkit 0.x asked for) changes nothing for plans.
    """
    n = len(base_lrs)
    items = list(schedule) if isinstance(schedule, list | tuple) else [schedule] * n
    plans = [isinstance(x, Plan) for x in items]
    if not any(plans) or len(items) != n:  # no plan, or a wrong length the adapter reports
        return schedule, None, relative
    if relative and not all(plans):
        raise ValueError(
            "Argument `relative=True` makes the schedules factors of each group's rate, but "
            "lrkit.compat.torch plans bind that rate themselves; give factors as plans too "
            f"(lrkit.compat.torch.LambdaLR(schedule)) and drop relative. Received: {schedule!r}"
        )
    out = [x.bind(b) if isinstance(x, Plan) else x for x, b in zip(items, base_lrs, strict=True)]
    momentum = [x.momentum if isinstance(x, Plan) else None for x in items]
    return out, (momentum if any(m is not None for m in momentum) else None), False


def _per_group(names: Sequence[str], values: Sequence[Any]) -> int | None:
    """How many groups the list-valued arguments give (``None``: none is a list)."""
    lengths = {
        name: len(value)
        for name, value in zip(names, values, strict=True)
        if isinstance(value, list | tuple)
    }
    if not lengths:
        return None
    if len(set(lengths.values())) > 1:
        raise ValueError(
            "Per-group arguments must all have one item per parameter group. "
            f"Received lengths: {lengths}"
        )
    return next(iter(lengths.values()))


def _item(value: Any, i: int) -> Any:
    return value[i] if isinstance(value, list | tuple) else value


# -- private formulas (not catalogue entries: they exist for PyTorch's behaviours only) ------


@dataclasses.dataclass(frozen=True, repr=False)
class _Mirror(Schedule):
    """``top - schedule(t)``: a momentum that falls while the rate rises (``CyclicLR``)."""

    name: ClassVar[str] = "lrkit.compat.torch.mirror"

    top: float
    schedule: Schedule

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.top - self.schedule._f(t, ops)

    @property
    def duration(self) -> float | None:
        return self.schedule.duration


class _CumulativeProduct:
    """``base * f(1) * f(2) * ... * f(floor(t))``: ``MultiplicativeLR``'s rate (memoized)."""

    def __init__(self, fn: Callable[[int], Any], base: float) -> None:
        self.fn = fn
        self.values: list[float] = [base]

    def __call__(self, t: Any) -> float:
        k = math.floor(float(t))
        while len(self.values) <= k:
            self.values.append(self.values[-1] * float(self.fn(len(self.values))))
        return self.values[k]


# -- multipliers of the initial rate -------------------------------------------------------


def StepLR(  # noqa: N802
    step_size: float, gamma: float = 0.1, *, base_lr: float | None = None
) -> Plan | Schedule:
    r"""``torch.optim.lr_scheduler.StepLR``: multiply by ``gamma`` every ``step_size`` steps.

    $$\eta(t) = \eta_0\, \gamma^{\lfloor t / P \rfloor}$$

    Args:
        step_size: $P > 0$.
        gamma: $\gamma \in [0, 1]$ (PyTorch also accepts a growing $\gamma > 1$; lrkit
            schedules never grow without bound, so it is refused here).
        base_lr: $\eta_0$; ``None`` (default) gives the plan, bound to each group's rate.

    Examples:
        >>> s = lrkit.compat.torch.StepLR(step_size=2, gamma=0.5)
        >>> [s(k) for k in range(5)]
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    step_size = c.positive("step_size", step_size)
    gamma = _factor(gamma)
    return _plan(
        "StepLR",
        dict(step_size=step_size, gamma=gamma),
        lambda b: Step(b, step_size, gamma),
        base_lr,
        chainable=True,
    )


def MultiStepLR(  # noqa: N802
    milestones: Iterable[int], gamma: float = 0.1, *, base_lr: float | None = None
) -> Plan | Schedule:
    r"""``torch.optim.lr_scheduler.MultiStepLR``: multiply by ``gamma`` at each milestone.

    $$\eta(t) = \eta_0\, \gamma^{\#\{i : m_i \le t\}}$$

    As in PyTorch, ``milestones`` is a multiset (a ``Counter``): a milestone given twice
    multiplies by $\gamma^2$ there. Order does not matter.

    Args:
        milestones: steps $m_i \ge 0$.
        gamma: $\gamma \ge 0$.
        base_lr: $\eta_0$; ``None`` (default) gives the plan, bound to each group's rate.

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
    if not steps:
        raise ValueError(f"Argument `milestones` must not be empty. Received: milestones={items!r}")

    def rates(base: float) -> Schedule:
        times = Counter(steps)
        if max(times.values()) == 1:
            return MultiStep(base, tuple(steps), gamma)
        # Repeated milestones compound: the value after m is base * gamma**(milestones <= m),
        # PyTorch's own closed form.
        bounds = sorted(times)
        values = [base] + [base * gamma ** bisect.bisect_right(steps, m) for m in bounds]
        return PiecewiseConstant(tuple(bounds), tuple(values))

    return _plan("MultiStepLR", dict(milestones=items, gamma=gamma), rates, base_lr, chainable=True)


def ConstantLR(  # noqa: N802
    factor: float = 1.0 / 3, total_iters: int = 5, *, base_lr: float | None = None
) -> Plan | Schedule:
    r"""``torch.optim.lr_scheduler.ConstantLR``: ``factor`` times the rate until ``total_iters``.

    $$\eta(t) = \begin{cases} f\,\eta_0 & t < N \\ \eta_0 & t \ge N \end{cases}$$

    Args:
        factor: $f \in [0, 1]$.
        total_iters: $N \ge 1$ (PyTorch's ``total_iters=0`` keeps $f\eta_0$ for ever in its
            recursive form and gives $\eta_0$ in its closed form; refused here).
        base_lr: $\eta_0$; ``None`` (default) gives the plan, bound to each group's rate.

    Examples:
        >>> s = lrkit.compat.torch.ConstantLR(factor=0.5, total_iters=2)
        >>> [s(k) for k in range(4)]
        [0.5, 0.5, 1.0, 1.0]
    """
    factor = c.fraction("factor", factor)
    total_iters = c.positive_count("total_iters", total_iters)
    return _plan(
        "ConstantLR",
        dict(factor=factor, total_iters=total_iters),
        lambda b: PiecewiseConstant((total_iters,), (b * factor, b)),
        base_lr,
        chainable=True,
    )


def LinearLR(  # noqa: N802
    start_factor: float = 1.0 / 3,
    end_factor: float = 1.0,
    total_iters: float = 5,
    *,
    base_lr: float | None = None,
) -> Plan | Schedule:
    r"""``torch.optim.lr_scheduler.LinearLR``: a factor moving linearly, then held.

    $$\eta(t) = \eta_0 \left(f_0 + (f_1 - f_0)\,\frac{\min(t, N)}{N}\right)$$

    Args:
        start_factor: $f_0 \in (0, 1]$. end_factor: $f_1 \in [0, 1]$.
        total_iters: $N > 0$.
        base_lr: $\eta_0$; ``None`` (default) gives the plan, bound to each group's rate.

    Examples:
        >>> s = lrkit.compat.torch.LinearLR(start_factor=0.25, total_iters=3)
        >>> [s(k) for k in range(5)]
        [0.25, 0.5, 0.75, 1.0, 1.0]
    """
    start_factor = v.in_range("start_factor", start_factor, 0.0, 1.0, lo_open=True)
    end_factor = c.fraction("end_factor", end_factor)
    total_iters = c.positive("total_iters", total_iters)
    return _plan(
        "LinearLR",
        dict(start_factor=start_factor, end_factor=end_factor, total_iters=total_iters),
        lambda b: Linear(b * start_factor, total_iters, end_lr=b * end_factor),
        base_lr,
        chainable=True,
    )


def ExponentialLR(gamma: float, *, base_lr: float | None = None) -> Plan | Schedule:  # noqa: N802
    r"""``torch.optim.lr_scheduler.ExponentialLR``: multiply by ``gamma`` every step.

    $$\eta(t) = \eta_0\, \gamma^{t}$$

    Args:
        gamma: $\gamma \in (0, 1]$ (a growing $\gamma > 1$ is refused: lrkit schedules never
            grow without bound).
        base_lr: $\eta_0$; ``None`` (default) gives the plan, bound to each group's rate.

    Examples:
        >>> s = lrkit.compat.torch.ExponentialLR(gamma=0.5)
        >>> [s(k) for k in range(4)]
        [1.0, 0.5, 0.25, 0.125]
    """
    gamma = v.positive("gamma", _factor(gamma))
    return _plan(
        "ExponentialLR",
        dict(gamma=gamma),
        lambda b: Exponential(b, gamma, 1),
        base_lr,
        chainable=True,
    )


def PolynomialLR(  # noqa: N802
    total_iters: float = 5, power: float = 1.0, *, base_lr: float | None = None
) -> Plan | Schedule:
    r"""``torch.optim.lr_scheduler.PolynomialLR``: polynomial decay to 0 over ``total_iters``.

    $$\eta(t) = \eta_0 \left(1 - \frac{\min(t, N)}{N}\right)^{p}$$

    Args:
        total_iters: $N > 0$. power: $p > 0$.
        base_lr: $\eta_0$; ``None`` (default) gives the plan, bound to each group's rate.

    Examples:
        >>> s = lrkit.compat.torch.PolynomialLR(total_iters=4, power=2.0)
        >>> [s(k) for k in range(6)]
        [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    total_iters = c.positive("total_iters", total_iters)
    power = c.positive("power", power)
    return _plan(
        "PolynomialLR",
        dict(total_iters=total_iters, power=power),
        lambda b: Polynomial(b, total_iters, end_lr=0.0, power=power),
        base_lr,
        chainable=True,
    )


def CosineAnnealingLR(  # noqa: N802
    T_max: float,
    eta_min: float = 0.0,
    *,
    base_lr: float | None = None,
    hold_after_T_max: bool = False,
) -> Plan | Schedule:
    r"""``torch.optim.lr_scheduler.CosineAnnealingLR``, **including its rise after ``T_max``**.

    $$\eta(t) = \eta_{min} + (\eta_0 - \eta_{min})\,\tfrac12\left(1 + \cos\frac{\pi t}{T}
    \right)$$

    PyTorch does not stop at ``T_max``: the cosine goes on, so the rate climbs back to
    $\eta_0$ at $2T$, falls again by $3T$, and so on (period $2T$). That is usually a bug in
    the user's setup (training ran longer than ``T_max``), but it is what PyTorch does, so
    it is reproduced by default. ``hold_after_T_max=True`` holds $\eta_{min}$ after ``T_max``
    instead (lrkit's :class:`~lrkit.schedules.Cosine`).

    ``eta_min`` is an absolute rate, as in PyTorch: the plan anneals each group from its own
    initial rate down to the same ``eta_min``.

    Args:
        T_max: $T > 0$, the half period.
        eta_min: $\eta_{min} \ge 0$, an absolute rate as in PyTorch.
        base_lr: $\eta_0$; ``None`` (default) gives the plan, bound to each group's rate.
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
    hold = c.boolean("hold_after_T_max", hold_after_T_max)

    def rates(base: float) -> Schedule:
        down = Cosine(base, T_max, eta_min)
        if hold:
            return down
        up = Cosine(eta_min, T_max, base)
        return Restarts(Join((down, up), (T_max,)), 2 * T_max)

    arguments: dict[str, Any] = dict(T_max=T_max, eta_min=eta_min)
    if hold:
        arguments["hold_after_T_max"] = True
    # Chained, PyTorch's recursion multiplies by the cosine's ratio only while eta_min = 0
    # (it adds eta_min and, past T_max, the base rate's terms otherwise).
    return _plan("CosineAnnealingLR", arguments, rates, base_lr, chainable=eta_min == 0)


def CosineAnnealingWarmRestarts(  # noqa: N802
    T_0: int, T_mult: int = 1, eta_min: float = 0.0, *, base_lr: float | None = None
) -> Plan | Schedule:
    r"""``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`` (SGDR), stepped once per step.

    $$\eta(t) = \eta_{min} + (\eta_0 - \eta_{min})\,\tfrac12\left(1 + \cos\frac{\pi\,
    T_{cur}}{T_i}\right)$$

    Cycle $i$ lasts $T_i = T_0 T_{mult}^i$ steps and $T_{cur}$ counts the steps since it began.
    As in PyTorch, $\eta_{min}$ is approached but never reached. Fractional epochs (PyTorch's
    ``step(epoch + i / iters)``) are the same formula at fractional ``t``.

    Args:
        T_0: $T_0 \ge 1$, the first cycle's length (an ``int``, as in PyTorch).
        T_mult: $T_{mult} \ge 1$ (an ``int``, as in PyTorch).
        eta_min: $\eta_{min}$, an absolute rate as in PyTorch.
        base_lr: $\eta_0 \ge \eta_{min}$; ``None`` (default) gives the plan, bound to each
            group's rate.

    Examples:
        >>> s = lrkit.compat.torch.CosineAnnealingWarmRestarts(T_0=4, T_mult=2)
        >>> [round(s(k), 4) for k in (0, 2, 3, 4, 8, 11, 12)]
        [1.0, 0.5, 0.1464, 1.0, 0.5, 0.0381, 1.0]
    """
    T_0 = c.positive_count("T_0", T_0)
    T_mult = c.positive_count("T_mult", T_mult)
    eta_min = c.rate("eta_min", eta_min)

    def rates(base: float) -> Schedule:
        v.not_greater("eta_min", eta_min, "base_lr", base)
        return CosineRestarts(base, T_0, t_mul=T_mult, end_lr=eta_min)

    arguments = dict(T_0=T_0, T_mult=T_mult, eta_min=eta_min)
    return _plan("CosineAnnealingWarmRestarts", arguments, rates, base_lr)


def LambdaLR(  # noqa: N802
    lr_lambda: Schedule | Callable[[int], float] | Sequence[Any], *, base_lr: float | None = None
) -> Plan | Schedule | list[Plan | Schedule]:
    r"""``torch.optim.lr_scheduler.LambdaLR``: the group's rate times ``lr_lambda(t)``.

    $$\eta(t) = \eta_0\, \lambda(t)$$

    ``lr_lambda`` is an lrkit schedule (saved in checkpoints by its config) or a Python
    function of the step (saved by its name; its every value is checked, a finite number
    ``>= 0``), or a list with one per parameter group, as in PyTorch.

    Examples:
        >>> s = lrkit.compat.torch.LambdaLR(lrkit.linear(1.0, 10, end_lr=0.0), base_lr=0.1)
        >>> s(0), s(5)
        (0.1, 0.05)
    """
    if isinstance(lr_lambda, list | tuple):
        return [LambdaLR(f, base_lr=base_lr) for f in lr_lambda]  # type: ignore[misc]
    factor = _user_schedule("lr_lambda", lr_lambda)

    def rates(base: float) -> Schedule:
        return factor * base if base != 1 else factor

    return _plan("LambdaLR", dict(lr_lambda=lr_lambda), rates, base_lr)


def MultiplicativeLR(  # noqa: N802
    lr_lambda: Schedule | Callable[[int], float] | Sequence[Any], *, base_lr: float | None = None
) -> Plan | Schedule | list[Plan | Schedule]:
    r"""``torch.optim.lr_scheduler.MultiplicativeLR``: each step multiplies by ``lr_lambda(t)``.

    $$\eta(t) = \eta_0 \prod_{k=1}^{t} \lambda(k)$$

    ``lr_lambda`` is an lrkit schedule or a Python function of the step (or a list, one per
    group). The product is computed once per step and remembered, so it is evaluated at whole
    steps and only on the CPU (a scalar schedule with no config; a checkpoint records its
    name).

    Examples:
        >>> s = lrkit.compat.torch.MultiplicativeLR(lambda k: 0.5, base_lr=1.0)
        >>> [s(k) for k in range(4)]
        [1.0, 0.5, 0.25, 0.125]
    """
    if isinstance(lr_lambda, list | tuple):
        return [MultiplicativeLR(f, base_lr=base_lr) for f in lr_lambda]  # type: ignore[misc]
    factor = _user_schedule("lr_lambda", lr_lambda)
    name = f"MultiplicativeLR({_text(lr_lambda)})"

    def rates(base: float) -> Schedule:
        return FunctionSchedule(_Named(_CumulativeProduct(factor, base), f"{name}.bind({base})"))

    arguments = dict(lr_lambda=lr_lambda)
    return _plan("MultiplicativeLR", arguments, rates, base_lr, chainable=True, continues=factor)


def _user_schedule(name: str, value: Any) -> Schedule:
    if isinstance(value, Schedule):
        return value
    if callable(value) and not isinstance(value, type | Plan):
        return FunctionSchedule(value)
    raise TypeError(
        f"Argument `{name}` must be an lrkit schedule or a function of the step. "
        f"Received: {name}={value!r} of type {type(value).__name__}"
    )


def SWALR(  # noqa: N802
    swa_lr: float | Sequence[float],
    anneal_epochs: int = 10,
    anneal_strategy: str = "cos",
    *,
    base_lr: float | None = None,
) -> Plan | Schedule | list[Plan | Schedule]:
    r"""``torch.optim.swa_utils.SWALR``: anneal from the group's rate to ``swa_lr``, then hold.

    $$\eta(t) = \eta_{swa}\,\alpha + \eta_0 (1 - \alpha), \quad \alpha = a(\min(1, t/E))$$

    with $a(x) = \tfrac12(1 - \cos \pi x)$ (``"cos"``) or $a(x) = x$ (``"linear"``); with
    ``anneal_epochs=0`` the rate is ``swa_lr`` from the first step. ``swa_lr`` may be a list,
    one per group. PyTorch anneals from the rate the group has when ``SWALR`` starts; a plan
    starts from the group's initial rate. To anneal from where another schedule left off,
    join: ``lrkit.join([decay, SWALR(..., base_lr=decay(t0))], [t0])``.

    Examples:
        >>> s = lrkit.compat.torch.SWALR(swa_lr=0.01, anneal_epochs=4, anneal_strategy="linear",
        ...                             base_lr=0.05)
        >>> [round(s(k), 12) for k in range(6)]
        [0.05, 0.04, 0.03, 0.02, 0.01, 0.01]
    """
    if isinstance(swa_lr, list | tuple):
        return [SWALR(x, anneal_epochs, anneal_strategy, base_lr=base_lr) for x in swa_lr]  # type: ignore[misc]
    target = c.rate("swa_lr", swa_lr)
    epochs = c.count("anneal_epochs", anneal_epochs)
    shape = c.choice("anneal_strategy", anneal_strategy, ("cos", "linear"))

    def rates(base: float) -> Schedule:
        if epochs == 0:
            return Constant(target)
        return anneal(shape, base, target, epochs)

    arguments = dict(swa_lr=target, anneal_epochs=epochs, anneal_strategy=shape)
    return _plan("SWALR", arguments, rates, base_lr)


# -- absolute rates, with momentum ---------------------------------------------------------


def CyclicLR(  # noqa: N802
    base_lr: float | Sequence[float],
    max_lr: float | Sequence[float],
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: object = None,
    scale_mode: str = "cycle",
    cycle_momentum: bool = True,
    base_momentum: float | Sequence[float] = 0.8,
    max_momentum: float | Sequence[float] = 0.9,
) -> Plan | list[Plan]:
    r"""``torch.optim.lr_scheduler.CyclicLR``: the rate and, as in PyTorch, the momentum.

    Triangular cycles between ``base_lr`` and ``max_lr``: up over ``step_size_up`` steps, down
    over ``step_size_down``; ``"triangular2"`` halves the height each cycle and
    ``"exp_range"`` scales it by $\gamma^t$. Built as :class:`~lrkit.schedules.Cyclic`.
    With ``cycle_momentum`` (PyTorch's default) the momentum (or ``betas[0]``) cycles the
    other way, from ``max_momentum`` down to ``base_momentum`` at the rate's peak.

    ``base_lr`` here is PyTorch's (the bottom of the cycle), an absolute rate; the plan
    ignores the group's initial rate. ``base_lr``, ``max_lr`` and the momenta may be lists,
    one per group (a list of plans then). A custom ``scale_fn`` (a Python function) cannot be
    saved in a config and is refused: compose ``lrkit.cyclic`` with a product instead.

    Examples:
        >>> s = lrkit.compat.torch.CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=4)
        >>> [round(s(k), 6) for k in (0, 2, 4, 6, 8)]
        [0.001, 0.0035, 0.006, 0.0035, 0.001]
        >>> [round(s.momentum(k), 6) for k in (0, 2, 4)]
        [0.9, 0.85, 0.8]
    """
    if scale_fn is not None:
        raise ValueError(
            "Argument `scale_fn` is not supported by lrkit.compat (a Python function has no "
            "config); use mode='triangular', 'triangular2' or 'exp_range', or multiply "
            f"lrkit.cyclic(...) by another schedule. Received: scale_fn={scale_fn!r}"
        )
    names = ("base_lr", "max_lr", "base_momentum", "max_momentum")
    values = (base_lr, max_lr, base_momentum, max_momentum)
    groups = _per_group(names, values)
    if groups is not None:
        return [
            CyclicLR(  # type: ignore[misc]
                _item(base_lr, i),
                _item(max_lr, i),
                step_size_up,
                step_size_down,
                mode,
                gamma,
                None,
                scale_mode,
                cycle_momentum,
                _item(base_momentum, i),
                _item(max_momentum, i),
            )
            for i in range(groups)
        ]
    c.choice("scale_mode", scale_mode, ("cycle", "iterations"))
    up = c.positive("step_size_up", step_size_up)
    down = up if step_size_down is None else c.positive("step_size_down", step_size_down)
    mode = c.choice("mode", mode, ("triangular", "triangular2", "exp_range"))
    low, high = c.rate("base_lr", base_lr), c.rate("max_lr", max_lr)  # type: ignore[arg-type]
    rate = Cyclic(low, high, up, down, mode, gamma)
    momentum: Schedule | None = None
    if c.boolean("cycle_momentum", cycle_momentum):
        top = c.rate("max_momentum", max_momentum)
        bottom = c.rate("base_momentum", base_momentum)
        # PyTorch: momentum = max_momentum - (max_momentum - base_momentum) * wave, where the
        # wave is the rate's (lr - base_lr) / (max_lr - base_lr).
        if bottom > top:
            momentum = Cyclic(top, bottom, up, down, mode, gamma)
        elif mode == "triangular":
            # The same triangle upside down: a cycle rising over `down`, read `down` ahead.
            momentum = Shift(Cyclic(bottom, top, down, up), -down)
        else:  # a shrinking dip below a fixed top, which no catalogue schedule draws
            momentum = _Mirror(top, Cyclic(0.0, top - bottom, up, down, mode, gamma))
    arguments: dict[str, Any] = dict(base_lr=low, max_lr=high, step_size_up=up)
    if step_size_down is not None:
        arguments["step_size_down"] = down
    arguments.update(mode=mode, gamma=gamma, cycle_momentum=momentum is not None)
    return cast(Plan, _plan("CyclicLR", arguments, lambda b: rate, None, momentum=momentum))


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
    max_lr: float | Sequence[float],
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: float | Sequence[float] = 0.85,
    max_momentum: float | Sequence[float] = 0.95,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Plan | list[Plan]:
    r"""``torch.optim.lr_scheduler.OneCycleLR``: rate and momentum, step for step as PyTorch.

    From ``max_lr / div_factor`` up to ``max_lr``, then down to
    ``max_lr / (div_factor * final_div_factor)`` (with ``three_phase``: up, back down to the
    start, then down to the minimum), each phase annealed with a half cosine or linearly.
    PyTorch ends the first phase at step ``pct_start * total_steps - 1`` and the last at
    ``total_steps - 1`` (one step earlier than :class:`lrkit.one_cycle_policy`, which follows the
    paper and optax); this is reproduced exactly. With ``cycle_momentum`` (default) the plan
    also sets the momentum (or ``betas[0]``), as :func:`OneCycleMomentum`. ``max_lr`` and the
    momenta may be lists, one per group (a list of plans then).

    **Past the end it holds the minimum.** PyTorch raises ``ValueError`` after step
    ``total_steps``, and at step ``total_steps`` itself extrapolates the last phase (above
    the minimum for ``"cos"``, below it, even negative, for ``"linear"``); lrkit holds the
    minimum from step ``total_steps - 1`` on.

    Examples:
        >>> s = lrkit.compat.torch.OneCycleLR(max_lr=0.1, total_steps=11, pct_start=0.5)
        >>> s(0), round(s(4.5), 12), s(10), s(1000)
        (0.004, 0.1, 4e-07, 4e-07)
        >>> s.momentum(0), round(s.momentum(4.5), 12)
        (0.95, 0.85)
    """
    names = ("max_lr", "base_momentum", "max_momentum")
    values = (max_lr, base_momentum, max_momentum)
    groups = _per_group(names, values)
    if groups is not None:
        return [
            OneCycleLR(  # type: ignore[misc]
                _item(max_lr, i),
                total_steps,
                epochs,
                steps_per_epoch,
                pct_start,
                anneal_strategy,
                cycle_momentum,
                _item(base_momentum, i),
                _item(max_momentum, i),
                div_factor,
                final_div_factor,
                three_phase,
            )
            for i in range(groups)
        ]
    c.boolean("cycle_momentum", cycle_momentum)
    c.boolean("three_phase", three_phase)
    ends, shape, lv = _one_cycle_phases(
        max_lr,  # type: ignore[arg-type]
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
    rate = _anneal_join(ends, shape, levels)
    momentum: Schedule | None = None
    if cycle_momentum:
        hi = c.rate("max_momentum", max_momentum)
        lo = c.rate("base_momentum", base_momentum)
        momentum = _anneal_join(ends, shape, [hi, lo, hi, hi] if three_phase else [hi, lo, hi])
    arguments: dict[str, Any] = dict(
        max_lr=lv["max"],
        total_steps=int(ends[-1]) + 1,
        pct_start=pct_start,
        anneal_strategy=shape,
        cycle_momentum=bool(cycle_momentum),
        div_factor=div_factor,
        final_div_factor=final_div_factor,
        three_phase=bool(three_phase),
    )
    if cycle_momentum:
        arguments.update(base_momentum=base_momentum, max_momentum=max_momentum)
    return cast(Plan, _plan("OneCycleLR", arguments, lambda b: rate, None, momentum=momentum))


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
    ends as :func:`OneCycleLR`; held after the end. Takes ``OneCycleLR``'s arguments. (The
    plan of :func:`OneCycleLR` carries it already: this is for other frameworks.)

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
    plan = OneCycleLR(
        max_lr,
        total_steps,
        epochs,
        steps_per_epoch,
        pct_start,
        anneal_strategy,
        True,
        base_momentum,
        max_momentum,
        div_factor,
        final_div_factor,
        three_phase,
    )
    momentum = cast(Plan, plan).momentum
    if momentum is None:  # pragma: no cover - built with cycle_momentum=True above
        raise ValueError("OneCycleMomentum needs cycle_momentum")
    return momentum


# -- schedulers of schedulers --------------------------------------------------------------


def SequentialLR(  # noqa: N802
    schedulers: Sequence[Plan | Schedule | Sequence[Plan]], milestones: Sequence[int]
) -> Plan | Schedule | list[Plan]:
    r"""``torch.optim.lr_scheduler.SequentialLR``: each scheduler from its milestone on.

    Part $i$ runs from milestone $m_{i-1}$ (from 0 for the first) with its own clock
    restarted there, so it sees $t - m_{i-1}$: that is what PyTorch's ``SequentialLR`` does
    (it resets the scheduler to its step 0 at the milestone). A milestone of 0 skips the
    first scheduler, as in PyTorch. Built as :func:`lrkit.join`.

    Give the parts as this module's plans (a plan results, bound to each group's rate) or as
    lrkit schedules of absolute rates. (In PyTorch, ``CyclicLR`` and ``OneCycleLR`` overwrite
    the optimizer's ``initial_lr`` when constructed, which silently changes the base rate of
    the *other* schedulers in the sequence; here each part keeps its own.) A part that sets
    the momentum is refused: PyTorch leaves the momentum where that part left it once the next
    part runs, which depends on the momentum the optimizer had.

    Examples:
        >>> from lrkit.compat import torch as ct
        >>> s = ct.SequentialLR([ct.LinearLR(0.1, total_iters=2), ct.ExponentialLR(0.5)], [2])
        >>> [round(s(k), 6) for k in range(5)]
        [0.1, 0.55, 1.0, 0.5, 0.25]
    """
    parts = v.sequence("schedulers", schedulers)
    groups = _per_group([f"schedulers[{i}]" for i in range(len(parts))], parts)
    if groups is not None:  # a part with one plan per group: one sequence per group
        sequences = [SequentialLR([_item(s, i) for s in parts], milestones) for i in range(groups)]
        return sequences  # type: ignore[return-value]
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
        if not isinstance(s, Schedule | Plan):
            raise TypeError(
                f"Argument `schedulers[{i}]` must be an lrkit schedule or plan (build it with "
                f"lrkit.compat.torch). Received: {s!r} of type {type(s).__name__}"
            )
        if isinstance(s, Plan) and s.momentum is not None:
            raise ValueError(
                f"Argument `schedulers[{i}]` sets the momentum ({s!r}); in a SequentialLR "
                "PyTorch leaves it where that part stopped, which lrkit does not reproduce. "
                "Give cycle_momentum=False, and a momentum schedule to lrkit.torch.LRScheduler."
            )
    if not any(isinstance(s, Plan) for s in parts):
        return join(list(parts), list(bounds))  # type: ignore[arg-type]

    def rates(base: float) -> Schedule:
        built: list[Schedule] = []
        for i, s in enumerate(parts):
            if not isinstance(s, Plan):
                built.append(s)
            elif s.continues is not None and i > 0 and bounds[i - 1] > 0:
                # It goes on from the rate the previous parts left, times its factor at 0.
                before = join(built, list(bounds[: i - 1]))(bounds[i - 1] - 1)
                built.append(s.rates(float(before) * float(s.continues(0))))
            else:
                built.append(s.rates(base))
        return join(built, list(bounds))

    return _plan("SequentialLR", dict(schedulers=list(parts), milestones=list(bounds)), rates, None)


def ChainedScheduler(schedulers: Sequence[Plan | Sequence[Plan]]) -> Plan | list[Plan]:  # noqa: N802
    r"""``torch.optim.lr_scheduler.ChainedScheduler``: every scheduler's factor, multiplied.

    PyTorch steps each scheduler in turn, and each of the "chainable" ones (``StepLR``,
    ``MultiStepLR``, ``ConstantLR``, ``LinearLR``, ``ExponentialLR``, ``PolynomialLR``,
    ``MultiplicativeLR``, ``CosineAnnealingLR`` with ``eta_min=0``) multiplies the current
    rate by its own ratio, so the rate is the group's initial rate times the product of their
    factors. The others set a rate regardless of the chain (``LambdaLR``, ``CyclicLR``, ...,
    and ``CosineAnnealingLR``'s recursion with ``eta_min > 0``), which no product describes:
    they are refused. Past ``T_max`` PyTorch's cosine recursion restarts the product from the
    base rate; the plan keeps multiplying the rising cosine (see ``docs/compat.md``).

    Examples:
        >>> from lrkit.compat import torch as ct
        >>> s = ct.ChainedScheduler([ct.ConstantLR(0.5, 2), ct.ExponentialLR(0.5)])
        >>> [s(k) for k in range(4)]
        [0.5, 0.25, 0.25, 0.125]
    """
    parts = v.sequence("schedulers", schedulers)
    groups = _per_group([f"schedulers[{i}]" for i in range(len(parts))], parts)
    if groups is not None:  # a part with one plan per group: one chain per group
        chains = [ChainedScheduler([_item(s, i) for s in parts]) for i in range(groups)]
        return chains  # type: ignore[return-value]
    factors: list[Schedule] = []
    for i, s in enumerate(parts):
        if not isinstance(s, Plan) or s.factor is None:
            raise ValueError(
                f"Argument `schedulers[{i}]` must be a plan of a scheduler that scales the "
                "current rate (StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, "
                "PolynomialLR, MultiplicativeLR, CosineAnnealingLR with eta_min=0). "
                f"Received: {s!r}"
            )
        factors.append(s.factor)
    product = factors[0]
    for f in factors[1:]:
        product = Product(product, f)

    def rates(base: float) -> Schedule:
        return product * base if base != 1 else product

    return _plan(  # type: ignore[return-value]
        "ChainedScheduler", dict(schedulers=list(parts)), rates, None, chainable=True
    )


def _factor(gamma: float) -> float:
    """A decay factor in ``[0, 1]``; PyTorch's growing ``gamma > 1`` has no lrkit equivalent."""
    value = c.rate("gamma", gamma)
    if value > 1:
        raise ValueError(
            "Argument `gamma` must be <= 1: a factor > 1 makes the rate grow without bound, "
            f"which lrkit schedules never do. Received: gamma={gamma!r}"
        )
    return value
