"""The compiled scalar path (lrkit._compile) gives what the generic one gives, bit for bit.

The reference is the generic path itself (``Schedule._scalar``: the formula on ``MathOps``,
redone with NumPy scalars where a Python float operation raises), which the catalogue tests
check against independent formulas; here every compiled function must agree with it exactly.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import math
import pickle
import re
import tokenize
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrkit
from lrkit import _compile, _core
from lrkit._ops import MATH, Array, Ops
from strategies import schedules


def same(a: float, b: float) -> bool:
    """Equal bits (so 0.0 differs from -0.0), both floats."""
    return type(a) is float and type(b) is float and a.hex() == b.hex()


def grid(s: lrkit.Schedule) -> list[float]:
    """Dense times over every phase and beyond, each breakpoint and its neighbours."""
    end = s.duration or 500.0
    span = 3.0 * max(end, 1.0)
    times = [span * k / 2000 for k in range(2001)]
    for b in s.breakpoints(span):
        times += [math.nextafter(b, -math.inf), b, math.nextafter(b, math.inf)]
    return [*times, 0.0, -0.0, -1.0, -1e300, 1e6, 1e12, 1e300, 5e-324]


def compiled(s: lrkit.Schedule) -> Any:
    fn = s._compiled
    assert fn is not None, f"{s!r} was not compiled"
    return fn


@pytest.mark.parametrize("name", sorted(lrkit.REGISTRY))
def test_every_example_compiles_to_the_same_values(name: str) -> None:
    s = lrkit.parse(lrkit.REGISTRY[name].example)
    fn = compiled(s)
    for t in grid(s):
        assert same(fn(t), s._scalar(t)), (name, t)
    for t in range(0, 300, 7):  # Python ints, as Keras passes them
        assert same(fn(t), s._scalar(float(t))), (name, t)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules, st.lists(st.floats(0.0, 1e5), max_size=20))
def test_drawn_schedules_compile_to_the_same_values(s: lrkit.Schedule, extra: list[float]) -> None:
    fn = s._compiled or s._scalar  # the few a tracer refuses keep the generic path
    for t in grid(s)[::8] + extra:
        assert same(fn(t), s._scalar(t)), (s, t)


def test_nearly_every_drawn_schedule_compiles() -> None:
    """The fallback to the generic path is for rare formulas, not the common case."""
    drawn = []

    @settings(max_examples=200, deadline=None, database=None)
    @given(schedules)
    def draw(s: lrkit.Schedule) -> None:
        drawn.append(s._compiled is not None)

    draw()
    assert sum(drawn) >= 0.95 * len(drawn)


def test_schedule_calls_use_the_compiled_function_after_a_few() -> None:
    s = lrkit.warmup(lrkit.cosine(0.1, 90), steps=10)
    values = [s(float(t)) for t in range(_core._COMPILE_AFTER)]
    assert s._scalar_fn is s._compiled
    assert [s(float(t)) for t in range(_core._COMPILE_AFTER)] == values
    assert all(same(s(t), s._scalar(float(t))) for t in range(100))
    assert same(s(np.float32(12.5)), s._scalar(12.5))
    assert same(s(np.int64(12)), s._scalar(12.0))


@pytest.mark.parametrize("n", [3, 300, 1000])
def test_long_formulas_compile_within_python_limits(n: int) -> None:
    # One comparison, select and sum per milestone: too long to be one expression, and from
    # 1000 milestones on, written without inlining.
    s = lrkit.multistep(0.5, milestones=[float(k) for k in range(1, n + 1)], gamma=0.99)
    fn = compiled(s)
    for t in [0.0, 0.5, 1.0, n / 2, n - 0.5, float(n), n + 10.0]:
        assert same(fn(t), s._scalar(t)), t


def test_a_formula_too_long_keeps_the_generic_path() -> None:
    s = lrkit.multistep(0.5, milestones=[float(k) for k in range(1, 2001)], gamma=0.99)
    assert s._compiled is None
    assert [s(t) for t in range(2 * _core._COMPILE_AFTER)][-1] == s._scalar(127.0)


def test_an_overflow_in_an_untaken_branch_falls_back_as_before() -> None:
    # Before R the continuous decay's exponent is positive: exp(10 * 1000) overflows in
    # Python floats; the generic path then redoes the call with NumPy scalars.
    s = lrkit.constant_then_exponential_decay(0.1, rampup_epochs=1000, exp_decay=10.0,
                                              continuous=True)  # fmt: skip
    with pytest.raises(OverflowError):
        s._f(0.0, MATH)
    fn = compiled(s)
    for t in [0.0, 1.0, 999.0, 1000.0, 1001.0, 2000.0]:
        assert same(fn(t), s._scalar(t)), t
    assert fn(0.0) == 0.1


def test_bad_times_raise_as_before() -> None:
    s = lrkit.cosine(0.1, 100)
    for fn in (compiled(s), s._scalar):
        for t in (math.inf, -math.inf, math.nan):
            with pytest.raises(ValueError, match="finite time"):
                fn(t)
        with pytest.raises(ValueError, match="finite time"):  # not OverflowError (issue 12)
            fn(10**400)
    with pytest.raises(TypeError):
        s(True)


def test_whole_numbers_are_followed_and_refused_beyond_53_bits() -> None:
    # MathOps computes min(t, 3) * 2 in ints at t >= 3 (the function in floats: exact).
    fn = _compile.scalar_function(lambda t, ops: ops.minimum(t, 3) * 2 - 1, float)
    assert fn is not None
    assert [fn(t) for t in (0, 2.5, 3, 7.0)] == [-1.0, 4.0, 5.0, 5.0]
    # 2**60 + 1 has no float: the int arithmetic of MathOps would differ from a float one.
    assert _compile.source(lambda t, ops: ops.minimum(t, 2**30) * (2**30 + 1)) is None
    assert _compile.source(lambda t, ops: ops.minimum(t, 3) ** 2) is None


def test_results_are_floats_as_on_the_generic_path() -> None:
    fn = _compile.scalar_function(lambda t, ops: ops.where(t < 1.0, 1, 2), float)
    assert fn is not None
    assert [fn(0.5), fn(1.5)] == [1.0, 2.0] and type(fn(0.5)) is float
    # A negative base to a fractional power is complex in Python: refused as float() does.
    fn = _compile.scalar_function(lambda t, ops: (t - 5.0) ** 0.5, float)
    assert fn is not None and fn(9.0) == 2.0
    with pytest.raises(TypeError):
        fn(1.0)


def test_branches_on_the_time_are_followed_each_way() -> None:
    def formula(t: Array, ops: Ops) -> Array:
        if t < 5.0:
            return t * 2.0 if t < 5.0 else 0.0  # the same condition: no second branch
        return ops.cos(t) if t < 9.0 else 1.5

    text = _compile.source(formula)
    assert text is not None and len(re.findall(r"\n *if (?!not )", text)) == 2  # each once
    fn = _compile.scalar_function(formula, float)
    assert fn is not None
    assert [fn(t) for t in (1.0, 6.0, 10.0)] == [2.0, math.cos(6.0), 1.5]


def test_what_the_tracer_cannot_follow_keeps_the_generic_path() -> None:
    assert _compile.source(lambda t, ops: float(t) * 2.0) is None
    assert _compile.source(lambda t, ops: np.cos(t)) is None
    assert _compile.source(lambda t, ops: t * np.float64(2.0)) is None

    def loop(t: Array, ops: Ops) -> Array:
        while t > 0.0:
            t = t - 1.0
        return t

    assert _compile.source(loop) is None


def fn_of_epoch(epoch: int) -> float:
    return 0.1 if epoch < 5 else 0.01


@dataclasses.dataclass(frozen=True, repr=False)
class Elsewhere(lrkit.Schedule):
    """A formula written outside lrkit: it may do what a tracer cannot see."""

    start_lr: float = 0.1
    example: ClassVar[str] = ""

    def _f(self, t: Array, ops: Ops) -> Array:
        return self.start_lr * (2.0 if isinstance(t, float) else 1.0) + 0.0 * t


class SlowerCosine(lrkit.Cosine):
    """An lrkit formula in a class of the user's: it might change what the formula calls."""


@dataclasses.dataclass(frozen=True, repr=False)
class HalfCosine(lrkit.Compound):
    """A compound of the user's, built from lrkit's schedules."""

    length: float = 10.0

    def build(self) -> lrkit.Schedule:
        return lrkit.cosine(0.1, self.length) * 0.5


def test_only_lrkit_formulas_are_compiled() -> None:
    for s in (
        lrkit.FunctionSchedule(fn_of_epoch),
        lrkit.warmup(fn_of_epoch, steps=3),
        lrkit.cosine(0.1, 10) >> lrkit.FunctionSchedule(fn_of_epoch),
        Elsewhere(),
        lrkit.warmup(Elsewhere(), steps=3),
        SlowerCosine(0.1, 10),
    ):
        assert s._compiled is None
        assert s._scalar_fn == s._scalar
    assert Elsewhere()(1.0) == 0.2  # its own branch, as the generic path takes it
    assert lrkit.warmup(fn_of_epoch, steps=3)(10) == 0.01
    half = HalfCosine()
    assert all(same(compiled(half)(t), half._scalar(t)) for t in grid(half))


def test_the_source_holds_only_generated_names_and_numbers() -> None:
    """No text from a user reaches the generated code: every word in it is one the compiler
    writes itself, whatever strings and names the schedule holds."""
    words = {"def", "return", "if", "else", "not", "try", "except", "make", "scalar", "t", "x"}
    words |= set(_compile._NAMES)
    examples = [
        lrkit.warmup_stable_decay(0.1, 10, 80, 10, decay_shape="1-sqrt"),
        lrkit.warmup(lrkit.cosine(0.1, 90), steps=10, shape="exponential", start_lr=1e-3),
        lrkit.piecewise_constant([10, 20], [0.1, 0.05, 0.01], closed="right"),
        lrkit.cyclic(0.001, 0.006, 10, mode="exp_range", gamma=0.99),
        lrkit.constant(0.0),
    ]
    examples += [lrkit.parse(cls.example) for cls in lrkit.REGISTRY.values()]
    for s in examples:
        text = _compile.source(s._f)
        assert text is not None
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NAME:
                assert token.string in words or re.fullmatch(r"v\d+", token.string), token
            else:
                assert token.type in (
                    tokenize.OP, tokenize.NUMBER, tokenize.NEWLINE, tokenize.NL,
                    tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER, tokenize.COMMENT,
                ), token  # fmt: skip
                assert token.type != tokenize.COMMENT


def test_constants_are_written_exactly() -> None:
    for value in [0.1, 1 / 3, -2.5e-300, 5e-324, 1.7976931348623157e308, -0.0, 10**20]:
        assert eval(_compile.literal(value)) == value
    assert _compile.literal(-0.0) == "(-0.0)"
    assert _compile.literal(math.inf) == "_inf"
    for bad in [True, np.float64(1.0), "0.1", None]:
        with pytest.raises(_compile.UntraceableError):
            _compile.literal(bad)


def test_a_compiled_schedule_pickles_copies_and_compares_as_before() -> None:
    s = lrkit.one_cycle_policy(0.1, 100)
    for t in range(2 * _core._COMPILE_AFTER):
        s(t)
    assert s._scalar_fn is s._compiled
    assert "_scalar_fn" not in s.__getstate__()
    for other in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s), copy.copy(s)):
        assert other == s and hash(other) == hash(s)
        assert same(other(37.5), s(37.5))


@pytest.mark.parametrize("t_mul", [1.01, 1.5, 2.0, 3.0, 1e3])
def test_restarts_find_their_cycle_by_bisection_as_the_logarithm_does(t_mul: float) -> None:
    # A scalar call looks the cycle up among the first cycles' starts (a branch per cycle once
    # compiled); the logarithm does beyond them, and for arrays. At each start, and at the
    # floats on either side of it, the scalar, compiled and NumPy paths agree (a wrong cycle
    # would be off by a whole restart).
    from lrkit.compose import SCALAR_CYCLES

    s = lrkit.cosine_restarts(0.1, 7.5, t_mul=t_mul, m_mul=0.9, end_lr=0.001)
    starts = list(s.breakpoints(7.5 * t_mul ** (SCALAR_CYCLES + 3)))
    times = sorted({x for b in starts for x in (math.nextafter(b, 0), b, math.nextafter(b, 1e300))})
    compiled = s._compiled
    assert compiled is not None
    arrays = s(np.array(times))
    for t, a in zip(times, arrays, strict=True):
        assert s._scalar(t) == compiled(t)
        assert s._scalar(t) == pytest.approx(a, rel=1e-12)
