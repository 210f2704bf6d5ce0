"""How fast is a whole schedule curve? lrkit against hand-written NumPy, optax, PyTorch, lrsched.

For three schedules (warmup+cosine, 1cycle, cosine with warm restarts) the curve over N points
is computed by:

  (a) lrkit's vectorized call on a NumPy array;
  (b) a hand-fused NumPy expression of the same formula (the baseline: ratio 1.0);
  (c) lrkit and optax on a JAX array under ``jax.jit`` (with the cosine alone of the same
      times, their common floor, and the operations each compiled program computes);
  (d) stepping PyTorch's equivalent scheduler once per point;
  (e) the pure-Python package ``lrsched``, one call per point.

Each method runs on as many points as is reasonable (N for the array methods, fewer for the
per-point ones) and is reported in nanoseconds per point, and as a ratio to (b) measured in
the same run. Every timing is the best of several interleaved repetitions (the machines are
shared and noisy). All methods are checked to compute the same curve first. The script also
times ``import lrkit`` against bare ``python -c pass`` and ``import numpy``.

    python benchmarks/evaluate.py [--points 10000000] [--out benchmarks/results/evaluate.md]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import lrkit

PEAK, END = 0.1, 1e-5


def best_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# --- (b) hand-fused NumPy: what a careful user would write for each curve -----------------
def fused_warmup_cosine(t: np.ndarray, W: int, D: int) -> np.ndarray:
    x = t.astype(np.float64)
    warm = x * (PEAK / W)
    decay = END + (PEAK - END) * 0.5 * (1.0 + np.cos(np.minimum(x - W, D) * (math.pi / D)))
    return np.where(x < W, warm, decay)


def fused_onecycle(t: np.ndarray, total: int) -> np.ndarray:
    x = t.astype(np.float64)
    up_len = 0.3 * total
    lo, end = PEAK / 25, PEAK / 25 / 1e4
    up = PEAK + (lo - PEAK) * 0.5 * (1.0 + np.cos(x * (math.pi / up_len)))
    down_len = total - up_len
    down = end + (PEAK - end) * 0.5 * (
        1.0 + np.cos(np.minimum(x - up_len, down_len) * (math.pi / down_len))
    )
    return np.where(x < up_len, up, down)


def fused_restarts(t: np.ndarray, P: int) -> np.ndarray:  # t_mul = 2
    x = t.astype(np.float64)
    i = np.floor(np.log2(1.0 + x / P))
    length = P * np.exp2(i)
    start = length - P
    return END + (PEAK - END) * 0.5 * (1.0 + np.cos((x - start) * math.pi / length))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    N = args.points
    W, P = N // 20, N // 64

    schedules: dict[str, dict[str, Any]] = {
        "warmup+cosine": {
            "lrkit": lrkit.warmup(lrkit.cosine(PEAK, N - W, END), W),
            "fused": lambda t: fused_warmup_cosine(t, W, N - W),
        },
        "1cycle": {
            "lrkit": lrkit.one_cycle_policy(PEAK, N),
            "fused": lambda t: fused_onecycle(t, N),
        },
        "cosine restarts": {
            "lrkit": lrkit.cosine_restarts(PEAK, P, t_mul=2.0, end_lr=END),
            "fused": lambda t: fused_restarts(t, P),
        },
    }
    t = np.arange(N)
    rows: list[dict[str, Any]] = []
    xla_ops: dict[str, dict[str, float]] = {}
    for name, case in schedules.items():
        s, fused = case["lrkit"], case["fused"]
        np.testing.assert_allclose(s(t[:: N // 1000]), fused(t[:: N // 1000]), rtol=1e-9)
        # (a) and (b), interleaved so that both see the same machine; (a) also on one thread
        ta, ta1, tb = [], [], []
        for _ in range(args.repeat):
            ta.append(best_time(lambda s=s: s(t), 1))
            os.environ["LRKIT_NUM_THREADS"] = "1"
            ta1.append(best_time(lambda s=s: s(t), 1))
            del os.environ["LRKIT_NUM_THREADS"]
            tb.append(best_time(lambda f=fused: f(t), 1))
        base = min(tb) / N
        row = {
            "schedule": name,
            "fused NumPy": base,
            "lrkit NumPy": min(ta) / N,
            "lrkit NumPy, 1 thread": min(ta1) / N,
        }
        times, xla_ops[name] = jax_times(name, s, N, args.repeat)
        row.update(times)
        row.update(per_point_times(name, N, W, P, args.repeat))
        rows.append(row)
        print(name, {k: v for k, v in row.items() if k != "schedule"}, flush=True)

    imports = import_times()
    report(rows, xla_ops, imports, N, args)


def jax_times(
    name: str, s: lrkit.Schedule, N: int, repeat: int
) -> tuple[dict[str, float], dict[str, int]]:
    """(c): lrkit and optax under ``jax.jit``, and the floor both share: the cosine alone of
    the same times. Also the operations XLA's compiled program computes, per point."""
    import jax
    import jax.numpy as jnp
    import optax

    W, P = N // 20, N // 64
    if name == "warmup+cosine":
        reference = optax.warmup_cosine_decay_schedule(0.0, PEAK, W, N, END)
    elif name == "1cycle":
        # optax's onecycle (piecewise_interpolate) takes one count at a time: vmap it.
        reference = jax.vmap(optax.cosine_onecycle_schedule(N, PEAK))
    else:
        cycles, start, length = [], 0, P
        while start < N:
            cycles.append(
                {
                    "init_value": PEAK,
                    "peak_value": PEAK,
                    "warmup_steps": 0,
                    "decay_steps": length,
                    "end_value": END,
                }
            )
            start, length = start + length, 2 * length
        reference = optax.sgdr_schedule(cycles)
    t = jnp.arange(N, dtype=jnp.int32)
    ours, theirs = jax.jit(s), jax.jit(reference)
    cosine = jax.jit(lambda t: jnp.cos(t.astype(jnp.float32) * (math.pi / N)))
    np.testing.assert_allclose(
        np.asarray(ours(t[:: N // 1000])),
        np.asarray(theirs(t[:: N // 1000])),
        rtol=2e-4,
        atol=2e-6 * PEAK,
    )
    ours(t).block_until_ready(), theirs(t).block_until_ready(), cosine(t).block_until_ready()
    ta: list[float] = []
    tb: list[float] = []
    tc: list[float] = []
    runs = [(ours, ta), (theirs, tb), (cosine, tc)]
    for r in range(repeat):  # the order turns each round: none always runs first
        for f, out in runs[r % 3 :] + runs[: r % 3]:
            out.append(best_time(lambda f=f: f(t).block_until_ready(), 1))
    times = {
        "lrkit jax.jit": min(ta) / N,
        "optax jax.jit": min(tb) / N,
        "jax.jit cosine alone": min(tc) / N,
    }
    ops = {"lrkit": compiled_ops(ours, t), "optax": compiled_ops(theirs, t)}
    # The ratio within each round, where both met the same machine: its median.
    ops["median lrkit/optax"] = statistics.median(a / b for a, b in zip(ta, tb, strict=True))
    return times, ops


#: HLO instructions that compute nothing per point.
NOT_COMPUTING = {"parameter", "constant", "broadcast", "fusion", "tuple", "get-tuple-element"}


def compiled_ops(f: Any, t: Any) -> int:
    """The instructions of ``f``'s optimized XLA program (all computations, fused or not),
    less those in :data:`NOT_COMPUTING`."""
    text = f.lower(t).compile().as_text()
    ops = re.findall(r"^\s*(?:ROOT )?%\S+ = \S+ ([a-z][\w-]*)\(", text, re.MULTILINE)
    return sum(op not in NOT_COMPUTING for op in ops)


#: Points the per-point methods (PyTorch stepped, lrsched) evaluate, at most.
PER_POINT = 200_000


def per_point_times(name: str, N: int, W: int, P: int, repeat: int) -> dict[str, float]:
    """(d) PyTorch stepped and (e) lrsched called once per point, on a prefix of the curve."""
    import lrsched
    import torch

    n = min(PER_POINT, N - 1)  # OneCycleLR refuses a step past its total
    param = [torch.nn.Parameter(torch.zeros(1))]

    def torch_scheduler() -> Any:
        opt = torch.optim.SGD(param, lr=PEAK)
        sched = torch.optim.lr_scheduler
        if name == "warmup+cosine":
            warm = sched.LinearLR(opt, start_factor=1e-8, end_factor=1.0, total_iters=W)
            cos = sched.CosineAnnealingLR(opt, T_max=N - W, eta_min=END)
            return sched.SequentialLR(opt, [warm, cos], milestones=[W])
        if name == "1cycle":
            return sched.OneCycleLR(opt, max_lr=PEAK, total_steps=N)
        return sched.CosineAnnealingWarmRestarts(opt, T_0=P, T_mult=2, eta_min=END)

    def step_torch() -> None:
        s = torch_scheduler()
        for _ in range(n):
            s.step()

    if name == "warmup+cosine":
        ls = lrsched.with_warmup(
            lrsched.cosine(base_lr=PEAK, min_lr=END, total_steps=N - W),
            warmup_steps=W,
            start_lr=0.0,
        )
    elif name == "1cycle":
        ls = lrsched.one_cycle(
            max_lr=PEAK, total_steps=N, pct_start=0.3, initial_div=25.0, final_div=25e4
        )
    else:
        ls = lrsched.cosine_restarts(base_lr=PEAK, min_lr=END, period=P, t_mult=2)

    def call_lrsched() -> None:
        for k in range(n):
            ls(k)

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        td = best_time(step_torch, max(2, repeat // 3))
    te = best_time(call_lrsched, max(2, repeat // 3))
    return {"PyTorch stepped": td / n, "lrsched": te / n}


def import_times() -> dict[str, float]:
    # As a user's interpreter imports: from bytecode (written by a first import, into a cache
    # of this run's own; PYTHONDONTWRITEBYTECODE would compile every module from source).
    cache = tempfile.mkdtemp(prefix="lrkit-pycache-")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    subprocess.run([sys.executable, "-c", "import lrkit"], check=True, env=env)

    def best(code: str) -> float:
        runs = []
        for _ in range(15):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
            runs.append(time.perf_counter() - t0)
        return min(runs)

    try:
        return {
            "python -c pass": best("pass"),
            "import numpy": best("import numpy"),
            "import lrkit": best("import lrkit"),
        }
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import jax
    import optax
    import torch

    return (
        f"{cpu}, {len(__import__('os').sched_getaffinity(0))} cores available, "
        f"Python {platform.python_version()}, NumPy {np.__version__}, jax {jax.__version__}, "
        f"optax {optax.__version__}, torch {torch.__version__}, lrkit {lrkit.__version__}"
    )


def report(
    rows: list[dict[str, Any]],
    xla_ops: dict[str, dict[str, float]],
    imports: dict[str, float],
    N: int,
    args: Any,
) -> None:
    methods = [k for k in rows[0] if k != "schedule"]
    lines = [
        "# Evaluating a whole schedule curve",
        "",
        f"Command: `python benchmarks/evaluate.py --points {N} --repeat {args.repeat}`",
        "",
        f"Machine: {machine()}",
        "",
        "Nanoseconds per point (best of the interleaved repetitions) and, in brackets, the "
        "ratio to the hand-fused NumPy expression measured in the same run. NumPy and JAX "
        f"methods evaluate {N:,} points; PyTorch (stepping its scheduler) and lrsched "
        f"(one Python call per point) evaluate the first {min(PER_POINT, N - 1):,}. lrkit's "
        "NumPy call shares arrays of a million values or more between the cores it may use (here "
        f"{len(os.sched_getaffinity(0))}); the `1 thread` column is the same call with "
        "`LRKIT_NUM_THREADS=1`. The other NumPy expressions run on one thread, as NumPy does.",
        "",
        "| schedule | " + " | ".join(methods) + " |",
        "|---" * (len(methods) + 1) + "|",
    ]
    for row in rows:
        base = row["fused NumPy"]
        cells = [f"{row[m] * 1e9:,.1f} ({row[m] / base:.2f}x)" for m in methods]
        lines.append(f"| {row['schedule']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Speed-ups that the targets name:",
        "",
        "| schedule | lrkit NumPy vs fused (1 thread) | lrkit jit vs optax jit "
        "| lrkit NumPy vs lrsched | lrkit NumPy vs PyTorch stepped |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['schedule']} | {row['lrkit NumPy'] / row['fused NumPy']:.2f}x time "
            f"({row['lrkit NumPy, 1 thread'] / row['fused NumPy']:.2f}x) "
            f"| {row['lrkit jax.jit'] / row['optax jax.jit']:.2f}x time "
            f"| {row['lrsched'] / row['lrkit NumPy']:.0f}x faster "
            f"| {row['PyTorch stepped'] / row['lrkit NumPy']:.0f}x faster |"
        )
    lines += [
        "",
        "Under `jax.jit`: the instructions of each optimized XLA program (parameters, "
        "constants, broadcasts and fusion wrappers not counted), and each time against the "
        "cosine alone of the same times (`jnp.cos(t * pi / N)`, the floor of a cosine schedule):",
        "",
        "| schedule | lrkit / optax (best over best; median of the rounds' ratios) "
        "| lrkit ops | optax ops | lrkit / cosine alone | optax / cosine alone |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ops, floor = xla_ops[row["schedule"]], row["jax.jit cosine alone"]
        lines.append(
            f"| {row['schedule']} | {row['lrkit jax.jit'] / row['optax jax.jit']:.3f}x; "
            f"{ops['median lrkit/optax']:.3f}x | {ops['lrkit']} | {ops['optax']} "
            f"| {row['lrkit jax.jit'] / floor:.2f}x | {row['optax jax.jit'] / floor:.2f}x |"
        )
    numpy_cost = imports["import numpy"] - imports["python -c pass"]
    lrkit_cost = imports["import lrkit"] - imports["import numpy"]
    lines += [
        "",
        "Import time (best of 15 fresh interpreters): "
        + ", ".join(f"`{k}` {v * 1e3:.0f} ms" for k, v in imports.items())
        + f". `import lrkit` adds {lrkit_cost * 1e3:.0f} ms beyond NumPy "
        f"(NumPy itself costs {numpy_cost * 1e3:.0f} ms).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        args.out.with_suffix(".json").write_text(
            json.dumps(
                {"rows": rows, "xla_ops": xla_ops, "imports": imports, "points": N}, indent=2
            )
        )


if __name__ == "__main__":
    main()
