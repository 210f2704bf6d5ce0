"""A ``torch.compile``d optimizer step driven by lrkit.torch.LRScheduler vs PyTorch's scheduler.

PyTorch's recipe for a compiled optimizer with a changing rate: a tensor rate
(``Adam(params, lr=torch.tensor(0.01))``), a compiled function calling ``optimizer.step()``,
and the scheduler stepped outside it. Two copies of one small model (an MLP 64-128-10 on
fixed gradients) each get that recipe, one driven by

  (a) PyTorch's ``CosineAnnealingLR(T_max=N)`` (the baseline: ratio 1.0);
  (b) ``lrkit.torch.LRScheduler(optimizer, lrkit.cosine(LR, N))``, the same curve.

The benchmark counts the graphs Dynamo compiles for each over ``--updates`` updates of the
changing rate (target: none after the first update), checks both rates agree, then times
``compiled_step(); scheduler.step()`` per update: each repetition runs ``--updates`` updates
of each copy, in a rotating order; a time is the best (and the median) of ``--repeat``
repetitions. The compile itself (Inductor, tens of seconds on a small CPU) is not timed.

    python benchmarks/torch_compile.py [--updates 1000] [--repeat 15] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch_step  # benchmarks/ is on the path when this script runs
from torch._dynamo.utils import counters

import lrkit
from lrkit.torch import LRScheduler

LR = 0.01


def graphs() -> int:
    return int(counters["stats"]["unique_graphs"])


def setup(which: str, n: int) -> tuple[Callable[[], None], Any, torch.Tensor]:
    """A compiled Adam step on an MLP with fixed gradients, its scheduler and its rate tensor."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    for p in model.parameters():
        p.grad = torch.randn_like(p) * 1e-3
    optimizer = torch.optim.Adam(model.parameters(), lr=torch.tensor(LR))
    if which == "lrkit":
        scheduler: Any = LRScheduler(optimizer, lrkit.cosine(LR, n))
    else:
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=n)

    @torch.compile
    def step() -> None:
        optimizer.step()

    return step, scheduler, optimizer.param_groups[0]["lr"]


def first_pass(step: Callable[[], None], scheduler: Any, rate: torch.Tensor, n: int) -> list[Any]:
    """Compile and run ``n`` updates: the rates, and the graphs after the first update and the
    last."""
    before = graphs()
    rates, after_first = [], 0
    for k in range(n):
        rates.append(float(rate))
        step()
        scheduler.step()
        if k == 0:
            after_first = graphs() - before
    return [np.array(rates), after_first, graphs() - before]


def timed(step: Callable[[], None], scheduler: Any, n: int) -> float:
    sched_step = scheduler.step
    t0 = time.perf_counter()
    for _ in range(n):
        step()
        sched_step()
    return time.perf_counter() - t0


def machine() -> list[str]:
    """torch_step.py's machine lines (this script runs torch on one thread)."""
    return [*torch_step.machine()[:-1], torch_step.machine()[-1] + "; torch threads: 1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--out", type=Path, default=None, help="write the results as Markdown")
    args = parser.parse_args()
    n = args.updates
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)
    head = machine()
    names = ["torch", "lrkit"]
    runs = {name: setup(name, n) for name in names}
    first = {name: first_pass(*runs[name], n) for name in names}
    if not np.allclose(first["torch"][0], first["lrkit"][0], rtol=1e-5, atol=1e-9 * LR):
        raise AssertionError("the two schedulers' rates differ")
    times: dict[str, list[float]] = {name: [] for name in names}
    # The timed updates run on past the curve's end: lrkit holds the final rate there,
    # CosineAnnealingLR rises again; both keep writing their tensor in place.
    before_timing = graphs()
    for r in range(args.repeat):
        for name in names[r % 2 :] + names[: r % 2]:
            step, scheduler, _ = runs[name]
            times[name].append(timed(step, scheduler, n) / n * 1e6)
    recompiles = {name: first[name][2] - first[name][1] for name in names}
    during_timing = graphs() - before_timing
    best = {name: min(t) for name, t in times.items()}
    median = {name: statistics.median(t) for name, t in times.items()}

    command = "python benchmarks/torch_compile.py " + " ".join(sys.argv[1:])
    labels = {
        "torch": "PyTorch `CosineAnnealingLR` (baseline)",
        "lrkit": "`lrkit.torch.LRScheduler(optimizer, lrkit.cosine(...))`",
    }
    lines = [
        "# A `torch.compile`d optimizer step: lrkit's scheduler against PyTorch's",
        "",
        f"Command: `{command.strip()}` (from the repository root, in the project's venv)",
        "",
        *head,
        "- Model: MLP 64-128-10, `torch.optim.Adam(lr=torch.tensor(0.01))`, fixed gradients; "
        "`torch.compile` (Inductor) of a function calling `optimizer.step()`, the scheduler "
        "stepped after it",
        "",
        f"Graphs compiled over the first {n:,} updates of a cosine rate (the first update "
        "compiles; target: 0 after it), and microseconds per update (compiled step + "
        f"`scheduler.step()`), best / median of {args.repeat} interleaved repetitions of "
        f"{n:,} updates:",
        "",
        "| scheduler | graphs at update 1 | graphs added after it | us per update (best / "
        "median) | ratio to PyTorch (best / median) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in names:
        lines.append(
            f"| {labels[name]} | {first[name][1]} | {recompiles[name]} "
            f"| {best[name]:.1f} / {median[name]:.1f} "
            f"| {best[name] / best['torch']:.3f} / {median[name] / median['torch']:.3f} |"
        )
    ok = recompiles["lrkit"] == 0 and during_timing == 0 and best["lrkit"] <= best["torch"]
    lines += [
        "",
        f"Graphs compiled during the {args.repeat * n:,} timed updates of each (both "
        f"together): {during_timing}.",
        "",
        f"Target (no recompile after the first update, and no slower than PyTorch's "
        f"scheduler, best against best): **{'met' if ok else 'NOT met'}**.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
