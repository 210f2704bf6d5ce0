r"""Hugging Face transformers' schedules (``get_scheduler`` types) as lrkit schedules.

Imports no framework. Each function takes the transformers function's arguments minus the
optimizer (and ``last_epoch``), and returns an lrkit schedule. transformers' schedules are
``LambdaLR`` multipliers of the optimizer's rate, so each takes ``base_lr=1.0``: the default
gives the multiplier, ``base_lr=<the optimizer's lr>`` the absolute rates. Migration::

    sched = transformers.get_scheduler("cosine", opt, num_warmup_steps=100, num_training_steps=1000)
    sched = lrkit.compat.transformers.get_scheduler(
        "cosine", opt, num_warmup_steps=100, num_training_steps=1000)  # after import lrkit.torch

Where transformers reads the optimizer's rate (``polynomial``'s ``lr_end``, ``min_lr``), give
``base_lr`` as that rate. ``schedule(k)`` is the multiplier (times ``base_lr``) transformers
applies at its k-th ``step()``. ``cosine``, ``cosine_with_min_lr`` and
``cosine_warmup_with_min_lr`` keep oscillating past ``num_training_steps`` (they rise again),
as in transformers; the others hold their end value.

>>> from lrkit.compat import transformers as ch
>>> s = ch.get_scheduler("linear", num_warmup_steps=10, num_training_steps=110)
>>> s(0), s(5), s(10), s(60), s(110), s(200)
(0.0, 0.5, 1.0, 0.5, 0.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lrkit import _validate as v
from lrkit._core import Schedule
from lrkit.compat import _common as c
from lrkit.compose import Join, Restarts, Shift, join
from lrkit.recipes import WarmupStableDecay
from lrkit.schedules import Constant, Cosine, InverseSqrt, Linear, OneMinusSqrt, Polynomial

__all__ = [
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_scheduler",
    "get_wsd_schedule",
]


def _scaled(multiplier: Schedule, base_lr: float) -> Schedule:
    """``base_lr * multiplier``, as ``LambdaLR`` computes it."""
    base = c.rate("base_lr", base_lr)
    return multiplier if base == 1 else multiplier * base


def _warmup(num_warmup_steps: int) -> Schedule | None:
    """transformers' warmup ``t / max(1, W)`` for ``t < W`` (``None`` when ``W = 0``)."""
    return Linear(0.0, num_warmup_steps, end_lr=1.0) if num_warmup_steps else None


def _cosine_wave(length: float, num_cycles: float, low: float = 0.0) -> Schedule:
    r"""$low + (1 - low)\,\tfrac12(1 + \cos(2\pi\, n\, u / L))$ for every $u \ge 0$."""
    half = length / (2 * c.positive("num_cycles", num_cycles))
    down, up = Cosine(1.0, half, low), Cosine(low, half, 1.0)
    return Restarts(Join((down, up), (half,)), 2 * half)


def get_constant_schedule(*, base_lr: float = 1.0) -> Schedule:
    """``transformers.get_constant_schedule``: the optimizer's rate, unchanged.

    Examples:
        >>> lrkit.compat.transformers.get_constant_schedule(base_lr=0.1)(100)
        0.1
    """
    return Constant(c.rate("base_lr", base_lr))


def get_constant_schedule_with_warmup(num_warmup_steps: int, *, base_lr: float = 1.0) -> Schedule:
    """``transformers.get_constant_schedule_with_warmup``: linear warmup from 0, then 1.

    Examples:
        >>> s = lrkit.compat.transformers.get_constant_schedule_with_warmup(10)
        >>> s(0), s(5), s(10), s(1000)
        (0.0, 0.5, 1.0, 1.0)
    """
    W = c.count("num_warmup_steps", num_warmup_steps)
    return _scaled(_warmup(W) or Constant(1.0), base_lr)


def get_linear_schedule_with_warmup(
    num_warmup_steps: int, num_training_steps: int, *, base_lr: float = 1.0
) -> Schedule:
    r"""``transformers.get_linear_schedule_with_warmup``: warmup, then linear to 0 at the end.

    $$f(t) = \begin{cases} t/W & t < W \\ \max\left(0, \frac{N - t}{\max(1, N - W)}\right)
    & t \ge W \end{cases}$$

    Examples:
        >>> s = lrkit.compat.transformers.get_linear_schedule_with_warmup(10, 110)
        >>> s(5), s(10), s(60), s(110), s(1000)
        (0.5, 1.0, 0.5, 0.0, 0.0)
    """
    W = c.count("num_warmup_steps", num_warmup_steps)
    N = c.count("num_training_steps", num_training_steps)
    decay = Linear(1.0, N - W, end_lr=0.0) if N > W else Constant(0.0)
    return _scaled(join([_warmup(W), decay], [W]), base_lr)


def get_cosine_schedule_with_warmup(
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    *,
    base_lr: float = 1.0,
) -> Schedule:
    r"""``transformers.get_cosine_schedule_with_warmup``, including its rise after the end.

    $$f(t) = \tfrac12\left(1 + \cos\left(2\pi\, n\, \frac{t - W}{\max(1, N - W)}\right)
    \right) \quad (t \ge W)$$

    With the default $n = 0.5$ this falls from 1 to 0 at $N$; transformers does not stop there,
    so past $N$ the multiplier rises again (period $2(N - W)$). Reproduced, as transformers
    does it; stop training at ``num_training_steps`` or use ``lrkit.cosine`` to hold 0.

    Examples:
        >>> s = lrkit.compat.transformers.get_cosine_schedule_with_warmup(10, 110)
        >>> s(10), round(s(60), 12), s(110), round(s(160), 12)
        (1.0, 0.5, 0.0, 0.5)
    """
    W = c.count("num_warmup_steps", num_warmup_steps)
    N = c.count("num_training_steps", num_training_steps)
    return _scaled(join([_warmup(W), _cosine_wave(max(1, N - W), num_cycles)], [W]), base_lr)


def get_cosine_with_hard_restarts_schedule_with_warmup(
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: int = 1,
    *,
    base_lr: float = 1.0,
) -> Schedule:
    r"""``transformers.get_cosine_with_hard_restarts_schedule_with_warmup``.

    After the warmup, ``num_cycles`` cosines from 1 to 0, each jumping back to 1, fill the
    steps up to $N$; 0 from $N$ on.

    Examples:
        >>> s = lrkit.compat.transformers.get_cosine_with_hard_restarts_schedule_with_warmup(
        ...     0, 100, num_cycles=2)
        >>> s(0), round(s(25), 12), s(50), s(100)
        (1.0, 0.5, 1.0, 0.0)
    """
    W = c.count("num_warmup_steps", num_warmup_steps)
    N = c.count("num_training_steps", num_training_steps)
    length = max(1, N - W)
    period = length / c.positive("num_cycles", num_cycles)
    cycles = Restarts(Cosine(1.0, period), period)
    return _scaled(join([_warmup(W), cycles, Constant(0.0)], [W, W + length]), base_lr)


def get_polynomial_decay_schedule_with_warmup(
    num_warmup_steps: int,
    num_training_steps: int,
    lr_end: float = 1e-7,
    power: float = 1.0,
    *,
    base_lr: float = 1.0,
) -> Schedule:
    r"""``transformers.get_polynomial_decay_schedule_with_warmup``.

    Warmup from 0 to ``base_lr``, then
    $(\eta_0 - \eta_{end})(1 - \frac{t - W}{N - W})^{p} + \eta_{end}$ down to ``lr_end`` at
    $N$, held after. ``lr_end`` is an absolute rate and ``base_lr`` plays the optimizer's
    rate $\eta_0$ (transformers reads ``optimizer.defaults["lr"]``): give it.

    Examples:
        >>> s = lrkit.compat.transformers.get_polynomial_decay_schedule_with_warmup(
        ...     10, 110, lr_end=0.001, power=2.0, base_lr=0.1)
        >>> s(5), s(10), round(s(60), 12), s(110), s(1000)
        (0.05, 0.1, 0.02575, 0.001, 0.001)
    """
    W = c.count("num_warmup_steps", num_warmup_steps)
    N = c.count("num_training_steps", num_training_steps)
    lr_init = c.rate("base_lr", base_lr)
    end = c.rate("lr_end", lr_end)
    if not lr_init > end:
        raise ValueError(
            "Argument `lr_end` must be < `base_lr` (the optimizer's initial rate). "
            f"Received: lr_end={lr_end!r}, base_lr={base_lr!r}"
        )
    if N == W:
        raise ValueError(
            "Argument `num_training_steps` must differ from `num_warmup_steps` (transformers "
            f"divides by their difference). Received: num_warmup_steps={W}, num_training_steps={N}"
        )
    warm = Linear(0.0, W, end_lr=lr_init) if W else None
    decay = (
        Polynomial(lr_init, N - W, end_lr=end, power=c.positive("power", power))
        if N > W
        else Constant(end)
    )
    return join([warm, decay], [W])


def get_inverse_sqrt_schedule(
    num_warmup_steps: int, timescale: int | None = None, *, base_lr: float = 1.0
) -> Schedule:
    r"""``transformers.get_inverse_sqrt_schedule``: warmup, then $1/\sqrt{(t - W + \tau)/\tau}$.

    ``timescale`` $\tau$ defaults to ``num_warmup_steps``, or 10,000 without warmup.

    Examples:
        >>> s = lrkit.compat.transformers.get_inverse_sqrt_schedule(100)
        >>> s(50), s(100), s(400)
        (0.5, 1.0, 0.5)
    """
    W = c.count("num_warmup_steps", num_warmup_steps)
    tau = (W or 10_000) if timescale is None else c.positive("timescale", timescale)
    return _scaled(join([_warmup(W), InverseSqrt(1.0, tau)], [W]), base_lr)


def _min_lr_rate(min_lr: float | None, min_lr_rate: float | None, base_lr: float) -> float:
    if (min_lr is None) == (min_lr_rate is None):
        raise ValueError(
            "Give exactly one of `min_lr` and `min_lr_rate`. "
            f"Received: min_lr={min_lr!r}, min_lr_rate={min_lr_rate!r}"
        )
    if min_lr is not None:
        base = c.rate("base_lr", base_lr)
        if base == 0:
            raise ValueError("Argument `base_lr` must be > 0 with `min_lr`. Received: base_lr=0")
        min_lr_rate = c.rate("min_lr", min_lr) / base
        v.not_greater("min_lr", min_lr, "base_lr", base)
    return c.fraction("min_lr_rate", min_lr_rate)


def get_cosine_with_min_lr_schedule_with_warmup(
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    *,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
    base_lr: float = 1.0,
) -> Schedule:
    r"""``transformers.get_cosine_with_min_lr_schedule_with_warmup`` (``cosine_with_min_lr``).

    As :func:`get_cosine_schedule_with_warmup`, with the cosine lifted to a floor $r$:
    $f = r + (1 - r)\,\tfrac12(1 + \cos(\cdot))$, $r$ = ``min_lr_rate`` or
    ``min_lr / base_lr``. Rises again past $N$, as in transformers.

    Examples:
        >>> s = lrkit.compat.transformers.get_cosine_with_min_lr_schedule_with_warmup(
        ...     10, 110, min_lr_rate=0.1)
        >>> s(10), round(s(60), 12), round(s(110), 12)
        (1.0, 0.55, 0.1)
    """
    W = c.count("num_warmup_steps", num_warmup_steps)
    N = c.count("num_training_steps", num_training_steps)
    r = _min_lr_rate(min_lr, min_lr_rate, base_lr)
    wave = _cosine_wave(max(1, N - W), num_cycles, r)
    return _scaled(join([_warmup(W), wave], [W]), base_lr)


def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    *,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
    warmup_lr_rate: float | None = None,
    base_lr: float = 1.0,
) -> Schedule:
    r"""``transformers.get_cosine_with_min_lr_schedule_with_warmup_lr_rate``
    (``cosine_warmup_with_min_lr``).

    Its warmup starts above 0: $(t + 1)/W$, or from ``warmup_lr_rate`` $w$ as
    $w + (1 - w)\,t/\max(1, W - 1)$; its cosine is one step ahead, with progress
    $(t - W + 1)/\max(1, N - W)$, down to the floor $r$. Rises again past $N$, as in
    transformers.

    Examples:
        >>> s = lrkit.compat.transformers.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
        ...     4, 104, min_lr_rate=0.1)
        >>> s(0), s(3), round(s(4), 6), round(s(103), 12)
        (0.25, 1.0, 0.999778, 0.1)
    """
    W = c.count("num_warmup_steps", num_warmup_steps)
    N = c.count("num_training_steps", num_training_steps)
    r = _min_lr_rate(min_lr, min_lr_rate, base_lr)
    # The cosine's progress is (t - W + 1) / D: its clock runs one step ahead.
    decay = Shift(_cosine_wave(max(1.0, N - W), num_cycles, r), -1)
    warm: Schedule | None = None
    if W and warmup_lr_rate is None:
        warm = Linear(1.0 / W, W, end_lr=1.0 + 1.0 / W)  # (t + 1) / W on [0, W]
    elif W:
        w = c.fraction("warmup_lr_rate", warmup_lr_rate)
        warm = Linear(w, W, end_lr=w + (1.0 - w) * W / max(1, W - 1))  # w + (1 - w) t / max(1, W-1)
    return _scaled(join([warm, decay], [W]), base_lr)


def get_wsd_schedule(
    num_warmup_steps: int,
    num_decay_steps: int,
    num_training_steps: int | None = None,
    num_stable_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: float = 0,
    num_cycles: float = 0.5,
    *,
    base_lr: float = 1.0,
) -> Schedule:
    r"""``transformers.get_wsd_schedule`` (``warmup_stable_decay``).

    Warmup from ``min_lr_ratio`` $r$ to 1 over $W$ (``"linear"``, ``"cosine"`` or
    ``"1-sqrt"``), 1 for $S$ steps, decay back to $r$ over $D$ (same shapes), then $r$.
    $S$ is ``num_stable_steps``, or ``num_training_steps - W - D`` (when both are given
    transformers uses ``num_stable_steps``).

    Examples:
        >>> s = lrkit.compat.transformers.get_wsd_schedule(10, 10, num_training_steps=100,
        ...                                                decay_type="linear")
        >>> s(5), s(10), s(89), s(90), s(95), s(100)
        (0.5, 1.0, 1.0, 1.0, 0.5, 0.0)
    """
    W = c.count("num_warmup_steps", num_warmup_steps)
    D = c.count("num_decay_steps", num_decay_steps)
    if num_stable_steps is not None:
        S = c.count("num_stable_steps", num_stable_steps)
    elif num_training_steps is not None:
        N = c.count("num_training_steps", num_training_steps)
        if N < W + D:
            raise ValueError(
                "Argument `num_training_steps` must be >= num_warmup_steps + num_decay_steps. "
                f"Received: num_training_steps={N}, num_warmup_steps={W}, num_decay_steps={D}"
            )
        S = N - W - D
    else:
        raise ValueError("Give `num_training_steps` or `num_stable_steps`. Received: both None")
    shapes = ("linear", "cosine", "1-sqrt")
    up, down = (
        c.choice("warmup_type", warmup_type, shapes),
        c.choice("decay_type", decay_type, shapes),
    )
    r = c.fraction("min_lr_ratio", min_lr_ratio)
    num_cycles = c.positive("num_cycles", num_cycles)
    if up == "linear" and (down != "cosine" or num_cycles == 0.5) and D:
        return _scaled(WarmupStableDecay(1.0, W, S, D, down, end_lr=r, warmup_start_lr=r), base_lr)
    warm = (
        {
            "linear": Linear(r, W, end_lr=1.0),
            "cosine": Cosine(r, W, 1.0),
            # 1 - sqrt(1 - p), lifted to [r, 1]: a polynomial of power 1/2 rising from r to 1.
            "1-sqrt": Polynomial(r, W, end_lr=1.0, power=0.5),
        }[up]
        if W
        else None
    )
    decay = (
        {
            "linear": Linear(1.0, D, end_lr=r),
            "cosine": _cosine_wave(D, num_cycles, r),
            "1-sqrt": OneMinusSqrt(1.0, D, r),
        }[down]
        if D
        else None
    )
    return _scaled(join([warm, Constant(1.0), decay, Constant(r)], [W, W + S, W + S + D]), base_lr)


_NAMES = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "reduce_lr_on_plateau",
    "cosine_with_min_lr",
    "cosine_warmup_with_min_lr",
    "warmup_stable_decay",
    "greedy",
)

_FUNCTIONS: dict[str, Any] = {
    "linear": get_linear_schedule_with_warmup,
    "cosine": get_cosine_schedule_with_warmup,
    "cosine_with_restarts": get_cosine_with_hard_restarts_schedule_with_warmup,
    "polynomial": get_polynomial_decay_schedule_with_warmup,
    "constant_with_warmup": get_constant_schedule_with_warmup,
    "inverse_sqrt": get_inverse_sqrt_schedule,
    "cosine_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup,
    "cosine_warmup_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup_lr_rate,
    "warmup_stable_decay": get_wsd_schedule,
}


def get_scheduler(
    name: str,
    optimizer: Any = None,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: Mapping[str, Any] | None = None,
    *,
    base_lr: float = 1.0,
) -> Any:
    """``transformers.get_scheduler``: the same call, for every type that is a function of the
    step.

    With a PyTorch ``optimizer`` (transformers' own call, unchanged) it returns an
    :class:`lrkit.torch.LRScheduler` on it (``import lrkit.torch`` first, which provides it:
    ``lrkit.compat`` never imports a framework). As in transformers, each group's rate is its
    initial rate times the type's multiplier, and ``polynomial``'s ``lr_end`` and ``min_lr``
    are read against ``optimizer.defaults["lr"]``.

    Without an optimizer, ``get_scheduler(name, num_warmup_steps, num_training_steps,
    scheduler_specific_kwargs)`` returns the multiplier as an lrkit schedule (times
    ``base_lr``), for ``LRScheduler(..., relative=True)`` or another framework.

    Same dispatch as transformers: ``"constant"`` takes nothing, the others need
    ``num_warmup_steps``, and all but ``"constant_with_warmup"``, ``"inverse_sqrt"`` and
    ``"warmup_stable_decay"`` need ``num_training_steps``; ``scheduler_specific_kwargs`` go to
    the type's function. ``"reduce_lr_on_plateau"`` and ``"greedy"`` follow a metric, not the
    step, and are refused (``lrkit.torch.ReduceOnPlateau`` is the plateau scheduler).

    Examples:
        >>> s = lrkit.compat.transformers.get_scheduler(
        ...     "cosine", num_warmup_steps=10, num_training_steps=110, base_lr=0.1)
        >>> s(0), s(10), round(s(60), 12)
        (0.0, 0.1, 0.05)
    """
    if optimizer is not None and not hasattr(optimizer, "param_groups"):
        # The form without an optimizer, given positionally: (name, warmup, training, kwargs).
        optimizer, num_warmup_steps, num_training_steps, scheduler_specific_kwargs = (
            None,
            optimizer,
            num_warmup_steps,
            num_training_steps,  # type: ignore[assignment]
        )
    if optimizer is None:
        return _schedule(
            name, num_warmup_steps, num_training_steps, scheduler_specific_kwargs, base_lr
        )
    adapter = c.ADAPTERS.get("torch")
    if adapter is None:
        raise TypeError(
            "get_scheduler(name, optimizer, ...) builds an lrkit.torch.LRScheduler: "
            "`import lrkit.torch` first (lrkit.compat imports no framework). "
            f"Received: optimizer of type {type(optimizer).__name__}"
        )
    kwargs = dict(scheduler_specific_kwargs or {})
    kind = str(getattr(name, "value", name))
    if kind == "polynomial" or kwargs.get("min_lr") is not None:
        # transformers reads these absolute rates against the optimizer's default rate.
        rate = float(optimizer.defaults["lr"])
        absolute = _schedule(name, num_warmup_steps, num_training_steps, kwargs, rate)
        multiplier = absolute * (1.0 / c.positive("optimizer.defaults['lr']", rate))
    else:
        multiplier = _schedule(name, num_warmup_steps, num_training_steps, kwargs, 1.0)
    return adapter(optimizer, multiplier, relative=True)


def _schedule(
    name: str,
    num_warmup_steps: int | None,
    num_training_steps: int | None,
    scheduler_specific_kwargs: Mapping[str, Any] | None,
    base_lr: float,
) -> Schedule:
    kind = str(getattr(name, "value", name))
    c.choice("name", kind, _NAMES)
    if kind in ("reduce_lr_on_plateau", "greedy"):
        raise ValueError(
            f"Scheduler type {kind!r} follows a metric and is not a function of the step, so "
            "it has no lrkit schedule. Received: name=" + repr(kind)
        )
    if kind == "constant":
        return get_constant_schedule(base_lr=base_lr)
    kwargs = dict(scheduler_specific_kwargs or {})
    if num_warmup_steps is None:
        raise ValueError(f"{kind} requires `num_warmup_steps`, please provide that argument.")
    if kind == "constant_with_warmup":
        return get_constant_schedule_with_warmup(num_warmup_steps, base_lr=base_lr)
    if kind == "inverse_sqrt":
        return get_inverse_sqrt_schedule(num_warmup_steps, **kwargs, base_lr=base_lr)
    if kind == "warmup_stable_decay":
        return get_wsd_schedule(
            num_warmup_steps, num_training_steps=num_training_steps, **kwargs, base_lr=base_lr
        )
    if num_training_steps is None:
        raise ValueError(f"{kind} requires `num_training_steps`, please provide that argument.")
    function = _FUNCTIONS[kind]
    out: Schedule = function(num_warmup_steps, num_training_steps, **kwargs, base_lr=base_lr)
    return out
