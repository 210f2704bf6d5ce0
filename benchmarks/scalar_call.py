"""What does one scalar call ``schedule(t)`` cost? lrkit against a hand-written ``math`` function.

A plain training loop, the per-batch Keras callback and a seed-style function evaluate a
schedule once per update, on a Python number. For each schedule, a hand-written Python
function of the same formula with ``math`` (the baseline: ratio 1.0) and the lrkit schedule are
called on the same times, covering every phase and the hold after the end; the two are first
checked to agree to 1e-12 there. Times are Python floats, then Python ints (what Keras passes).

Each timing calls one function on all the times (``map``, so no Python loop of our own adds to
it) and is measured in process CPU time, which other programs on a shared machine disturb less
than wall time. The repetitions are interleaved (every function once per round, in a rotating
order); a function's cost is its best and its median round, and each ratio is lrkit's over the
hand-written one's, best over best and median over median, measured in the same run.
Target: at most 1.5x.

    python benchmarks/scalar_call.py [--rounds 41] [--out benchmarks/results/scalar_call.md]
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import lrkit

HERE = Path(__file__).resolve().parent
PEAK, END = 0.1, 1e-5
N = 1000  # the length of the finite schedules
W, S, D = 100, 700, 200  # warmup, stable, decay
P = 100  # first cycle of the restarts (t_mul = 2)
TIMES = [float(k) for k in range(0, 3200, 2)]  # every phase, and the hold after N


# --- the hand-written functions: what a careful user writes with `math` -----------------------
def hand_cosine(t: float) -> float:
    return END + (PEAK - END) * 0.5 * (1.0 + math.cos(math.pi * min(t, N) / N))


def hand_warmup_cosine(t: float) -> float:
    if t < W:
        return PEAK * t / W
    return END + (PEAK - END) * 0.5 * (1.0 + math.cos(math.pi * min(t - W, N - W) / (N - W)))


def hand_one_cycle(t: float) -> float:  # Smith's 1cycle, PyTorch's defaults
    up = 0.3 * N
    low, end = PEAK / 25, PEAK / 25 / 1e4
    if t < up:
        return PEAK + (low - PEAK) * 0.5 * (1.0 + math.cos(math.pi * t / up))
    return end + (PEAK - end) * 0.5 * (1.0 + math.cos(math.pi * min(t - up, N - up) / (N - up)))


def hand_cosine_restarts(t: float) -> float:  # t_mul = 2: cycle i starts at P (2^i - 1)
    i = math.floor(math.log2(1.0 + t / P))
    length = P * 2.0**i
    start = length - P
    return END + (PEAK - END) * 0.5 * (1.0 + math.cos(math.pi * (t - start) / length))


def hand_wsd(t: float) -> float:
    if t < W:
        return PEAK * t / W
    if t < W + S:
        return PEAK
    return END + (PEAK - END) * 0.5 * (1.0 + math.cos(math.pi * min(t - W - S, D) / D))


CASES: dict[str, tuple[lrkit.Schedule, Callable[[float], float]]] = {
    "cosine": (lrkit.cosine(PEAK, N, END), hand_cosine),
    "warmup + cosine": (lrkit.warmup(lrkit.cosine(PEAK, N - W, END), W), hand_warmup_cosine),
    "1cycle": (lrkit.one_cycle_policy(PEAK, N), hand_one_cycle),
    "cosine restarts": (
        lrkit.cosine_restarts(PEAK, P, t_mul=2.0, end_lr=END),
        hand_cosine_restarts,
    ),
    "warmup-stable-decay": (
        lrkit.warmup_stable_decay(PEAK, W, S, D, decay_shape="cosine", end_lr=END),
        hand_wsd,
    ),
}


def check(name: str, s: lrkit.Schedule, hand: Callable[[float], float], times: list[Any]) -> None:
    for t in times:
        a, b = s(t), hand(t)
        if type(a) is not float or not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12 * PEAK):
            raise AssertionError(f"{name}: lrkit {a!r} != hand-written {b!r} at t={t!r}")


def cost(fn: Callable[[Any], float], times: list[Any], passes: int) -> float:
    """CPU seconds per call of ``fn`` over ``times``, ``passes`` times."""
    consume = collections.deque(maxlen=0).extend
    t0 = time.process_time()
    for _ in range(passes):
        consume(map(fn, times))
    return (time.process_time() - t0) / (passes * len(times))


def measure(times: list[Any], rounds: int, passes: int) -> dict[str, dict[str, list[float]]]:
    fns = [
        (name, kind, fn)
        for name, (s, h) in CASES.items()
        for kind, fn in (("hand", h), ("lrkit", s))
    ]
    out: dict[str, dict[str, list[float]]] = {name: {"hand": [], "lrkit": []} for name in CASES}
    for _ in range(3):  # warm up: lrkit compiles a schedule after its first few scalar calls
        for _, _, fn in fns:
            cost(fn, times, 1)
    for r in range(rounds):
        order = fns[r % len(fns) :] + fns[: r % len(fns)]
        for name, kind, fn in order:
            out[name][kind].append(cost(fn, times, passes))
    return out


def table(results: dict[str, dict[str, dict[str, list[float]]]]) -> list[str]:
    head = "| schedule |"
    rule = "|---|"
    for label in results:
        head += f" hand-written, {label} | lrkit, {label} | ratio, {label} |"
        rule += "---|---|---|"
    lines = [head, rule]
    for name in CASES:
        row = f"| {name} |"
        for per_kind in results.values():
            h, s = per_kind[name]["hand"], per_kind[name]["lrkit"]
            hb, hm, sb, sm = min(h), statistics.median(h), min(s), statistics.median(s)
            row += (
                f" {hb * 1e9:.0f} ({hm * 1e9:.0f}) | {sb * 1e9:.0f} ({sm * 1e9:.0f}) |"
                f" **{sb / hb:.2f}x** ({sm / hm:.2f}x) |"
            )
        lines.append(row)
    return lines


def machine() -> str:
    cpu = platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0].split(":", 1)[1].strip() if names else cpu
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpu}, {cores} cores available, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, lrkit {lrkit.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--passes", type=int, default=5, help="passes over the times per round")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    int_times = [int(t) for t in TIMES]
    for name, (s, hand) in CASES.items():
        check(name, s, hand, TIMES)
        check(name, s, hand, int_times)
    results = {
        "float t": measure(TIMES, args.rounds, args.passes),
        "int t": measure(int_times, args.rounds, args.passes),
    }
    lines = [
        "# One scalar call `schedule(t)`",
        "",
        f"Command: `python benchmarks/scalar_call.py --rounds {args.rounds} "
        f"--passes {args.passes}`",
        "",
        f"Machine: {machine()}",
        "",
        f"Nanoseconds of CPU time per call, best (median) of {args.rounds} interleaved rounds of "
        f"{args.passes} x {len(TIMES)} calls on times 0, 2, ..., {TIMES[-1]:.0f}; the ratio is "
        "lrkit's over the hand-written `math` function's, best over best (median over median), "
        "measured in the same run. The two agree to 1e-12 at every time. Target: at most 1.5x.",
        "",
        *table(results),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
