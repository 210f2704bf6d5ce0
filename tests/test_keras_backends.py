"""lrkit.keras on every Keras backend: run once per backend, each in its own process.

    .venv/bin/pytest tests/test_keras_backends.py                        # TensorFlow
    KERAS_BACKEND=jax .venv/bin/pytest tests/test_keras_backends.py
    KERAS_BACKEND=torch .venv/bin/pytest tests/test_keras_backends.py

The rates are read back from what the optimizer really applied: a one-weight model whose
gradient is exactly -1 and whose weight is reset to 0 before each batch ends the batch holding
the learning rate used by that update. Other Keras test modules import these helpers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

import lrkit  # noqa: E402
import lrkit.keras as lk  # noqa: E402

pytestmark = pytest.mark.keras

# 40 samples in batches of 8: 5 updates per epoch.
X = np.ones((40, 1), "float32")
Y = np.full((40, 1), 1e6, "float32")  # far above the prediction: d(MAE)/d(weight) = -1 exactly
BATCH = 8
STEPS_PER_EPOCH = 5


def test_backend_is_the_requested_one() -> None:
    assert keras.backend.backend() == os.environ.get("KERAS_BACKEND", "tensorflow")


def value(x: Any) -> np.ndarray:
    """A Keras variable or tensor of any backend as NumPy."""
    x = x.value if isinstance(x, keras.Variable) else x
    x = x.detach() if hasattr(x, "detach") else x  # torch
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


class Probe(keras.callbacks.Callback):  # type: ignore[misc]
    """Records, for each batch, the optimizer's step, the rate it reports and the rate it used."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[int] = []
        self.read: list[float] = []
        self.used: list[float] = []

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        model = self.model
        self.steps.append(int(value(model.optimizer.iterations)))
        self.read.append(float(value(model.optimizer.learning_rate)))
        model.layers[-1].kernel.assign(np.zeros((1, 1), "float32"))

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self.used.append(float(value(self.model.layers[-1].kernel)[0, 0]))


def probe_model(learning_rate: Any = 0.5) -> Any:
    model = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros"),
        ]
    )
    model.compile(keras.optimizers.SGD(learning_rate=learning_rate), loss="mae")
    return model


def fit(model: Any, epochs: int, callbacks: list[Any], initial_epoch: int = 0) -> Probe:
    probe = Probe()
    model.fit(
        X,
        Y,
        batch_size=BATCH,
        epochs=epochs,
        initial_epoch=initial_epoch,
        shuffle=False,
        verbose=0,
        callbacks=[*callbacks, probe],
    )
    return probe


def assert_rates(got: list[float], expected: np.ndarray) -> None:
    """float32 rates against the float64 schedule."""
    scale = float(np.max(np.abs(expected)))
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-6 * scale)


WARMUP_COSINE = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=12, end_lr=0.001), steps=4)


@pytest.mark.parametrize(
    "s",
    [
        WARMUP_COSINE,
        lrkit.one_cycle_policy(max_lr=0.1, total_steps=16),
        lrkit.piecewise_constant([3, 7], [0.1, 0.05, 0.01]),
        lrkit.cosine_restarts(0.1, first_decay_steps=4, t_mul=2.0, m_mul=0.5),
        # XLA (JAX) divides by 7 as a product with float32(1/7): 21 * (1/7) rounds above 3.
        lrkit.polynomial(0.1, decay_steps=7, power=2.0, cycle=True, end_lr=0.0),
    ],
    ids=lambda s: s.name,
)
def test_in_graph_rate_equals_schedule_at_every_step(s: lrkit.Schedule) -> None:
    probe = fit(probe_model(lk.schedule(s)), epochs=5, callbacks=[])
    assert probe.steps == list(range(5 * STEPS_PER_EPOCH))
    assert_rates(probe.used, s(np.arange(5 * STEPS_PER_EPOCH)))


def test_in_graph_schedule_in_epochs() -> None:
    s = lrkit.linear(start_lr=0.1, end_lr=0.0, decay_steps=3)  # three epochs long
    probe = fit(probe_model(lk.schedule(s, steps_per_epoch=STEPS_PER_EPOCH)), 4, [])
    assert_rates(probe.used, s(np.arange(4 * STEPS_PER_EPOCH) / STEPS_PER_EPOCH))


def compiled(fn: Any) -> Any:
    """``fn`` compiled the way the backend compiles a train step (XLA for JAX)."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.jit(fn)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    return fn


def test_in_graph_epochs_start_on_whole_numbers() -> None:
    s = lrkit.multistep(start_lr=0.1, milestones=[1, 2, 3], gamma=0.5)  # in epochs
    f = compiled(lk.schedule(s, steps_per_epoch=41))
    steps = np.array([0, 40, 41, 81, 82, 122, 123])
    got = [float(value(f(np.int64(k)))) for k in steps]
    assert_rates(got, s(steps / 41))


def test_callback_per_epoch() -> None:
    s = lrkit.exponential_decay(start_lr=0.1, exp_decay=0.5)
    probe = fit(probe_model(), 3, [lk.LearningRateScheduler(s)])
    epochs = np.repeat(np.arange(3), STEPS_PER_EPOCH)
    assert_rates(probe.used, s(epochs))
    assert_rates(probe.read, s(epochs))


def test_callback_per_batch_in_epochs() -> None:
    cb = lk.LearningRateScheduler(WARMUP_COSINE, per_batch=True)
    probe = fit(probe_model(), 3, [cb])
    t = np.arange(3 * STEPS_PER_EPOCH) / STEPS_PER_EPOCH  # epoch + batch / steps_per_epoch
    assert_rates(probe.used, WARMUP_COSINE(t))


def test_callback_per_step_and_a_function() -> None:
    def schedule(step: int) -> float:
        return 0.1 / (1 + step)

    probe = fit(probe_model(), 2, [lk.LearningRateScheduler(schedule, unit="step")])
    assert_rates(probe.used, 0.1 / (1 + np.arange(2 * STEPS_PER_EPOCH)))


def test_in_graph_save_load_and_resume(tmp_path: Path) -> None:
    s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=20), steps=5)
    whole = fit(probe_model(lk.schedule(s)), 6, [])

    model = probe_model(lk.schedule(s))
    first = fit(model, 3, [])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert (
        loaded.optimizer.get_config()["learning_rate"]
        == model.optimizer.get_config()["learning_rate"]
    )
    rest = fit(loaded, 6, [], initial_epoch=3)
    assert first.used + rest.used == whole.used
    assert_rates(whole.used, s(np.arange(6 * STEPS_PER_EPOCH)))


def test_momentum_follows_its_schedule() -> None:
    """SGD's velocity obeys v' = m v + lr when the gradient is -1: m is read back from it."""
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    model.compile(keras.optimizers.SGD(learning_rate=1.0, momentum=0.5), loss="mae")
    momentum = lrkit.linear(start_lr=0.9, end_lr=0.6, decay_steps=3)
    cb = lk.LearningRateScheduler(lrkit.constant(1.0), hyperparameters={"momentum": momentum})

    class Velocity(keras.callbacks.Callback):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.values: list[float] = []

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self.values.append(float(value(self.model.optimizer.momentums[0])[0, 0]))

    velocity = Velocity()
    history = model.fit(X, Y, batch_size=BATCH, epochs=4, verbose=0, callbacks=[cb, velocity])
    v = np.array(velocity.values)
    used = (v[1:] - 1.0) / v[:-1]  # v' = m v + lr  =>  m = (v' - lr) / v, from the 2nd update
    expected = momentum(np.repeat(np.arange(4), STEPS_PER_EPOCH))
    np.testing.assert_allclose(used, expected[1:], rtol=1e-5)
    np.testing.assert_allclose(history.history["momentum"], momentum(np.arange(4)))
