"""Resume: save model, optimizer and scheduler mid-run, load them in a fresh process, continue.

The rate and momentum sequence of the resumed run must equal an uninterrupted run's, and so
must the trained weights. Run as a script, this file is the second half of the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lrkit  # noqa: E402
from lrkit.torch import LRScheduler  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("torch_one_thread")]


STEPS, SPLIT, BATCH = 150, 61, 32
SCHEDULE = lrkit.warmup(lrkit.cosine(0.2, STEPS - 15, end_lr=0.002), steps=15)
MOMENTUM = lrkit.cosine(0.95, 45, end_lr=0.85) >> lrkit.cosine(0.85, STEPS - 45, end_lr=0.95)


def build() -> tuple[torch.nn.Module, torch.optim.Optimizer, LRScheduler]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.9, weight_decay=1e-4)
    return model, optimizer, LRScheduler(optimizer, SCHEDULE, momentum=MOMENTUM)


def data() -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed, generated 10-class problem (no scikit-learn import in the fresh process)."""
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(1000, 64, generator=generator)
    y = (x @ torch.randn(64, 10, generator=generator)).argmax(1)
    return x, y


def train(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: LRScheduler,
    start: int,
    stop: int,
) -> list[list[float]]:
    """Updates ``start`` to ``stop`` on fixed batches; returns (lr, momentum) of each."""
    x, y = data()
    seen = []
    for k in range(start, stop):
        batch = torch.arange(k * BATCH, (k + 1) * BATCH) % len(x)
        group = optimizer.param_groups[0]
        seen.append([group["lr"], group["momentum"]])
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()
        scheduler.step()
    return seen


def weights(model: torch.nn.Module) -> list[list[float]]:
    return [p.detach().flatten().tolist() for p in model.parameters()]


def test_resumed_run_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    model, optimizer, scheduler = build()
    uninterrupted = train(model, optimizer, scheduler, 0, STEPS)
    final_weights = weights(model)

    model, optimizer, scheduler = build()
    first = train(model, optimizer, scheduler, 0, SPLIT)
    checkpoint = tmp_path / "checkpoint.pt"
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
        },
        checkpoint,
    )
    result = tmp_path / "second_half.json"
    src = str(Path(lrkit.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    subprocess.run(
        [sys.executable, __file__, str(checkpoint), str(result)],
        check=True,
        timeout=300,
        env=env,
        capture_output=True,
    )
    second = json.loads(result.read_text())

    assert len(first) + len(second["seen"]) == STEPS
    assert first + second["seen"] == uninterrupted
    np.testing.assert_allclose(
        [row[0] for row in uninterrupted],
        [SCHEDULE(k) for k in range(STEPS)],
        rtol=1e-12,
        atol=1e-14,  # 1e-12 of the peak: NumPy and `math` may differ in the last bit
    )
    for resumed, reference in zip(second["weights"], final_weights, strict=True):
        np.testing.assert_allclose(resumed, reference, rtol=1e-6, atol=1e-7)


def second_half(checkpoint: str, result: str) -> None:
    """In a fresh process: build everything as a user would, load the checkpoint, continue."""
    model, optimizer, scheduler = build()
    state = torch.load(checkpoint, weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    assert scheduler.last_epoch == SPLIT
    seen = train(model, optimizer, scheduler, SPLIT, STEPS)
    Path(result).write_text(json.dumps({"seen": seen, "weights": weights(model)}))


if __name__ == "__main__":
    torch.set_num_threads(1)
    second_half(*sys.argv[1:3])
