"""Hostile and degenerate input, one test per defect found by probing (issue 12), plus the
properties that keep each fixed for every schedule.

- A NaN or inf in a time array changes no other element; a NaN time gives a NaN rate.
- A config is measured before it is built: a small file of any shape (alias bombs, deep
  nesting, wide lists) is read or refused within 1 s and 100 MB, with a short message.
- Integer parameters of 2**31 and more work in every dtype (JAX without x64 included).
- Only the documented error types escape: ``ValueError`` (``lrkit.ConfigError`` for configs)
  and ``TypeError``.
- Every problem with arguments surfaces at construction, naming the user's arguments, and no
  accepted schedule has a rate beyond the largest float.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit
from strategies import CATALOGUE

# -- one NaN in an array ---------------------------------------------------------------------


def test_nan_in_an_array_leaves_the_other_elements_of_a_composite_alone() -> None:
    s = lrkit.warmup(lrkit.cosine(0.1, 90), steps=10)
    out = s(np.array([0.0, math.nan, 5.0]))
    assert out[0] == s(0) == 0.0
    assert out[2] == s(5) == 0.05
    assert math.isnan(out[1])


def test_an_infinite_time_gives_the_limit_whatever_its_neighbours() -> None:
    """The phases the finite times reach (here only the warmup) do not decide the rate at
    +inf: it is the schedule's final rate, as at any time past its end."""
    s = lrkit.warmup(lrkit.cosine(0.1, 90, end_lr=0.002), steps=10)
    out = s(np.array([0.0, 5.0, math.inf, -math.inf]))
    assert out[2] == s(10**9) == 0.002
    assert (out[0], out[1], out[3]) == (s(0), s(5), s(0))


def test_nan_in_an_array_of_restarts_is_nan_there_and_nothing_raises() -> None:
    s = lrkit.cosine_restarts(0.1, 10, t_mul=2.0)
    out = s(np.array([0.0, math.nan, 5.0, math.inf]))
    assert (out[0], out[2]) == (s(0), s(5))
    assert math.isnan(out[1])


@pytest.mark.parametrize("name", sorted(CATALOGUE))
@settings(max_examples=15, deadline=None)
@given(
    data=st.data(),
    times=st.lists(st.floats(0.0, 2000.0), min_size=1, max_size=12),
    bad=st.lists(
        st.tuples(st.integers(0, 12), st.sampled_from([math.nan, math.inf, -math.inf])),
        min_size=1,
        max_size=4,
    ),
)
def test_each_element_is_independent_of_the_others(
    name: str, data: st.DataObject, times: list[float], bad: list[tuple[int, float]]
) -> None:
    """Inserting NaN or inf anywhere changes no other element (bit for bit), a NaN time
    gives NaN, and an infinite time the same rate as alone, in float64 and float32."""
    s = data.draw(CATALOGUE[name])
    for dtype in (np.float64, np.float32):
        clean = np.asarray(times, dtype=dtype)
        mixed = list(times)
        for position, value in bad:
            mixed.insert(min(position, len(mixed)), value)
        dirty = np.asarray(mixed, dtype=dtype)
        finite = np.isfinite(dirty)
        np.testing.assert_array_equal(s(dirty)[finite], s(clean))
        assert np.isnan(s(dirty)[np.isnan(dirty)]).all()
        alone = s(np.array([math.inf, -math.inf], dtype=dtype))
        np.testing.assert_array_equal(s(dirty)[dirty == math.inf], alone[0])
        np.testing.assert_array_equal(s(dirty)[dirty == -math.inf], alone[1])


# -- configs of any shape: bounded in time and memory -----------------------------------------

LIMIT_S, LIMIT_BYTES = 1.0, 100 * 2**20


def bounded(fn: Callable[[], Any]) -> tuple[BaseException | None, float, int]:
    """Run ``fn``; what it raised (ValueError/TypeError only), its CPU time (a busy machine does
    not change it) and its peak memory."""
    tracemalloc.start()
    start = time.thread_time()
    error: BaseException | None = None
    try:
        fn()
    except (ValueError, TypeError) as e:
        error = e
    finally:
        elapsed = time.thread_time() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return error, elapsed, peak


def alias_chain(levels: int, name: bool = True) -> str:
    """A YAML config whose level i uses level i - 1 twice by alias: 2**levels nodes."""
    text = "&l0 {name: constant, start_lr: 0.1}" if name else "&l0 {start_lr: 0.1}"
    head = "name: sum, " if name else ""
    for i in range(1, levels + 1):
        text = f"&l{i} {{{head}a: {text}, b: *l{i - 1}}}"
    return text[text.index(" ") + 1 :]


def alias_lists(levels: int) -> str:
    """Lists of lists by alias (a billion-laughs shape), where a schedule takes a list."""
    items = ["&l0 [0.1, 0.1]"] + [f"&l{i} [*l{i - 1}, *l{i - 1}]" for i in range(1, levels)]
    return "{name: piecewise_constant, boundaries: [], values: [" + ", ".join(items) + "]}"


def fill(head: str, item: str, tail: str, size: int = 600) -> str:
    """``head``, then as many ``item``s (``{i}``: a counter from 1) as fit in ``size`` bytes."""
    items: list[str] = []
    while True:
        more = [*items, item.format(i=len(items) + 1)]
        if len(head + ", ".join(more) + tail) > size:
            return head + ", ".join(items) + tail
        items = more


def worst_cases() -> dict[str, tuple[str, str]]:
    """Generated worst cases of at most 600 bytes: (format, text)."""
    cases: dict[str, tuple[str, str]] = {}
    levels = 1
    while len(alias_chain(levels + 1)) <= 600:
        levels += 1
    cases["yaml alias chain"] = ("yaml", alias_chain(levels))
    cases["yaml alias chain without name"] = ("yaml", alias_chain(levels + 2, name=False))
    cases["yaml alias lists"] = ("yaml", alias_lists(24))
    cases["yaml self-reference"] = ("yaml", "&a {name: sum, a: *a, b: *a}")
    cases["yaml self-referencing list"] = ("yaml", "&a [*a, *a, *a]")
    cases["yaml deep lists"] = ("yaml", "[" * 300 + "]" * 300)
    cases["yaml deep flow maps"] = ("yaml", "{a: " * 119 + "1" + "}" * 119)
    cases["yaml deep block"] = ("yaml", "".join(" " * i + "a:\n" for i in range(30)))
    cases["json deep lists"] = ("json", "[" * 300 + "]" * 300)
    cases["json deep schedules"] = (
        "json",
        '{"name": "scale", "factor": 1, "schedule": ' * 12
        + '{"name": "constant", "start_lr": 0.1}'
        + "}" * 12,
    )
    cases["json wide list"] = (
        "json",
        fill('{"name": "multistep", "start_lr": 0.1, "m": [', "1", "]}"),
    )
    cases["json wide milestones"] = (
        "json",
        fill('{"name": "multistep", "start_lr": 0.1, "milestones": [', "{i}", "]}"),
    )
    cases["yaml wide list of aliases"] = (
        "yaml",
        fill("{name: multistep, start_lr: 0.1, milestones: [&a 1, ", "*a", "]}"),
    )
    cases["json huge number"] = ("json", '{"name": "constant", "start_lr": 1' + "0" * 500 + "}")
    cases["yaml huge number"] = ("yaml", "{name: constant, start_lr: 1" + "0" * 500 + "}")
    for label, (_, text) in cases.items():
        assert len(text.encode()) <= 600, label
    return cases


WORST = worst_cases()
lrkit.loads("{name: constant, start_lr: 0.1}", "yaml")  # PyYAML imported before timing


@pytest.mark.parametrize("label", sorted(WORST))
def test_a_600_byte_config_of_any_shape_is_read_or_refused_within_1s_and_100mb(
    label: str,
) -> None:
    fmt, text = WORST[label]
    error, elapsed, peak = bounded(lambda: lrkit.loads(text, fmt))
    assert elapsed < LIMIT_S, (label, elapsed)
    assert peak < LIMIT_BYTES, (label, peak)
    if error is not None:
        assert len(str(error)) < 600, (label, len(str(error)))


def test_an_alias_bomb_is_refused_by_the_size_budget() -> None:
    with pytest.raises(lrkit.ConfigError, match="10000 values at most"):
        lrkit.loads(alias_chain(16), "yaml")
    with pytest.raises(lrkit.ConfigError, match="10000 values at most"):
        lrkit.loads(alias_chain(40, name=False), "yaml")


def test_a_shared_structure_is_echoed_briefly() -> None:
    """A config without ``name`` whose parts are shared 2**60 times: the message is short."""
    shared: Any = {"start_lr": 0.1}
    for _ in range(60):
        shared = {"a": shared, "b": shared}
    wide = {"x": [shared] * 3}
    error, elapsed, _ = bounded(lambda: lrkit.from_config(wide))
    assert isinstance(error, lrkit.ConfigError)
    assert elapsed < LIMIT_S


def test_a_small_config_that_shares_parts_still_loads() -> None:
    s = lrkit.loads(alias_chain(6), "yaml")
    assert s(0) == pytest.approx(0.1 * 2**6)


# -- integer parameters beyond int32 ----------------------------------------------------------


def _with_ints(config: Any, big: Callable[[int], int]) -> Any:
    """``config`` with every whole time and length (not a bool) replaced by ``big(value)``."""
    if isinstance(config, dict):
        cls = lrkit.REGISTRY[config["name"]]
        roles = {
            f.name: f.metadata["param"].role
            for f in cls.__dataclass_fields__.values()
            if "param" in f.metadata
        }
        return {
            k: _with_ints(v, big) if roles.get(k) in ("length", "time", None) else v
            for k, v in config.items()
        }
    if isinstance(config, list):
        return [_with_ints(v, big) for v in config]
    if isinstance(config, int) and not isinstance(config, bool):
        return big(config)
    return config


HUGE_PARAMETERS = {
    # Stored as floats from 2**31 up.
    "times 2**31": lambda v: v * 2**31,
    # Just below 2**31: they stay ints, and their sums (a phase's end) pass 2**31.
    "2**31 - 1 - v": lambda v: 2**31 - 1 - 1000 + v,
}


@pytest.mark.jax
@pytest.mark.parametrize("how", sorted(HUGE_PARAMETERS))
def test_integer_parameters_beyond_int32_work_under_jax_jit(how: str) -> None:
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    for name, cls in sorted(lrkit.REGISTRY.items()):
        config = _with_ints(lrkit.parse(cls.example).to_config(), HUGE_PARAMETERS[how])
        try:
            s = lrkit.from_config(config)
        except ValueError:
            continue  # e.g. a warmup longer than its schedule allows: refused, fine
        steps = np.array([0, 5, 2**31 - 1], dtype=np.int32)
        eager = s(jnp.int32(5))
        batch = jax.jit(jax.vmap(s))(jnp.asarray(steps))
        assert eager.dtype == batch.dtype == jnp.float32, name
        reference = s(steps.astype(np.float32))
        np.testing.assert_allclose(np.asarray(batch), reference, rtol=1e-4, atol=1e-7, err_msg=name)


def test_the_issue_examples_of_huge_integer_parameters() -> None:
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    big = 3_000_000_000
    for s in (
        lrkit.cosine(0.1, big),
        lrkit.step(0.1, big),
        lrkit.multistep(0.1, [big, 2 * big]),
        lrkit.warmup(lrkit.cosine(0.1, 100), steps=big),
    ):
        assert float(s(jnp.int32(5))) == pytest.approx(s(5), rel=1e-6)
        assert float(jax.jit(s)(jnp.int32(5))) == pytest.approx(s(5), rel=1e-6)


# -- only the documented error types ----------------------------------------------------------


def test_a_deep_config_raises_config_error_not_recursion_error() -> None:
    config: dict[str, Any] = {"name": "constant", "start_lr": 0.1}
    for _ in range(5000):
        config = {"name": "scale", "factor": 1.0, "schedule": config}
    with pytest.raises(lrkit.ConfigError, match="levels deep"):
        lrkit.from_config(config)
    deep = '{"name": "scale", "factor": 1, "schedule": ' * 5000 + "{}" + "}" * 5000
    with pytest.raises(lrkit.ConfigError):
        lrkit.loads(deep)
    for text in ("[" * 100_000 + "]" * 100_000, "{a: " * 5000 + "}" * 5000):
        with pytest.raises(lrkit.ConfigError, match=r"nested too deeply|levels deep"):
            lrkit.loads(text, "yaml")


def test_yaml_self_reference_and_yaml_errors_raise_config_error() -> None:
    for text in ("&a {name: sum, a: *a, b: *a}", "a: [", "{a: !!python/object:os.system x}"):
        with pytest.raises(lrkit.ConfigError):
            lrkit.loads(text, "yaml")
    with pytest.raises(lrkit.ConfigError, match="not valid JSON"):
        lrkit.loads("{", "json")
    with pytest.raises(TypeError, match="must be a str"):
        lrkit.loads(None, "yaml")  # type: ignore[arg-type]


@pytest.mark.keras
def test_keras_schedule_from_a_bad_config_raises_config_error() -> None:
    pytest.importorskip("keras")
    import lrkit.keras

    for bad in ({}, [], {"schedule": {"name": "constant", "start_lr": 0.1}, "x": 1}):
        with pytest.raises(lrkit.ConfigError):
            lrkit.keras.KerasSchedule.from_config(bad)  # type: ignore[arg-type]


def test_a_time_beyond_any_float_raises_value_error() -> None:
    with pytest.raises(ValueError, match="finite time"):
        lrkit.cosine(0.1, 10)(10**400)
    with pytest.raises(ValueError, match="finite"):
        lrkit.cosine(0.1, 10**400)


# -- problems surface at construction; no accepted schedule overflows --------------------------


def test_one_cycle_policy_refuses_an_end_rate_that_overflows_at_construction() -> None:
    with pytest.raises(ValueError, match=r"one_cycle_policy\(.*final_div_factor=1e-320") as e:
        lrkit.one_cycle_policy(0.1, 100, final_div_factor=1e-320)
    assert "end_lr" in str(e.value)  # the part's own message follows the user's arguments


def test_multistep_refuses_a_gamma_whose_product_overflows() -> None:
    with pytest.raises(ValueError, match="beyond the largest float"):
        lrkit.multistep(0.1, [10, 20], gamma=1e300)
    assert lrkit.multistep(0.1, [10, 20], gamma=1e100)(20) == pytest.approx(0.1 * 1e200)


def test_sums_and_products_that_overflow_are_refused() -> None:
    big = lrkit.constant(1e308)
    with pytest.raises(ValueError, match="beyond the largest float"):
        big + big
    with pytest.raises(ValueError, match="beyond the largest float"):
        big * lrkit.constant(10.0)
    with pytest.raises(ValueError, match="beyond the largest float"):
        lrkit.cosine(1e300, 10) * 1e10


@pytest.mark.parametrize("name", sorted(CATALOGUE))
@settings(max_examples=10, deadline=None)
@given(data=st.data(), factor=st.floats(1.0, 1e308), times=st.lists(st.floats(0, 1e6)))
def test_an_accepted_schedule_is_finite_everywhere(
    name: str, data: st.DataObject, factor: float, times: list[float]
) -> None:
    """Scaled towards the largest float: refused at construction, or finite at every time
    (its breakpoints and end included)."""
    s = data.draw(CATALOGUE[name])
    try:
        scaled = s * factor
    except ValueError as e:
        assert "beyond the largest float" in str(e)
        return
    probes = [0.0, *scaled.breakpoints(1e6)[:50], scaled.duration or 0.0, *times]
    assert np.isfinite(scaled(np.asarray(probes))).all()
