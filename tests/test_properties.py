"""Properties of every catalogue entry and composite, over random valid parameters."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import lrkit
from strategies import CATALOGUE, LEAVES, schedules

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TIMES = np.array([0, 0.25, 1, 2, 3, 7.5, 10, 33, 100, 999.5, 1e3, 1e4, 1e5, 1e7, 1e9, 1e12])


def test_strategies_cover_the_registry() -> None:
    assert set(CATALOGUE) == set(lrkit.REGISTRY)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
@SETTINGS
@given(data=st.data())
def test_each_entry(name: str, data: st.DataObject) -> None:
    check_all(data.draw(CATALOGUE[name]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules)
# Found by a soak run: the first restart's start, P (mu - 1) / (mu - 1), computes a hair above
# P, and the table path (arrays) and the formula path (Python floats) disagreed at t = P.
@example(lrkit.restarts(lrkit.constant(1.0), 1000, 2.641345534540879, 0.0))
def test_nested_composites(schedule: lrkit.Schedule) -> None:
    check_all(schedule)


def check_all(s: lrkit.Schedule) -> None:
    # finite and non-negative from 0 to 1e12, vectorized equal to the scalar loop
    vec = s(TIMES)
    assert vec.shape == TIMES.shape and vec.dtype == np.float64
    assert np.all(np.isfinite(vec)) and np.all(vec >= 0), (s, vec)
    loop = np.array([s(float(t)) for t in TIMES])
    # NumPy's array and scalar cos/exp may differ by an ulp, which cancellation (1 - c) can
    # magnify relative to a tiny value: compare relative to the curve's own scale too.
    scale = float(np.max(np.abs(vec)))
    np.testing.assert_allclose(vec, loop, rtol=1e-12, atol=1e-12 * scale)
    # any shape; int input; float32 in gives float32 out
    grid = s(np.arange(12).reshape(3, 4))
    assert grid.shape == (3, 4)
    np.testing.assert_allclose(
        grid.ravel(), [s(t) for t in range(12)], rtol=1e-12, atol=1e-12 * scale
    )
    assert s(np.arange(5, dtype=np.float32)).dtype == np.float32
    # the config is plain JSON and rebuilds an equal schedule; so do pickle and the text form
    config = s.to_config()
    assert lrkit.from_config(json.loads(json.dumps(config, allow_nan=False))) == s
    assert lrkit.loads(lrkit.dumps(s, "yaml"), "yaml") == s
    clone = pickle.loads(pickle.dumps(s))
    assert clone == s and hash(clone) == hash(s)
    np.testing.assert_array_equal(clone(TIMES), vec)


# --- monotonicity, where the docstrings promise it -------------------------------------
def direction(s: lrkit.Schedule) -> int | None:
    """-1 non-increasing, +1 non-decreasing, None no promise (as each docstring says)."""
    p = s.params()
    always_down = {
        "time_based_decay",
        "exponential_decay",
        "constant_then_exponential_decay",
        "step",
        "inverse_time",
        "inverse_sqrt",
        "tanh_decay",
        "linear_to_zero",
    }
    if s.name == "constant" or s.name in always_down:
        return -1
    if s.name == "multistep":
        return -1 if p["gamma"] <= 1 else 1
    if s.name == "exponential":
        return -1 if p["decay_rate"] <= 1 else 1
    if s.name in ("linear", "cosine", "one_minus_sqrt") or (
        s.name == "polynomial" and not p["cycle"]
    ):
        return -1 if p["end_lr"] <= p["start_lr"] else 1
    return None


@pytest.mark.parametrize("name", LEAVES)
@SETTINGS
@given(data=st.data())
def test_monotone_where_promised(name: str, data: st.DataObject) -> None:
    s = data.draw(CATALOGUE[name])
    sign = direction(s)
    if sign is None:
        return
    d = np.diff(s(np.concatenate([np.linspace(0, 3000, 3001), TIMES[TIMES > 3000]])))
    scale = max(abs(s(0)), 1e-300)
    assert np.all(sign * d >= -1e-12 * scale), s


# --- continuity at phase boundaries, where promised ------------------------------------
CONTINUOUS = ["one_cycle_policy", "warmup_stable_decay", "noam", "cyclic", "one_cycle"]


@pytest.mark.parametrize("name", [*CONTINUOUS, "warmup", "continuous_ctx"])
@SETTINGS
@given(data=st.data())
def test_continuous_at_boundaries(name: str, data: st.DataObject) -> None:
    if name == "continuous_ctx":
        s = lrkit.constant_then_exponential_decay(
            data.draw(st.floats(1e-6, 1)), data.draw(st.floats(0.5, 100)), 0.1, continuous=True
        )
    elif name == "warmup":  # a warmup in front of anything is continuous where it joins
        s = data.draw(CATALOGUE["warmup"])
    else:
        s = data.draw(CATALOGUE[name])
    bounds = [b for b in s.breakpoints(1e4) if b > 0][:50]
    if name == "warmup":
        bounds = bounds[:1] if s.params()["steps"] > 0 else []
    if not bounds:
        return
    assert_continuous_at(s, bounds)


def assert_continuous_at(s: lrkit.Schedule, bounds: list[float]) -> None:
    scale = float(np.max(s(np.linspace(0, 2 * max(bounds), 2001)))) + 1e-300
    h = 1e-6 * float(np.min(np.diff([0.0, *bounds])))  # far inside the shortest phase
    for b in bounds:  # a jump would be a sizeable fraction of the curve's own scale
        at = s(b)
        # ... and would not shrink with h, as the gap of a steep, continuous curve does
        before = min((s(b - k) for k in (h, h / 100)), key=lambda r: abs(r - at))
        assert math.isclose(before, at, rel_tol=1e-6, abs_tol=1e-4 * scale), (s, b, before, at)


def test_a_steep_warmup_is_continuous_where_it_joins() -> None:
    """Found by a fresh draw: an exponential warmup from 1e-252 to 1 in one step rises by
    e^580 in that step, so 1e-6 of a step before its end the rate is still 0.06% short."""
    s = lrkit.warmup(lrkit.constant(1.0), 1, shape="exponential", start_lr=1.0802007771082468e-252)
    assert_continuous_at(s, [1.0])
    with pytest.raises(AssertionError):  # and a jump is still one
        assert_continuous_at(lrkit.piecewise_constant([1.0], [1.0, 0.5]), [1.0])


def test_files_round_trip(tmp_path: Path) -> None:
    s = lrkit.warmup(lrkit.cosine_restarts(0.1, 10, 2.0, 0.5, end_lr=1e-4), 5) * 0.5
    for suffix in (".json", ".yaml", ".yml"):
        path = tmp_path / f"s{suffix}"
        lrkit.save(s, path)
        assert lrkit.load(path) == s
    assert json.loads((tmp_path / "s.json").read_text())["name"] == "scale"


def test_value_semantics() -> None:
    a = lrkit.cosine(0.1, 100)
    assert a == lrkit.cosine(start_lr=0.1, decay_steps=100, end_lr=0.0)
    assert a != lrkit.cosine(0.1, 101) and a != lrkit.linear(0.1, 100, end_lr=0.0)
    assert {a: 1}[lrkit.cosine(0.1, 100)] == 1
    with pytest.raises(AttributeError):
        a.start_lr = 0.2  # type: ignore[misc]
    assert repr(a) == "cosine(start_lr=0.1, decay_steps=100)"
    assert type(a(3)) is float and type(a(np.int64(3))) is float


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(schedules, st.sampled_from(["sorted", "shuffled", "2d", "float32", "strided", "steps"]))
def test_large_arrays_equal_unchunked(s: lrkit.Schedule, layout: str) -> None:
    """Also for integer steps (negative ones too), which chunks convert to float64 one by one."""
    import lrkit._core as core

    n = 3 * core._CHUNK + 7
    rng = np.random.default_rng(0)
    t: np.ndarray = np.arange(n) * (2000 / n) - 1.0
    if layout == "shuffled":
        t = rng.permutation(t)
    elif layout == "2d":
        t = t[: (n // 7) * 7].reshape(-1, 7)
    elif layout == "float32":
        t = t.astype(np.float32)
    elif layout == "strided":
        t = np.repeat(t, 2)[::2]
    elif layout == "steps":
        t = np.arange(n) - 50
    chunked, whole = s(t), unchunked(s, t)
    dtype = t.dtype if layout != "steps" else np.float64
    assert chunked.shape == t.shape and chunked.dtype == whole.dtype == dtype
    np.testing.assert_array_equal(chunked, whole)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "s",
    [
        lrkit.cosine_restarts(0.1, 20_000, t_mul=2.0, m_mul=0.5, end_lr=1e-4),
        lrkit.restarts(lrkit.linear(0.1, 7, end_lr=0.01), 7, period_mul=1.7, amplitude_mul=0.7),
        lrkit.restarts(lrkit.cosine(0.1, 2e4 / 3), 2e4 / 3, period_mul=1.5, amplitude_mul=0.9),
    ],
)
def test_restarts_chunks_in_one_cycle_equal_the_lookup_per_time(
    s: lrkit.Schedule, dtype: type
) -> None:
    """A chunk whose times all lie in one cycle uses that cycle's constants (some chunks
    here; the others straddle a restart); the whole array, in one piece, looks each time's
    cycle up: the same bits."""
    import lrkit._core as core

    t = np.arange(3 * core._CHUNK + 7, dtype=dtype)
    np.testing.assert_array_equal(s(t), unchunked(s, t))


def unchunked(s: lrkit.Schedule, t: np.ndarray) -> np.ndarray:
    """``s(t)`` evaluated as one piece, however large ``t`` is."""
    import lrkit._core as core

    big = core._CHUNK
    try:
        core._CHUNK = 10**9
        return s(t)
    finally:
        core._CHUNK = big


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(schedules)
def test_threaded_evaluation_equals_one_thread(s: lrkit.Schedule) -> None:
    import lrkit._core as core

    t = np.linspace(0, 5000, 4 * core._CHUNK + 3)
    saved = core._THREADED, core._threads_for
    try:
        core._THREADED = 1
        core._threads_for = lambda n: 3  # three threads, whatever the machine
        threaded = s(t)
        core._threads_for = lambda n: 1
        single = s(t)
    finally:
        core._THREADED, core._threads_for = saved
    np.testing.assert_array_equal(threaded, single)


def test_plain_functions_are_never_called_from_threads() -> None:
    import threading

    import lrkit._core as core

    seen: set[int] = set()

    def fn(epoch: float) -> float:
        seen.add(threading.get_ident())
        return 0.1

    s = lrkit.warmup(lrkit.as_schedule(fn), 5)
    saved = core._threads_for
    try:
        core._threads_for = lambda n: 4
        s(np.arange(3 * core._CHUNK))
    finally:
        core._threads_for = saved
    assert seen == {threading.get_ident()}
