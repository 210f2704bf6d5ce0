"""Warmup -> cosine -> plateau in optax, under jax.jit: an lrkit schedule as the optimizer's
rate, chained with optax.contrib.reduce_on_plateau (the recipe of docs/jax.md). The updates
are checked against optax's rule replayed in plain Python, and the plateau state survives a
save (to NumPy files) and a resume exactly."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
import jax.numpy as jnp  # noqa: E402
from optax import contrib  # noqa: E402

import lrkit  # noqa: E402

pytestmark = pytest.mark.jax

SPE, EPOCHS = 10, 14
SCHEDULE = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=SPE * 12), steps=SPE * 2)
STALLED = [1.0, 0.75, 0.5] + [0.5] * 11  # exact in float32; no improvement after epoch 2
PLATEAU = {"factor": 0.5, "patience": 2, "rtol": 1e-4, "cooldown": 1}


def reference_rate(k: int) -> float:
    """Linear warmup over 20 updates, then cosine from 0.1 to 0 over 120 (written out)."""
    if k < 2 * SPE:
        return 0.1 * k / (2 * SPE)
    return 0.05 * (1 + math.cos(math.pi * min(k - 2 * SPE, 12 * SPE) / (12 * SPE)))


def optax_rule_scales(
    metrics: list[float], factor: float, patience: int, rtol: float, cooldown: int
) -> list[float]:
    """The scale after each epoch by optax's documented rule: better if
    value < (1 - rtol) * best; reduce on the patience-th bad epoch in a row; during cooldown
    the count of bad epochs is reset and the cooldown counted down."""
    best, bad, cool, scale, out = math.inf, 0, 0, 1.0, []
    for m in metrics:
        improved = m < (1 - rtol) * best
        best = m if improved else best
        bad = 0 if improved else bad + 1
        if cool > 0:
            bad, cool = 0, cool - 1
        elif bad == patience:
            scale, bad, cool = scale * factor, 0, cooldown
        out.append(scale)
    return out


def optimizer() -> Any:
    # The recipe: the schedule sets the rate, reduce_on_plateau scales the updates.
    return optax.chain(
        optax.sgd(learning_rate=SCHEDULE),
        contrib.reduce_on_plateau(**PLATEAU, accumulation_size=SPE),
    )


PARAMS = {"w": jnp.zeros(())}
GRADS = {"w": jnp.ones(())}  # d(loss)/dw = 1: each update is -rate


def train(state: Any, epochs: range) -> tuple[list[float], Any]:
    tx = optimizer()
    update = jax.jit(lambda s, value: tx.update(GRADS, s, PARAMS, value=value))
    steps = []
    for epoch in epochs:
        for _ in range(SPE):  # the epoch's loss, fed every update, averaged over the epoch
            updates, state = update(state, jnp.float32(STALLED[epoch]))
            steps.append(-float(updates["w"]))
    return steps, state


def test_warmup_cosine_plateau_under_jit_equals_optax_rule() -> None:
    steps, _ = train(optimizer().init(PARAMS), range(EPOCHS))
    after = optax_rule_scales(STALLED, **PLATEAU)
    # optax applies a new scale from the update that completes the epoch's average.
    in_force = [
        after[k // SPE] if k % SPE == SPE - 1 else ([1.0, *after])[k // SPE]
        for k in range(EPOCHS * SPE)
    ]
    expected = [reference_rate(k) * in_force[k] for k in range(EPOCHS * SPE)]
    np.testing.assert_allclose(steps, expected, rtol=2e-6, atol=1e-9)
    assert min(in_force) < 1.0


def test_plateau_state_survives_save_and_resume_exactly(tmp_path: Path) -> None:
    whole, _ = train(optimizer().init(PARAMS), range(EPOCHS))
    first, state = train(optimizer().init(PARAMS), range(6))
    leaves, _ = jax.tree.flatten(state)
    np.savez(tmp_path / "state.npz", *[np.asarray(x) for x in leaves])

    saved = np.load(tmp_path / "state.npz")
    treedef = jax.tree.structure(optimizer().init(PARAMS))
    restored = jax.tree.unflatten(
        treedef, [jnp.asarray(saved[f"arr_{i}"]) for i in range(len(leaves))]
    )
    rest, _ = train(restored, range(6, EPOCHS))
    assert first + rest == whole  # bit for bit
