"""Parity: lrkit.compat.optax against optax's own schedule functions.

For every function in ``optax.schedules`` that builds a schedule, random valid arguments
(seeded) are drawn; the optax schedule is evaluated under ``jax.vmap`` on int32 step counts
0 .. n-1 (n >= 1000), in float32 as optax computes by default, and compared with the lrkit
schedule (1e-6 relative, plus a few float32 units in the last place of the peak where the
rate is near zero; see ``test_compat.assert_matches_peer``) evaluated two ways:

- the same way, under ``jax.vmap`` in float32: how an optax user runs it;
- in NumPy float64, except with a cosine ``exponent < 1``, where ``c ** exponent`` magnifies
  optax's float32 rounding of ``c`` near the cosine's zero far beyond a few units in the last
  place.

One known optax deviation is checked and set aside: with ``staircase=True`` optax computes
``floor(count / T)`` with XLA's division, which is not correctly rounded (even in float64
about 4% of ``(k * T) / T`` land just below ``k``), so a drop can come one step late. lrkit
drops at the exact step in NumPy and under JAX (its core settles the quotient at exact
multiples).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import lrkit
from lrkit.compat import optax as co
from test_compat import EPS32, REPORT, RTOL32, assert_matches_peer

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy

pytestmark = pytest.mark.jax

DRAWS = 12
STEPS = 1100  # one length for every draw, so JAX compiles each operation once


def optax_rates(schedule: Callable[[Any], Any], steps: int = STEPS) -> np.ndarray:
    """``schedule`` under ``jax.vmap`` on int32 counts ``0 .. steps - 1``, as float64."""
    out = np.asarray(jax.vmap(schedule)(jnp.arange(steps, dtype=jnp.int32)), dtype=np.float64)
    return np.broadcast_to(out, (steps,))  # a constant schedule returns its scalar


def any_argument(kwargs: Any, test: Callable[[dict[str, Any]], bool]) -> bool:
    """Whether ``test`` holds for any dict of arguments nested in ``kwargs``."""
    if isinstance(kwargs, dict):
        return test(kwargs) or any(any_argument(v, test) for v in kwargs.values())
    if isinstance(kwargs, list | tuple):
        return any(any_argument(v, test) for v in kwargs)
    return False


def late_stairs_set_aside(peer: np.ndarray, exact: np.ndarray, what: str) -> np.ndarray:
    """Steps where optax drops one step late: checked to be exactly that, then set aside.

    At such a step lrkit's rate changes (``exact[k] != exact[k - 1]``) while optax still
    gives the previous stair, ``exact[k - 1]``; the next step agrees again.
    """
    tol = RTOL32 * np.abs(exact) + 4 * EPS32 * np.max(np.abs(exact))
    off = np.flatnonzero(np.abs(peer - exact) > tol)
    for k in off:
        assert k > 0 and exact[k] != exact[k - 1], (what, k)
        assert abs(peer[k] - exact[k - 1]) <= tol[k - 1], (what, k, peer[k], exact[k - 1])
    if off.size and REPORT:
        print(f"\nOPTAX late staircase drop at steps {off.tolist()}: {what}")
    fixed = peer.copy()
    fixed[off] = exact[off]
    return fixed


def check(ours: lrkit.Schedule, peer: Callable[[Any], Any], kwargs: Any, what: str) -> None:
    expected = optax_rates(peer)
    exact = ours(np.arange(STEPS))
    if any_argument(kwargs, lambda kw: kw.get("staircase") is True):
        expected = late_stairs_set_aside(expected, exact, what)
    assert_matches_peer(optax_rates(ours), expected, rtol=RTOL32, eps=EPS32, what=what + " jax")
    if not any_argument(kwargs, lambda kw: kw.get("exponent", 1.0) < 1.0):
        assert_matches_peer(exact, expected, rtol=RTOL32, eps=EPS32, what=what + " numpy")


def value(rng: random.Random) -> float:
    return rng.choice([0.1, 1.0, rng.uniform(1e-4, 1.0)])


def draw_constant(rng: random.Random) -> dict[str, Any]:
    return dict(value=value(rng))


def draw_linear(rng: random.Random) -> dict[str, Any]:
    return dict(
        init_value=value(rng),
        end_value=rng.choice([0.0, value(rng)]),
        transition_steps=rng.choice([0, rng.randint(1, 1000)]),
        transition_begin=rng.choice([0, rng.randint(0, 300)]),
    )


def draw_polynomial(rng: random.Random) -> dict[str, Any]:
    return dict(draw_linear(rng), power=rng.uniform(0.3, 3.0))


def draw_scales(rng: random.Random) -> dict[int, float]:
    return {b: rng.uniform(0.1, 2.0) for b in rng.sample(range(0, 1100), rng.randint(1, 5))}


def draw_piecewise_constant(rng: random.Random) -> dict[str, Any]:
    return dict(init_value=value(rng), boundaries_and_scales=draw_scales(rng))


def draw_exponential(rng: random.Random) -> dict[str, Any]:
    grow = rng.random() < 0.2
    init = value(rng)
    return dict(
        init_value=init,
        transition_steps=rng.randint(1, 1000),
        decay_rate=rng.uniform(1.0, 3.0) if grow else rng.uniform(0.05, 1.0),
        transition_begin=rng.choice([0, rng.randint(0, 300)]),
        staircase=rng.random() < 0.5,
        end_value=init * rng.uniform(1, 5) if grow else rng.choice([None, init * rng.random()]),
    )


def draw_cosine(rng: random.Random) -> dict[str, Any]:
    return dict(
        init_value=value(rng),
        decay_steps=rng.randint(1, 1100),
        alpha=rng.choice([0.0, rng.uniform(0, 0.5)]),
        exponent=rng.choice([1.0, rng.uniform(0.5, 3.0)]),
    )


def draw_warmup_cosine(rng: random.Random) -> dict[str, Any]:
    peak, warmup = value(rng), rng.choice([0, rng.randint(1, 300)])
    return dict(
        init_value=rng.choice([0.0, peak * rng.random()]),
        peak_value=peak,
        warmup_steps=warmup,
        decay_steps=warmup + rng.randint(1, 900),
        end_value=rng.choice([0.0, peak * rng.uniform(0, 0.5)]),
        exponent=rng.choice([1.0, rng.uniform(0.5, 3.0)]),
    )


def draw_warmup_exponential(rng: random.Random) -> dict[str, Any]:
    decay = draw_exponential(rng)
    peak = decay.pop("init_value")
    return dict(
        init_value=rng.choice([0.0, peak * rng.random()]),
        peak_value=peak,
        warmup_steps=rng.choice([0, rng.randint(1, 300)]),
        **decay,
    )


def draw_warmup_constant(rng: random.Random) -> dict[str, Any]:
    return dict(
        init_value=rng.choice([0.0, rng.uniform(0, 0.1)]),
        peak_value=value(rng),
        warmup_steps=rng.choice([0, rng.randint(1, 500)]),
    )


def draw_linear_onecycle(rng: random.Random) -> dict[str, Any]:
    start = rng.uniform(0.05, 0.6)
    return dict(
        transition_steps=rng.randint(1, 1100),
        peak_value=value(rng),
        pct_start=start,
        pct_final=rng.uniform(start, 1.0),
        div_factor=rng.uniform(2.0, 100.0),
        final_div_factor=10 ** rng.uniform(1, 4),
    )


def draw_cosine_onecycle(rng: random.Random) -> dict[str, Any]:
    return dict(
        transition_steps=rng.randint(1, 1100),
        peak_value=value(rng),
        pct_start=rng.uniform(0.05, 0.95),
        div_factor=rng.uniform(2.0, 100.0),
        final_div_factor=10 ** rng.uniform(1, 4),
    )


def draw_piecewise_interpolate(rng: random.Random) -> dict[str, Any]:
    return dict(
        interpolate_type=rng.choice(["linear", "cosine"]),
        init_value=value(rng),
        boundaries_and_scales=draw_scales(rng),
    )


def draw_sgdr(rng: random.Random) -> dict[str, Any]:
    pieces = []
    for _ in range(rng.randint(1, 4)):
        piece = draw_warmup_cosine(rng)
        piece["decay_steps"] = piece["warmup_steps"] + rng.randint(1, 400)
        pieces.append(piece)
    return dict(cosine_kwargs=pieces)


FUNCTIONS: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "constant_schedule": draw_constant,
    "linear_schedule": draw_linear,
    "polynomial_schedule": draw_polynomial,
    "piecewise_constant_schedule": draw_piecewise_constant,
    "exponential_decay": draw_exponential,
    "cosine_decay_schedule": draw_cosine,
    "warmup_cosine_decay_schedule": draw_warmup_cosine,
    "warmup_exponential_decay_schedule": draw_warmup_exponential,
    "warmup_constant_schedule": draw_warmup_constant,
    "linear_onecycle_schedule": draw_linear_onecycle,
    "cosine_onecycle_schedule": draw_cosine_onecycle,
    "piecewise_interpolate_schedule": draw_piecewise_interpolate,
    "sgdr_schedule": draw_sgdr,
}


def test_every_optax_schedule_function_is_covered() -> None:
    names = {
        n
        for n in dir(optax.schedules)
        if n.endswith(("_schedule", "_schedules", "_decay")) and not n.startswith(("inject", "_"))
    }
    assert names == set(FUNCTIONS) | {"join_schedules"}
    assert names <= set(co.__all__)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_optax_schedules_match_optax(name: str) -> None:
    rng = random.Random(name)
    for i in range(DRAWS):
        kwargs = FUNCTIONS[name](rng)
        peer, ours = getattr(optax.schedules, name)(**kwargs), getattr(co, name)(**kwargs)
        check(ours, peer, kwargs, f"{name}({kwargs}) {i}")


def test_join_schedules_matches_optax() -> None:
    rng = random.Random(3)
    names = sorted(set(FUNCTIONS) - {"sgdr_schedule"})
    for i in range(DRAWS):
        picked = [rng.choice(names) for _ in range(rng.randint(2, 4))]
        kwargs = [FUNCTIONS[n](rng) for n in picked]
        boundaries = sorted(rng.sample(range(0, 1000), len(picked) - 1))
        peer_parts = [
            getattr(optax.schedules, n)(**kw) for n, kw in zip(picked, kwargs, strict=True)
        ]
        our_parts = [getattr(co, n)(**kw) for n, kw in zip(picked, kwargs, strict=True)]
        peer = optax.join_schedules(peer_parts, boundaries)
        ours = co.join_schedules(our_parts, boundaries)
        what = f"join_schedules({list(zip(picked, kwargs, strict=True))}, {boundaries}) {i}"
        check(ours, peer, kwargs, what)


def test_compat_schedule_drives_optax_under_jit() -> None:
    """The compat schedule is itself an optax schedule: same updates as optax's own."""
    kwargs = dict(init_value=0.0, peak_value=0.1, warmup_steps=10, decay_steps=200)
    updates = {}
    for label, schedule in (
        ("optax", optax.warmup_cosine_decay_schedule(**kwargs)),
        ("lrkit", co.warmup_cosine_decay_schedule(**kwargs)),
    ):
        optimizer = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule)
        params = jnp.zeros(3)
        state = optimizer.init(params)
        update = jax.jit(optimizer.update)
        rates = []
        for _ in range(250):
            rates.append(float(state.hyperparams["learning_rate"]))
            _, state = update(jnp.ones(3), state, params)
        updates[label] = np.array(rates)
    assert_matches_peer(updates["lrkit"], updates["optax"], rtol=RTOL32, eps=EPS32, what="jit")


GIANT = 10**12  # a step count beyond int32 (and float32's exact integers)

GIANT_CASES: list[tuple[str, dict[str, Any]]] = [
    ("cosine_decay_schedule", dict(init_value=0.1, decay_steps=GIANT, alpha=0.1)),
    ("linear_schedule", dict(init_value=0.1, end_value=0.0, transition_steps=GIANT)),
    ("polynomial_schedule", dict(init_value=0.1, end_value=0.0, power=2, transition_steps=GIANT)),
    ("exponential_decay", dict(init_value=0.1, transition_steps=GIANT, decay_rate=0.5)),
    (
        "exponential_decay",
        dict(init_value=0.1, transition_steps=10, decay_rate=0.5, transition_begin=GIANT),
    ),
    ("piecewise_constant_schedule", dict(init_value=0.1, boundaries_and_scales={GIANT: 0.5})),
    (
        "warmup_cosine_decay_schedule",
        dict(init_value=0.0, peak_value=0.1, warmup_steps=10, decay_steps=GIANT),
    ),
    ("warmup_constant_schedule", dict(init_value=0.0, peak_value=0.1, warmup_steps=GIANT)),
]


@pytest.mark.parametrize(("name", "kwargs"), GIANT_CASES, ids=lambda x: str(x)[:40])
def test_giant_step_counts_work_under_jit(name: str, kwargs: dict[str, Any]) -> None:
    counts = jnp.array([0, 1, 5, 10, 2**20, 2**31 - 1], dtype=jnp.int32)
    schedule = getattr(co, name)(**kwargs)
    ours = np.asarray(jax.jit(jax.vmap(schedule))(counts))
    try:
        peer = np.asarray(jax.jit(jax.vmap(getattr(optax, name)(**kwargs)))(counts))
    except OverflowError:
        # optax itself overflows here under jit; lrkit's NumPy float64 values are the reference.
        peer = schedule(np.asarray(counts, dtype=np.float64))
    np.testing.assert_allclose(ours, peer, rtol=RTOL32, atol=4 * EPS32 * float(np.max(peer)))
