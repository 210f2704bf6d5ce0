"""One time conversion for every adapter: the torch scheduler, the Keras callback and the Keras
in-graph schedule read a schedule at the times ``lrkit.stretch`` computes, bit for bit; and
the array namespaces are built once per (library, dtype) and cannot be changed."""

from __future__ import annotations

import numpy as np
import pytest

import lrkit
from lrkit._ops import namespace

STEPS_PER_EPOCH = 391
EPOCH_SCHEDULE = lrkit.cosine(0.1, 10)  # 10 epochs of 391 updates: 3,910 updates


def test_namespaces_are_shared_and_immutable() -> None:
    a, _ = namespace(np.zeros(3))
    b, _ = namespace(np.arange(5))  # ints are computed in float64
    c, _ = namespace(np.zeros(3, dtype=np.float32))
    assert a is b and a is not c and c.dtype == np.float32
    with pytest.raises(AttributeError, match="immutable"):
        a.dtype = np.float32  # type: ignore[misc]


@pytest.mark.torch
def test_torch_epoch_schedule_equals_stretch_at_every_update() -> None:
    import torch

    import lrkit.torch

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = lrkit.torch.LRScheduler(
        optimizer, EPOCH_SCHEDULE, unit="epoch", steps_per_epoch=STEPS_PER_EPOCH
    )
    rates = []
    for _ in range(10 * STEPS_PER_EPOCH + 50):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    per_update = lrkit.stretch(EPOCH_SCHEDULE, STEPS_PER_EPOCH)
    expected = [per_update(k) for k in range(len(rates))]
    assert rates == expected  # bit for bit, every update
    # ... and the vectorized call agrees too
    np.testing.assert_array_equal(rates, per_update(np.arange(len(rates))))


@pytest.mark.keras
def test_keras_in_graph_and_per_batch_callback_equal_stretch() -> None:
    import keras
    import tensorflow as tf

    import lrkit.keras

    in_graph = lrkit.keras.schedule(EPOCH_SCHEDULE, steps_per_epoch=STEPS_PER_EPOCH)
    steps = np.arange(0, 10 * STEPS_PER_EPOCH + 50)
    got = keras.ops.convert_to_numpy(in_graph(keras.ops.convert_to_tensor(steps)))
    per_update = lrkit.stretch(EPOCH_SCHEDULE, STEPS_PER_EPOCH)
    expected = per_update(tf.constant(steps, dtype=tf.float32)).numpy()  # TF float32, no Keras
    np.testing.assert_array_equal(got, expected)

    # the per-batch callback sets schedule(epoch + batch / steps): the same times, in float64
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    seen: list[float] = []

    class Record(keras.callbacks.Callback):  # type: ignore[misc]
        def on_train_batch_begin(self, batch: int, logs: object = None) -> None:
            seen.append(float(np.float64(self.model.optimizer.learning_rate.numpy())))

    x = np.zeros((8 * 5, 1), dtype=np.float32)
    callback = lrkit.keras.LearningRateScheduler(EPOCH_SCHEDULE, per_batch=True)
    model.fit(x, x, batch_size=8, epochs=2, verbose=0, callbacks=[callback, Record()])
    stretched = lrkit.stretch(EPOCH_SCHEDULE, 5)
    np.testing.assert_array_equal(
        seen, np.float32([stretched(k) for k in range(10)]).astype(np.float64)
    )
