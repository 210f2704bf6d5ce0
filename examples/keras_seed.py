"""The seed walkthrough in Keras: its five schedules, written with lrkit, drive real training.

    python examples/keras_seed.py                 # 12 epochs per schedule, a table at the end
    python examples/keras_seed.py --epochs 20

For each of the seed's five schedules this trains one small Keras model on scikit-learn's
bundled digits (8x8 images, no download) with ``lrkit.keras.LearningRateScheduler``, exactly
as the seed uses ``tf.keras.callbacks.LearningRateScheduler``, and checks that the learning
rate Keras logged in ``History`` at every epoch equals the seed's own function (in ``seed.py``,
as the seed wrote it) at that epoch. It raises if one differs.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
from seed import SCHEDULES

import lrkit
import lrkit.keras


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
