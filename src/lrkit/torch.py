"""PyTorch adapter: drive an optimizer's learning rate (and momentum, weight decay) from lrkit
schedules.

:class:`LRScheduler` is a ``torch.optim.lr_scheduler.LRScheduler``: it plugs in wherever PyTorch
schedulers do (a plain loop, Lightning's ``configure_optimizers``, Hugging Face's ``Trainer``).
It keeps one counter and computes the closed form ``schedule(t)`` at every ``step()``, so it
cannot drift, resumes exactly, and holds the final value past the end of a schedule.

Importing this module imports PyTorch; ``import lrkit`` does not.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler as _TorchLRScheduler

from lrkit import _validate as v
from lrkit._adapt import ON_CHANGE, Clock, rate_source, take_over
from lrkit._core import FunctionSchedule, Schedule, from_config
from lrkit._ops import NumpyOps
from lrkit.compat import _common as _compat
from lrkit.compat.torch import bind_plans
from lrkit.control import Plateau, horizon_problem, warn_horizon

__all__ = ["LRScheduler", "ReduceOnPlateau", "find_lr"]

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
    restores the counter and re-applies the hyperparameters at that step.

    **Changing the plan on resume.** When the saved configuration differs from the one given
    (a run extended from 2 to 4 epochs with a schedule planned for 4), ``on_change`` decides,
    chosen here so that Lightning and the Hugging Face ``Trainer``, which call
    ``load_state_dict()`` themselves, need nothing more: ``"refuse"`` (default) raises
    ``ValueError`` listing the differences; ``"keep_count"`` restores the counter and uses
    your schedules as they are (the rate may jump); ``"continue"`` restores the counter and
    bends each changed schedule so that the rate continues from the one the run had at that
    step and reaches your schedule's own value at its end (:func:`lrkit._adapt.take_over`;
    no change at all when the rates already agree, as when a warmup-stable-decay run gets a
    longer stable phase). The bent schedule is saved in ``state_dict()`` next to your plan,
    so a later resume with the same plan continues it exactly. ``strict=False`` is
    ``"keep_count"`` for one call.

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
        total_steps: the optimizer updates of the whole run, if known: a schedule that ends
            long before or after it warns once (:meth:`check_horizon`).
        on_change: ``"refuse"``, ``"keep_count"`` or ``"continue"``: what
            ``load_state_dict()`` does with a checkpoint written under another schedule.

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
        total_steps: int | None = None,
        on_change: str = "refuse",
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
        self.on_change = v.choice("on_change", on_change, ON_CHANGE)
        self._plan = (self.lr_schedules, self.momentum_schedules, self.weight_decay_schedules)
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
        self._use(*self._plan)
        # A controller's rate (ReduceOnPlateau's factor) on top of the schedule's, per group.
        self._control: Callable[[float, int], float] | None = None
        self._rivals_checked = False
        self.total_steps = (
            None if total_steps is None else _positive_int("total_steps", total_steps)
        )
        # The torch base class sets `base_lrs` from `initial_lr` and takes the first step.
        super().__init__(optimizer, last_epoch)
        if self.total_steps is not None:
            self.check_horizon(self.total_steps)
        # Lightning and the Hugging Face Trainer know the run's length but tell no scheduler:
        # read it from them at the first step they take (see _framework_length).
        self._length_looked_up = self.total_steps is not None

    def _use(
        self,
        lr: tuple[Schedule, ...],
        momentum: tuple[Schedule | None, ...],
        weight_decay: tuple[Schedule | None, ...],
    ) -> None:
        """Drive the groups from these schedules (the plan, or the plan taken over on resume)."""
        self.lr_schedules = lr
        self.momentum_schedules = momentum
        self.weight_decay_schedules = weight_decay
        self._lr_values = [x for x in _lookaheads(lr, self.clock) if x is not None]
        self._momentum_values = _lookaheads(momentum, self.clock)
        self._weight_decay_values = _lookaheads(weight_decay, self.clock)

    # -- time and values -----------------------------------------------------------------

    @property
    def schedule_time(self) -> float:
        """The schedule time ``t`` of the current update (after the latest ``step()``)."""
        return float(self._time(self.last_epoch))

    def _time(self, count: Any) -> Any:
        return self.clock.time(count)

    def _lr(self, group: int, count: int) -> float:
        lr = self._lr_values[group].at(count)
        lr = lr * float(self.base_lrs[group]) if self.relative else lr
        return lr if self._control is None else self._control(lr, group)

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
        self._apply(watch=not self._rivals_checked)
        if not getattr(self, "_length_looked_up", True):  # True while __init__ steps
            self._length_looked_up = True
            length = _framework_length(self)
            if length is not None:
                self.check_horizon(length[0], epochs=length[1], hint=length[2])

    def _update_lr(self, epoch: int | None = None) -> None:
        # Called by torch's SequentialLR at its milestones (`_update_lr(0)`).
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        self._apply()

    def _apply(self, watch: bool = False) -> None:
        """Write the hyperparameters of the current counter into the optimizer's groups;
        with ``watch``, first check that no one else changed the rates this wrote last."""
        # Every step() runs this: one plain loop over the groups, values from the look-aheads.
        count = self.last_epoch
        groups = self.optimizer.param_groups
        if len(groups) != len(self._lr_values):
            raise ValueError(
                f"The optimizer has {len(groups)} parameter groups, but this scheduler was "
                f"built for {len(self._lr_values)}; build it after adding every group."
            )
        last_lr = []
        before = getattr(self, "_last_lr", None) if watch else None
        for i, group in enumerate(groups):
            if before is not None:
                now = group["lr"]
                # Plain floats only: reading a tensor rate (on a device) would sync.
                if type(now) is float and now != before[i]:
                    _warn_rival(self, i, float(before[i]), now)
                    self._rivals_checked, before = True, None
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

    # -- the horizon guard ---------------------------------------------------------------

    def check_horizon(self, total_steps: int, *, epochs: int | None = None, hint: str = "") -> bool:
        """Warn (:class:`lrkit.HorizonWarning`, once per scheduler) if a schedule ends long
        before ``total_steps`` optimizer updates (``epochs`` epochs, if given), or long after;
        return whether it warned.

        Called by the constructor when ``total_steps`` is given, and otherwise at the first
        step taken by Lightning's ``Trainer`` (its ``estimated_stepping_batches`` and
        ``max_epochs``) or the Hugging Face ``Trainer`` (``state.max_steps`` and
        ``num_train_epochs``). A schedule without an end (``duration`` None) or a constant is
        never questioned; an epoch schedule stepped once per epoch (``steps_per_epoch=None``)
        is compared with ``epochs`` when it is known.
        """
        total_steps = _positive_int("total_steps", total_steps)
        if epochs is not None:
            epochs = _positive_int("epochs", epochs)
        if getattr(self, "_horizon_warned", False):
            return False
        for s in {id(s): s for s in self.lr_schedules}.values():  # each distinct one once
            message = horizon_problem(
                s.duration,
                unit=self.unit,
                steps_per_epoch=self.steps_per_epoch,
                total_steps=total_steps,
                epochs=epochs,
            )
            if message is not None:
                self._horizon_warned = True
                return warn_horizon(message + hint, "lrkit.torch.LRScheduler", stacklevel=4)
        return False

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

    def _plan_config(self) -> dict[str, Any]:
        """:meth:`config` of the schedules given (before any take-over on resume)."""
        lr, momentum, weight_decay = self._plan
        return {
            **self.config(),
            "lr": [_describe(s) for s in lr],
            "momentum": [_describe(s) for s in momentum],
            "weight_decay": [_describe(s) for s in weight_decay],
        }

    def state_dict(self) -> dict[str, Any]:
        """The counter and the configuration, as plain Python types (and, after a take-over
        on resume, the plan it was made for under ``"plan"``)."""
        state = {
            "last_epoch": self.last_epoch,
            "_step_count": self._step_count,
            "config": self.config(),
        }
        plan = self._plan_config()
        if plan != state["config"]:
            state["plan"] = {key: plan[key] for key in _DRIVEN}
        return state

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> None:
        """Restore the counter from ``state_dict`` and re-apply the hyperparameters there.

        If the saved configuration differs from this scheduler's, ``on_change`` decides (see
        the class): raise ``ValueError`` (``"refuse"``), keep your schedules as they are
        (``"keep_count"``, also what ``strict=False`` does), or take over smoothly from the
        run's rate (``"continue"``).
        """
        if not isinstance(state_dict, dict) or not {"last_epoch", "config"} <= set(state_dict):
            keys = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict)
            raise ValueError(
                "Argument `state_dict` must come from lrkit.torch.LRScheduler.state_dict() "
                f"(keys 'last_epoch' and 'config'). Received: a state with keys {keys}"
            )
        self._on_change(state_dict, "refuse" if strict else "keep_count")
        self.last_epoch = int(state_dict["last_epoch"])
        self._step_count = int(state_dict.get("_step_count", self.last_epoch + 1))
        self._apply()

    def _on_change(self, state: dict[str, Any], strict_policy: str) -> None:
        """Apply the resume policy to a checkpoint written under another configuration."""
        saved, given = state["config"], self._plan_config()
        differences = _differences(saved, given)
        if not differences:
            self._use(*self._plan)
            return
        plan = state.get("plan")
        if isinstance(plan, dict) and not _differences({**saved, **plan}, given):
            # The same plan, already taken over by an earlier resume: continue that take-over.
            self._use(*self._restored(saved))
            return
        policy = self.on_change if strict_policy == "refuse" else strict_policy
        if policy == "keep_count":
            self._use(*self._plan)
        elif policy == "continue":
            self._use(*self._taken_over(saved, int(state["last_epoch"])))
        else:
            raise ValueError(
                "The saved scheduler state was made with a different configuration:\n  "
                + "\n  ".join(differences)
                + "\nChoose what a resume under a new plan does when you build the "
                "scheduler: LRScheduler(..., on_change='continue') takes over from the "
                "run's rate and reaches your schedule's end; on_change='keep_count' "
                "restores the step count and uses your schedule as it is. Or build it as "
                "it was saved."
            )

    def _restored(self, saved: dict[str, Any]) -> tuple[tuple[Any, ...], ...]:
        """The schedules a checkpoint ran with: the saved take-overs, and the plan elsewhere."""
        return tuple(
            tuple(
                new if old == _describe(new) else _config_schedule(key, i, old)
                for i, (old, new) in enumerate(zip(saved[key], plan, strict=True))
            )
            for key, plan in zip(_DRIVEN, self._plan, strict=True)
        )

    def _taken_over(self, saved: dict[str, Any], count: int) -> tuple[tuple[Any, ...], ...]:
        """The plan, each changed schedule bent to continue from the run's value at ``count``."""
        if any(len(saved.get(key) or ()) != len(self._plan[0]) for key in _DRIVEN):
            raise ValueError(
                "on_change='continue' cannot take over: the checkpoint was written for "
                f"{len(saved.get('lr') or ())} parameter groups, this optimizer has "
                f"{len(self._plan[0])}."
            )
        old_clock = Clock(saved.get("steps_per_epoch"), int(saved.get("accumulation_steps", 1)))
        old_at, at = float(old_clock.time(count)), float(self.clock.time(count))
        given = self.config()
        same_scale = (saved.get("relative"), saved.get("base_lrs")) == (
            given["relative"],
            given["base_lrs"],
        )
        out: list[tuple[Any, ...]] = []
        for key, plan in zip(_DRIVEN, self._plan, strict=True):
            bent: list[Any] = []
            for i, new in enumerate(plan):
                old = saved[key][i]
                unchanged = old == _describe(new) and old_clock == self.clock
                if new is None or old is None or (unchanged and (key != "lr" or same_scale)):
                    bent.append(new)  # nothing changed, nothing to continue from, or not driven
                    continue
                if isinstance(new, FunctionSchedule):
                    raise ValueError(
                        f"on_change='continue' cannot take over with {key}[{i}]: a plain "
                        "function has no config to save the take-over in. Give an lrkit "
                        "schedule, or choose on_change='keep_count'."
                    )
                value = float(_config_schedule(key, i, old)(old_at))
                if key == "lr" and not same_scale:  # compare rates, not factors
                    if saved.get("relative"):
                        value *= float(saved["base_lrs"][i])
                    if self.relative:
                        base = float(self.base_lrs[i])
                        value = value / base if base else float(new(at))
                bent.append(take_over(new, at, value))
            out.append(tuple(bent))
        return tuple(out)


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


#: The hyperparameters the scheduler drives, as named in its config.
_DRIVEN = ("lr", "momentum", "weight_decay")


def _config_schedule(key: str, group: int, described: Any) -> Schedule:
    """The schedule a saved config describes (a plain function saved only its name)."""
    if isinstance(described, dict) and "function" in described:
        raise ValueError(
            f"on_change='continue' cannot find the run's {key} at the resume point: "
            f"{key}[{group}] was a plain function ({described['function']}), whose values are "
            "not saved. Choose on_change='keep_count'."
        )
    return from_config(described)


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


# -- other schedulers on the same optimizer ------------------------------------------------


def _rivals(scheduler: LRScheduler) -> list[Any] | None:
    """The other schedulers that hold ``scheduler``'s optimizer; ``None`` if ``scheduler``
    runs inside one of them (SequentialLR, ChainedScheduler: they hand over on purpose)."""
    import gc  # one scan, once, when a change was seen

    found = []
    for holder in gc.get_referrers(scheduler.optimizer):
        if not isinstance(holder, _TorchLRScheduler) or holder is scheduler:
            continue
        if getattr(holder, "scheduler", None) is scheduler:  # our ReduceOnPlateau wrapper
            continue
        inner = getattr(holder, "_schedulers", ())
        if any(x is scheduler for x in inner):
            return None
        found.append(holder)
    return found


def _warn_rival(scheduler: LRScheduler, group: int, ours: float, now: float) -> None:
    rivals = _rivals(scheduler)
    if rivals is None:
        return
    names = ", ".join(sorted({f"{type(r).__module__}.{type(r).__qualname__}" for r in rivals}))
    who = f"by {names} on the same optimizer" if names else "by another scheduler or your code"
    hint = (
        " To reduce on a plateau on top of the schedule, use "
        "lrkit.torch.ReduceOnPlateau(scheduler) instead."
        if any(isinstance(r, torch.optim.lr_scheduler.ReduceLROnPlateau) for r in rivals or ())
        else ""
    )
    warnings.warn(
        f"The learning rate of param_groups[{group}] was changed from {ours!r} to {now!r} "
        f"{who} since lrkit.torch.LRScheduler set it; lrkit sets schedule(t) at every step() "
        f"and overrides the change.{hint}",
        UserWarning,
        stacklevel=4,
    )


# -- plateau reduction ---------------------------------------------------------------------


class ReduceOnPlateau(torch.optim.lr_scheduler.ReduceLROnPlateau):
    r"""Any lrkit schedule, times a factor that drops when a monitored metric stalls.

    Wraps an :class:`LRScheduler` (warmup, cosine, anything), or an optimizer alone (its rates
    are then the constant base, exactly ``torch.optim.lr_scheduler.ReduceLROnPlateau``). The
    rate of group ``i`` is $\max(\eta_i(t)\,c_i,\ \min(\eta_i(t), \text{min\_lr}_i))$: the
    schedule's value times the group's plateau factor, which starts at 1 and is multiplied by
    ``factor`` on the ``(patience + 1)``-th epoch in a row without improvement, PyTorch's rule
    (:class:`lrkit.control.Plateau` with ``rule="torch"``; every option is PyTorch's, with its
    default). It *is* a ``torch.optim.lr_scheduler.ReduceLROnPlateau``, so Lightning (with
    ``"monitor"`` in the scheduler config) and Hugging Face's Trainer call ``step(metric)``.

    Call ``step(metric)`` once per epoch. When the wrapped scheduler counts epochs stepped
    once per epoch (``unit="epoch"``, no ``steps_per_epoch``), ``step(metric)`` steps it too
    (``advance=True``); otherwise keep stepping the wrapped scheduler after every
    ``optimizer.step()`` and ``step(metric)`` only updates the factor (``advance=False``).

    ``state_dict()`` holds the plateau's state (best, bad epochs, cooldown, factors), its
    options and the wrapped scheduler's state, all plain Python types; ``load_state_dict``
    restores all three exactly (it refuses options that differ from the saved ones).

    Examples:
        >>> import torch, lrkit
        >>> from lrkit.torch import LRScheduler, ReduceOnPlateau
        >>> optimizer = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=1.0)
        >>> s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=8), steps=2)
        >>> plateau = ReduceOnPlateau(LRScheduler(optimizer, s, unit="epoch"), factor=0.5,
        ...                           patience=1)
        >>> for val_loss in [1.0, 0.9, 0.9, 0.9, 0.9]:
        ...     optimizer.step()
        ...     plateau.step(val_loss)
        >>> [round(x, 6) for x in plateau.get_last_lr()], plateau.factors
        ([0.034567], [0.5])
    """

    def __init__(
        self,
        scheduler_or_optimizer: LRScheduler | Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
        *,
        advance: bool | None = None,
    ) -> None:
        given = scheduler_or_optimizer
        if isinstance(given, Optimizer):
            given = LRScheduler(given, 1.0, relative=True, unit="epoch")
        if not isinstance(given, LRScheduler):
            raise TypeError(
                "Argument `scheduler_or_optimizer` must be an lrkit.torch.LRScheduler or a "
                f"torch.optim.Optimizer. Received: {scheduler_or_optimizer!r} of type "
                f"{type(scheduler_or_optimizer).__name__}"
            )
        if given._control is not None:
            raise ValueError(
                "Argument `scheduler_or_optimizer` is already wrapped by a ReduceOnPlateau; "
                "wrap each LRScheduler once."
            )
        if mode == "auto":
            raise ValueError("Argument `mode` must be 'min' or 'max'. Received: mode='auto'")
        self.scheduler = given
        self.optimizer = given.optimizer
        self.plateau = Plateau(
            rule="torch",
            mode=mode,
            factor=factor,
            patience=patience,
            threshold=threshold,
            threshold_mode=threshold_mode,
            cooldown=cooldown,
            min_lr=min_lr,
            eps=eps,
            groups=len(self.optimizer.param_groups),
        )
        per_epoch = given.unit == "epoch" and given.steps_per_epoch is None
        self.advance = per_epoch if advance is None else v.boolean("advance", advance)
        self.last_epoch = 0
        given._control = self.plateau.rate
        given._apply()

    @property
    def factors(self) -> list[float]:
        """The plateau factor of each parameter group."""
        return list(self.plateau.scales)

    @property
    def best(self) -> float | None:  # type: ignore[override]
        return self.plateau.best

    @property
    def num_bad_epochs(self) -> int:  # type: ignore[override]
        return self.plateau.num_bad

    @property
    def cooldown_counter(self) -> int:  # type: ignore[override]
        return self.plateau.cooldown_counter

    def get_last_lr(self) -> list[float | torch.Tensor]:
        return self.scheduler.get_last_lr()

    def step(self, metrics: Any = None, epoch: None = None) -> None:  # type: ignore[override]
        """Take one epoch's monitored value: update the factor, then set the rates."""
        if metrics is None or epoch is not None:
            raise TypeError(
                "lrkit.torch.ReduceOnPlateau.step() takes the monitored metric, once per epoch: "
                f"step(val_loss). Received: metrics={metrics!r}, epoch={epoch!r}. (In "
                "Lightning, give the scheduler config a `monitor` key.)"
            )
        rates = [float(g["lr"]) for g in self.optimizer.param_groups]
        self.plateau.step(float(metrics), rates)
        self.last_epoch += 1
        if self.advance:
            self.scheduler.step()
        else:
            self.scheduler._apply()

    def options(self) -> dict[str, Any]:
        """The plateau's options and ``advance``, as plain Python types (checked on load)."""
        return {**self.plateau.options(), "advance": self.advance}

    def state_dict(self) -> dict[str, Any]:
        return {
            "last_epoch": self.last_epoch,
            "options": self.options(),
            "plateau": self.plateau.state_dict(),
            "scheduler": self.scheduler.state_dict(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:  # type: ignore[override]
        """Restore the plateau and the wrapped scheduler exactly; refuse other options."""
        keys = {"last_epoch", "options", "plateau", "scheduler"}
        if not isinstance(state_dict, dict) or not keys <= set(state_dict):
            raise ValueError(
                "Argument `state_dict` must come from lrkit.torch.ReduceOnPlateau.state_dict() "
                f"(keys {sorted(keys)}). Received: {_keys(state_dict)}"
            )
        differences = _differences(state_dict["options"], self.options())
        if differences:
            raise ValueError(
                "The saved ReduceOnPlateau state was made with other options:\n  "
                + "\n  ".join(differences)
                + "\nBuild the ReduceOnPlateau as it was saved."
            )
        self.plateau.load_state_dict(state_dict["plateau"])
        self.last_epoch = int(state_dict["last_epoch"])
        self.scheduler.load_state_dict(state_dict["scheduler"])  # re-applies, with the factor


def _keys(value: Any) -> Any:
    return f"a state with keys {sorted(value)}" if isinstance(value, dict) else type(value)


# `lrkit.compat.transformers.get_scheduler(name, optimizer, ...)` builds this adapter (compat
# sits below the adapters, so it finds it here instead of importing it).
_compat.ADAPTERS["torch"] = LRScheduler


def _framework_length(scheduler: LRScheduler) -> tuple[int, int | None, str] | None:
    """The times ``scheduler`` will be stepped in the run (and its epochs), from the trainer that
    called ``step()``: a Lightning ``Trainer`` (``trainer``, a few frames up, in its hook call)
    or a Hugging Face ``Trainer`` (``self`` of its training loop); and a hint for the warning.
    ``None`` outside them, or for a run of unknown length. Only modules already imported are
    looked at."""
    lightning: list[type] = [
        m.Trainer
        for m in (
            sys.modules.get("lightning.pytorch.trainer.trainer"),
            sys.modules.get("pytorch_lightning.trainer.trainer"),
        )
        if m is not None
    ]
    hf = sys.modules.get("transformers.trainer")
    if not lightning and hf is None:
        return None
    frame: Any = sys._getframe(2)
    for _ in range(16):
        if frame is None:
            return None
        for name in ("trainer", "self"):
            obj: Any = frame.f_locals.get(name)
            if lightning and isinstance(obj, tuple(lightning)):
                return _lightning_length(obj, scheduler)
            if hf is not None and isinstance(obj, hf.Trainer):
                return _whole_or_none(obj.state.max_steps, obj.args.num_train_epochs, "")
        frame = frame.f_back
    return None


def _lightning_length(trainer: Any, scheduler: LRScheduler) -> tuple[int, int | None, str] | None:
    """Lightning steps a scheduler once per update (``"interval": "step"``) or once per epoch
    (``"epoch"``, its default): the run's length in the steps this scheduler will see."""
    for config in getattr(trainer, "lr_scheduler_configs", ()):
        if scheduler in (config.scheduler, getattr(config.scheduler, "scheduler", None)):
            if config.interval == "epoch":
                hint = (
                    ' (Lightning steps this scheduler once per epoch, "interval": "epoch": for a '
                    'schedule of updates, give its config "interval": "step")'
                    if scheduler.unit == "step"
                    else ""
                )
                return _whole_or_none(trainer.max_epochs, trainer.max_epochs, hint)
            break
    return _whole_or_none(trainer.estimated_stepping_batches, trainer.max_epochs, "")


def _whole_or_none(total: Any, epochs: Any, hint: str) -> tuple[int, int | None, str] | None:
    """``(total, epochs, hint)``, the numbers as ints where they are finite and at least 1
    (Lightning's are ``inf`` or ``-1`` for a run of unknown length)."""

    def whole(x: Any) -> int | None:
        try:
            x = float(x)
        except (TypeError, ValueError):
            return None
        return int(x) if math.isfinite(x) and x >= 1 and x.is_integer() else None

    steps = whole(total)
    return None if steps is None else (steps, whole(epochs), hint)


from lrkit._find_torch import find_lr  # noqa: E402  (the range test, lrkit.find)
