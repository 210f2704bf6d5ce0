"""How long does `scheduler.step()` take? lrkit.torch.LRScheduler against PyTorch's own schedulers.

For three schedules, 100,000 `scheduler.step()` calls are timed for:

  (a) PyTorch's native scheduler (the baseline: ratio 1.0):
      cosine         CosineAnnealingLR(T_max=N)
      1cycle         OneCycleLR(max_lr, total_steps=N)  (cycles momentum too, by default)
      warmup+cosine  SequentialLR([LinearLR(start_factor, total_iters=W),
                                   CosineAnnealingLR(T_max=N - W)], milestones=[W])
  (b) lrkit.torch.LRScheduler with the same schedule (for 1cycle with the same momentum cycle);
  (c) the same, given a plain function around the schedule, so that it makes one scalar call
      `schedule(t)` per step instead of looking values up (what the look-ahead saves).

Both drive a real `torch.optim.SGD` (one parameter group, momentum 0.9). The two rates are
checked to agree before timing. Every timing is the best of several interleaved repetitions
(the machines are shared and noisy); the median is reported too.

The script also measures where the time goes: the torch base class's own per-step overhead
(a `LambdaLR` with a constant lambda), one scalar call `schedule(t)` of lrkit's core, and the
per-step cost of lrkit's look-ahead (values computed a block of 1,024 steps at a time).

    python benchmarks/torch_step.py [--steps 100000] [--repeat 7] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.optim import lr_scheduler as native

import lrkit
from lrkit.torch import LOOKAHEAD, LRScheduler

PEAK = 0.1
WARMUP = 5000
START_FACTOR = 0.001


def optimizer() -> torch.optim.SGD:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(10))], lr=PEAK, momentum=0.9)


def onecycle_momentum(n: int, pct: float = 0.3) -> lrkit.Schedule:
    """OneCycleLR's default momentum: 0.95 down to 0.85 at the peak, back up to 0.95."""
    up = pct * n
    return lrkit.cosine(0.95, up, end_lr=0.85) >> lrkit.cosine(0.85, n - up, end_lr=0.95)


def cases(n: int) -> dict[str, tuple[Callable[[], Any], lrkit.Schedule, lrkit.Schedule | None]]:
    """name -> (make the native scheduler, lrkit's rate schedule, lrkit's momentum or None)."""

    def warmup_cosine_native() -> Any:
        opt = optimizer()
        return native.SequentialLR(
            opt,
            [
                native.LinearLR(opt, start_factor=START_FACTOR, total_iters=WARMUP),
                native.CosineAnnealingLR(opt, T_max=n - WARMUP),
            ],
            milestones=[WARMUP],
        )

    warmup_cosine = lrkit.warmup(
        lrkit.cosine(PEAK, n - WARMUP), steps=WARMUP, start_lr=PEAK * START_FACTOR
    )
    return {
        "cosine": (
            lambda: native.CosineAnnealingLR(optimizer(), T_max=n),
            lrkit.cosine(PEAK, n),
            None,
        ),
        "1cycle": (
            lambda: native.OneCycleLR(optimizer(), max_lr=PEAK, total_steps=n),
            lrkit.one_cycle_policy(PEAK, n),
            onecycle_momentum(n),
        ),
        "warmup+cosine": (warmup_cosine_native, warmup_cosine, None),
    }


def scalar_calls(schedule: lrkit.Schedule | None) -> Callable[[Any], float] | None:
    """A plain function calling `schedule(t)`: LRScheduler then makes one scalar call per
    step instead of looking values up (what the look-ahead saves)."""
    return None if schedule is None else (lambda t: schedule(t))


def time_steps(make: Callable[[], Any], steps: int) -> float:
    """Seconds for `steps` calls of `step()` on a fresh scheduler (construction not timed)."""
    scheduler = make()
    scheduler.optimizer.step()  # as in training: no "step() before optimizer.step()" warning
    step = scheduler.step
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - t0


def rates(make: Callable[[], Any], steps: int) -> np.ndarray:
    scheduler = make()
    out = []
    for _ in range(steps):
        out.append(scheduler.optimizer.param_groups[0]["lr"])
        scheduler.optimizer.step()
        scheduler.step()
    return np.array(out)


def per_call(fn: Callable[[], Any], calls: int, repeat: int) -> float:
    """Best microseconds per call of `fn`."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, time.perf_counter() - t0)
    return best / calls * 1e6


def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"- CPU: {cpu}; `nproc`: {os.cpu_count()}; load average at the start: {load}",
        f"- Python {platform.python_version()}, torch {torch.__version__}, "
        f"NumPy {np.__version__}, lrkit {lrkit.__version__}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="write the results as Markdown")
    args = parser.parse_args()
    n, steps = args.steps, args.steps
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)  # torch's SequentialLR init warns
    lines = [
        "# `scheduler.step()`: lrkit.torch.LRScheduler against PyTorch's schedulers",
        "",
        f"Command: `python benchmarks/torch_step.py --steps {steps} --repeat {args.repeat}"
        + (f" --out {args.out}`" if args.out else "`"),
        "",
        *machine(),
        "",
        f"Time of {steps:,} `scheduler.step()` calls on a `torch.optim.SGD` (one group); best "
        f"(and median) of {args.repeat} interleaved runs. Ratio = lrkit / native; "
        "target <= 1.0.",
        "",
        "| schedule | native (ms) | lrkit (ms) | ratio, best | ratio, median "
        "| lrkit, a scalar call per step (ms) | its ratio, best |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, (make_native, lr, momentum) in cases(n).items():

        def make_lrkit(lr: Any = lr, momentum: Any = momentum) -> LRScheduler:
            return LRScheduler(optimizer(), lr, momentum=momentum)

        def make_scalar(lr: Any = lr, momentum: Any = momentum) -> LRScheduler:
            return LRScheduler(optimizer(), scalar_calls(lr), momentum=scalar_calls(momentum))

        a, b = rates(make_native, 2000), rates(make_lrkit, 2000)
        # PyTorch's 1cycle puts its peak and end one step earlier than lrkit's (and optax's)
        tolerance = 2e-3 * PEAK if name == "1cycle" else 1e-9 * PEAK
        assert np.allclose(a, b, rtol=0, atol=tolerance), (name, np.abs(a - b).max())
        assert np.allclose(b, rates(make_scalar, 2000), rtol=1e-12, atol=1e-12 * PEAK)
        native_times, lrkit_times, scalar_times = [], [], []
        for _ in range(args.repeat):
            native_times.append(time_steps(make_native, steps))
            lrkit_times.append(time_steps(make_lrkit, steps))
            scalar_times.append(time_steps(make_scalar, steps))
        best = min(lrkit_times) / min(native_times)
        median = statistics.median(lrkit_times) / statistics.median(native_times)
        lines.append(
            f"| {name} | {min(native_times) * 1e3:.1f} | {min(lrkit_times) * 1e3:.1f} | "
            f"{best:.2f} | {median:.2f} | {min(scalar_times) * 1e3:.1f} | "
            f"{min(scalar_times) / min(native_times):.2f} |"
        )
        print(lines[-1], flush=True)

    # Where the time goes, per step, in microseconds.
    calls = 20_000
    constant = native.LambdaLR(optimizer(), lambda k: 1.0)
    schedules = {
        "cosine": lrkit.cosine(PEAK, n),
        "1cycle": lrkit.one_cycle_policy(PEAK, n),
        "warmup+cosine": lrkit.warmup(lrkit.cosine(PEAK, n - WARMUP), steps=WARMUP),
    }
    block = np.arange(12_345, 12_345 + LOOKAHEAD)
    lines += [
        "",
        "Where the time goes (microseconds per step, best of the repetitions):",
        "",
        f"- torch's base-class `step()` with nothing to compute (`LambdaLR`, constant "
        f"lambda): {per_call(constant.step, calls, args.repeat):.2f}",
    ]
    for name, s in schedules.items():
        scalar = per_call(lambda s=s: s(12_345), calls, args.repeat)
        vector = per_call(lambda s=s: s(block).tolist(), 50, args.repeat) / LOOKAHEAD
        lines.append(
            f"- {name}: one scalar call `schedule(t)` {scalar:.2f}; "
            f"vectorized look-ahead {vector:.3f} per step"
        )
    lines += [
        "",
        "A scalar call `schedule(t)` per step (the last two columns of the table: a plain "
        "function around the schedule, so no look-ahead) costs about as much as a native step "
        "or more, and 1cycle needs two (rate and momentum). So `LRScheduler` computes the "
        f"closed form for the next {LOOKAHEAD:,} counters in one vectorized NumPy call and "
        "then only looks values up; its `step()` is otherwise plain Python over the parameter "
        "groups, without the base class's context managers and copies.",
    ]
    text = "\n".join(lines) + "\n"
    print("\n".join(lines[lines.index("") + 1 :]) if args.out is None else text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
