"""One formula, many array libraries: the same numbers on JAX, PyTorch and TensorFlow tensors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings

import lrkit
from strategies import schedules

T = np.array([0, 1, 2, 5, 9, 10, 11, 17, 50, 99, 100, 101, 333, 1000, 12345], dtype=np.float64)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
# Found by CI: the staircase lands exactly on a restart, which float32 used to miss.
ON_A_RESTART = lrkit.staircase(lrkit.cosine_restarts(1.0, 42, t_mul=2.75), step_size=21)
# Found by a soak run: a staircase's output k*b, divided by b again, is a hair below k; torch
# and NumPy used to disagree on its floor.
# Found by a soak run: TensorFlow flushes a subnormal base to zero before raising it.
SUBNORMAL_BASE = lrkit.stretch(lrkit.one_cycle(0.0, 0.0, 1.0, 0, 0, 2.225073858507203e-309), 26.0)
B = 0.7187271444492361
ON_A_STORED_MULTIPLE = lrkit.shift(
    lrkit.staircase(lrkit.inverse_time(1.0, 1.0, B, staircase=True), B), 1.0
)


def close32(got: np.ndarray, s: lrkit.Schedule) -> None:
    """float32 agrees with float64 up to float32's resolution of time: the float32 value must
    lie within the float64 curve's range over ``t (1 +- 1e-5)``. float32 resolves a time only
    to ~1e-7 relative, and a restart's start to ~1e-6 after thousands of cycles. Next to a
    jump (a step, a restart) either side is then accepted. The float64 tests hold to 1e-12."""
    scale = float(np.max(np.abs(s(T)))) + 1e-30
    near = np.maximum(T[:, None] * (1 + np.linspace(-1e-5, 1e-5, 41)), 0.0)
    values = s(near)
    lo, hi = values.min(axis=1), values.max(axis=1)
    tol = 2e-5 * np.abs(values).max(axis=1) + 2e-6 * scale
    ok = (got >= lo - tol) & (got <= hi + tol)
    assert ok.all(), (s, T[~ok], got[~ok], lo[~ok], hi[~ok])


@SETTINGS
@given(schedules)
@example(ON_A_RESTART)
@example(ON_A_STORED_MULTIPLE)
@example(SUBNORMAL_BASE)
def test_torch(s: lrkit.Schedule) -> None:
    torch = pytest.importorskip("torch")
    out64 = s(torch.tensor(T, dtype=torch.float64))
    assert isinstance(out64, torch.Tensor) and out64.dtype == torch.float64
    scale = float(np.max(np.abs(s(T)))) + 1e-30
    np.testing.assert_allclose(out64.numpy(), s(T), rtol=1e-12, atol=1e-12 * scale)
    out = s(torch.tensor(T.astype(np.int64)))
    assert out.dtype == torch.get_default_dtype()
    close32(out.numpy(), s)


@SETTINGS
@given(schedules)
@example(ON_A_RESTART)
@example(ON_A_STORED_MULTIPLE)
@example(SUBNORMAL_BASE)
def test_jax_jit_and_vmap(s: lrkit.Schedule) -> None:
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    out = jax.jit(s)(jnp.asarray(T.astype(np.int32)))
    assert isinstance(out, jax.Array)
    close32(np.asarray(out), s)
    close32(np.asarray(jax.vmap(s)(jnp.asarray(T, dtype=jnp.float32))), s)


@SETTINGS
@given(schedules)
@example(ON_A_RESTART)
@example(ON_A_STORED_MULTIPLE)
@example(SUBNORMAL_BASE)
def test_tensorflow_function(s: lrkit.Schedule) -> None:
    tf = pytest.importorskip("tensorflow")
    out = tf.function(s)(tf.constant(T.astype(np.int64)))
    assert out.dtype == tf.float32
    close32(out.numpy(), s)
    out64 = s(tf.constant(T))
    scale = float(np.max(np.abs(s(T)))) + 1e-30
    np.testing.assert_allclose(out64.numpy(), s(T), rtol=1e-12, atol=1e-12 * scale)


def test_huge_int_steps_stay_finite() -> None:
    torch = pytest.importorskip("torch")
    s = lrkit.warmup(lrkit.one_cycle_policy(0.1, 1000), 10) + lrkit.cosine_restarts(0.1, 7, 2.0)
    big = [0, 2**31 - 1, 10**12, 2**62]
    assert torch.isfinite(s(torch.tensor(big))).all()
    assert np.isfinite(s(np.array(big))).all()


def test_whole_epochs_exact_under_xla() -> None:
    # XLA divides t / k as t * (1/k): stretch must still start epoch n exactly at t = n k.
    jax = pytest.importorskip("jax")
    s = lrkit.stretch(lrkit.multistep(0.1, [1, 2, 3], gamma=0.5), 41)
    steps = np.arange(0, 41 * 5, dtype=np.int32)
    got = np.asarray(jax.jit(jax.vmap(s))(jax.numpy.asarray(steps)))
    expected = [0.1 * 0.5 ** min(k // 41, 3) for k in steps]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("framework", ["jax", "torch", "tensorflow"])
def test_float32_restart_boundaries_start_the_new_cycle(framework: str) -> None:
    # At t_i = T (mu^i - 1) / (mu - 1) a new cycle starts at its top. The start computed in
    # float32 (by XLA as a product with a reciprocal) lands a few ulps either side of t_i;
    # a whole-number t_i must still read the new cycle, as float64 does.
    cases = [(P, mu) for P in (2, 3, 7, 10, 21, 42, 100, 333) for mu in (1.25, 1.5, 1.7, 2, 2.75)]
    for P, mu in cases:
        s = lrkit.restarts(lrkit.linear(1.0, P, end_lr=0.0), P, period_mul=mu)
        starts = [P * (mu**i - 1) / (mu - 1) for i in range(1, 10)]
        t = np.array([x for x in starts if x == round(x)], dtype=np.float32)
        if framework == "jax":
            jax = pytest.importorskip("jax")
            got = np.asarray(jax.jit(s)(jax.numpy.asarray(t)))
        elif framework == "torch":
            torch = pytest.importorskip("torch")
            got = s(torch.tensor(t)).numpy()
        else:
            tf = pytest.importorskip("tensorflow")
            got = tf.function(s)(tf.constant(t)).numpy()
        np.testing.assert_allclose(got, np.ones_like(t), rtol=1e-6, err_msg=f"{P=} {mu=} {t=}")


STEP_SIZES = [0.1, 1 / 3, 0.7187271444492361, 2.2, 7.3, 1e-3]


def _evaluators(dtype: str) -> dict[str, object]:
    """``f(schedule, t)`` for every library, computing in ``dtype``."""
    out: dict[str, object] = {"numpy": lambda s, t: s(t)}
    if dtype == "float64":
        out["python"] = lambda s, t: np.array([s(float(x)) for x in t])
    torch = pytest.importorskip("torch")
    out["torch"] = lambda s, t: s(torch.tensor(t)).numpy()
    jax = pytest.importorskip("jax")

    def jit(s: lrkit.Schedule, t: np.ndarray) -> np.ndarray:
        with jax.enable_x64(dtype == "float64"):
            return np.asarray(jax.jit(s)(jax.numpy.asarray(t)))

    out["jax.jit"] = jit
    tf = pytest.importorskip("tensorflow")
    out["tf.function"] = lambda s, t: tf.function(s)(tf.constant(t)).numpy()
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("b", STEP_SIZES)
def test_a_multiple_as_stored_is_on_its_step_in_every_library(dtype: str, b: float) -> None:
    # Definition: step k holds for k*b <= t < (k+1)*b, the products rounded in t's dtype; so
    # the stored multiple k*b is on step k (its exact quotient may be a hair below k) and the
    # float just below it on step k - 1. Reference: gamma**k with k from that definition.
    s = lrkit.step(1.0, step_size=b, gamma=0.5)
    k = np.arange(1, 61)
    on = (k * np.array(b, dtype)).astype(dtype)  # the product, rounded in dtype
    below = np.nextafter(on, np.zeros_like(on))
    for name, f in _evaluators(dtype).items():
        np.testing.assert_array_equal(f(s, on), 0.5**k, err_msg=f"{name} on k*b")
        np.testing.assert_array_equal(f(s, below), 0.5 ** (k - 1.0), err_msg=f"{name} below")


# A base near 1 raised to a large power, in float32: the base rounded to float32 is off by up
# to 3e-8 relative, which the power multiplies (0.99999 ** 12345 raised that way is 1.5e-4 off).
NEAR_ONE_POWERS = [
    (lrkit.restarts(lrkit.constant(1.0), 1, amplitude_mul=0.99999), 20_000),
    (lrkit.cyclic(0.001, 0.006, 2000, mode="exp_range", gamma=0.99994), 100_000),
    (lrkit.exponential(0.1, decay_steps=1, decay_rate=0.9999), 50_000),
    (lrkit.step(0.1, 1, gamma=0.999), 5_000),
]


@pytest.mark.parametrize(("s", "until"), NEAR_ONE_POWERS, ids=repr)
def test_float32_powers_of_a_base_near_one(s: lrkit.Schedule, until: int) -> None:
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    t = np.arange(until, dtype=np.float64)
    ref = s(t)  # float64
    for got in (s(torch.tensor(t, dtype=torch.float32)).numpy(), np.asarray(jax.jit(s)(t))):
        np.testing.assert_allclose(got, ref, rtol=2e-6, atol=1e-9 * ref.max())


@pytest.mark.parametrize(
    ("period", "mu", "until"), [(100, 1.01, 1e5), (10, 1.0001, 1e5), (10, 1.001, 1e6)]
)
def test_float32_restarts_with_a_period_multiplier_near_one(
    period: int, mu: float, until: float
) -> None:
    # The sawtooth's value is the phase in its cycle, so a phase error times the cycle's
    # length is an error in time. Reference: the cycle index from float64 logarithms.
    torch = pytest.importorskip("torch")
    s = lrkit.restarts(lrkit.linear(0.0, period, end_lr=1.0), period, period_mul=mu)
    t = np.arange(0, until, until / 100_003)
    i = np.floor(np.log1p(t * (mu - 1) / period) / np.log(mu))
    start = period * (mu**i - 1) / (mu - 1)
    phase = (t - start) / (period * mu**i)
    got = s(torch.tensor(t, dtype=torch.float32)).numpy()
    error = got - phase
    error -= np.round(error)  # a time next to a restart may read the neighbouring cycle
    assert np.max(np.abs(error) * period * mu**i / np.maximum(t, 1)) < 5e-6
