"""lrkit.torch.LRScheduler with a ``torch.compile``d optimizer step: no recompiles.

PyTorch's guidance for compiling ``optimizer.step`` with a changing rate is a tensor rate
(``Adam(params, lr=torch.tensor(0.01))``): a Python float is a constant of the compiled graph,
so changing it makes Dynamo compile again. LRScheduler writes each rate into that tensor in
place, so the compiled step keeps its one graph however often the rate changes.

Graphs are counted with Dynamo's own counter (``counters["stats"]["unique_graphs"]``). Dynamo
decides when to recompile whatever the backend, so the step is compiled with the ``"eager"``
backend, which skips Inductor's code generation (over a minute per graph on a small CPU
machine); ``benchmarks/torch_compile.py`` uses the default backend over 1,000 updates.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lrkit  # noqa: E402
from lrkit.torch import LRScheduler  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("torch_one_thread")]

UPDATES = 300
PEAK, WARM = 0.01, 30


def rate(t: int) -> float:
    """Linear warmup to PEAK over WARM updates, then a cosine to 0 at UPDATES (plain math)."""
    if t < WARM:
        return PEAK * t / WARM
    return PEAK * 0.5 * (1 + math.cos(math.pi * min(t - WARM, UPDATES - WARM) / (UPDATES - WARM)))


SCHEDULE = lrkit.warmup(lrkit.cosine(PEAK, UPDATES - WARM), steps=WARM)


def graphs() -> int:
    """Graphs Dynamo has compiled in this process so far (its counters outlive a reset)."""
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


def make(kind: str, lr: float | torch.Tensor) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 2)
    if kind == "adam":
        return model, torch.optim.Adam(model.parameters(), lr=lr)
    return model, torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def train(model: torch.nn.Module, step: object, scheduler: LRScheduler, updates: int) -> list[int]:
    """Real updates on a fixed batch; the graphs compiled since the start, after each one."""
    x = torch.linspace(-1.0, 1.0, 32).reshape(4, 8)
    before = graphs()
    counts = []
    for _ in range(updates):
        model.zero_grad()
        model(x).square().mean().backward()
        step()  # type: ignore[operator]
        scheduler.step()
        counts.append(graphs() - before)
    return counts


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_a_compiled_step_compiles_once_while_the_rate_changes(kind: str) -> None:
    torch._dynamo.reset()
    model, optimizer = make(kind, torch.tensor(PEAK))
    scheduler = LRScheduler(optimizer, SCHEDULE)
    tensor = optimizer.param_groups[0]["lr"]
    seen: list[float] = []

    def step() -> None:
        seen.append(float(tensor))
        compiled()

    compiled = torch.compile(optimizer.step, backend="eager")
    counts = train(model, step, scheduler, UPDATES)

    # SGD with momentum compiles once more when its momentum buffers first exist (the guard
    # is on the optimizer's state, whatever the scheduler); Adam creates its state in the
    # first graph. After that, no update adds a graph.
    settled = 1 if kind == "adam" else 2
    assert counts[settled - 1] == settled
    assert counts[-1] == settled, f"{counts[-1] - settled} recompiles over {UPDATES} updates"
    assert optimizer.param_groups[0]["lr"] is tensor  # the same tensor, written in place
    assert tensor.dtype == torch.float32 and tensor.shape == ()
    expected = [rate(t) for t in range(UPDATES)]
    np.testing.assert_allclose(seen, np.float32(expected), rtol=1e-6, atol=1e-9)

    # The compiled step used each new rate (not the first one, frozen into the graph): the
    # weights equal those of the same updates made by an uncompiled optimizer with float rates.
    reference, plain = make(kind, PEAK)
    plain_scheduler = LRScheduler(plain, lambda t: float(np.float32(rate(t))))
    train(reference, plain.step, plain_scheduler, UPDATES)
    for a, b in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_the_count_sees_a_recompile_with_a_float_rate() -> None:
    """What the tensor avoids, and proof that the count above can fail: with a float rate,
    changing it makes Dynamo compile the step again (once; it then treats the float as a
    symbol)."""
    torch._dynamo.reset()
    model, optimizer = make("adam", PEAK)
    scheduler = LRScheduler(optimizer, SCHEDULE)
    counts = train(model, torch.compile(optimizer.step, backend="eager"), scheduler, 40)
    assert counts[0] == 1
    assert counts[-1] > 1
