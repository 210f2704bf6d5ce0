"""PyTorch adapter: drive an optimizer's learning rate (and momentum, weight decay) from lrkit
schedules.

:class:`LRScheduler` is a ``torch.optim.lr_scheduler.LRScheduler``: it plugs in wherever PyTorch
schedulers do (a plain loop, Lightning's ``configure_optimizers``, Hugging Face's ``Trainer``).
It keeps one counter and computes the closed form ``schedule(t)`` at every ``step()``, so it
cannot drift, resumes exactly, and holds the final value past the end of a schedule.

Importing this module imports PyTorch; ``import lrkit`` does not.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler as _TorchLRScheduler

from lrkit import _validate as v
from lrkit._adapt import Clock, rate_source
from lrkit._core import FunctionSchedule, Schedule, from_config
from lrkit._ops import NumpyOps
from lrkit.compat import _common as _compat
from lrkit.compat.torch import bind_plans

__all__ = ["LRScheduler"]

#: What a hyperparameter argument takes for one parameter group.
ScheduleLike = Schedule | Callable[[Any], float] | float


class LRScheduler(_TorchLRScheduler):
    r"""A PyTorch scheduler that sets each update's learning rate to ``schedule(t)``.

    After construction the optimizer holds ``schedule(0)``; after the k-th ``step()`` it holds
    ``schedule(k)``, the rate of the k-th (0-based) update. Call ``step()`` after
    ``optimizer.step()``, as with every PyTorch scheduler. Each step computes the closed form
    from the counter alone (never from the previous rate), so the rate cannot drift and a
    resumed run continues exactly. Past the end of a schedule the final value holds
    (PyTorch's ``OneCycleLR`` raises there).

    **Time.** With ``unit="step"`` (default) ``t`` counts optimizer updates. With
    ``unit="epoch"`` the schedule is written in epochs: give ``steps_per_epoch`` (optimizer
    updates per epoch) and step once per update, and ``t`` is the fractional epoch
    ``updates / steps_per_epoch``; or leave ``steps_per_epoch=None`` and step once per epoch.
    With gradient accumulation, either step only after the updates, or step every
    micro-batch and give ``accumulation_steps``: the counter is then divided (rounding down)
    by it, so one unit of schedule time is always one optimizer update.

    **Parameter groups.** One schedule drives every group, or give a list with one schedule
    per group (discriminative rates). By default a schedule's value *is* the rate. With
    ``relative=True`` it is a factor on each group's own initial rate (``group["initial_lr"]``,
    the ``lr`` the optimizer was built with), like ``LambdaLR``: one schedule of factors then
    serves groups with different base rates.

    **Other hyperparameters.** ``momentum`` drives ``group["momentum"]`` (SGD, RMSprop) or
    ``betas[0]`` (Adam-like optimizers), as 1cycle needs; ``weight_decay`` drives
    ``group["weight_decay"]``. Both take absolute values, one schedule or a list per group
    where ``None`` leaves that group alone (for example no decay on biases).

    **Checkpoints.** ``state_dict()`` holds the counter and the configuration (each schedule's
    config, the unit, the factors and, with ``relative=True``, the base rates), all plain
    Python types (``torch.load(..., weights_only=True)`` reads it). ``load_state_dict()``
    restores the counter, re-applies the hyperparameters at that step and raises
    ``ValueError`` if the saved configuration differs from the one given; it never replaces
    the schedules you passed (``strict=False`` restores the counter only).

    **Speed.** The closed form is evaluated for the next ``LOOKAHEAD`` (1,024) counters in one
    vectorized NumPy call and then looked up, so a ``step()`` costs less than a native
    PyTorch scheduler's (``benchmarks/torch_step.py``). A plain function is called per step.

    Args:
        optimizer: a ``torch.optim.Optimizer``.
        schedule: an lrkit schedule, a plain function ``f(t) -> lr`` (kept out of configs:
            only its name is saved), a number (a constant), or a list with one per group.
        relative: if True, the schedule gives a factor on each group's initial rate.
        unit: ``"step"`` or ``"epoch"``, the unit of the schedule's time.
        steps_per_epoch: optimizer updates per epoch, with ``unit="epoch"`` when stepping
            every update; ``None`` when stepping once per epoch.
        accumulation_steps: ``step()`` calls per optimizer update (1 unless you step every
            micro-batch of a gradient-accumulation loop).
        momentum: schedule(s) for momentum, or ``betas[0]`` for Adam-like optimizers.
        weight_decay: schedule(s) for weight decay.
        last_epoch: PyTorch's resume argument: the counter of the last step taken; ``-1``
            starts afresh. Prefer ``load_state_dict()``.

    Examples:
        >>> import torch
        >>> from lrkit.torch import LRScheduler
        >>> model = torch.nn.Linear(2, 1)
        >>> optimizer = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.9)
        >>> schedule = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=90), steps=10)
        >>> scheduler = LRScheduler(optimizer, schedule)
        >>> rates = []
        >>> for step in range(101):
        ...     rates.append(optimizer.param_groups[0]["lr"])
        ...     optimizer.step()
        ...     scheduler.step()
        >>> rates[0], rates[5], rates[10], rates[100]
        (0.0, 0.05, 0.1, 0.0)

        1cycle with momentum cycling the other way, over 100 updates:

        >>> up, down = 30, 70
        >>> momentum = lrkit.cosine(0.95, up, end_lr=0.85) >> lrkit.cosine(0.85, down, 0.95)
        >>> scheduler = LRScheduler(optimizer, lrkit.one_cycle_policy(max_lr=0.1, total_steps=100),
        ...                         momentum=momentum)
        >>> optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["momentum"]
        (0.004, 0.95)

        A schedule of factors, shared by two groups with their own base rates:

        >>> optimizer = torch.optim.SGD([{"params": [model.weight], "lr": 0.1},
        ...                              {"params": [model.bias], "lr": 0.01}])
        >>> scheduler = LRScheduler(optimizer, lrkit.linear(1.0, 10, end_lr=0.0), relative=True)
        >>> for _ in range(5):
        ...     optimizer.step()
        ...     scheduler.step()
        >>> scheduler.get_last_lr()
        [0.05, 0.005]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedule: ScheduleLike | Sequence[ScheduleLike],
        *,
        relative: bool = False,
        unit: str = "step",
        steps_per_epoch: int | None = None,
        accumulation_steps: int = 1,
        momentum: ScheduleLike | Sequence[ScheduleLike | None] | None = None,
        weight_decay: ScheduleLike | Sequence[ScheduleLike | None] | None = None,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                "Argument `optimizer` must be a torch.optim.Optimizer. "
                f"Received: optimizer={optimizer!r} of type {type(optimizer).__name__}"
            )
        groups = optimizer.param_groups
        n = len(groups)
        # lrkit.compat.torch plans (StepLR(...), OneCycleLR(...)) take each group's initial
        # rate, as PyTorch's schedulers do, and bring their momentum schedules.
        schedule, plan_momentum, relative = bind_plans(schedule, _initial_lrs(groups), relative)
        if momentum is None:
            momentum = plan_momentum
        self.lr_schedules: tuple[Schedule, ...] = _required_per_group("schedule", schedule, n)
        self.momentum_schedules = _optional_per_group("momentum", momentum, n)
        self.weight_decay_schedules = _optional_per_group("weight_decay", weight_decay, n)
        self.relative = v.boolean("relative", relative)
        self.unit = v.choice("unit", unit, ("step", "epoch"))
        self.steps_per_epoch = _steps_per_epoch(self.unit, steps_per_epoch)
        self.accumulation_steps = _positive_int("accumulation_steps", accumulation_steps)
        for i, group in enumerate(groups):
            if (
                self.momentum_schedules[i] is not None
                and "momentum" not in group
                and "betas" not in group
            ):
                raise ValueError(
                    f"Argument `momentum` needs an optimizer with a `momentum` or `betas` "
                    f"hyperparameter; param_groups[{i}] of {type(optimizer).__name__} has "
                    f"neither. Received: momentum={momentum!r}"
                )
            if self.weight_decay_schedules[i] is not None and "weight_decay" not in group:
                raise ValueError(
                    f"Argument `weight_decay` needs an optimizer with a `weight_decay` "
                    f"hyperparameter; param_groups[{i}] of {type(optimizer).__name__} has none. "
                    f"Received: weight_decay={weight_decay!r}"
                )
        self.clock = Clock(self.steps_per_epoch, self.accumulation_steps)
        self._lr_values = [x for x in _lookaheads(self.lr_schedules, self.clock) if x is not None]
        self._momentum_values = _lookaheads(self.momentum_schedules, self.clock)
        self._weight_decay_values = _lookaheads(self.weight_decay_schedules, self.clock)
        # The torch base class sets `base_lrs` from `initial_lr` and takes the first step.
        super().__init__(optimizer, last_epoch)

    # -- time and values -----------------------------------------------------------------

    @property
    def schedule_time(self) -> float:
        """The schedule time ``t`` of the current update (after the latest ``step()``)."""
        return float(self._time(self.last_epoch))

    def _time(self, count: Any) -> Any:
        return self.clock.time(count)

    def _lr(self, group: int, count: int) -> float:
        lr = self._lr_values[group].at(count)
        return lr * float(self.base_lrs[group]) if self.relative else lr

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """The rates of the current counter (use ``get_last_lr()`` to read the rates set)."""
        return [self._lr(i, self.last_epoch) for i in range(len(self._lr_values))]

    def step(self, epoch: int | None = None) -> None:
        """Advance the counter by one and set the hyperparameters of the next update.

        Takes no argument: the counter is the only state. (PyTorch's deprecated
        ``step(epoch)`` form is refused; restore a position with ``load_state_dict()``.)
        """
        if epoch is not None:
            raise TypeError(
                "lrkit.torch.LRScheduler.step() takes no argument: it counts its own steps. "
                f"Received: {epoch!r}. (Lightning passes a metric when the scheduler config "
                "has a `monitor` key; remove it for this scheduler.)"
            )
        if self._step_count == self.accumulation_steps:
            # The first update is due by now (with accumulation: after the k-th micro-batch).
            self._warn_if_stepped_before_optimizer()
        self._step_count += 1
        self.last_epoch += 1
        self._apply()

    def _update_lr(self, epoch: int | None = None) -> None:
        # Called by torch's SequentialLR at its milestones (`_update_lr(0)`).
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        self._apply()

    def _apply(self) -> None:
        """Write the hyperparameters of the current counter into the optimizer's groups."""
        # Every step() runs this: one plain loop over the groups, values from the look-aheads.
        count = self.last_epoch
        groups = self.optimizer.param_groups
        if len(groups) != len(self._lr_values):
            raise ValueError(
                f"The optimizer has {len(groups)} parameter groups, but this scheduler was "
                f"built for {len(self._lr_values)}; build it after adding every group."
            )
        last_lr = []
        for i, group in enumerate(groups):
            last_lr.append(_set(group, "lr", self._lr(i, count)))
            momentum = self._momentum_values[i]
            if momentum is not None:
                if "betas" in group:
                    _set_beta1(group, momentum.at(count))
                else:
                    _set(group, "momentum", momentum.at(count))
            weight_decay = self._weight_decay_values[i]
            if weight_decay is not None:
                _set(group, "weight_decay", weight_decay.at(count))
        self._last_lr = last_lr

    def _warn_if_stepped_before_optimizer(self) -> None:
        # PyTorch's own check (its base class wraps `optimizer.step` to record the call).
        if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
            warnings.warn(
                "Seems like `optimizer.step()` has been overridden after learning rate "
                "scheduler initialization. Please, make sure to call `optimizer.step()` "
                "before `lr_scheduler.step()`.",
                UserWarning,
                stacklevel=3,
            )
        elif not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. Call "
                "`optimizer.step()` first, or the first value of the schedule is skipped.",
                UserWarning,
                stacklevel=3,
            )

    # -- checkpoints ---------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """Everything that fixes the rates, as plain Python types (checked on load)."""
        return {
            "lr": [_describe(s) for s in self.lr_schedules],
            "momentum": [_describe(s) for s in self.momentum_schedules],
            "weight_decay": [_describe(s) for s in self.weight_decay_schedules],
            "relative": self.relative,
            "base_lrs": [float(b) for b in self.base_lrs] if self.relative else None,
            "unit": self.unit,
            "steps_per_epoch": self.steps_per_epoch,
            "accumulation_steps": self.accumulation_steps,
        }

    def state_dict(self) -> dict[str, Any]:
        """The counter and the configuration, as plain Python types."""
        return {
            "last_epoch": self.last_epoch,
            "_step_count": self._step_count,
            "config": self.config(),
        }

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> None:
        """Restore the counter from ``state_dict`` and re-apply the hyperparameters there.

        Raises ``ValueError`` if the saved configuration differs from this scheduler's (the
        schedules you gave are never replaced). With ``strict=False`` only the counter is
        restored and your configuration is kept, for example to extend a finished run.
        """
        if not isinstance(state_dict, dict) or not {"last_epoch", "config"} <= set(state_dict):
            keys = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict)
            raise ValueError(
                "Argument `state_dict` must come from lrkit.torch.LRScheduler.state_dict() "
                f"(keys 'last_epoch' and 'config'). Received: a state with keys {keys}"
            )
        if strict:
            differences = _differences(state_dict["config"], self.config())
            if differences:
                raise ValueError(
                    "The saved scheduler state was made with a different configuration, and "
                    "lrkit does not replace the one you gave:\n  "
                    + "\n  ".join(differences)
                    + "\nBuild the scheduler as it was saved, or call "
                    "load_state_dict(state, strict=False) to keep yours and restore the "
                    "step count only."
                )
        self.last_epoch = int(state_dict["last_epoch"])
        self._step_count = int(state_dict.get("_step_count", self.last_epoch + 1))
        self._apply()


# -- arguments -----------------------------------------------------------------------------


def _one_schedule(name: str, value: Any) -> Schedule:
    schedule = rate_source(name, value, allow_lr=False).schedule
    if schedule is None:  # pragma: no cover - allow_lr=False never gives f(epoch, lr)
        raise TypeError(f"Argument `{name}` must be a function of one argument")
    return schedule


def _required_per_group(name: str, value: Any, n: int) -> tuple[Schedule, ...]:
    if isinstance(value, list | tuple):
        _check_length(name, value, n)
        return tuple(_one_schedule(f"{name}[{i}]", x) for i, x in enumerate(value))
    return (_one_schedule(name, value),) * n


def _optional_per_group(name: str, value: Any, n: int) -> tuple[Schedule | None, ...]:
    if value is None:
        return (None,) * n
    if isinstance(value, list | tuple):
        _check_length(name, value, n)
        return tuple(
            None if x is None else _one_schedule(f"{name}[{i}]", x) for i, x in enumerate(value)
        )
    return (_one_schedule(name, value),) * n


def _initial_lrs(groups: Sequence[dict[str, Any]]) -> list[float]:
    # What the torch base class will read (it sets `initial_lr` from `lr` when absent).
    return [float(g["initial_lr"] if "initial_lr" in g else g["lr"]) for g in groups]


def _check_length(name: str, value: Sequence[Any], n: int) -> None:
    if len(value) != n:
        raise ValueError(
            f"Argument `{name}` must have one item per parameter group ({n}). "
            f"Received: {len(value)} items, {name}={value!r}"
        )


def _positive_int(name: str, value: Any) -> int:
    return v.count(name, value, 1)


def _steps_per_epoch(unit: str, value: Any) -> int | None:
    if value is None:
        return None
    if unit != "epoch":
        raise ValueError(
            "Argument `steps_per_epoch` is only used with unit='epoch'. "
            f"Received: steps_per_epoch={value!r}, unit={unit!r}"
        )
    return _positive_int("steps_per_epoch", value)


# -- checkpoints ---------------------------------------------------------------------------


def _describe(schedule: Schedule | None) -> Any:
    if schedule is None:
        return None
    if isinstance(schedule, FunctionSchedule):
        return {"function": schedule.spec()}  # a plain function has no config: keep its name
    return schedule.to_config()


def _render(value: Any) -> str:
    if isinstance(value, dict) and "name" in value:
        try:
            return from_config(value).spec()
        except (TypeError, ValueError):
            pass
    return repr(value)


def _differences(saved: Any, given: dict[str, Any]) -> list[str]:
    if not isinstance(saved, dict):
        return [f"config: saved {saved!r}, given {given!r}"]
    out: list[str] = []
    for key in sorted(set(saved) | set(given)):
        a, b = saved.get(key), given.get(key)
        if a == b:
            continue
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            out.extend(
                f"{key}[{i}]: saved {_render(x)}, given {_render(y)}"
                for i, (x, y) in enumerate(zip(a, b, strict=True))
                if x != y
            )
        else:
            out.append(f"{key}: saved {_render(a)}, given {_render(b)}")
    return out


# -- the per-step path ---------------------------------------------------------------------


#: How many upcoming counters one vectorized evaluation covers.
LOOKAHEAD = 1024


class _Lookahead:
    """One schedule's values at the counters ahead, computed a block at a time.

    The schedule is a pure function of time, so evaluating it now for the next ``LOOKAHEAD``
    counters, in one vectorized NumPy call, gives the schedule's own values (those of
    ``schedule(t)``, to rounding: the array path is NumPy's, the scalar path Python's ``math``)
    for a fraction of the per-call overhead. A jump of the counter (resume, SequentialLR)
    starts a new block. A plain function (scalar-only) is called once per step instead.
    """

    __slots__ = ("clock", "schedule", "start", "values")

    def __init__(self, schedule: Schedule, clock: Clock) -> None:
        self.schedule = schedule
        self.clock = clock
        self.start = 0
        self.values: list[float] = []

    def at(self, count: int) -> float:
        i = count - self.start
        if 0 <= i < len(self.values):
            return self.values[i]
        if isinstance(self.schedule, FunctionSchedule):
            return float(self.schedule(self.clock.time(count)))
        self.start = count
        counts = np.arange(count, count + LOOKAHEAD, dtype=np.float64)
        self.values = self.schedule(self.clock.time(counts, _FLOAT64)).tolist()
        return self.values[0]


_FLOAT64 = NumpyOps.of(np.dtype(np.float64))


def _lookaheads(schedules: Sequence[Schedule | None], clock: Clock) -> list[_Lookahead | None]:
    """One look-ahead per distinct schedule, shared by the groups that use it."""
    made: dict[int, _Lookahead] = {}
    out: list[_Lookahead | None] = []
    for s in schedules:
        if s is None:
            out.append(None)
            continue
        if id(s) not in made:
            made[id(s)] = _Lookahead(s, clock)
        out.append(made[id(s)])
    return out


def _set(group: dict[str, Any], key: str, value: float) -> Any:
    """Set ``group[key]``; return a copy of what it holds now (for ``get_last_lr()``)."""
    old = group[key]
    if isinstance(old, torch.Tensor):
        old.fill_(value)  # a tensor rate (torch.compile, capturable) stays the same tensor
        return old.clone()
    group[key] = value
    return value


def _set_beta1(group: dict[str, Any], value: float) -> None:
    betas = group["betas"]
    if isinstance(betas[0], torch.Tensor):
        betas[0].fill_(value)
    else:
        group["betas"] = (value, *betas[1:])


# `lrkit.compat.transformers.get_scheduler(name, optimizer, ...)` builds this adapter (compat
# sits below the adapters, so it finds it here instead of importing it).
_compat.ADAPTERS["torch"] = LRScheduler
