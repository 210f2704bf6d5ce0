"""lrkit.keras on the TensorFlow backend: the drop-in callback, per-batch rates, in-graph
schedules that save and load, resume, plateau reduction on a schedule, other hyperparameters.

Rates are read back from what the optimizer applied (see ``Probe`` in test_keras_backends.py).
"""

from __future__ import annotations

import doctest
import math
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "tensorflow":
    pytest.skip("TensorFlow-backend suite (see test_keras_backends.py)", allow_module_level=True)

import lrkit  # noqa: E402
import lrkit.keras as lk  # noqa: E402
from test_keras_backends import (  # noqa: E402
    BATCH,
    STEPS_PER_EPOCH,
    Probe,
    X,
    Y,
    assert_rates,
    fit,
    probe_model,
    value,
)

pytestmark = pytest.mark.keras
ROOT = Path(__file__).resolve().parents[1]


def digits(n: int = 256) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.data[:n] / 16.0).astype("float32"), data.target[:n]


def mlp(learning_rate: float = 0.05, metrics: list[str] | None = None) -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.SGD(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=metrics,
    )
    return model


def fit_digits(model: Any, callbacks: list[Any], epochs: int = 4) -> dict[str, list[float]]:
    x, y = digits()
    history = model.fit(
        x, y, batch_size=64, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks
    )
    return dict(history.history)


# -- the seed's functions, verbatim ----------------------------------------------------


def seed_time_based_decay(epoch: int) -> float:
    start_lr = 0.001
    decay = 0.1
    previous_lr = 1

    def lr(epoch: int, start_lr: float, decay: float) -> float:
        nonlocal previous_lr
        previous_lr *= start_lr / (1.0 + decay * epoch)
        return previous_lr

    return lr(epoch, start_lr, decay)


def halve_from_epoch_two(epoch: int, lr: float) -> float:
    return lr if epoch < 2 else lr * 0.5


# -- drop-in for keras.callbacks.LearningRateScheduler ---------------------------------


@pytest.mark.parametrize("fn", [seed_time_based_decay, halve_from_epoch_two])
def test_same_history_and_messages_as_keras_callback(
    fn: Callable[..., float], capsys: pytest.CaptureFixture[str]
) -> None:
    ours = fit_digits(mlp(), [lk.LearningRateScheduler(fn, verbose=1)])
    our_lines = capsys.readouterr().out
    theirs = fit_digits(mlp(), [keras.callbacks.LearningRateScheduler(fn, verbose=1)])
    their_lines = capsys.readouterr().out
    assert ours.keys() == theirs.keys() == {"loss", "learning_rate"}
    assert ours["learning_rate"] == theirs["learning_rate"]
    np.testing.assert_allclose(ours["loss"], theirs["loss"], rtol=1e-6)
    assert our_lines == their_lines
    assert "Epoch 3: LearningRateScheduler setting learning rate to" in our_lines


def test_per_epoch_rates_equal_schedule_at_each_epoch() -> None:
    s = lrkit.one_cycle(0.0001, 0.00001, 0.001, rampup_epochs=2, sustain_epochs=1, exp_decay=0.8)
    model = probe_model()
    probe = fit(model, 5, [lk.LearningRateScheduler(s)])
    assert_rates(probe.used, s(np.repeat(np.arange(5), STEPS_PER_EPOCH)))
    assert model.history.history["learning_rate"] == [float(np.float32(s(e))) for e in range(5)]


def test_per_batch_rates_follow_fractional_epochs(capsys: pytest.CaptureFixture[str]) -> None:
    s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=3), steps=1)
    x, y = np.ones((44, 1), "float32"), np.full((44, 1), 1e6, "float32")  # 6 batches, last of 4
    probe = Probe()
    probe_model().fit(
        x,
        y,
        batch_size=8,
        epochs=3,
        shuffle=False,
        verbose=0,
        callbacks=[lk.LearningRateScheduler(s, verbose=1, per_batch=True), probe],
    )
    epoch, batch = np.divmod(np.arange(18), 6)
    assert_rates(probe.read, s(epoch + batch / 6))  # what the optimizer reports
    assert_rates(probe.used, s(epoch + batch / 6))  # what the update applied
    assert capsys.readouterr().out.count("LearningRateScheduler setting learning rate") == 3


def test_per_batch_needs_steps_per_epoch_when_keras_does_not_know() -> None:
    s = lrkit.linear(start_lr=0.1, end_lr=0.0, decay_steps=2)

    def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:  # a generator has no length
        for _ in range(STEPS_PER_EPOCH):
            yield X[:BATCH], Y[:BATCH]

    with pytest.raises(ValueError, match="steps_per_epoch"):
        probe_model().fit(batches(), callbacks=[lk.LearningRateScheduler(s, per_batch=True)])
    probe = Probe()
    callback = lk.LearningRateScheduler(s, per_batch=True, steps_per_epoch=STEPS_PER_EPOCH)
    probe_model().fit(batches(), verbose=0, callbacks=[callback, probe])
    assert_rates(probe.used, s(np.arange(STEPS_PER_EPOCH) / STEPS_PER_EPOCH))

    wrong = lk.LearningRateScheduler(s, per_batch=True, steps_per_epoch=7)
    with pytest.raises(ValueError, match=r"differs from the 5 batches per epoch"):
        fit(probe_model(), 1, [wrong])


def test_unit_step_counts_optimizer_updates_across_fits() -> None:
    s = lrkit.cosine(start_lr=0.1, decay_steps=12)
    model = probe_model()
    first = fit(model, 1, [lk.LearningRateScheduler(s, unit="step")])
    second = fit(model, 2, [lk.LearningRateScheduler(s, unit="step")])  # iterations go on
    assert second.steps == list(range(STEPS_PER_EPOCH, 3 * STEPS_PER_EPOCH))
    assert_rates(first.used + second.used, s(np.arange(3 * STEPS_PER_EPOCH)))


class TwoUpdatesPerBatch(keras.Sequential):  # type: ignore[misc]
    """A custom train step that updates the optimizer twice per batch."""

    def train_step(self, data: Any) -> Any:
        super().train_step(data)
        return super().train_step(data)


def one_weight(model: Any, optimizer: Any) -> Any:
    model.add(keras.Input((1,)))
    model.add(keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros"))
    model.compile(optimizer, loss="mae")
    return model


@pytest.mark.parametrize("kind", ["two updates per batch", "skipped updates"])
def test_unit_step_follows_the_optimizer_when_batches_and_updates_differ(kind: str) -> None:
    """The rate is schedule(optimizer.iterations) even when a batch makes two updates (a custom
    train step) or none (a LossScaleOptimizer skips updates with non-finite gradients)."""
    s = lrkit.linear(0.1, decay_steps=40, end_lr=0.0)
    if kind == "two updates per batch":
        model = one_weight(TwoUpdatesPerBatch(), keras.optimizers.SGD(0.5))
        x = X
    else:
        # Gradients of 4 * scale: inf at scales 2^127 and 2^126, so the first two are skipped.
        optimizer = keras.optimizers.LossScaleOptimizer(
            keras.optimizers.SGD(0.5), initial_scale=2.0**127
        )
        model, x = one_weight(keras.Sequential(), optimizer), 4 * X
    probe = Probe()
    callback = lk.LearningRateScheduler(s, unit="step")
    model.fit(
        x, Y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0, callbacks=[callback, probe]
    )
    steps = probe.steps
    if kind == "two updates per batch":
        assert steps == list(range(0, 4 * STEPS_PER_EPOCH, 2))
    else:
        assert steps[:4] == [0, 0, 0, 1]
    assert_rates(probe.read, s(np.array(steps)))


class Nudge(keras.callbacks.Callback):  # type: ignore[misc]
    """Adds 3 to the optimizer's counter after the second update."""

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if self.model.optimizer.iterations.numpy() == 2:
            self.model.optimizer.iterations.assign_add(3)


def test_unit_step_in_graph_follows_the_counter_when_something_else_moves_it() -> None:
    """On TensorFlow a step schedule runs in the train step, which reads the counter itself:
    every update uses schedule(optimizer.iterations), with nothing to warn about."""
    s = lrkit.linear(0.1, decay_steps=40, end_lr=0.0)
    model, probe = probe_model(), Probe()
    callbacks = [lk.LearningRateScheduler(s, unit="step"), Nudge(), probe]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, Y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0, callbacks=callbacks)
    assert not [w for w in caught if "optimizer.iterations is" in str(w.message)]
    assert probe.steps == [0, 1, 5, 6, 7, *range(8, 13)]
    assert_rates(probe.used, s(np.array(probe.steps)))


def test_unit_step_in_graph_counts_updates_under_gradient_accumulation() -> None:
    """With gradient_accumulation_steps=2 the optimizer's iterations count updates (a tensor
    computed from its counter of micro-batches, not a variable): the in-step rate follows it."""
    s = lrkit.linear(0.1, decay_steps=40, end_lr=0.0)
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    optimizer = keras.optimizers.SGD(learning_rate=0.5, gradient_accumulation_steps=2)
    model.compile(optimizer, loss="mae")
    callback = lk.LearningRateScheduler(s, unit="step")
    probe = fit(model, 2, [callback])
    batches = 2 * STEPS_PER_EPOCH
    assert probe.steps == [k // 2 for k in range(batches)]  # two micro-batches per update
    assert_rates(probe.read, s(np.array(probe.steps)))
    last_update = batches // 2 - 1  # after the fit the rate is the last update's
    assert float(value(optimizer.learning_rate)) == pytest.approx(s(last_update), rel=1e-6)


class InterruptAt(keras.callbacks.Callback):  # type: ignore[misc]
    """Raises KeyboardInterrupt after the given batch of the first epoch."""

    def __init__(self, batch: int) -> None:
        super().__init__()
        self.batch = batch

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if batch == self.batch:
            raise KeyboardInterrupt


def test_in_graph_step_schedule_never_outlives_its_fit() -> None:
    """After a fit interrupted before its end (no on_train_end), a fit without the callback
    runs Keras' own step at the optimizer's rate; a fit with it again runs the schedule from
    the counter, reusing the compiled step when Keras kept its function."""
    s = lrkit.cosine(start_lr=0.1, decay_steps=40)
    model = probe_model()
    callback = lk.LearningRateScheduler(s, unit="step", on_change="keep_count")
    with pytest.raises(KeyboardInterrupt):
        fit(model, 2, [callback, InterruptAt(2)])
    assert "train_step" in model.__dict__  # the interrupted fit left its step wrapped
    model.optimizer.learning_rate = 0.25
    plain = fit(model, 1, [])
    assert "train_step" not in model.__dict__
    assert_rates(plain.used, np.full(STEPS_PER_EPOCH, 0.25))
    compiled = model.train_function
    again = fit(model, 1, [callback])
    assert model.train_function is compiled  # Keras' function back after the fit
    assert_rates(again.used, s(np.array(again.steps)))
    assert again.steps[0] == 3 + STEPS_PER_EPOCH
    twice = fit(model, 1, [callback])
    assert_rates(twice.used, s(np.array(twice.steps)))


def test_unit_step_warns_when_something_else_moves_the_counter_then_follows_it() -> None:
    """From Python (a schedule that cannot be traced), the batch count is kept within an epoch
    (reading the counter before every batch costs as much as setting the rate)."""
    s = lrkit.linear(0.1, decay_steps=40, end_lr=0.0)
    python = lrkit.FunctionSchedule(lambda t: float(s(t)))
    model, probe = probe_model(), Probe()
    callbacks = [lk.LearningRateScheduler(python, unit="step"), Nudge(), probe]
    with pytest.warns(UserWarning, match=r"iterations is 8 at the end of epoch 1, where one "):
        model.fit(X, Y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0, callbacks=callbacks)
    assert probe.steps == [0, 1, 5, 6, 7, *range(8, 13)]
    assert_rates(probe.read[:5], s(np.arange(5)))  # epoch 1: the batch count
    assert_rates(probe.read[5:], s(np.arange(8, 13)))  # then the counter


# -- errors ------------------------------------------------------------------------------


def test_type_error_inside_the_users_function_propagates() -> None:
    def two_args(epoch: int, lr: float) -> float:
        return lr * "0.5"  # type: ignore[operator, no-any-return]  # the user's own bug

    def one_arg(epoch: int) -> float:
        return len(epoch)  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="can't multiply sequence"):
        fit(probe_model(), 1, [lk.LearningRateScheduler(two_args)])
    with pytest.raises(TypeError, match="has no len"):
        fit(probe_model(), 1, [lk.LearningRateScheduler(one_arg, per_batch=True)])
    # Keras' own callback retries two_args(epoch) and reports that instead of the real bug.
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        fit(probe_model(), 1, [keras.callbacks.LearningRateScheduler(two_args)])


def test_optimizer_built_with_a_schedule_is_refused_with_directions() -> None:
    model = probe_model(keras.optimizers.schedules.CosineDecay(0.1, 100))
    with pytest.raises(TypeError, match=r"LearningRateSchedule.*lrkit\.keras\.schedule\(s\)"):
        fit(model, 1, [lk.LearningRateScheduler(lrkit.constant(0.1))])


@pytest.mark.parametrize(
    ("returned", "message"),
    [("0.1", "should be a float"), (math.nan, "finite number >= 0"), (-0.1, "finite number")],
)
def test_bad_function_outputs_are_refused(returned: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit(probe_model(), 1, [lk.LearningRateScheduler(lambda epoch: returned)])


def test_function_outputs_numpy_and_tensors_are_accepted() -> None:
    outputs = [np.float32(0.25), np.array(0.5), keras.ops.convert_to_tensor(0.125), 1]
    probe = fit(probe_model(), 4, [lk.LearningRateScheduler(lambda epoch: outputs[epoch])])
    assert_rates(probe.used, np.repeat([0.25, 0.5, 0.125, 1.0], STEPS_PER_EPOCH))


def test_argument_errors() -> None:
    s = lrkit.constant(0.1)
    with pytest.raises(TypeError, match="must take the epoch"):
        lk.LearningRateScheduler(lambda: 0.1)
    with pytest.raises(TypeError, match=r"Received: schedule=0\.1"):
        lk.LearningRateScheduler(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pass it as the optimizer's learning_rate"):
        lk.LearningRateScheduler(keras.optimizers.schedules.CosineDecay(0.1, 10))
    with pytest.raises(ValueError, match="Argument `unit` must be one of"):
        lk.LearningRateScheduler(s, unit="batch")
    with pytest.raises(ValueError, match="Argument `per_batch` must be True with unit='step'"):
        lk.LearningRateScheduler(s, unit="step", per_batch=False)
    with pytest.raises(ValueError, match=r"`steps_per_epoch` must be an integer >= 1"):
        lk.LearningRateScheduler(s, per_batch=True, steps_per_epoch=0)
    with pytest.raises(TypeError, match=r"Received: steps_per_epoch=2\.5"):
        lk.LearningRateScheduler(s, per_batch=True, steps_per_epoch=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="other than the learning rate"):
        lk.LearningRateScheduler(s, hyperparameters={"learning_rate": s})
    with pytest.raises(TypeError, match="must be an lrkit schedule or a function f"):
        lk.LearningRateScheduler(s, hyperparameters={"momentum": lambda epoch, m: m})
    with pytest.raises(TypeError, match="has no config"):
        lk.schedule(lrkit.FunctionSchedule(lambda epoch: 0.1))
    with pytest.raises(TypeError, match="must be an lrkit schedule"):
        lk.schedule(keras.optimizers.schedules.CosineDecay(0.1, 10))
    with pytest.raises(ValueError, match=r"Argument `steps_per_epoch` must be > 0"):
        lk.schedule(s, steps_per_epoch=-1)
    model = probe_model()
    model.compile(keras.optimizers.SGD(0.1), loss="mae", steps_per_execution=2)
    with pytest.raises(ValueError, match="steps_per_execution=1"):
        fit(model, 1, [lk.LearningRateScheduler(s, per_batch=True)])


# -- in-graph: every catalogue entry saves and loads -----------------------------------

C = lrkit.cosine(start_lr=0.1, decay_steps=40)
#: Every registered schedule, by the example its definition gives.
EXAMPLES: dict[str, lrkit.Schedule] = {
    name: lrkit.parse(cls.example) for name, cls in lrkit.REGISTRY.items()
}


def test_examples_cover_the_whole_catalogue() -> None:
    assert {name: s.name for name, s in EXAMPLES.items()} == {n: n for n in EXAMPLES}
    assert set(EXAMPLES) == set(lrkit.REGISTRY), "add an example for each new catalogue entry"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_catalogue_entry_saves_and_loads_in_graph(name: str, tmp_path: Path) -> None:
    s = EXAMPLES[name]
    original = lk.schedule(s, steps_per_epoch=4 if name == "stretch" else None)
    model = probe_model(original)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")  # safe mode, no custom_objects
    restored = loaded.optimizer._learning_rate
    assert isinstance(restored, lk.KerasSchedule)
    assert restored.get_config() == original.get_config()
    assert restored == original and restored.schedule == s
    steps = np.arange(0, 161)
    got = keras.ops.convert_to_numpy(restored(steps))
    np.testing.assert_array_equal(got, keras.ops.convert_to_numpy(original(steps)))
    assert_rates(list(got), s(steps / original.steps_per_epoch if name == "stretch" else steps))


def test_in_graph_schedule_holds_negative_times_at_zero_but_the_counter_is_used_as_is() -> None:
    """A number or tensor below 0 is held at 0 (a linear warmup from 0 would give a negative
    rate otherwise); the optimizer's counter, a Keras variable of integers, skips the clamp."""
    s = lrkit.warmup(lrkit.cosine(0.1, 90), steps=10)  # rises as 0.01 t over the first 10
    lr = lk.schedule(s)
    for step in (-5, keras.ops.convert_to_tensor(-5), keras.ops.convert_to_tensor([-5, -1])):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(lr(step)), 0.0)
    counter = keras.Variable(7, dtype="int64", trainable=False)
    assert float(keras.ops.convert_to_numpy(lr(counter))) == pytest.approx(0.07, rel=1e-6)
    epochs = lk.schedule(s, steps_per_epoch=2)
    assert float(keras.ops.convert_to_numpy(epochs(counter))) == pytest.approx(0.035, rel=1e-6)


CLOCKS = {
    "updates": {},
    "epochs": {"steps_per_epoch": 2.5},
    "accumulated": {"accumulation_steps": 2},
}


@pytest.mark.parametrize("clock", sorted(CLOCKS))
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_counter_reads_each_rate_as_numpy_computes_it_rounded_once(
    name: str, clock: str
) -> None:
    """As the optimizer calls it (its counter), a schedule that settles is looked up in a
    table: the float64 NumPy rate rounded once to float32, before its end and long after."""
    s = EXAMPLES[name]
    lr = lk.schedule(s, **CLOCKS[clock])
    n = 200 if lr._table is None else len(lr._table)  # rates from count n - 1 on: the last
    counts = np.unique(np.r_[0:30, np.linspace(0, 3 * n, 60).astype(int), n - 2 : n + 2, 10 * n])
    stretched = lrkit.stretch(s, 2.5)  # the clock of every adapter
    times = stretched(counts) if clock == "epochs" else s(counts // lr.accumulation_steps)
    expected = np.asarray(times, np.float32)
    if s.duration is None:
        assert lr._table is None  # the formula, in float32: close, not rounded once
        expected = np.asarray(times)
    else:
        assert lr._table is not None and n < 2.5 * s.duration + 4
    counter = keras.Variable(0, dtype="int64", trainable=False)
    got = []
    for count in counts:
        counter.assign(count)
        got.append(keras.ops.convert_to_numpy(lr(counter)))
    if s.duration is None:
        np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-6 * expected.max())
    else:
        np.testing.assert_array_equal(np.asarray(got, np.float32), expected)


def test_the_counter_looks_its_rate_up_in_one_gather_and_long_schedules_use_the_formula() -> None:
    import tensorflow as tf

    from lrkit._adapt import TABLE_LIMIT

    def ops(lr: lk.KerasSchedule) -> set[str]:
        counter = keras.Variable(0, dtype="int64", trainable=False)
        graph = tf.function(lambda: lr(counter)).get_concrete_function().graph
        return {op.type for op in graph.get_operations()}

    assert {"GatherV2"} <= ops(lk.schedule(C)) and "Cos" not in ops(lk.schedule(C))
    long = lk.schedule(lrkit.cosine(0.1, TABLE_LIMIT))  # 4 MiB of rates: the formula instead
    assert long._table is None and "Cos" in ops(long)
    counter = keras.Variable(TABLE_LIMIT // 3, dtype="int64", trainable=False)
    rate = float(keras.ops.convert_to_numpy(long(counter)))
    assert rate == pytest.approx(lrkit.cosine(0.1, TABLE_LIMIT)(TABLE_LIMIT // 3), rel=1e-6)


def test_loading_needs_lrkit_keras_imported(tmp_path: Path) -> None:
    path = tmp_path / "m.keras"
    probe_model(lk.schedule(EXAMPLES["warmup"])).save(path)
    script = (
        "import keras\n"
        "try:\n"
        f"    keras.models.load_model({str(path)!r})\n"
        "except TypeError as e:\n"
        "    print('without:', e)\n"
        "import lrkit.keras\n"
        f"m = keras.models.load_model({str(path)!r})\n"
        "print('with:', m.optimizer._learning_rate)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert "without:" in out and "Could not locate class 'KerasSchedule'" in out
    assert "with: KerasSchedule(warmup(" in out


# -- resume ------------------------------------------------------------------------------


RESUMED = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=4), steps=1)
CALLBACKS: dict[str, Callable[[], Any]] = {
    "per_epoch": lambda: lk.LearningRateScheduler(RESUMED),
    "per_batch": lambda: lk.LearningRateScheduler(RESUMED, per_batch=True),
    "unit_step": lambda: lk.LearningRateScheduler(lrkit.stretch(RESUMED, 5), unit="step"),
}


@pytest.mark.parametrize("kind", sorted(CALLBACKS))
def test_callback_resume_after_save_and_load(kind: str, tmp_path: Path) -> None:
    whole = fit(probe_model(), 6, [CALLBACKS[kind]()])
    model = probe_model()
    first = fit(model, 3, [CALLBACKS[kind]()])
    model.save(tmp_path / "m.keras")
    rest = fit(keras.models.load_model(tmp_path / "m.keras"), 6, [CALLBACKS[kind]()], 3)
    assert first.used + rest.used == whole.used
    t = np.arange(6 * STEPS_PER_EPOCH) / STEPS_PER_EPOCH
    assert_rates(whole.used, RESUMED(np.floor(t) if kind == "per_epoch" else t))


# -- plateau on top of a schedule --------------------------------------------------------


def test_plateau_on_a_constant_equals_keras_reduce_lr_on_plateau() -> None:
    args = {"monitor": "loss", "factor": 0.5, "patience": 2, "min_delta": 10.0}
    args |= {"cooldown": 1, "min_lr": 0.011}
    ours = fit_digits(mlp(0.05), [lk.ReduceOnPlateau(lrkit.constant(0.05), **args)], 11)
    theirs = fit_digits(mlp(0.05), [keras.callbacks.ReduceLROnPlateau(**args)], 11)
    np.testing.assert_allclose(ours["learning_rate"], theirs["learning_rate"], rtol=1e-6)
    np.testing.assert_allclose(ours["loss"], theirs["loss"], rtol=1e-5)
    assert len(set(np.round(theirs["learning_rate"], 6))) == 4  # 0.05, 0.025, 0.0125, 0.011


def replay_keras_plateau(
    monitored: list[float],
    rates: Callable[[int, float], float],
    patience: int,
    factor: float,
    min_lr: float,
) -> tuple[list[float], float]:
    """The plateau factor in force during each epoch, and after the last one, by Keras'
    documented rule (mode min, min_delta 0, no cooldown)."""
    scale, best, wait, during = 1.0, math.inf, 0, []
    for epoch, current in enumerate(monitored):
        during.append(scale)
        if current < best:
            best, wait = current, 0
            continue
        wait += 1
        if wait >= patience and rates(epoch, scale) > min_lr:
            scale, wait = scale * factor, 0
    return during, scale


def test_warmup_cosine_with_plateau_per_batch() -> None:
    s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=6, end_lr=0.002), steps=2)
    min_lr = 0.01
    callback = lk.ReduceOnPlateau(
        s, monitor="loss", factor=0.5, patience=2, min_delta=0, min_lr=min_lr, per_batch=True
    )
    model = probe_model()
    probe = fit(model, 8, [callback])  # the probe's loss never improves after epoch 0
    t = np.arange(8 * STEPS_PER_EPOCH) / STEPS_PER_EPOCH
    last_batch = (np.arange(8) + 1 - 1 / STEPS_PER_EPOCH).astype(float)

    def rate(t: Any, scale: Any) -> Any:
        return np.maximum(s(t) * scale, np.minimum(s(t), min_lr))

    scales, final = replay_keras_plateau(
        model.history.history["loss"],
        lambda epoch, scale: float(rate(last_batch[epoch], scale)),
        patience=2,
        factor=0.5,
        min_lr=min_lr,
    )
    assert scales[-1] < 1.0
    assert_rates(probe.used, rate(t, np.repeat(scales, STEPS_PER_EPOCH)))
    assert callback.scale == pytest.approx(final)


def test_plateau_follows_the_metric_direction_and_warns_when_missing() -> None:
    model = mlp(metrics=["accuracy"])
    fit_digits(model, [], epochs=1)
    for mode, expected in [("auto", 0.5), ("max", 0.5), ("min", 0.25)]:
        callback = lk.ReduceOnPlateau(
            lrkit.constant(0.05), monitor="val_accuracy", factor=0.5, patience=2, mode=mode
        )
        callback.set_model(model)
        callback.on_train_begin()
        for epoch, accuracy in enumerate([0.5, 0.6, 0.59, 0.61, 0.6, 0.6]):
            callback.on_epoch_end(epoch, {"val_accuracy": accuracy})
        assert callback.scale == expected, mode
    with pytest.raises(ValueError, match="Pass `mode='max'`"):
        callback = lk.ReduceOnPlateau(lrkit.constant(0.05), monitor="val_custom")
        callback.set_model(model)
        callback.on_train_begin()
        callback.on_epoch_end(0, {"val_custom": 1.0})
        callback.on_epoch_end(1, {"val_custom": 1.0})
    with pytest.warns(UserWarning, match="which is not available"):
        fit(probe_model(), 1, [lk.ReduceOnPlateau(lrkit.constant(0.05))])


def test_plateau_argument_errors() -> None:
    s = lrkit.constant(0.1)
    with pytest.raises(ValueError, match=r"Argument `factor` must be in \[0, 1\)"):
        lk.ReduceOnPlateau(s, factor=1.0)
    with pytest.raises(ValueError, match="Argument `patience` must be an integer >= 0"):
        lk.ReduceOnPlateau(s, patience=-1)
    with pytest.raises(ValueError, match="Argument `mode` must be one of"):
        lk.ReduceOnPlateau(s, mode="up")
    with pytest.raises(TypeError, match="the plateau factor would compound"):
        lk.ReduceOnPlateau(lambda epoch, lr: lr)


# -- other hyperparameters ---------------------------------------------------------------


def test_adam_beta_1_follows_its_schedule() -> None:
    """Adam's first moment obeys m' = b m + (1 - b) g with g = -1: b = (m' + 1) / (m + 1)."""
    model = probe_model()
    model.compile(keras.optimizers.Adam(learning_rate=0.001, beta_1=0.9), loss="mae")
    beta_1 = lrkit.linear(start_lr=0.95, end_lr=0.85, decay_steps=2)
    firsts: list[float] = []

    class FirstMoment(keras.callbacks.Callback):  # type: ignore[misc]
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            firsts.append(float(value(self.model.optimizer._momentums[0])[0, 0]))

    callback = lk.LearningRateScheduler(lrkit.constant(0.001), hyperparameters={"beta_1": beta_1})
    history = model.fit(
        X, Y, batch_size=BATCH, epochs=3, verbose=0, callbacks=[callback, FirstMoment()]
    )
    m = np.array([0.0, *firsts])
    used = (m[1:] + 1.0) / (m[:-1] + 1.0)
    np.testing.assert_allclose(used, beta_1(np.repeat(np.arange(3), STEPS_PER_EPOCH)), rtol=1e-5)
    np.testing.assert_allclose(history.history["beta_1"], beta_1(np.arange(3)))


def test_hyperparameter_errors() -> None:
    momentum = lrkit.constant(0.9)
    model = probe_model()  # SGD with momentum=0 keeps no velocity
    with pytest.raises(ValueError, match="momentum > 0"):
        fit(model, 1, [lk.LearningRateScheduler(momentum, hyperparameters={"momentum": momentum})])
    with pytest.raises(ValueError, match="no numeric attribute `beta_1`"):
        fit(model, 1, [lk.LearningRateScheduler(momentum, hyperparameters={"beta_1": momentum})])


# -- the guide's examples ----------------------------------------------------------------


def test_keras_guide_examples() -> None:
    result = doctest.testfile(
        str(ROOT / "docs" / "keras.md"),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
    )
    assert result.attempted > 0 and result.failed == 0
