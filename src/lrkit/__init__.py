"""lrkit: learning-rate schedules as immutable values, the same numbers in every framework.

>>> import lrkit
>>> s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=90), steps=10)
>>> s(0), s(10), s(100)
(0.0, 0.1, 0.0)

Each catalogue entry is a class; its lower-case name (``lrkit.cosine``) is the same class,
under the name used in configs and the text form. Importing lrkit imports NumPy only.
"""

from lrkit._core import REGISTRY, Compound, FunctionSchedule, Schedule, as_schedule, from_config
from lrkit.compose import (
    Clip,
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
from lrkit.find import RangeTest
from lrkit.schedules import (
    Constant,
    ConstantThenExponentialDecay,
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    ExponentialDecay,
    InverseSqrt,
    InverseTime,
    Linear,
    LinearToZero,
    MultiStep,
    Noam,
    OneCycle,
    OneCycleSeed,
    OneMinusSqrt,
    PiecewiseConstant,
    Polynomial,
    Step,
    TanhDecay,
    TimeBasedDecay,
    WarmupStableDecay,
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
onecycle = OneCycle
inverse_sqrt = InverseSqrt
noam = Noam
warmup_stable_decay = WarmupStableDecay
one_minus_sqrt = OneMinusSqrt
tanh_decay = TanhDecay

# Composition.
warmup = Warmup
restarts = Restarts
scale = Scale
clip = Clip
shift = Shift
staircase = Staircase
stretch = Stretch

__all__ = [
    "REGISTRY",
    "Clip",
    "Compound",
    "Constant",
    "ConstantThenExponentialDecay",
    "Cosine",
    "CosineRestarts",
    "Cyclic",
    "Exponential",
    "ExponentialDecay",
    "FunctionSchedule",
    "InverseSqrt",
    "InverseTime",
    "Join",
    "Linear",
    "LinearToZero",
    "MultiStep",
    "Noam",
    "OneCycle",
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
    "one_minus_sqrt",
    "onecycle",
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
