"""lrkit schedules used directly as optax schedules, under jax.jit and jax.vmap.

References are written here as plain Python (``math``, ``if``), or are lrkit's own NumPy
float64 value where what is tested is the JAX path (dtypes, huge step counts).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy

import lrkit  # noqa: E402

pytestmark = pytest.mark.jax

#: Every registered schedule, by the example its definition gives.
EXAMPLES: dict[str, lrkit.Schedule] = {
    name: lrkit.parse(cls.example) for name, cls in lrkit.REGISTRY.items()
}
IDS = list(EXAMPLES)
HUGE_INT32 = [2**31 - 1, 10**9]
HUGE_INT64 = [2**31, 10**10, 10**12]


def test_examples_cover_the_catalogue() -> None:
    for name, schedule in EXAMPLES.items():
        assert schedule.name == name


# -- optax ---------------------------------------------------------------------------------


def ref_warmup_cosine(k: int) -> float:
    return 0.5 * k / 20 if k < 20 else 0.25 * (1 + math.cos(math.pi * min(k - 20, 180) / 180))


def test_jitted_optax_sgd_trains_with_the_schedule_at_every_update() -> None:
    from sklearn.datasets import load_iris

    iris = load_iris()
    x = jnp.asarray((iris.data - iris.data.mean(0)) / iris.data.std(0), dtype=jnp.float32)
    y = jnp.asarray(iris.target)
    schedule = lrkit.warmup(lrkit.cosine(0.5, 180), steps=20)
    tx = optax.sgd(learning_rate=schedule)
    params = {"w": jnp.zeros((4, 3)), "b": jnp.zeros(3)}

    def loss(p: dict) -> jax.Array:
        logits = x @ p["w"] + p["b"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @jax.jit
    def train_step(p: dict, state: optax.OptState) -> tuple:
        value, grads = jax.value_and_grad(loss)(p)
        updates, state = tx.update(grads, state, p)
        return optax.apply_updates(p, updates), state, value, updates["b"] / -grads["b"]

    state = tx.init(params)
    losses, rates = [], []
    for _ in range(200):
        params, state, value, rate = train_step(params, state)
        losses.append(float(value))
        rates.append(float(rate[0]))
    # float32: 1 + cos(x) near its end cancels, so the tolerance is relative to the peak
    reference = [ref_warmup_cosine(k) for k in range(200)]
    np.testing.assert_allclose(rates, reference, rtol=1e-5, atol=1e-6 * 0.5)
    assert losses[-1] < 0.2 * losses[0]
    accuracy = float((jnp.argmax(x @ params["w"] + params["b"], 1) == y).mean())
    assert accuracy > 0.9


def test_inject_hyperparams_records_each_updates_values() -> None:
    lr = lrkit.one_cycle_policy(max_lr=0.1, total_steps=50)
    momentum = lrkit.linear(0.95, 50, end_lr=0.85)
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=lr, momentum=momentum)
    params = jnp.zeros(3)
    state = tx.init(params)
    update = jax.jit(tx.update)
    seen = []
    for _ in range(60):
        _, state = update(jnp.ones(3), state, params)
        seen.append(
            (float(state.hyperparams["learning_rate"]), float(state.hyperparams["momentum"]))
        )
    lrs, moms = np.array(seen).T
    np.testing.assert_allclose(lrs, [lr(k) for k in range(60)], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(moms, [0.95 - 0.1 * min(k, 50) / 50 for k in range(60)], rtol=1e-6)
    assert lrs[50] == pytest.approx(0.1 / 25 / 1e4, rel=1e-4)  # the end, then held
    assert (lrs[50:] == lrs[50]).all()


def test_schedule_is_read_back_from_the_optimizer_state() -> None:
    schedule = lrkit.cosine(0.1, 10)
    tx = optax.adamw(learning_rate=schedule)
    params = jnp.zeros(2)
    state = tx.init(params)
    for _ in range(4):
        _, state = jax.jit(tx.update)(jnp.ones(2), state, params)
    count = optax.tree_utils.tree_get(
        state, "count", filtering=lambda path, _: path[-1].tuple_name == "ScaleByScheduleState"
    )
    assert int(count) == 4
    assert float(schedule(count)) == pytest.approx(0.05 * (1 + math.cos(math.pi * 0.4)))


# -- jit, vmap, dtypes, huge steps --------------------------------------------------------


@pytest.mark.parametrize("name", IDS)
def test_jit_vmap_agree_with_numpy(name: str) -> None:
    schedule = EXAMPLES[name]
    steps = np.arange(0, 600, dtype=np.int32)
    out = jax.jit(jax.vmap(schedule))(jnp.asarray(steps))
    assert out.dtype == jnp.float32
    reference = schedule(steps.astype(np.float64))
    # float32 against float64: near a schedule's end, 1 + cos or 1 - t/T cancels, so the
    # absolute tolerance is relative to the schedule's scale
    atol = 1e-6 * np.abs(reference).max()
    np.testing.assert_allclose(np.asarray(out), reference, rtol=1e-5, atol=atol)


@pytest.mark.parametrize("name", IDS)
def test_int32_steps_up_to_the_int32_limit_are_finite(name: str) -> None:
    schedule = EXAMPLES[name]
    jitted = jax.jit(schedule)
    for step in HUGE_INT32:
        value = jitted(jnp.int32(step))
        assert value.dtype == jnp.float32
        assert np.isfinite(float(value)), (step, value)
    batch = jax.vmap(jitted)(jnp.asarray(HUGE_INT32, dtype=jnp.int32))
    assert np.isfinite(np.asarray(batch)).all()


@pytest.mark.parametrize("name", IDS)
def test_int64_steps_up_to_1e12_with_x64(name: str) -> None:
    schedule = EXAMPLES[name]
    with jax.enable_x64(True):
        steps = jnp.asarray(HUGE_INT64, dtype=jnp.int64)
        assert steps.dtype == jnp.int64
        value = jax.jit(schedule)(jnp.int64(10**12))
        batch = jax.jit(jax.vmap(schedule))(steps)
        assert value.dtype == jnp.float64 and batch.dtype == jnp.float64
        reference = schedule(np.asarray(HUGE_INT64, dtype=np.int64))
        assert np.isfinite(float(value))
        np.testing.assert_allclose(np.asarray(batch), reference, rtol=1e-9, atol=1e-15)


def whole_periods(name: str, period: int) -> lrkit.Schedule:
    """Schedules that round ``t / period`` to a whole number of periods."""
    return {
        "step": lambda: lrkit.step(0.1, step_size=period, gamma=0.5),
        "staircase": lambda: lrkit.staircase(lrkit.linear(0.1, 100 * period, end_lr=0.0), period),
        "polynomial": lambda: lrkit.polynomial(0.1, period, power=0.5, cycle=True, end_lr=0.001),
        "restarts": lambda: lrkit.restarts(lrkit.linear(0.1, period, end_lr=0.0), period=period),
        "inverse_time": lambda: lrkit.inverse_time(0.1, 0.5, period, staircase=True),
        "exponential": lambda: lrkit.exponential(0.1, 0.5, period, staircase=True),
        "cosine_restarts": lambda: lrkit.cosine_restarts(0.1, period, t_mul=1.0),
    }[name]()


WHOLE_PERIOD_NAMES = (
    "step",
    "staircase",
    "polynomial",
    "restarts",
    "inverse_time",
    "exponential",
    "cosine_restarts",
)
# Periods whose reciprocal is inexact in float32 (x64 off) or float64 (x64 on).
WHOLE_PERIOD_CASES = [
    *[(name, False, 30 if name == "polynomial" else 41) for name in WHOLE_PERIOD_NAMES],
    *[(name, True, 75 if name == "polynomial" else 49) for name in WHOLE_PERIOD_NAMES],
]


@pytest.mark.parametrize(("name", "x64", "period"), WHOLE_PERIOD_CASES)
def test_whole_periods_under_jit_at_exact_multiples(name: str, x64: bool, period: int) -> None:
    schedule = whole_periods(name, period)
    with jax.enable_x64(x64):
        steps = np.arange(0, period * 200, dtype=np.int64 if x64 else np.int32)
        out = np.asarray(jax.jit(jax.vmap(schedule))(jnp.asarray(steps)))
    reference = schedule(steps.astype(np.float64))
    atol = 1e-6 * np.abs(reference).max()
    np.testing.assert_allclose(out, reference, rtol=1e-5, atol=atol)


def test_optax_count_near_the_int32_limit() -> None:
    schedule = lrkit.warmup(lrkit.cosine(0.1, 1000), steps=100)
    tx = optax.sgd(learning_rate=schedule)
    params = jnp.zeros(2)
    state = tx.init(params)
    state = optax.tree_utils.tree_set(state, count=jnp.asarray(2**31 - 2, dtype=jnp.int32))
    update = jax.jit(tx.update)
    for _ in range(3):  # optax saturates its int32 count; the rate stays finite and final
        updates, state = update(jnp.ones(2), state, params)
        assert np.isfinite(np.asarray(updates)).all()
        assert float(updates[0]) == 0.0
