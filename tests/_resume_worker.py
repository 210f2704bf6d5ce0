"""Crash-and-resume runs for tests/test_kill_resume.py: trains, gets SIGKILLed, resumes.

    python tests/_resume_worker.py {torch|keras} SEED KILLS WORKDIR OUT.json

For every mode of the framework this process runs one uninterrupted training, then the same
training again, killed with SIGKILL after ``KILLS`` update counts drawn at random (seeded) and
resumed each time from the checkpoints on disk, the way a user's job would restart. Each run
is a child process forked from this one, which has imported the framework but run nothing, so
a child starts with an empty runtime and only the files on disk, without paying the import
(TensorFlow's takes seconds). A child to be killed reports through a pipe when it has done
the chosen number of updates and waits; this process then kills it with SIGKILL, so the kill
point is exact and the test deterministic.

Each child appends one line per update to its log, before the update: the update index its
own loop (or the optimizer) counts and the rates the optimizer holds; the finished run writes
its weights. OUT.json gathers, per mode, the uninterrupted run and the killed run's segments;
the test compares them.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

#: Updates per epoch and epochs of every run (36 updates).
STEPS_PER_EPOCH, EPOCHS = 6, 6
TOTAL = STEPS_PER_EPOCH * EPOCHS
BATCH = 8
#: Seconds a child may take to reach its kill point or its end (a hang fails, never waits).
CHILD_TIMEOUT = 120


def data(n: int = STEPS_PER_EPOCH * BATCH) -> tuple[np.ndarray, np.ndarray]:
    """A fixed, generated regression problem: 4 inputs, 3 outputs."""
    rng = np.random.RandomState(0)
    x = rng.rand(n, 4).astype("float32")
    y = (x @ rng.rand(4, 3) + 0.1 * rng.rand(n, 3)).astype("float32")
    return x, y


class Log:
    """One JSON line per update, written through at once (a SIGKILL loses nothing written)."""

    def __init__(self, path: Path, kill_at: int | None, report: int | None) -> None:
        self.file = path.open("a", buffering=1)
        self.kill_at = kill_at
        self.report = report

    def update(self, index: int, rates: list[float]) -> None:
        self.file.write(json.dumps([index, *rates]) + "\n")

    def done(self, updates: int) -> None:
        """Called after each update with the number done: at the kill point, report and wait."""
        if updates == self.kill_at:
            assert self.report is not None
            os.write(self.report, f"{updates}\n".encode())
            time.sleep(CHILD_TIMEOUT)  # killed here; a parent that never kills gets a failure
            os._exit(3)


# -- PyTorch ---------------------------------------------------------------------------


def torch_run(mode: str, workdir: Path, log: Log) -> None:
    import torch

    import lrkit
    from lrkit.torch import LRScheduler

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    if mode == "relative":
        groups = [
            {"params": model[0].parameters(), "lr": 0.1},
            {"params": model[2].parameters(), "lr": 0.02},
        ]
        optimizer = torch.optim.SGD(groups, momentum=0.9)
        scheduler = LRScheduler(optimizer, lrkit.one_cycle_policy(1.0, TOTAL), relative=True)
        every = 4  # updates between checkpoints
    elif mode == "epoch":
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.9)
        s = lrkit.warmup(lrkit.cosine(0.2, EPOCHS - 1, end_lr=0.002), steps=1)  # in epochs
        scheduler = LRScheduler(optimizer, s, unit="epoch", steps_per_epoch=STEPS_PER_EPOCH)
        every = STEPS_PER_EPOCH  # at each epoch's end
    else:
        assert mode == "step"
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.9)
        s = lrkit.warmup(lrkit.cosine(0.2, TOTAL - 6, end_lr=0.002), steps=6)
        scheduler = LRScheduler(optimizer, s)
        every = 5

    checkpoint = workdir / "checkpoint.pt"
    start = 0
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start = state["updates"]
    x, y = (torch.from_numpy(a) for a in data())
    for k in range(start, TOTAL):
        epoch, batch = divmod(k, STEPS_PER_EPOCH)
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch))
        rows = order[batch * BATCH : (batch + 1) * BATCH]
        log.update(k, [group["lr"] for group in optimizer.param_groups])
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x[rows]), y[rows]).backward()
        optimizer.step()
        scheduler.step()
        if (k + 1) % every == 0:
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "updates": k + 1,
            }
            torch.save(state, workdir / "checkpoint.tmp")
            os.replace(workdir / "checkpoint.tmp", checkpoint)  # never a half-written file
        log.done(k + 1)
    weights = [p.detach().flatten().tolist() for p in model.parameters()]
    (workdir / "weights.json").write_text(json.dumps(weights))


# -- Keras (TensorFlow backend) --------------------------------------------------------


def keras_run(mode: str, workdir: Path, log: Log) -> None:
    import keras
    import tensorflow as tf

    import lrkit
    import lrkit.keras as lk

    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)

    in_epochs = lrkit.warmup(lrkit.cosine(0.2, EPOCHS - 1, end_lr=0.002), steps=1)
    callbacks: list[Any] = []
    initial_epoch = 0
    if mode == "callback_epoch":
        rate: Any = 0.5
        callbacks.append(lk.LearningRateScheduler(lrkit.cosine(0.2, EPOCHS, end_lr=0.01)))
    elif mode == "callback_batch":
        rate = 0.5
        callbacks.append(lk.LearningRateScheduler(in_epochs, per_batch=True))
    elif mode == "callback_step":
        rate = 0.5
        in_updates = lrkit.warmup(lrkit.cosine(0.2, TOTAL - 6, end_lr=0.002), steps=6)
        callbacks.append(lk.LearningRateScheduler(in_updates, unit="step"))
    else:
        assert mode in ("in_graph_backup", "in_graph_checkpoint")
        rate = lk.schedule(in_epochs, steps_per_epoch=STEPS_PER_EPOCH)

    saved = sorted(workdir.glob("epoch-*.keras"))
    if mode == "in_graph_checkpoint" and saved:
        # The user's resume: the newest checkpoint, and the epoch its name says it ended.
        model = keras.models.load_model(saved[-1])
        initial_epoch = int(saved[-1].stem.removeprefix("epoch-"))
    else:
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dense(3),
            ]
        )
        model.compile(keras.optimizers.SGD(learning_rate=rate, momentum=0.9), loss="mse")
    if mode == "in_graph_checkpoint":
        path = str(workdir / "epoch-{epoch:02d}.keras")
        callbacks.append(keras.callbacks.ModelCheckpoint(path))
    else:
        callbacks.append(keras.callbacks.BackupAndRestore(str(workdir / "backup")))

    def value(v: Any) -> float:
        return float(keras.ops.convert_to_numpy(v))

    class Recorder(keras.callbacks.Callback):  # type: ignore[misc]
        """Last in the list: sees the rate the lrkit callback has just set for this update."""

        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            optimizer = self.model.optimizer
            log.update(int(value(optimizer.iterations)), [value(optimizer.learning_rate)])

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            log.done(int(value(self.model.optimizer.iterations)))

    x, y = data()
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=EPOCHS,
        initial_epoch=initial_epoch,
        shuffle=False,
        verbose=0,
        callbacks=[*callbacks, Recorder()],
    )
    weights = [np.asarray(w).flatten().tolist() for w in model.get_weights()]
    (workdir / "weights.json").write_text(json.dumps(weights))


RUNS: dict[str, tuple[Callable[[str, Path, Log], None], list[str]]] = {
    "torch": (torch_run, ["step", "epoch", "relative"]),
    "keras": (
        keras_run,
        [
            "callback_epoch",
            "callback_batch",
            "callback_step",
            "in_graph_backup",
            "in_graph_checkpoint",
        ],
    ),
}


# -- the parent: fork, kill, resume ----------------------------------------------------


def segment(run: Callable[..., None], mode: str, workdir: Path, kill_at: int | None) -> dict:
    """One child process: resume from ``workdir`` and train, killed after ``kill_at`` updates."""
    log_path = workdir / f"log-{len(list(workdir.glob('log-*')))}.jsonl"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        code = 0
        try:
            run(mode, workdir, Log(log_path, kill_at, write))
        except BaseException as e:  # reported to the parent as an exit code and a message
            sys.stderr.write(f"{mode}: {type(e).__name__}: {e}\n")
            code = 2
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    os.close(write)
    reached = None
    if kill_at is not None:
        ready, _, _ = select.select([read], [], [], CHILD_TIMEOUT)
        line = os.read(read, 64) if ready else b""
        reached = int(line) if line.strip() else None
        os.kill(pid, signal.SIGKILL)  # the crash: no cleanup, no flush, no atexit
    _, status = os.waitpid(pid, 0)
    os.close(read)
    log = [json.loads(line) for line in log_path.read_text().splitlines()]
    return {
        "kill_at": kill_at,
        "reached": reached,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "log": log,
    }


def main(framework: str, seed: int, kills: int, workdir: Path, out: Path) -> None:
    run, modes = RUNS[framework]
    if framework == "keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras  # noqa: F401  (imported once, here; the children inherit it)

        import lrkit.keras
    else:
        import torch

        import lrkit.torch  # noqa: F401

        # Building an optimizer imports torch._dynamo (seconds): once, here, not per child.
        torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1)
    rng = random.Random(seed)
    results: dict[str, Any] = {}
    for mode in modes:
        full_dir, cut_dir = workdir / mode / "full", workdir / mode / "killed"
        full_dir.mkdir(parents=True)
        cut_dir.mkdir(parents=True)
        full = segment(run, mode, full_dir, None)
        kill_points = sorted(rng.sample(range(1, TOTAL), kills))
        segments = [segment(run, mode, cut_dir, k) for k in kill_points]
        segments.append(segment(run, mode, cut_dir, None))

        def weights(d: Path) -> Any:
            path = d / "weights.json"
            return json.loads(path.read_text()) if path.exists() else None

        results[mode] = {
            "full": {**full, "weights": weights(full_dir)},
            "segments": segments,
            "weights": weights(cut_dir),
        }
    out.write_text(json.dumps({"total": TOTAL, "runs": results}))


if __name__ == "__main__":
    framework, seed, kills, workdir, out = sys.argv[1:6]
    main(framework, int(seed), int(kills), Path(workdir), Path(out))
