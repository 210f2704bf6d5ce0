"""The demo's model and training loop in Keras (on the active Keras backend)."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from lrkit import Schedule
from lrkit.demo.recipes import HIDDEN, MOMENTUM
from lrkit.demo.runs import Progress, status

if TYPE_CHECKING:
    from lrkit.demo.data import Dataset

__all__ = ["STEPS_PER_EXECUTION", "train_keras"]

#: Steps the train step runs per call from Python (Keras' ``steps_per_execution``): an epoch is
#: about 3x faster than one call per batch on 2 cores. Per-batch callbacks need 1.
STEPS_PER_EXECUTION = 50


def train_keras(
    data: Dataset,
    schedule: Schedule,
    epochs: int,
    seed: int,
    update: str,
    batch_size: int,
    progress: Progress | None,
) -> list[float]:
    import keras

    import lrkit.keras

    # One model per run: TensorFlow would warn that each new train step is "retraced".
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    keras.backend.clear_session()  # forget earlier runs' models (memory, layer names)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((data.features,)),
            keras.layers.Dense(HIDDEN, activation="relu"),
            keras.layers.Dense(len(data.classes)),
        ]
    )
    steps = math.ceil(len(data.x_train) / batch_size)
    callbacks: list[Any] = []
    if update == "step":
        rate: Any = lrkit.keras.schedule(schedule, steps_per_epoch=steps)
    else:
        rate = float(schedule(0))
        callbacks.append(lrkit.keras.LearningRateScheduler(schedule))
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=rate, momentum=MOMENTUM),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        steps_per_execution=min(STEPS_PER_EXECUTION, steps),
    )
    if progress is not None:
        callbacks.append(_keras_progress(keras, progress, epochs, steps))
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=batch_size,
        epochs=epochs,
        shuffle=True,
        validation_data=(data.x_test, data.y_test),
        validation_batch_size=1000,
        callbacks=callbacks,
        verbose=0,
    )
    return [float(a) for a in history.history["val_accuracy"]]


def _keras_progress(keras: Any, progress: Progress, epochs: int, steps: int) -> Any:
    class KerasProgress(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epoch = epoch
            self.accuracy: float | None = getattr(self, "accuracy", None)

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            fraction = (self.epoch + (batch + 1) / steps) / epochs
            progress.update(fraction, status(self.epoch + 1, epochs, self.accuracy))

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.accuracy = float((logs or {}).get("val_accuracy", math.nan))
            progress.update((epoch + 1) / epochs, status(epoch + 1, epochs, self.accuracy))

    return KerasProgress()
