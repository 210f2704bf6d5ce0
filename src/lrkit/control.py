r"""Run controllers, framework-free: what steers a run while it trains.

- :class:`Plateau`: the state machine of plateau reduction. It watches a metric once per
  epoch and keeps a factor $c$ per parameter group; an adapter sets the rate
  $\max(\eta(t)\,c,\ \min(\eta(t), \eta_{min}))$, so it multiplies *any* schedule
  (warmup, cosine, anything). Keras' and PyTorch's rules are both here, selected by ``rule``.
- :func:`horizon_problem`: the horizon guard: the schedule's own length against the length of
  training the framework knows, and a message (both numbers, their units, the fix) when they
  disagree so much that the run wastes updates or never finishes its decay.

Every adapter (``lrkit.keras``, ``lrkit.torch``) drives these, so the rules are written once.

>>> from lrkit.control import Plateau
>>> p = Plateau(rule="torch", factor=0.5, patience=1)
>>> [p.step(loss, [0.1]) for loss in [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]]
[False, False, True, False, False, True]
>>> p.scales
[0.25]
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from lrkit import _validate as v

__all__ = ["HorizonWarning", "Plateau", "horizon_problem", "warn_horizon"]

#: The option names of each rule, as its peer spells them.
RULES = ("torch", "keras")


class Plateau:
    r"""Plateau reduction as a value/state machine: options, a plain-dict state, one ``step``.

    Call ``step(metric, rates)`` once per epoch with the monitored value and the rates the
    optimizer holds now (one per group); it updates the state and returns whether it reduced.
    ``rate(base, group)`` is the rate to set for the schedule's value ``base``.

    The two rules, each its peer's code line by line:

    - ``rule="torch"`` (``torch.optim.lr_scheduler.ReduceLROnPlateau``): an epoch is good if
      ``metric < best * (1 - threshold)`` (``threshold_mode="rel"``, mode ``"min"``) or
      ``metric < best - threshold`` (``"abs"``), mirrored for ``"max"``; ``best`` starts at
      $\pm\infty$. The count of bad epochs is reset during cooldown, and the factor drops on the
      ``(patience + 1)``-th bad epoch in a row (``num_bad_epochs > patience``). A group is
      reduced only if its rate would fall by more than ``eps``; the counters reset either way.
    - ``rule="keras"`` (``keras.callbacks.ReduceLROnPlateau``): the absolute ``threshold``
      (Keras' ``min_delta``), compared in float32 as Keras does; ``best`` starts unset (the
      first epoch is always good). Cooldown is counted down first, bad epochs are counted only
      outside cooldown, and the factor drops on the ``patience``-th bad epoch
      (``wait >= patience``), unless the rate is already at ``min_lr`` (float32), in which case
      the counters are kept.

    The rate never goes below ``min_lr`` through the factor, and a schedule's own value below
    ``min_lr`` (a warmup's start) is kept, never lifted to it.

    Args:
        rule: ``"torch"`` or ``"keras"``: whose semantics (above).
        mode: ``"min"`` (lower is better) or ``"max"``; ``"auto"`` only for an adapter that
            sets it before the first ``step`` (Keras reads the metric's direction).
        factor: the factor's multiplier at each reduction, in ``[0, 1)``.
        patience: bad epochs tolerated (see the rules for where the reduction falls).
        threshold: the least change that counts as better.
        threshold_mode: ``"rel"`` or ``"abs"`` (default: ``"rel"`` for PyTorch's rule; Keras'
            takes ``"abs"`` only).
        cooldown: epochs after a reduction during which bad epochs are not counted.
        min_lr: the floor of the reduction, one number or one per group.
        eps: ``rule="torch"``: the least change of rate that is applied.
        groups: the number of parameter groups (one factor each).
    """

    def __init__(
        self,
        *,
        rule: str = "torch",
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str | None = None,
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
        groups: int = 1,
    ) -> None:
        self.rule = v.choice("rule", rule, RULES)
        self.mode = v.choice("mode", mode, ("min", "max", "auto"))
        self.factor = float(v.number("factor", factor))
        if not 0 <= self.factor < 1:
            raise ValueError(f"Argument `factor` must be in [0, 1). Received: factor={factor!r}")
        self.patience = _count("patience", patience)
        self.threshold = float(v.nonnegative("threshold", threshold))
        if threshold_mode is None:  # each peer's own: PyTorch's relative, Keras' absolute
            threshold_mode = "abs" if self.rule == "keras" else "rel"
        self.threshold_mode = v.choice("threshold_mode", threshold_mode, ("rel", "abs"))
        if self.rule == "keras" and self.threshold_mode != "abs":
            raise ValueError(
                "Argument `threshold_mode` must be 'abs' with rule='keras' (Keras' min_delta "
                f"is absolute). Received: threshold_mode={threshold_mode!r}"
            )
        self.cooldown = _count("cooldown", cooldown)
        self.groups = _count("groups", groups, minimum=1)
        if isinstance(min_lr, list | tuple):
            if len(min_lr) != self.groups:
                raise ValueError(
                    f"Argument `min_lr` must have one value per parameter group ({self.groups})."
                    f" Received: min_lr={min_lr!r}"
                )
            self.min_lrs = [float(v.nonnegative(f"min_lr[{i}]", x)) for i, x in enumerate(min_lr)]
        else:
            self.min_lrs = [float(v.nonnegative("min_lr", min_lr))] * self.groups
        self.eps = float(v.nonnegative("eps", eps))
        self.scales = [1.0] * self.groups
        self.reset()

    def reset(self) -> None:
        """Forget the metric's history (best, counters); keep the factors."""
        self.best: float | None = None
        if self.rule == "torch" and self.mode != "auto":
            self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad = 0
        self.cooldown_counter = 0

    # -- the rate ------------------------------------------------------------------------

    def rate(self, base: float, group: int = 0) -> float:
        """The rate for the schedule's value ``base``: ``max(base * c, min(base, min_lr))``."""
        return max(base * self.scales[group], min(base, self.min_lrs[group]))

    # -- one epoch -----------------------------------------------------------------------

    def improved(self, metric: float) -> bool:
        """Whether ``metric`` is better than the best so far, by the rule's threshold."""
        if self.mode == "auto":
            raise ValueError("Plateau.mode is 'auto': set it to 'min' or 'max' before step()")
        best, minimize = self.best, self.mode == "min"
        if best is None:
            return True
        if self.rule == "keras":  # Keras: ops.less(metric + min_delta, best), in float32
            if minimize:
                return bool(np.float32(metric + self.threshold) < np.float32(best))
            return bool(np.float32(metric - self.threshold) > np.float32(best))
        if self.threshold_mode == "rel":
            if minimize:
                return metric < best * (1.0 - self.threshold)
            return metric > best * (self.threshold + 1.0)
        return metric < best - self.threshold if minimize else metric > best + self.threshold

    def step(self, metric: Any, rates: Sequence[float]) -> bool:
        """Take one epoch's ``metric``; ``rates`` are the rates set now (one per group).
        Returns whether the factor dropped (for at least one group)."""
        current = float(metric)
        if len(rates) != self.groups:
            raise ValueError(
                f"Plateau.step() needs one rate per group ({self.groups}). Received: {rates!r}"
            )
        return (
            self._step_keras(current, rates)
            if self.rule == "keras"
            else self._step_torch(current, rates)
        )

    def _step_torch(self, current: float, rates: Sequence[float]) -> bool:
        if self.improved(current):
            self.best = current
            self.num_bad = 0
        else:
            self.num_bad += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad = 0  # bad epochs in cooldown are ignored
        if self.num_bad <= self.patience:
            return False
        reduced = False
        for i, old in enumerate(rates):
            new = max(float(old) * self.factor, self.min_lrs[i])
            if float(old) - new > self.eps:
                self.scales[i] *= self.factor
                reduced = True
        self.cooldown_counter = self.cooldown
        self.num_bad = 0
        return reduced

    def _step_keras(self, current: float, rates: Sequence[float]) -> bool:
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad = 0
        if self.improved(current):
            self.best = current
            self.num_bad = 0
            return False
        if self.cooldown_counter > 0:
            return False
        self.num_bad += 1
        if self.num_bad < self.patience:
            return False
        reduced = False
        for i, old in enumerate(rates):
            if float(old) > np.float32(self.min_lrs[i]):
                self.scales[i] *= self.factor
                reduced = True
        if reduced:
            self.cooldown_counter = self.cooldown
            self.num_bad = 0
        return reduced

    # -- checkpoints ---------------------------------------------------------------------

    def options(self) -> dict[str, Any]:
        """The options, as plain Python types (an adapter checks them on load)."""
        return {
            "rule": self.rule,
            "mode": self.mode,
            "factor": self.factor,
            "patience": self.patience,
            "threshold": self.threshold,
            "threshold_mode": self.threshold_mode,
            "cooldown": self.cooldown,
            "min_lr": list(self.min_lrs),
            "eps": self.eps,
        }

    def state_dict(self) -> dict[str, Any]:
        """The state: ``best`` (``None`` before the first epoch), ``num_bad``,
        ``cooldown_counter`` and ``scales`` (the factor of each group): plain Python types."""
        return {
            "best": self.best,
            "num_bad": self.num_bad,
            "cooldown_counter": self.cooldown_counter,
            "scales": list(self.scales),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned, exactly."""
        keys = {"best", "num_bad", "cooldown_counter", "scales"}
        if not isinstance(state, dict) or not keys <= set(state):
            raise ValueError(
                f"Argument `state` must come from Plateau.state_dict() (keys {sorted(keys)}). "
                f"Received: {state!r}"
            )
        scales = [float(x) for x in state["scales"]]
        if len(scales) != self.groups:
            raise ValueError(
                f"The saved plateau state has {len(scales)} groups; this one has {self.groups}."
            )
        best = state["best"]
        self.best = None if best is None else float(best)
        self.num_bad = int(state["num_bad"])
        self.cooldown_counter = int(state["cooldown_counter"])
        self.scales = scales


def _count(name: str, value: Any, minimum: int = 0) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < minimum:
        raise ValueError(
            f"Argument `{name}` must be an integer >= {minimum}. Received: {name}={value!r}"
        )
    return int(value)


# -- the horizon guard ----------------------------------------------------------------------


class HorizonWarning(UserWarning):
    """The schedule's length and the training's length disagree (see :func:`horizon_problem`).

    Silence it where the mismatch is meant, e.g. a run stopped early on purpose:
    ``warnings.filterwarnings("ignore", category=lrkit.HorizonWarning)``.
    """


#: The schedule may end this early (a fraction of training) or this late without a warning.
TOO_SHORT = 0.5
TOO_LONG = 1.5


def _n(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}"


def horizon_problem(
    duration: float | None,
    *,
    unit: str,
    steps_per_epoch: float | None = None,
    total_steps: float | None = None,
    epochs: float | None = None,
    to_epochs: str = "give unit='epoch' and steps_per_epoch={spe}",
    to_steps: str = "give unit='step'",
) -> str | None:
    """A message if the schedule ends much earlier or later than training; else ``None``.

    Args:
        duration: the schedule's ``duration``, in its own unit (``None``, it never ends, or
            ``0``, a constant: nothing is said).
        unit: ``"step"`` or ``"epoch"``: the unit the adapter reads the schedule in.
        steps_per_epoch: optimizer updates per epoch, when known.
        total_steps: optimizer updates of the whole run, when known.
        epochs: epochs of the run, when known.
        to_epochs, to_steps: how to read the schedule in epochs / in steps with this
            adapter (``{spe}`` is replaced by the updates per epoch).

    The two lengths are compared in updates when both convert to updates, else in epochs.
    The schedule "wastes updates" if it ends before ``TOO_SHORT`` (half) of training, and
    "never finishes" if it ends after ``TOO_LONG`` (1.5 times) of it.
    """
    if duration is None or duration <= 0:
        return None
    if total_steps is None and epochs is not None and steps_per_epoch:
        total_steps = epochs * steps_per_epoch
    if epochs is None and total_steps is not None and steps_per_epoch:
        epochs = total_steps / steps_per_epoch
    ends_in_updates = float(duration) if unit == "step" else None
    if unit == "epoch" and steps_per_epoch:
        ends_in_updates = float(duration) * steps_per_epoch
    if ends_in_updates is not None and total_steps:
        ratio = ends_in_updates / total_steps
    elif unit == "epoch" and epochs:
        ratio = float(duration) / epochs
    else:
        return None  # no common unit
    if TOO_SHORT <= ratio <= TOO_LONG:
        return None
    in_updates = f" ({_n(ends_in_updates)} updates)" if unit == "epoch" and ends_in_updates else ""
    runs = (
        f"{_n(total_steps)} updates" + (f" ({_n(epochs)} epochs)" if epochs else "")
        if total_steps
        else f"{_n(epochs or 0)} epochs"
    )
    where = f"the schedule ends at {_n(duration)} {unit}s{in_updates} but training runs {runs}"
    what = (
        "the rate reaches its end value early and the remaining updates are wasted"
        if ratio < TOO_SHORT
        else "the decay never finishes"
    )
    spe = _n(steps_per_epoch) if steps_per_epoch else "<updates per epoch>"
    length = _n(total_steps if unit == "step" and total_steps else (epochs or 0))
    if unit == "step" and epochs and TOO_SHORT <= duration / epochs <= TOO_LONG:
        fix = "did you mean an epoch schedule? Read it in epochs: " + to_epochs.format(spe=spe)
    elif unit == "epoch" and total_steps and TOO_SHORT <= duration / total_steps <= TOO_LONG:
        fix = "did you mean a schedule of steps? Read it in updates: " + to_steps
    elif unit == "step" and not epochs and ratio < TOO_SHORT:
        fix = (
            f"if it counts epochs, {to_epochs.format(spe=spe)}; "
            f"if it counts steps, make it {length} steps long"
        )
    else:
        fix = f"make the schedule {length} {unit}s long (or train for its length)"
    return f"{where}: {what}; {fix}."


def warn_horizon(message: str | None, who: str, stacklevel: int = 3) -> bool:
    """Warn ``message`` (from :func:`horizon_problem`) as a :class:`HorizonWarning`."""
    if message is None:
        return False
    warnings.warn(f"{who}: {message}", HorizonWarning, stacklevel=stacklevel)
    return True
