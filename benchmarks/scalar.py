"""How long does one scalar call ``schedule(t)`` take? lrkit against a hand-written function.

A plain training loop, the per-batch Keras callback and a seed-style function all call a
schedule with one Python number per update. For five schedules this times ``schedule(t)``
on Python floats against a hand-written Python function of the same formula (``math`` and
``if``, what a user would otherwise write), the baseline (ratio 1.0):

  cosine          lrkit.cosine(PEAK, N, end_lr=END)
  warmup+cosine   lrkit.warmup(lrkit.cosine(PEAK, N - W, end_lr=END), steps=W)
  1cycle          lrkit.one_cycle_policy(PEAK, N)                     (cosine phases, the default)
  restarts        lrkit.cosine_restarts(PEAK, P, t_mul=2.0, end_lr=END)
  wsd             lrkit.warmup_stable_decay(PEAK, W, S, D, end_lr=END)   (cosine decay)

The times ``t`` are ``--points`` Python floats spread over the whole curve and past its end
(every phase, every branch). Before timing, each reference is checked against lrkit on every
one of those times and on each phase boundary (equal within 1e-12 of the peak rate). A
repetition times one pass over the times for every function, in a rotating order; a time is
the best (and the median) of the ``--repeat`` repetitions, in CPU time. The loop's own cost
(calling a function that returns its argument) is shown, not subtracted.

    python benchmarks/scalar.py [--points 2000] [--repeat 31] [--out benchmarks/results/scalar.md]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import lrkit

PEAK, END = 0.1, 1e-4
N = 10_000  # cosine's length, and 1cycle's
W, S, D = 500, 6_000, 3_500  # warmup, stable and decay lengths (warmup+cosine uses W too)
P = 1_000  # the first restart period; cycles of 1,000, 2,000, 4,000, 8,000 steps
PCT, DIV, FINAL_DIV = 0.3, 25.0, 1e4  # 1cycle's defaults (as PyTorch's OneCycleLR)


# -- the hand-written references: plain Python, written from each schedule's definition ------


def ref_cosine(t: float) -> float:
    x = min(t, N) / N
    return END + (PEAK - END) * 0.5 * (1.0 + math.cos(math.pi * x))


def ref_warmup_cosine(t: float) -> float:
    if t < W:
        return PEAK * t / W
    x = min(t - W, N - W) / (N - W)
    return END + (PEAK - END) * 0.5 * (1.0 + math.cos(math.pi * x))


ONECYCLE_UP = PCT * N
ONECYCLE_START = PEAK / DIV
ONECYCLE_END = ONECYCLE_START / FINAL_DIV


def ref_onecycle(t: float) -> float:
    if t < ONECYCLE_UP:  # half cosine from max_lr / div up to max_lr
        x = t / ONECYCLE_UP
        return PEAK + (ONECYCLE_START - PEAK) * 0.5 * (1.0 + math.cos(math.pi * x))
    x = min(t - ONECYCLE_UP, N - ONECYCLE_UP) / (N - ONECYCLE_UP)
    return ONECYCLE_END + (PEAK - ONECYCLE_END) * 0.5 * (1.0 + math.cos(math.pi * x))


def ref_restarts(t: float) -> float:
    # Cycle i starts at P (2^i - 1) and lasts P 2^i: i = floor(log2(1 + t / P)).
    i = math.floor(math.log2(1.0 + t / P))
    period = P * 2.0**i
    x = (t - (period - P)) / period
    return END + (PEAK - END) * 0.5 * (1.0 + math.cos(math.pi * x))


def ref_wsd(t: float) -> float:
    if t < W:
        return PEAK * t / W
    if t < W + S:
        return PEAK
    x = min(t - W - S, D) / D
    return END + (PEAK - END) * 0.5 * (1.0 + math.cos(math.pi * x))


def cases() -> dict[str, tuple[lrkit.Schedule, Callable[[float], float], tuple[float, ...]]]:
    """name -> (lrkit's schedule, the reference, the phase boundaries to check exactly)."""
    return {
        "cosine": (lrkit.cosine(PEAK, N, end_lr=END), ref_cosine, (N,)),
        "warmup+cosine": (
            lrkit.warmup(lrkit.cosine(PEAK, N - W, end_lr=END), steps=W),
            ref_warmup_cosine,
            (W, N),
        ),
        "1cycle": (lrkit.one_cycle_policy(PEAK, N), ref_onecycle, (ONECYCLE_UP, N)),
        "restarts": (
            lrkit.cosine_restarts(PEAK, P, t_mul=2.0, end_lr=END),
            ref_restarts,
            (P, 3 * P, 7 * P, 15 * P),
        ),
        "wsd": (
            lrkit.warmup_stable_decay(PEAK, W, S, D, end_lr=END),
            ref_wsd,
            (W, W + S, W + S + D),
        ),
    }


def identity(t: float) -> float:
    return t


def check(name: str, s: lrkit.Schedule, ref: Callable[[float], float], times: list[float]) -> None:
    """The reference gives lrkit's values (to 1e-12 of the peak) on every time it is timed on."""
    for t in times:
        a, b = s(t), ref(t)
        if type(a) is not float or abs(a - b) > 1e-12 * PEAK:
            raise AssertionError(f"{name}: lrkit {a!r} != reference {b!r} at t={t!r}")


def one_pass(fn: Callable[[float], float], times: list[float]) -> float:
    """CPU seconds of one pass (the process's CPU time: a shared machine's other programs
    preempt a pass, which adds wall time but not CPU time)."""
    t0 = time.process_time()
    for t in times:
        fn(t)
    return time.process_time() - t0


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
        f"- Python {platform.python_version()}, NumPy {np.__version__}, lrkit {lrkit.__version__}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=31)
    parser.add_argument("--out", type=Path, default=None, help="write the results as Markdown")
    args = parser.parse_args()
    head = machine()
    # Floats over the whole curve and 10% past its end, not on whole numbers only.
    times = [float(t) for t in np.linspace(0.0, 1.1 * 15 * P, args.points)]
    functions: dict[str, Callable[[float], float]] = {"loop": identity}
    for name, (s, ref, boundaries) in cases().items():
        check(name, s, ref, times + [float(b) for b in boundaries] + [b - 0.5 for b in boundaries])
        functions[f"{name} reference"] = ref
        functions[f"{name} lrkit"] = s
    for fn in functions.values():  # warm up (caches, lazily built parts)
        one_pass(fn, times)
    measured: dict[str, list[float]] = {key: [] for key in functions}
    keys = list(functions)
    for r in range(args.repeat):
        for key in keys[r % len(keys) :] + keys[: r % len(keys)]:
            measured[key].append(one_pass(functions[key], times) / len(times) * 1e9)
    best = {key: min(ns) for key, ns in measured.items()}
    median = {key: statistics.median(ns) for key, ns in measured.items()}

    command = "python benchmarks/scalar.py " + " ".join(sys.argv[1:])
    lines = [
        "# One scalar call `schedule(t)`: lrkit against a hand-written Python function",
        "",
        f"Command: `{command.strip()}` (from the repository root, in the project's venv)",
        "",
        *head,
        "",
        f"CPU nanoseconds per call over {args.points:,} Python floats spanning each curve and past "
        f"its end; best (and median) of {args.repeat} interleaved repetitions. Each reference "
        "is plain `math` and `if`, checked equal to lrkit (within 1e-12 of the peak) on every "
        "time before timing. Ratio = lrkit / reference; target <= 1.5.",
        "",
        "| schedule | reference ns (best / median) | lrkit ns (best / median) "
        "| ratio, best | ratio, median | target met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    ratios = {}
    for name in cases():
        ref, ours = f"{name} reference", f"{name} lrkit"
        ratio = best[ours] / best[ref]
        ratios[name] = ratio
        lines.append(
            f"| {name} | {best[ref]:.0f} / {median[ref]:.0f} | {best[ours]:.0f} / "
            f"{median[ours]:.0f} | {ratio:.2f} | {median[ours] / median[ref]:.2f} "
            f"| {'yes' if ratio <= 1.5 else 'no'} |"
        )
    lines += [
        "",
        f"The loop itself (calling a function that returns its argument): "
        f"{best['loop']:.0f} ns per call (best), included in every figure above.",
        "",
        f"Worst ratio: {max(ratios.values()):.2f} ({max(ratios, key=ratios.__getitem__)}).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
