"""The seed walkthrough in Keras: its five schedules, written with lrkit, drive real training.

    python examples/keras_seed.py                 # 12 epochs per schedule, a table at the end
    python examples/keras_seed.py --epochs 20

For each of the seed's five schedules this trains one small Keras model on scikit-learn's
bundled digits (8x8 images, no download) with ``lrkit.keras.LearningRateScheduler``, exactly
as the seed uses ``tf.keras.callbacks.LearningRateScheduler``, and checks that the learning
rate Keras logged in ``History`` at every epoch equals the seed's own function (copied below
as the seed wrote it) at that epoch. It raises if one differs.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras

import lrkit
import lrkit.keras

# -- the seed's functions, as the seed wrote them (with its parameters) -----------------------


def seed_constant(epoch):
    start_lr = 0.001
    return start_lr


def seed_time_based_decay(epoch):
    start_lr = 0.001
    decay = 0.1
    previous_lr = 1

    def lr(epoch, start_lr, decay):
        nonlocal previous_lr
        previous_lr *= start_lr / (1.0 + decay * epoch)
        return previous_lr

    return lr(epoch, start_lr, decay)


def seed_exponential_decay(epoch):
    start_lr = 0.001
    exp_decay = 0.1

    def lr(epoch, start_lr, exp_decay):
        return start_lr * math.exp(-exp_decay * epoch)

    return lr(epoch, start_lr, exp_decay)


def seed_constant_then_exponential_decay(epoch):
    start_lr = 0.001
    rampup_epochs = 10
    exp_decay = 0.1

    def lr(epoch, start_lr, rampup_epochs, exp_decay):
        if epoch < rampup_epochs:
            return start_lr
        else:
            return start_lr * math.exp(-exp_decay * epoch)

    return lr(epoch, start_lr, rampup_epochs, exp_decay)


def seed_one_cycle(epoch):
    start_lr = 0.0001
    min_lr = 0.00001
    max_lr = 0.001
    rampup_epochs = 10
    sustain_epochs = 0
    exp_decay = 0.8

    def lr(epoch, start_lr, min_lr, max_lr, rampup_epochs, sustain_epochs, exp_decay):
        if epoch < rampup_epochs:
            lr = (max_lr - start_lr) / rampup_epochs * epoch + start_lr
        elif epoch < rampup_epochs + sustain_epochs:
            lr = max_lr
        else:
            lr = (max_lr - min_lr) * exp_decay ** (epoch - rampup_epochs - sustain_epochs) + min_lr
        return lr

    return lr(epoch, start_lr, min_lr, max_lr, rampup_epochs, sustain_epochs, exp_decay)


# -- the same five with lrkit: one line each ----------------------------------------------------

SCHEDULES: dict[str, tuple[lrkit.Schedule, Callable[[int], float]]] = {
    "Constant": (lrkit.constant(start_lr=0.001), seed_constant),
    "Time-based decay": (
        lrkit.time_based_decay(start_lr=0.001, decay=0.1),
        seed_time_based_decay,
    ),
    "Exponential decay": (
        lrkit.exponential_decay(start_lr=0.001, exp_decay=0.1),
        seed_exponential_decay,
    ),
    "Constant then exponential decay": (
        lrkit.constant_then_exponential_decay(start_lr=0.001, rampup_epochs=10, exp_decay=0.1),
        seed_constant_then_exponential_decay,
    ),
    "One cycle": (
        lrkit.one_cycle(
            start_lr=0.0001,
            min_lr=0.00001,
            max_lr=0.001,
            rampup_epochs=10,
            sustain_epochs=0,
            exp_decay=0.8,
        ),
        seed_one_cycle,
    ),
}


def load_digits(samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits (1,797 images of 8x8 pixels), scaled to [0, 1]."""
    from sklearn.datasets import load_digits as sklearn_digits

    data = sklearn_digits()
    x, y = (data.data / 16.0).astype("float32"), data.target
    return (x, y) if samples is None else (x[:samples], y[:samples])


def build_model() -> Any:
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    # The starting rate does not matter: the callback sets it before the first epoch.
    model.compile(
        keras.optimizers.Adam(learning_rate=0.001),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main(epochs: int = 12, samples: int | None = None, verbose: int = 1) -> dict[str, Any]:
    """Train one model per schedule; return each ``History.history``. Raises on a mismatch."""
    x, y = load_digits(samples)
    histories: dict[str, Any] = {}
    for name, (schedule, seed_function) in SCHEDULES.items():
        keras.utils.set_random_seed(0)
        model = build_model()
        callback = lrkit.keras.LearningRateScheduler(schedule, verbose=0)
        history = model.fit(
            x, y, batch_size=32, epochs=epochs, validation_split=0.2, verbose=0,
            callbacks=[callback],
        )  # fmt: skip
        logged = np.array(history.history["learning_rate"])
        seed = np.array([seed_function(epoch) for epoch in range(epochs)])
        # History holds the optimizer's float32 variable: equal to float32 precision.
        if not np.allclose(logged, seed, rtol=1e-6, atol=0.0):
            raise RuntimeError(f"{name}: the logged rates {logged} differ from the seed's {seed}")
        histories[name] = history.history
        if verbose:
            accuracy = history.history["val_accuracy"][-1]
            print(
                f"{name:33s} rate at epoch 0: {logged[0]:.6f}, at epoch {epochs - 1}: "
                f"{logged[-1]:.6f}; validation accuracy {accuracy:.3f}; equal to the seed's."
            )
    return histories


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=12)
    main(parser.parse_args().epochs)
