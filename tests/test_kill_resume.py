"""Crash and resume: training processes killed with SIGKILL at random updates, resumed from
their checkpoints, give the rates and weights of an uninterrupted run, bit for bit.

tests/_resume_worker.py runs the processes (one per training segment, forked from a process
that has only imported the framework): PyTorch per step, per epoch and relative to the base
rates; the Keras callback per epoch, per batch and per step with ``BackupAndRestore``; Keras
in-graph with ``BackupAndRestore``, and with ``ModelCheckpoint`` + ``keras.models.load_model``
+ ``fit(initial_epoch=...)``. The kill points are drawn from a fixed seed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import lrkit

pytestmark = pytest.mark.processes  # `make test` runs these in a pytest of their own, in parallel

WORKER = Path(__file__).with_name("_resume_worker.py")
SEED = 20261201
#: SIGKILLs per run: 3 PyTorch runs x 4 + 5 Keras runs x 3 = 27 kill/resume cycles.
KILLS = {"torch": 4, "keras": 3}
MODES = {
    "torch": ["step", "epoch", "relative"],
    "keras": [
        "callback_epoch",
        "callback_batch",
        "callback_step",
        "in_graph_backup",
        "in_graph_checkpoint",
    ],
}


def run_worker(framework: str, tmp: Path) -> dict[str, Any]:
    out = tmp / "out.json"
    src = str(Path(lrkit.__file__).parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "KERAS_BACKEND": "tensorflow",
    }
    args = [framework, str(SEED), str(KILLS[framework]), str(tmp / "runs"), str(out)]
    done = subprocess.run(
        [sys.executable, str(WORKER), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def torch_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("torch")
    return run_worker("torch", tmp_path_factory.mktemp("torch"))


@pytest.fixture(scope="module")
def keras_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("keras")
    pytest.importorskip("tensorflow")
    return run_worker("keras", tmp_path_factory.mktemp("keras"))


def check_killed_run(result: dict[str, Any], mode: str, kills: int) -> None:
    total = result["total"]
    run = result["runs"][mode]
    full = run["full"]
    assert full["exit"] == 0, full
    reference = {entry[0]: entry[1:] for entry in full["log"]}
    assert sorted(reference) == list(range(total)), "the uninterrupted run logs every update"
    rates = [reference[k] for k in range(total)]
    assert len({tuple(r) for r in rates}) > 4, "the rates must change, or resuming proves nothing"

    *killed, last = run["segments"]
    assert len(killed) == kills
    done = 0  # updates known done (some are redone after a resume from an older checkpoint)
    for segment in killed:
        assert segment["signal"] == 9, f"not killed by SIGKILL: {segment}"
        assert segment["reached"] == segment["kill_at"]
        indexes = [entry[0] for entry in segment["log"]]
        # Each segment resumes at a checkpoint no later than the previous kill, then counts on.
        assert indexes == list(range(indexes[0], segment["kill_at"]))
        assert indexes[0] <= done
        done = segment["kill_at"]
    assert last["exit"] == 0 and last["signal"] is None, last
    indexes = [entry[0] for entry in last["log"]]
    assert indexes == list(range(indexes[0], total)) and indexes[0] <= done
    assert any(s["log"][0][0] > 0 for s in run["segments"]), "no segment resumed mid-run"

    for n, segment in enumerate(run["segments"]):
        for index, *got in segment["log"]:
            assert got == reference[index], (
                f"{mode}: segment {n} (after {n} kills), update {index}: rates {got}, "
                f"uninterrupted {reference[index]}"
            )
    assert run["weights"] == full["weights"], f"{mode}: final weights differ"


@pytest.mark.torch
@pytest.mark.parametrize("mode", MODES["torch"])
def test_torch_killed_and_resumed_equals_uninterrupted(
    torch_runs: dict[str, Any], mode: str
) -> None:
    check_killed_run(torch_runs, mode, KILLS["torch"])


@pytest.mark.keras
@pytest.mark.parametrize("mode", MODES["keras"])
def test_keras_killed_and_resumed_equals_uninterrupted(
    keras_runs: dict[str, Any], mode: str
) -> None:
    check_killed_run(keras_runs, mode, KILLS["keras"])
