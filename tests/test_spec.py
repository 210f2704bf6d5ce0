"""The text form: round trips, operators, error messages, and safety against hostile text."""

from __future__ import annotations

import builtins
import math
import os
import string
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrkit
from lrkit.spec import MAX_DEPTH, MAX_LENGTH, SpecError, parse, python_source
from strategies import CATALOGUE, schedules

FAST = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


# -- round trips ---------------------------------------------------------------------------


def test_catalogue_strategies_cover_the_registry() -> None:
    own = {
        n for n, c in lrkit.REGISTRY.items() if c.__module__ in ("lrkit.schedules", "lrkit.compose")
    }
    assert own <= set(CATALOGUE)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
@FAST
@given(data=st.data())
def test_round_trip_every_entry(name: str, data: st.DataObject) -> None:
    s = data.draw(CATALOGUE[name])
    back = parse(str(s))
    assert back == s
    assert type(back) is type(s)
    assert back.spec() == s.spec()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(schedules)
def test_round_trip_nested_composites(s: lrkit.Schedule) -> None:
    assert parse(s.spec()) == s
    assert parse(repr(s)) == s


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(schedules)
def test_python_source_builds_an_equal_schedule(s: lrkit.Schedule) -> None:
    namespace: dict[str, Any] = {"lrkit": lrkit, "math": math}
    exec(
        compile("schedule = " + python_source(s), "<generated>", "exec"), namespace
    )  # our own code
    assert namespace["schedule"] == s


def test_literals() -> None:
    assert parse("multistep(0.1, milestones=[30, 80])").milestones == (30, 80)
    assert parse("constant(1e-05)").start_lr == 1e-05
    assert parse("constant(.5)").start_lr == 0.5
    assert parse("constant(5.)").start_lr == 5.0
    assert parse("linear(0, 10_000, end_lr=0.1)").decay_steps == 10000
    assert isinstance(parse("linear(0, 10, end_lr=0.1)").decay_steps, int)
    assert parse("shift(constant(0.1), delay=-2.5)").delay == -2.5
    assert parse('piecewise_constant([1], [0.1, 0.2], closed="right")').closed == "right"
    assert (
        parse("piecewise_constant([1], [0.1, 0.2], closed='\\x')".replace("\\x", "left")).closed
        == "left"
    )
    assert parse("polynomial(0.1, 10, cycle=True, end_lr=0)").cycle is True
    assert parse("exponential(0.1, 0.5, end_lr=None)").end_lr is None
    assert parse("piecewise_constant([], [0.1])").boundaries == ()
    assert parse("constant(0.1)\n") == lrkit.constant(0.1)
    assert parse("  cosine(\n  start_lr=0.1,\n  decay_steps=10,\n)  ") == lrkit.cosine(0.1, 10)


def test_positional_and_keyword_arguments_agree() -> None:
    expected = lrkit.cosine(start_lr=0.1, decay_steps=100, end_lr=0.01)
    assert parse("cosine(0.1, 100, 0.01)") == expected
    assert parse("cosine(0.1, decay_steps=100, end_lr=0.01)") == expected
    assert parse("cosine(end_lr=0.01, decay_steps=100, start_lr=0.1)") == expected
    assert parse("warmup(cosine(0.1, 90), 10)") == lrkit.warmup(lrkit.cosine(0.1, 90), steps=10)


def test_operators_match_python_operators() -> None:
    a, b = lrkit.linear(0.0, 5, end_lr=0.1), lrkit.cosine(0.1, 95)
    A, B = "linear(0.0, 5, end_lr=0.1)", "cosine(0.1, 95)"
    assert parse(f"{A} >> {B}") == a >> b
    assert parse(f"{A} >> {B} >> {A}") == (a >> b) >> a
    assert parse(f"{A} * 0.5") == a * 0.5
    assert parse(f"0.5 * {A}") == 0.5 * a
    assert parse(f"{A} * {B}") == a * b
    assert parse(f"{A} + {B}") == a + b
    assert parse(f"{A} + 0.01") == a + 0.01
    assert parse(f"0.01 + {A}") == 0.01 + a
    # Python's precedence: * before + before >>; parentheses group.
    assert parse(f"{A} >> {B} * 0.5") == a >> (b * 0.5)
    assert parse(f"{A} + {B} * 0.5") == a + (b * 0.5)
    assert parse(f"({A} + {B}) * 0.5") == (a + b) * 0.5
    assert parse(f"({A} >> {B}) * 0.5") == (a >> b) * 0.5
    assert parse(f"(({A}))") == a


# -- error messages ------------------------------------------------------------------------

ERRORS = [
    # text, words the message must contain, 1-based column
    ("cosine(0.1, 10", ["expected ',' or ')'", "end of the text"], 15),
    ("cosin(0.1, 10)", ["unknown schedule 'cosin'", "did you mean 'cosine'"], 1),
    ("cosine(0.1, decay_steps=0)", ["Argument `decay_steps` must be > 0", "decay_steps=0"], 13),
    ("cosine(-0.1, 10)", ["Argument `start_lr` must be >= 0"], 8),
    ("cosine(0.1)", ["needs the argument(s) decay_steps"], 1),
    ("cosine(0.1, 10, foo=1)", ["has no argument 'foo'", "start_lr, decay_steps"], 17),
    ("cosine(0.1, 10, decay_steps=5)", ["'decay_steps'", "given twice"], 17),
    ("cosine(start_lr=0.1, 10)", ["positional argument cannot follow a keyword"], 22),
    ("cosine(0.1, 10, 0, 1, 2)", ["at most 4 positional arguments"], 23),
    ("cosine 0.1", ["expected '(' after cosine"], 8),
    ("cosine(0.1, 10) cosine(0.1, 10)", ["expected an operator"], 17),
    ("0.1", ["expected a schedule", "the number 0.1"], 1),
    ("cosine(0.1, 10) * 'x'", ["'*'", "a string"], 17),
    ("constant(0.1 * 2)", ["a schedule on one side of '*'", "the number 0.1 and the number 2"], 14),
    ("cosine(0.1, 10) >> 5", ["each side of '>>'", "the number 5"], 20),
    ("constant(0.1) >> cosine(0.1, 10)", ["no end of its own"], 15),
    ("cosine(0.1, 10) * -1", ["Argument `factor` must be >= 0"], 17),
    ("linear(0, [5], end_lr=1)", ["Argument `decay_steps` must be a real number"], 11),
    ("constant('0.1')", ["Argument `start_lr` must be a real number"], 10),
    ("piecewise_constant([1, 2], [0.1])", ["one more item"], 28),
    ("constant(1.2.3)", ["expected a number"], 10),
    ("constant(0.1", ["expected ',' or ')'"], 13),
    ("constant('0.1)", ["to close the string"], 10),
    ("constant(0.1))", ["expected an operator"], 14),
    ("[constant(0.1)", ["',' or ']'"], 15),
    ("", ["expected a schedule"], 1),
    ("cosine(0.1, 10).start_lr", ["unexpected character '.'", "attribute"], 16),
    ("lrkit.cosine(0.1, 10)", ["without the 'lrkit.' prefix"], 1),
    ("true", ["did you mean 'True'"], 1),
    ("constant(1e999)", ["too large", "inf"], 10),
    ("constant(0.1) # comment", ["unexpected character '#'"], 15),
    ("constant(0.1) >>\nconstant(", ["line 2, column 10"], None),
]


@pytest.mark.parametrize(("text", "words", "column"), ERRORS)
def test_error_says_what_was_expected_and_where(
    text: str, words: list[str], column: int | None
) -> None:
    with pytest.raises(SpecError) as info:
        parse(text)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message
    if column is not None:
        assert message.endswith(f"(column {column})")
        assert info.value.position == column - 1
        assert info.value.pointer.splitlines()[1] == " " * (column - 1) + "^"


def test_spec_error_is_a_value_error() -> None:
    assert issubclass(SpecError, ValueError)
    with pytest.raises(ValueError):
        parse("nope(")


# -- safety --------------------------------------------------------------------------------

HOSTILE = [
    "__import__('os').system('x')",
    '__import__("os").system("touch /tmp/lrkit-pwned")',
    "eval('1')",
    "exec('import os')",
    "open('/etc/passwd')",
    "cosine.__class__",
    "cosine(0.1, 10).__class__.__bases__",
    "().__class__.__base__.__subclasses__()",
    "lambda: 1",
    "(lambda x: x)(1)",
    "[x for x in (1, 2)]",
    "{'name': 'cosine'}",
    "constant(start_lr=0.1 if True else 0)",
    "constant(2 ** 10000)",
    "constant(9**9**9)",
    "constant(1e999)",
    "constant(-1e999)",
    "constant(" + "9" * 400 + ")",
    "constant(" + "9" * 5000 + ")",
    "constant(1" + "0" * 320 + ".0)",
    "constant(1e" + "9" * 100 + ")",
    "constant(0.1); import os",
    "constant(0.1)\nimport os",
    "f'{constant}'",
    "constant(b'0.1')",
    "constant(0x10)",
    "constant(\\u0030)",
    "constant(\u0661)",  # an Arabic-Indic digit
    "ｃｏｎｓｔａｎｔ(0.1)",  # full-width letters
    "constant(0.1)\x00",
    "REGISTRY",
    "Schedule(0.1)",
    "FunctionSchedule(print)",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_refused_quickly(text: str) -> None:
    calls: list[str] = []

    def forbidden(name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> None:
            calls.append(name)
            raise AssertionError(f"the parser called {name}")

        return call

    names = ("eval", "exec", "compile", "open")
    saved = [getattr(builtins, n) for n in names] + [os.system]
    for n in names:
        setattr(builtins, n, forbidden(n))
    os.system = forbidden("os.system")
    try:
        start = time.perf_counter()
        with pytest.raises(SpecError):
            parse(text)
        elapsed = time.perf_counter() - start
    finally:
        for n, original in zip(names, saved, strict=False):
            setattr(builtins, n, original)
        os.system = saved[-1]
    assert calls == []
    assert elapsed < 1.0


LARGE = {
    "100,000 characters": "constant(0.1) + " * 6250,
    "100,000 spaces": "constant(0.1)" + " " * 100_000,
    "1,000 brackets": "[" * 1000 + "]" * 1000,
    "1,000 parentheses": "(" * 1000 + "constant(0.1)" + ")" * 1000,
    "1,000 nested calls": "scale(" * 1000 + "constant(0.1)" + ", 0.5)" * 1000,
    "1,000 unclosed calls": "warmup(" * 1000,
    "1,000 scalings": "constant(0.1)" + " * 0.5" * 1000,
    "1,000 sums": " + ".join(["constant(0.1)"] * 700),
    "1,000 phases": " >> ".join(["linear(0, 1, end_lr=1)"] * 1000),
    "a long number": "constant(" + "1" * 9000 + ")",
    "a long string": "constant('" + "x" * 9000 + "')",
}


@pytest.mark.parametrize("text", LARGE.values(), ids=list(LARGE))
def test_large_and_deep_inputs_are_refused_quickly(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(SpecError):
        parse(text)
    assert time.perf_counter() - start < 1.0


def test_limits_are_what_the_docs_say() -> None:
    assert MAX_LENGTH == 10_000
    assert MAX_DEPTH == 32
    ok = "scale(" * (MAX_DEPTH - 1) + "constant(0.1)" + ", 0.5)" * (MAX_DEPTH - 1)
    assert parse(ok)(0) == pytest.approx(0.1 * 0.5 ** (MAX_DEPTH - 1))
    too_deep = "scale(" * MAX_DEPTH + "constant(0.1)" + ", 0.5)" * MAX_DEPTH
    with pytest.raises(SpecError, match="nested more than 32"):
        parse(too_deep)
    scalings = "constant(0.1)" + " * 0.5" * MAX_DEPTH
    with pytest.raises(SpecError, match=r"schedules nested more than 32 levels deep \(column"):
        parse(scalings)
    try:
        parse(scalings)
    except SpecError as e:
        assert e.position == scalings.rindex("*")  # the operator that nests one level too deep
    assert parse("constant(0.1)" + " * 0.5" * (MAX_DEPTH - 1))(0) == pytest.approx(
        0.1 * 0.5 ** (MAX_DEPTH - 1)
    )
    with pytest.raises(SpecError, match="limit is 10000"):
        parse(" " * (MAX_LENGTH + 1))


def test_non_text_is_refused() -> None:
    with pytest.raises(SpecError, match="must be a str"):
        parse(b"constant(0.1)")  # type: ignore[arg-type]


SPEC_ALPHABET = string.ascii_letters[:12] + "_0123456789.eE+-*>()[],='\" \n" + "cosinetaplmrwu"


def _mutations(s: lrkit.Schedule, data: st.DataObject) -> str:
    text = s.spec()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["delete", "insert", "swap"]))
        if op == "delete":
            text = text[:i] + text[i + 1 :]
        elif op == "insert":
            text = text[:i] + data.draw(st.sampled_from(list(SPEC_ALPHABET))) + text[i:]
        else:
            text = text[:i] + text[i:][::-1][:2] + text[i + 2 :]
    return text


def _only_spec_error(text: str) -> None:
    try:
        result = parse(text)
    except SpecError as e:
        assert isinstance(e.position, int | type(None))
        str(e)
        e.pointer  # noqa: B018 - must not fail either
    else:
        assert isinstance(result, lrkit.Schedule)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_spec_error(text: str) -> None:
    _only_spec_error(text)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet=SPEC_ALPHABET, max_size=120))
def test_spec_like_text_raises_only_spec_error(text: str) -> None:
    _only_spec_error(text)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(schedules, st.data())
def test_mutated_specs_raise_only_spec_error(s: lrkit.Schedule, data: st.DataObject) -> None:
    _only_spec_error(_mutations(s, data))
