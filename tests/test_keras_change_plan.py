"""Changing the plan on resume with Keras' ``BackupAndRestore`` (TensorFlow backend): a fit
planned for 2 epochs is interrupted after 2 by an exception, and resumed with ``epochs=4``
and a schedule planned for 4. The rates are the ones the optimizer applied (``Probe``).
"""

from __future__ import annotations

import os
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
from test_keras_backends import BATCH, STEPS_PER_EPOCH, Probe, X, Y, probe_model  # noqa: E402

pytestmark = pytest.mark.keras

N = STEPS_PER_EPOCH
# Per update; the last update of the run uses the end value.
OLD = lrkit.cosine(0.1, 2 * N - 1, end_lr=0.001)
NEW = lrkit.cosine(0.1, 4 * N - 1, end_lr=0.001)


class Interrupt(keras.callbacks.Callback):  # type: ignore[misc]
    """Stops the run at the end of epoch ``epoch`` (0-based) the hard way."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


def largest_step(schedule: lrkit.Schedule, updates: int) -> float:
    return float(np.abs(np.diff([schedule(k) for k in range(updates)])).max())


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


def interrupted_run(backup: Path, schedule: lrkit.Schedule = OLD, **kwargs: Any) -> Probe:
    probe = Probe()
    model = probe_model()
    callbacks = [
        keras.callbacks.BackupAndRestore(str(backup)),
        lk.LearningRateScheduler(schedule, **{"unit": "step", **kwargs}),
        Interrupt(1),
        probe,
    ]
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(X, Y, batch_size=BATCH, epochs=4, shuffle=False, verbose=0, callbacks=callbacks)
    return probe


def resumed_run(backup: Path, schedule: lrkit.Schedule, **kwargs: Any) -> Probe:
    callback = lk.LearningRateScheduler(schedule, **{"unit": "step", **kwargs})
    return fit(probe_model(), 4, [callback, keras.callbacks.BackupAndRestore(str(backup))])


#: How the callback reads time -> (its arguments, the plan for 2 epochs, the plan for 4, the
#: schedule time of each update). Each plan's last update uses its end value.
KINDS: dict[str, tuple[dict[str, Any], lrkit.Schedule, lrkit.Schedule, np.ndarray]] = {
    "step": ({}, OLD, NEW, np.arange(4 * N, dtype=float)),
    "per_batch": (
        {"unit": "epoch", "per_batch": True},
        lrkit.cosine(0.1, (2 * N - 1) / N, end_lr=0.001),
        lrkit.cosine(0.1, (4 * N - 1) / N, end_lr=0.001),
        np.arange(4 * N) / N,
    ),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_backup_and_restore_continue_extends_the_run_smoothly(tmp_path: Path, kind: str) -> None:
    kwargs, old, new, times = KINDS[kind]
    first = interrupted_run(tmp_path, old, **kwargs)
    assert first.steps == list(range(2 * N))
    # The lrkit callback listed before BackupAndRestore: it reads the restored state late.
    second = resumed_run(tmp_path, new, on_change="continue", **kwargs)
    assert second.steps == list(range(2 * N, 4 * N))  # resumed, not restarted
    bound = float(np.abs(np.diff(new(times))).max())  # the new plan's largest per-update change
    assert abs(second.used[0] - first.used[-1]) <= bound
    assert abs(new(times[2 * N]) - first.used[-1]) > bound  # what keep_count does
    assert second.used[-1] == pytest.approx(new(new.duration), rel=1e-6)  # the new plan's end
    assert np.abs(np.diff([first.used[-1], *second.used])).max() <= bound


def test_backup_and_restore_continue_per_epoch(tmp_path: Path) -> None:
    # Two epochs left are too coarse to bound the steps; the take-over lands between the
    # run's rate and the new plan's, and ends on the new plan's end.
    old, new = lrkit.cosine(0.1, 1, end_lr=0.001), lrkit.cosine(0.1, 3, end_lr=0.001)
    first = interrupted_run(tmp_path, old, unit="epoch")
    second = resumed_run(tmp_path, new, unit="epoch", on_change="continue")
    assert second.steps == list(range(2 * N, 4 * N))
    assert len(set(second.used[:N])) == 1  # set once per epoch
    assert first.used[-1] < second.used[0] < new(2)
    assert second.used[-1] == pytest.approx(new(3), rel=1e-6)


def test_backup_and_restore_refuse_and_keep_count(tmp_path: Path) -> None:
    interrupted_run(tmp_path / "a")
    with pytest.raises(ValueError, match=r"LearningRateScheduler\(\.\.\., on_change='continue'\)"):
        resumed_run(tmp_path / "a", NEW)  # "refuse", the default
    interrupted_run(tmp_path / "b")
    kept = resumed_run(tmp_path / "b", NEW, on_change="keep_count")
    assert kept.steps == list(range(2 * N, 4 * N))
    np.testing.assert_allclose(kept.used, [NEW(k) for k in range(2 * N, 4 * N)], rtol=1e-6)


def test_an_unchanged_plan_resumes_under_refuse(tmp_path: Path) -> None:
    first = interrupted_run(tmp_path, NEW)
    second = resumed_run(tmp_path, NEW)
    np.testing.assert_allclose(
        first.used + second.used, [NEW(k) for k in range(4 * N)], rtol=1e-6, atol=1e-9
    )


def test_extending_the_stable_phase_has_no_jump_at_all(tmp_path: Path) -> None:
    short = lrkit.warmup_stable_decay(0.1, 2, 2 * N + 2, 4)  # its cooldown was still to come
    longer = lrkit.warmup_stable_decay(0.1, 2, 4 * N - 7, 4)  # ends at the last update
    first = interrupted_run(tmp_path, short)
    second = resumed_run(tmp_path, longer, on_change="continue")
    assert second.used[0] == first.used[-1] == pytest.approx(0.1, rel=1e-7)
    np.testing.assert_allclose(second.used, [longer(k) for k in range(2 * N, 4 * N)], rtol=1e-6)
    assert second.used[-1] == 0.0


def test_in_graph_change_plan_after_load_model(tmp_path: Path) -> None:
    model = probe_model(lk.schedule(OLD))
    first = fit(model, 2, [])
    model.save(tmp_path / "two.keras")
    loaded = keras.models.load_model(tmp_path / "two.keras")
    with pytest.raises(ValueError, match=r"lrkit.keras.schedule\(\.\.\., on_change='continue'\)"):
        lk.change_plan(loaded, lk.schedule(NEW))
    assert lk.change_plan(loaded, lk.schedule(NEW, on_change="keep_count")).schedule == NEW

    loaded = keras.models.load_model(tmp_path / "two.keras")
    taken = lk.change_plan(loaded, lk.schedule(NEW, on_change="continue"))
    second = fit(loaded, 3, [], initial_epoch=2)
    assert second.steps == list(range(2 * N, 3 * N))
    bound = largest_step(NEW, 4 * N)
    assert abs(second.used[0] - first.used[-1]) <= bound
    assert abs(NEW(2 * N) - first.used[-1]) > bound  # what keep_count does

    # The take-over is saved with the model: a second resume under the same plan continues it.
    loaded.save(tmp_path / "three.keras")
    again = keras.models.load_model(tmp_path / "three.keras")
    assert again.optimizer._learning_rate == taken
    assert lk.change_plan(again, lk.schedule(NEW, on_change="continue")) == taken
    third = fit(again, 4, [], initial_epoch=3)
    assert third.used[-1] == pytest.approx(NEW(NEW.duration), rel=1e-6)  # the new plan's end
    assert np.abs(np.diff([first.used[-1], *second.used, *third.used])).max() <= bound


# -- the in-graph schedule under BackupAndRestore, with lrkit.keras.ResumeCheck ------------------


def in_graph_interrupted(backup: Path, schedule: lrkit.Schedule = OLD) -> Probe:
    probe = Probe()
    callbacks = [
        keras.callbacks.BackupAndRestore(str(backup)),
        lk.ResumeCheck(),
        Interrupt(1),
        probe,
    ]
    with pytest.raises(RuntimeError, match="interrupted"):
        probe_model(lk.schedule(schedule)).fit(
            X, Y, batch_size=BATCH, epochs=4, shuffle=False, verbose=0, callbacks=callbacks
        )
    return probe


def in_graph_resumed(backup: Path, schedule: lrkit.Schedule, **kwargs: Any) -> Probe:
    # ResumeCheck listed before BackupAndRestore: it reads the restored state late.
    callbacks = [lk.ResumeCheck(), keras.callbacks.BackupAndRestore(str(backup))]
    return fit(probe_model(lk.schedule(schedule, **kwargs)), 4, callbacks)


def test_in_graph_backup_and_restore_continue_extends_the_run_smoothly(tmp_path: Path) -> None:
    first = in_graph_interrupted(tmp_path)
    assert (tmp_path / lk.PLAN_FILE).exists()
    assert first.steps == list(range(2 * N))
    np.testing.assert_allclose(
        first.used, [OLD(k) for k in range(2 * N)], rtol=1e-6, atol=1e-8
    )  # float32
    second = in_graph_resumed(tmp_path, NEW, on_change="continue")
    assert second.steps == list(range(2 * N, 4 * N))  # resumed, not restarted
    bound = largest_step(NEW, 4 * N)
    assert abs(second.used[0] - first.used[-1]) <= bound
    assert abs(NEW(2 * N) - first.used[-1]) > bound  # what keep_count does
    assert second.used[-1] == pytest.approx(NEW(NEW.duration), rel=1e-6)
    assert np.abs(np.diff([first.used[-1], *second.used])).max() <= bound
    assert not tmp_path.exists()  # the completed fit deleted the backup, the record with it


def test_in_graph_backup_and_restore_refuse_keep_count_and_unchanged(tmp_path: Path) -> None:
    in_graph_interrupted(tmp_path / "a")
    with pytest.raises(ValueError, match=r"lrkit.keras.schedule\(\.\.\., on_change='continue'\)"):
        in_graph_resumed(tmp_path / "a", NEW)  # "refuse", the default
    # Refused before any update, and nothing lost: the same backup resumes under a policy.
    kept = in_graph_resumed(tmp_path / "a", NEW, on_change="keep_count")
    assert kept.steps == list(range(2 * N, 4 * N))
    np.testing.assert_allclose(
        kept.used, [NEW(k) for k in range(2 * N, 4 * N)], rtol=1e-6, atol=1e-8
    )  # float32

    first = in_graph_interrupted(tmp_path / "b", NEW)
    second = in_graph_resumed(tmp_path / "b", NEW)  # the same plan resumes under "refuse"
    np.testing.assert_allclose(
        first.used + second.used, [NEW(k) for k in range(4 * N)], rtol=1e-6, atol=1e-8
    )


def test_in_graph_take_over_survives_a_second_interruption(tmp_path: Path) -> None:
    first = in_graph_interrupted(tmp_path)
    probe = Probe()
    model = probe_model(lk.schedule(NEW, on_change="continue"))
    callbacks = [keras.callbacks.BackupAndRestore(str(tmp_path)), lk.ResumeCheck(), probe]
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(
            X, Y, batch_size=BATCH, epochs=4, shuffle=False, verbose=0,
            callbacks=[*callbacks, Interrupt(2)],
        )  # fmt: skip
    third = in_graph_resumed(tmp_path, NEW, on_change="continue")
    rates = [*first.used, *probe.used, *third.used]
    assert third.steps == list(range(3 * N, 4 * N))
    assert np.abs(np.diff(rates[2 * N - 1 :])).max() <= largest_step(NEW, 4 * N)
    assert rates[-1] == pytest.approx(NEW(NEW.duration), rel=1e-6)


def test_resume_check_refuses_what_it_cannot_check(tmp_path: Path) -> None:
    model = probe_model(0.1)
    with pytest.raises(TypeError, match=r"learning_rate=.*lrkit.keras.schedule|lrkit.keras.sch"):
        fit(model, 1, [keras.callbacks.BackupAndRestore(str(tmp_path)), lk.ResumeCheck()])
    with pytest.raises(ValueError, match="exactly one in the same fit"):
        fit(probe_model(lk.schedule(NEW)), 1, [lk.ResumeCheck()])
    # A checkpoint written without ResumeCheck: said, not silently kept.
    in_graph_interrupted(tmp_path / "c")
    (tmp_path / "c" / lk.PLAN_FILE).unlink()
    with pytest.warns(UserWarning, match="has no record of the schedule"):
        in_graph_resumed(tmp_path / "c", NEW)
