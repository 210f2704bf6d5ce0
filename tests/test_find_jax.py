"""lrkit.jax.find_lr on a real small network (an MLP on digits in plain JAX, optax SGD with
momentum and AdamW) under jax.jit: the sweep, the stop, and nothing the caller holds changed."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")

import jax.numpy as jnp  # noqa: E402

import lrkit  # noqa: E402
import lrkit.jax  # noqa: E402

pytestmark = pytest.mark.jax


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16).astype("float32"), d.target.astype("int32")


def init(seed: int = 0) -> dict[str, Any]:
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    return {
        "w1": jax.random.normal(k1, (64, 32)) * 0.1,
        "b1": jnp.zeros(32),
        "w2": jax.random.normal(k2, (32, 10)) * 0.1,
        "b2": jnp.zeros(10),
    }


TRACES: list[int] = []


def loss_fn(params: dict[str, Any], batch: tuple[Any, Any]) -> Any:
    TRACES.append(1)  # runs only while jax traces it
    x, y = batch
    h = jax.nn.relu(x @ params["w1"] + params["b1"])
    logits = h @ params["w2"] + params["b2"]
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def batches(data: Any, at: int = 10**9, nan: bool = False, error: Any = None) -> Iterator[Any]:
    x, y = data
    for k in range(10**6):
        random.random()  # the caller's data pipeline may draw from the global generators
        np.random.random()
        i = (k * 64) % (len(x) - 64)
        xb = x[i : i + 64]
        if k >= at:
            if error is not None:
                raise error
            if nan:
                xb = np.full_like(xb, np.nan)
        yield xb, y[i : i + 64]


def optimizers() -> dict[str, Any]:
    return {
        "sgd": optax.inject_hyperparams(optax.sgd)(learning_rate=0.05, momentum=0.9),
        "adamw": optax.inject_hyperparams(optax.adamw)(learning_rate=1e-3),
    }


def warm(params: Any, opt: Any, data: Any, steps: int = 3) -> tuple[Any, Any]:
    state = opt.init(params)
    for batch, _ in zip(batches(data), range(steps), strict=False):
        grads = jax.grad(loss_fn)(params, batch)
        updates, state = opt.update(grads, state, params)
        params = optax.apply_updates(params, updates)
    return params, state


def leaves_equal(a: Any, b: Any) -> bool:
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return len(la) == len(lb) and all(
        np.array_equal(np.asarray(u), np.asarray(v)) for u, v in zip(la, lb, strict=True)
    )


@pytest.mark.parametrize("name", ["sgd", "adamw"])
@pytest.mark.parametrize("case", ["completed", "diverged", "nan", "keyboard-interrupt", "error"])
def test_nothing_the_caller_holds_changes(digits: Any, name: str, case: str) -> None:
    opt = optimizers()[name]
    params, state = warm(init(), opt, digits)
    copies = jax.tree.map(lambda a: np.array(a, copy=True), (params, state))
    random.seed(1)
    np.random.seed(2)
    python, numpy = random.getstate(), np.random.get_state()[1].copy()
    kwargs: dict[str, Any] = {"opt_state": state, "start_lr": 1e-4, "end_lr": 1.0, "num_steps": 20}
    data: Any = batches(digits)
    if case == "diverged":
        kwargs.update(end_lr=1e5, num_steps=200)
    if case == "nan":
        data = batches(digits, at=9, nan=True)
    if case in ("keyboard-interrupt", "error"):
        error = KeyboardInterrupt() if case == "keyboard-interrupt" else RuntimeError("data failed")
        with pytest.raises(type(error)):
            lrkit.jax.find_lr(loss_fn, params, opt, batches(digits, at=7, error=error), **kwargs)
    else:
        result = lrkit.jax.find_lr(loss_fn, params, opt, data, verbose=False, **kwargs)
        assert result.reason == {"diverged": "diverged", "nan": "non-finite"}.get(case, "completed")
    assert leaves_equal(copies, (params, state))  # readable, so not donated, and unchanged
    assert random.getstate() == python and np.array_equal(np.random.get_state()[1], numpy)


def test_it_runs_under_jit(digits: Any) -> None:
    TRACES.clear()
    opt = optimizers()["sgd"]
    lrkit.jax.find_lr(loss_fn, init(), opt, batches(digits), num_steps=30, verbose=False)
    assert len(TRACES) == 1  # traced once for 30 steps


def test_training_after_the_test_is_the_training_without_it(digits: Any) -> None:
    opt = optimizers()["sgd"]
    params, state = warm(init(), opt, digits)
    before = warm(params, opt, digits, steps=5)
    lrkit.jax.find_lr(
        loss_fn, params, opt, batches(digits), opt_state=state, num_steps=20, verbose=False
    )
    after = warm(params, opt, digits, steps=5)
    assert leaves_equal(before, after)


@pytest.mark.parametrize("mode", ["exponential", "linear"])
def test_rates_are_the_closed_form(digits: Any, mode: str) -> None:
    start, end, n = 1e-5, 0.5, 40
    result = lrkit.jax.find_lr(
        loss_fn,
        init(),
        optimizers()["sgd"],
        batches(digits),
        start_lr=start,
        end_lr=end,
        num_steps=n,
        mode=mode,
        diverge_threshold=1e9,
        verbose=False,
    )
    if mode == "exponential":
        closed = [start * (end / start) ** (k / (n - 1)) for k in range(n)]
    else:
        closed = [start + (end - start) * k / (n - 1) for k in range(n)]
    assert list(result.rates) == closed


def test_the_rate_applied_at_each_step_is_the_recorded_one() -> None:
    """Plain SGD on loss = 2 p: each update moves p by exactly -2 rate, so the recorded
    losses give back every rate the optimizer used: rate_k = (loss_k - loss_{k+1}) / 4
    (to float32's precision; p starts at 10 so that the loss stays positive)."""

    def linear_loss(params: Any, batch: Any) -> Any:
        return 2.0 * params["p"] + 0.0 * batch

    opt = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
    result = lrkit.jax.find_lr(
        linear_loss,
        {"p": jnp.asarray(10.0)},
        opt,
        [jnp.zeros(())],
        start_lr=1e-3,
        end_lr=0.1,
        num_steps=12,
        beta=0.0,
        diverge_threshold=1e9,
        verbose=False,
    )
    assert len(result.rates) == 12
    losses = np.asarray(result.losses)
    np.testing.assert_allclose((losses[:-1] - losses[1:]) / 4, result.rates[:-1], rtol=2e-3)


def test_gradient_accumulation_one_update_per_step(digits: Any) -> None:
    drawn = []

    def counted() -> Iterator[Any]:
        for batch in batches(digits):
            drawn.append(1)
            yield batch

    result = lrkit.jax.find_lr(
        loss_fn,
        init(),
        optimizers()["sgd"],
        counted(),
        num_steps=12,
        accumulation_steps=3,
        verbose=False,
    )
    assert len(drawn) == 36 and len(result.rates) == 12


def test_validation_loss_is_recorded(digits: Any) -> None:
    x, y = digits
    val = [(x[1500:1600], y[1500:1600]), (x[1600:1700], y[1600:1700])]
    result = lrkit.jax.find_lr(
        loss_fn,
        init(),
        optimizers()["sgd"],
        batches(digits),
        val_batches=val,
        num_steps=12,
        verbose=False,
    )
    assert result.monitor == "validation"


def test_bad_input_names_the_argument(digits: Any) -> None:
    params = init()
    sgd = optimizers()["sgd"]
    with pytest.raises(TypeError, match=r"`optimizer` must be built with optax.inject_hyperparams"):
        lrkit.jax.find_lr(loss_fn, params, optax.sgd(0.1), batches(digits))
    scheduled = optax.inject_hyperparams(optax.sgd)(learning_rate=optax.constant_schedule(0.1))
    with pytest.raises(ValueError, match=r"`optimizer` has a schedule as its learning_rate"):
        lrkit.jax.find_lr(loss_fn, params, scheduled, batches(digits))
    with pytest.raises(ValueError, match=r"`end_lr` must be > start_lr"):
        lrkit.jax.find_lr(loss_fn, params, sgd, batches(digits), start_lr=1.0, end_lr=1.0)
    with pytest.raises(ValueError, match=r"`num_steps` must be >= 10"):
        lrkit.jax.find_lr(loss_fn, params, sgd, batches(digits), num_steps=3)
    with pytest.raises(ValueError, match=r"`batches` has no batches"):
        lrkit.jax.find_lr(loss_fn, params, sgd, [])
    with pytest.raises(ValueError, match=r"loss of the first step is not finite \(loss=nan\)"):
        lrkit.jax.find_lr(loss_fn, params, sgd, batches(digits, at=0, nan=True), verbose=False)
    assert not math.isnan(float(loss_fn(params, next(batches(digits)))))
