"""lrkit: learning-rate schedules as immutable values, the same numbers in every framework.

>>> import lrkit
>>> s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=90), steps=10)
>>> s(0), s(10), s(100)
(0.0, 0.1, 0.0)

Each catalogue entry is a class; its lower-case name (``lrkit.cosine``) is the same class,
under the name used in configs and the text form. Importing lrkit imports NumPy only.
"""

import warnings as _warnings
from typing import Any as _Any

from lrkit._core import (
    ALIASES,
    REGISTRY,
    Compound,
    ConfigError,
    FunctionSchedule,
    Schedule,
    as_schedule,
    from_config,
)
from lrkit.compose import (
    Clip,
    Cooldown,
    Join,
    Product,
    Restarts,
    Scale,
    Shift,
    Staircase,
    Stretch,
    Sum,
    Warmup,
    join,
    sequence,
)
from lrkit.config import dumps, load, loads, save
from lrkit.control import HorizonWarning
from lrkit.find import RangeTest
from lrkit.recipes import (
    CosineRestarts,
    Cyclic,
    LinearToZero,
    Noam,
    OneCyclePolicy,
    WarmupStableDecay,
)
from lrkit.schedules import (
    Constant,
    ConstantThenExponentialDecay,
    Cosine,
    Exponential,
    ExponentialDecay,
    InverseSqrt,
    InverseTime,
    Linear,
    MultiStep,
    OneCycleSeed,
    OneMinusSqrt,
    PiecewiseConstant,
    Polynomial,
    Step,
    TanhDecay,
    TimeBasedDecay,
)
from lrkit.spec import SpecError, parse

__version__ = "0.1.0"

# The seed's five, under the seed's names.
constant = Constant
time_based_decay = TimeBasedDecay
exponential_decay = ExponentialDecay
constant_then_exponential_decay = ConstantThenExponentialDecay
one_cycle = OneCycleSeed

# The catalogue.
step = Step
multistep = MultiStep
piecewise_constant = PiecewiseConstant
linear = Linear
linear_to_zero = LinearToZero
polynomial = Polynomial
inverse_time = InverseTime
exponential = Exponential
cosine = Cosine
cosine_restarts = CosineRestarts
cyclic = Cyclic
one_cycle_policy = OneCyclePolicy
inverse_sqrt = InverseSqrt
noam = Noam
warmup_stable_decay = WarmupStableDecay
one_minus_sqrt = OneMinusSqrt
tanh_decay = TanhDecay

# Composition.
warmup = Warmup
cooldown = Cooldown
restarts = Restarts
scale = Scale
clip = Clip
shift = Shift
staircase = Staircase
stretch = Stretch

#: Names of lrkit 0.1, kept working (with a DeprecationWarning): old name -> new name.
_DEPRECATED = {"onecycle": "one_cycle_policy", "OneCycle": "OneCyclePolicy"}


def __getattr__(name: str) -> _Any:
    if name in _DEPRECATED:
        _warnings.warn(
            f"lrkit.{name} is deprecated; use lrkit.{_DEPRECATED[name]} (the same schedule). "
            "The seed's different schedule is lrkit.one_cycle.",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[_DEPRECATED[name]]
    raise AttributeError(f"module 'lrkit' has no attribute {name!r}")


__all__ = [
    "ALIASES",
    "REGISTRY",
    "Clip",
    "Compound",
    "ConfigError",
    "Constant",
    "ConstantThenExponentialDecay",
    "Cooldown",
    "Cosine",
    "CosineRestarts",
    "Cyclic",
    "Exponential",
    "ExponentialDecay",
    "FunctionSchedule",
    "HorizonWarning",
    "InverseSqrt",
    "InverseTime",
    "Join",
    "Linear",
    "LinearToZero",
    "MultiStep",
    "Noam",
    "OneCyclePolicy",
    "OneCycleSeed",
    "OneMinusSqrt",
    "PiecewiseConstant",
    "Polynomial",
    "Product",
    "RangeTest",
    "Restarts",
    "Scale",
    "Schedule",
    "Shift",
    "SpecError",
    "Staircase",
    "Step",
    "Stretch",
    "Sum",
    "TanhDecay",
    "TimeBasedDecay",
    "Warmup",
    "WarmupStableDecay",
    "as_schedule",
    "clip",
    "constant",
    "constant_then_exponential_decay",
    "cooldown",
    "cosine",
    "cosine_restarts",
    "cyclic",
    "dumps",
    "exponential",
    "exponential_decay",
    "from_config",
    "inverse_sqrt",
    "inverse_time",
    "join",
    "linear",
    "linear_to_zero",
    "load",
    "loads",
    "multistep",
    "noam",
    "one_cycle",
    "one_cycle_policy",
    "one_minus_sqrt",
    "parse",
    "piecewise_constant",
    "polynomial",
    "restarts",
    "save",
    "scale",
    "sequence",
    "shift",
    "staircase",
    "step",
    "stretch",
    "tanh_decay",
    "time_based_decay",
    "warmup",
    "warmup_stable_decay",
]
