"""lrkit.keras on TensorFlow, steering a run: plateau state saved and resumed exactly, the
horizon guard (callbacks and in-graph schedules), and Keras' own rate callbacks in the same
fit() named in a warning. Rates are read back from what the optimizer applied (``Probe``)."""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "tensorflow":
    pytest.skip("TensorFlow-backend suite", allow_module_level=True)

import lrkit  # noqa: E402
import lrkit.keras as lk  # noqa: E402
from test_keras_backends import (  # noqa: E402
    STEPS_PER_EPOCH,
    X,
    Y,
    assert_rates,
    fit,
    probe_model,
)

pytestmark = pytest.mark.keras


@pytest.fixture
def no_warnings() -> Iterator[None]:
    """Every warning is an error, except the DeprecationWarnings TensorFlow raises itself."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        yield


# -- plateau: reduces on a stalled metric, resumes exactly -----------------------------

SCHEDULE = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=6, end_lr=0.002), steps=2)
EPOCHS = 8


def reference_rate(t: float) -> float:
    """Linear warmup to 0.1 over 2 epochs, then cosine to 0.002 over 6 (written out)."""
    if t < 2:
        return 0.1 * t / 2
    u = min(t - 2, 6) / 6
    return 0.002 + (0.1 - 0.002) * 0.5 * (1 + math.cos(math.pi * u))


def keras_rule_factors(monitored: list[float], *, factor: float, patience: int, cooldown: int):
    """The factor in force during each epoch by Keras' documented rule (min, min_delta 0,
    min_lr 0): cooldown counted down first; a bad epoch outside cooldown counts; reduce on
    the patience-th."""
    best, wait, cool, c, during = None, 0, 0, 1.0, []
    for current in monitored:
        during.append(c)
        if cool > 0:
            cool, wait = cool - 1, 0
        if best is None or current < best:
            best, wait = current, 0
        elif cool == 0:
            wait += 1
            if wait >= patience:
                c, cool, wait = c * factor, cooldown, 0
    return during


def plateau() -> Any:
    return lk.ReduceOnPlateau(
        SCHEDULE, monitor="loss", factor=0.5, patience=1, cooldown=1, min_delta=0, per_batch=True
    )


def test_warmup_cosine_plateau_resumes_exactly_from_a_saved_state(tmp_path: Path) -> None:
    model = probe_model()
    whole = fit(model, EPOCHS, [plateau()])  # the probe's loss never improves after epoch 0
    losses = model.history.history["loss"]
    during = keras_rule_factors(losses, factor=0.5, patience=1, cooldown=1)
    t = np.arange(EPOCHS * STEPS_PER_EPOCH) / STEPS_PER_EPOCH
    expected = [reference_rate(x) * during[int(x)] for x in t]
    assert min(during) < 1.0
    assert_rates(whole.used, np.array(expected))

    first_model, first_callback = probe_model(), plateau()
    with pytest.warns(lrkit.HorizonWarning, match="ends at 8 epochs .40 updates. but training"):
        first = fit(first_model, 4, [first_callback])  # stops half-way: the guard says so
    first_model.save(tmp_path / "m.keras")
    (tmp_path / "plateau.json").write_text(json.dumps(first_callback.state_dict()))

    resumed, callback = keras.models.load_model(tmp_path / "m.keras"), plateau()
    callback.load_state_dict(json.loads((tmp_path / "plateau.json").read_text()))
    assert callback.state_dict() == first_callback.state_dict()
    rest = fit(resumed, EPOCHS, [callback], initial_epoch=4)
    assert first.used + rest.used == whole.used  # the same float32 rates, bit for bit


def test_load_state_refuses_other_options() -> None:
    state = plateau().state_dict()
    other = lk.ReduceOnPlateau(SCHEDULE, monitor="loss", factor=0.25)
    with pytest.raises(ValueError, match="other options"):
        other.load_state_dict(state)


# -- the horizon guard ------------------------------------------------------------------


def fit_8_batches(model: Any, epochs: int, callbacks: list[Any]) -> None:
    model.fit(
        np.ones((64, 1)), np.ones(64), batch_size=8, epochs=epochs, verbose=0, callbacks=callbacks
    )


def test_in_graph_epoch_schedule_without_steps_per_epoch_is_caught() -> None:
    # The case: "decays to 0 after 4 updates of an 8-batch epoch, silently".
    model = probe_model(lk.schedule(lrkit.cosine(start_lr=0.1, decay_steps=4)))
    with pytest.warns(lrkit.HorizonWarning) as caught:
        fit_8_batches(model, 4, [lk.HorizonCheck()])
    assert len(caught) == 1
    assert str(caught[0].message) == (
        "lrkit.keras.HorizonCheck: the schedule ends at 4 steps but training runs 32 updates "
        "(4 epochs): the rate reaches its end value early and the remaining updates are "
        "wasted; did you mean an epoch schedule? Read it in epochs: build it with "
        "lrkit.keras.schedule(s, steps_per_epoch=8)."
    )


@pytest.mark.parametrize(
    ("callback", "message"),
    [
        (  # an epoch schedule read in steps
            lambda: lk.LearningRateScheduler(lrkit.cosine(0.1, 4), unit="step"),
            "ends at 4 steps but training runs 20 updates .4 epochs.: the rate reaches its end "
            "value early.*did you mean an epoch schedule\\? Read it in epochs: give unit='epoch'",
        ),
        (  # a steps schedule read in epochs
            lambda: lk.LearningRateScheduler(lrkit.cosine(0.1, 20)),
            "ends at 20 epochs .100 updates. but training runs 20 updates .4 epochs.: the decay "
            "never finishes; did you mean a schedule of steps\\? Read it in updates: give "
            "unit='step'",
        ),
        (  # 10x longer
            lambda: lk.ReduceOnPlateau(lrkit.cosine(0.1, 40), monitor="loss"),
            "ends at 40 epochs .200 updates. but training runs 20 updates .4 epochs.: the decay "
            "never finishes; make the schedule 4 epochs long",
        ),
        (  # 10x shorter
            lambda: lk.LearningRateScheduler(lrkit.cosine(0.1, 2), unit="step"),
            "ends at 2 steps but training runs 20 updates",
        ),
    ],
)
def test_callbacks_check_the_horizon_once(callback: Any, message: str) -> None:
    cb = callback()
    with pytest.warns(lrkit.HorizonWarning, match=message) as caught:
        fit(probe_model(), 4, [cb])  # 4 epochs of 5 batches
        fit(probe_model(), 4, [cb])  # the same callback: said once
    assert len([w for w in caught if w.category is lrkit.HorizonWarning]) == 1


CORRECT = [
    lambda: [lk.HorizonCheck()],
    lambda: [lk.LearningRateScheduler(lrkit.cosine(0.1, 4))],
    lambda: [lk.LearningRateScheduler(lrkit.cosine(0.1, 4), per_batch=True)],
    lambda: [lk.LearningRateScheduler(lrkit.cosine(0.1, 32), unit="step")],
    lambda: [lk.LearningRateScheduler(lrkit.step(0.1, 1, 0.5))],  # no end
    lambda: [lk.LearningRateScheduler(lrkit.constant(0.1))],
    lambda: [lk.ReduceOnPlateau(lrkit.warmup(lrkit.cosine(0.1, 3), steps=1), monitor="loss")],
    lambda: [lk.LearningRateScheduler(lambda epoch: 0.1 * 0.5**epoch)],  # a function
]
IN_GRAPH = [
    lk.schedule(lrkit.cosine(0.1, 4), steps_per_epoch=8),
    lk.schedule(lrkit.warmup(lrkit.cosine(0.1, 24), steps=8)),
    lk.schedule(lrkit.inverse_sqrt(0.1, 10)),  # no end
]


@pytest.mark.parametrize("index", range(len(CORRECT) + len(IN_GRAPH)))
def test_correct_set_ups_say_nothing(index: int, no_warnings: None) -> None:
    if index < len(CORRECT):
        fit_8_batches(probe_model(), 4, CORRECT[index]())
    else:
        fit_8_batches(probe_model(IN_GRAPH[index - len(CORRECT)]), 4, [lk.HorizonCheck()])


# -- Keras' own rate callbacks in the same fit() ---------------------------------------


@pytest.mark.parametrize(
    "theirs",
    [
        lambda: keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=0),
        lambda: keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5),
    ],
    ids=["ReduceLROnPlateau", "LearningRateScheduler"],
)
def test_keras_own_rate_callback_is_named_once(theirs: Any) -> None:
    other = theirs()
    ours = lk.LearningRateScheduler(lrkit.cosine(0.1, 4))
    with pytest.warns(
        UserWarning,
        match=rf"keras\.callbacks\.{type(other).__name__} in the "
        "same fit\\(\\) sets the learning rate too",
    ) as caught:
        fit(probe_model(), 4, [ours, other])
    assert (
        len(
            [
                w
                for w in caught
                if "sets the learning rate" in str(w.message) or "was changed" in str(w.message)
            ]
        )
        == 1
    )


def test_a_rate_changed_behind_our_back_is_reported_once() -> None:
    class Halves(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.model.optimizer.learning_rate = 0.5 * float(self.model.optimizer.learning_rate)

    with pytest.warns(UserWarning, match="changed from 0.1 to 0.05 by another callback") as w:
        fit(probe_model(), 3, [lk.LearningRateScheduler(lrkit.constant(0.1)), Halves()])
    assert len([x for x in w if "changed from" in str(x.message)]) == 1


def test_x_y_are_the_probes() -> None:  # the helpers imported above are the shared ones
    assert X.shape[0] // 8 == STEPS_PER_EPOCH and Y.shape == X.shape
