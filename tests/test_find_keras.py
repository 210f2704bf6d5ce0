"""lrkit.keras.find_lr on a real small Keras model (digits, BatchNorm, dropout): the sweep it
ran, where it stopped, and that everything is put back, bit for bit."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import lrkit  # noqa: E402
import lrkit.keras  # noqa: E402

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16).astype("float32"), d.target.astype("int32")


def make(rate: Any = None, compile: bool = True, **optimizer: Any) -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(32),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Dropout(0.2, seed=3),
            keras.layers.Dense(10),
        ]
    )
    if compile:
        lr = keras.optimizers.schedules.CosineDecay(0.05, 100) if rate is None else rate
        model.compile(
            optimizer=keras.optimizers.SGD(lr, momentum=0.9, **optimizer),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    return model


def train(model: Any, data: tuple[np.ndarray, np.ndarray], steps: int) -> list[float]:
    x, y = data
    return [
        float(model.train_on_batch(x[i * 64 : (i + 1) * 64], y[i * 64 : (i + 1) * 64])[0])
        for i in range(steps)
    ]


def global_seed_state() -> Any:
    from keras.src.backend.common import global_state

    generator = global_state.get_global_attribute("global_seed_generator")
    return None if generator is None else generator.state.numpy().copy()


def snapshot(model: Any) -> dict[str, Any]:
    opt = model.optimizer
    return {
        "model": [v.numpy().copy() for v in model.variables],
        "metrics": [v.numpy().copy() for v in model.metrics_variables],
        "optimizer": [v.numpy().copy() for v in opt.variables],
        "rate": opt._learning_rate,
        "rate now": float(opt.learning_rate),
        "python": random.getstate(),
        "numpy": np.random.get_state()[1].copy(),
        "keras seed": global_seed_state(),
    }


def assert_same(before: dict[str, Any], after: dict[str, Any]) -> None:
    for key in before:
        a, b = before[key], after[key]
        if isinstance(a, list):
            assert len(a) == len(b), key
            assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True)), key
        elif isinstance(a, np.ndarray):
            assert np.array_equal(a, b), key
        elif key == "rate":
            assert a is b, key
        else:
            assert a == b, key


def batches(
    data: tuple[np.ndarray, np.ndarray], at: int = 10**9, nan: bool = False, error: Any = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The digits in batches of 64, drawing from every global generator as it goes; from
    batch ``at`` on, NaN inputs or ``error`` raised."""
    x, y = data
    for k in range(10**6):
        random.random()
        np.random.random()
        keras.random.normal((1,))  # Keras' global seed generator
        i = (k * 64) % (len(x) - 64)
        xb = x[i : i + 64]
        if k >= at:
            if error is not None:
                raise error
            if nan:
                xb = np.full_like(xb, np.nan)
        yield xb, y[i : i + 64]


@pytest.mark.parametrize(
    "case", ["completed", "diverged", "nan", "keyboard-interrupt", "error", "variable-rate"]
)
def test_everything_is_restored_bit_for_bit(digits: Any, case: str) -> None:
    model = make(rate=0.05 if case == "variable-rate" else None)
    train(model, digits, 3)  # slots, iterations, built metrics
    random.seed(1)
    np.random.seed(2)
    keras.random.normal((1,))
    before = snapshot(model)
    kwargs: dict[str, Any] = {"start_lr": 1e-4, "end_lr": 1.0, "num_steps": 20, "verbose": False}
    data: Any = batches(digits)
    if case == "diverged":
        kwargs.update(end_lr=1e5, num_steps=200)
    if case == "nan":
        data = batches(digits, at=8, nan=True)
    if case in ("keyboard-interrupt", "error"):
        error = KeyboardInterrupt() if case == "keyboard-interrupt" else RuntimeError("data failed")
        with pytest.raises(type(error)):
            lrkit.keras.find_lr(model, batches(digits, at=6, error=error), **kwargs)
    else:
        result = lrkit.keras.find_lr(model, data, **kwargs)
        assert result.reason == {"diverged": "diverged", "nan": "non-finite"}.get(case, "completed")
        if case == "nan":
            assert result.stopped_at == 8 and math.isnan(result.losses[-1])
    assert_same(before, snapshot(model))


def test_training_after_the_test_is_the_training_without_it(digits: Any) -> None:
    """The next updates (dropout from its seed generator, momentum, the schedule on the
    iteration counter, BatchNorm statistics) are the same, bit for bit; also when the
    optimizer had not been built before the test."""
    for warm in (3, 0):
        runs = []
        for run_test in (False, True):
            model = make()
            train(model, digits, warm)
            if run_test:
                lrkit.keras.find_lr(model, *digits, batch_size=64, num_steps=30, verbose=False)
            losses = train(model, digits, 10)
            runs.append((losses, [v.numpy() for v in model.variables]))
        assert runs[0][0] == runs[1][0]
        assert all(np.array_equal(a, b) for a, b in zip(runs[0][1], runs[1][1], strict=True))


@pytest.mark.parametrize("mode", ["exponential", "linear"])
def test_rates_are_the_closed_form(digits: Any, mode: str) -> None:
    start, end, n = 1e-5, 0.5, 40
    result = lrkit.keras.find_lr(
        make(),
        *digits,
        batch_size=64,
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


def test_the_rate_applied_at_each_step_is_the_recorded_one(digits: Any) -> None:
    """Plain SGD on a linear model with a mean-squared loss: each update moves the bias by
    exactly -rate * gradient, and the gradient is known; so the rate of every update can be
    read back from the bias."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.zeros((8, 1), "float32")  # the kernel gets no gradient; the bias gets 2 (b - y)
    y = np.ones((8, 1), "float32")
    model.train_on_batch(x, y)  # a train function traced with the compiled rate exists
    before = float(model.layers[0].bias.numpy()[0])
    seen: list[float] = []

    class Record:
        def __iter__(self) -> Iterator[Any]:
            while True:
                seen.append(float(model.layers[0].bias.numpy()[0]))
                yield x, y

    result = lrkit.keras.find_lr(
        model,
        Record(),
        start_lr=1e-3,
        end_lr=0.1,
        num_steps=12,
        diverge_threshold=1e9,
        verbose=False,
    )
    seen.append(float(model.layers[0].bias.numpy()[0]))  # restored
    applied = [(seen[k] - seen[k + 1]) / (2 * (seen[k] - 1)) for k in range(len(result.rates) - 1)]
    np.testing.assert_allclose(applied, result.rates[:-1], rtol=1e-4)
    assert len(result.rates) == 12 and seen[-1] == before


def test_it_stops_within_one_step_of_the_rule(digits: Any) -> None:
    result = lrkit.keras.find_lr(
        make(), *digits, batch_size=64, start_lr=1e-3, end_lr=1e4, num_steps=300, verbose=False
    )
    assert result.reason == "diverged"
    beta, average, best, stop = 0.98, 0.0, math.inf, None
    for k, loss in enumerate(result.losses):
        average = beta * average + (1 - beta) * loss
        s = average / (1 - beta ** (k + 1))
        best = min(best, s)
        if not math.isfinite(s) or s > 4 * best:
            stop = k
            break
    assert stop is not None and abs(len(result.rates) - (stop + 1)) <= 1


def test_gradient_accumulation_is_respected(digits: Any) -> None:
    model = make(gradient_accumulation_steps=2)
    train(model, digits, 2)
    drawn = []

    def counted() -> Iterator[Any]:
        for batch in batches(digits):
            drawn.append(1)
            yield batch

    before = snapshot(model)
    result = lrkit.keras.find_lr(model, counted(), num_steps=15, verbose=False)
    assert result.accumulation_steps == 2 and len(result.rates) == 15
    assert len(drawn) == 30
    assert_same(before, snapshot(model))


def test_validation_loss_is_recorded(digits: Any) -> None:
    x, y = digits
    result = lrkit.keras.find_lr(
        make(),
        x[:1200],
        y[:1200],
        batch_size=64,
        validation_data=(x[1200:1500], y[1200:1500]),
        num_steps=12,
        start_lr=1e-4,
        end_lr=1e-3,
        verbose=False,
    )
    assert result.monitor == "validation" and len(result.losses) == 12


def test_bad_input_names_the_argument(digits: Any) -> None:
    x, y = digits
    with pytest.raises(ValueError, match=r"`model` must be compiled"):
        lrkit.keras.find_lr(make(compile=False), x, y)
    model = make()
    with pytest.raises(ValueError, match=r"`end_lr` must be > start_lr.*end_lr=0.01"):
        lrkit.keras.find_lr(model, x, y, start_lr=0.1, end_lr=0.01)
    with pytest.raises(ValueError, match=r"`num_steps` must be >= 10.*num_steps=9"):
        lrkit.keras.find_lr(model, x, y, num_steps=9)
    with pytest.raises(ValueError, match=r"`x` has no samples"):
        lrkit.keras.find_lr(model, x[:0], y[:0])
    with pytest.raises(ValueError, match=r"`x` has no batches"):
        lrkit.keras.find_lr(model, iter([]))
    train(model, digits, 1)  # the metrics are built: all there is to compare is there before
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"loss of the first step is not finite \(loss=nan\)"):
        lrkit.keras.find_lr(model, batches(digits, at=0, nan=True), verbose=False)
    after = snapshot(model)
    before.pop("python"), before.pop("numpy"), before.pop("keras seed")  # batches() drew
    assert_same(before, {k: after[k] for k in before})
