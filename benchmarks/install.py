"""How long does ``make demo`` install before it trains? Its install against the full one.

Each target runs in a fresh clone of this repository's HEAD, with its own new virtual
environment, one after the other on the same machine (pip's cache is the machine's, so both
read the same wheels):

  full   ``make install``: every extra and the dev tools, what ``make demo`` installed before
         it installed ``lrkit[demo]`` only (the baseline: ratio 1.0);
  demo   ``make install-demo``: what ``make demo`` installs now.

Times are wall time and the CPU time of all the processes the target ran (pip and its
children). Target: the demo's install at most a third of the full one's.

    python benchmarks/install.py [--out benchmarks/results/install.md]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch_step  # benchmarks/ is on the path when this script runs

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"full": "install", "demo": "install-demo"}


def timed_install(target: str) -> tuple[float, float]:
    """Wall and children's CPU seconds of ``make <target>`` in a fresh clone of HEAD."""
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "lrkit"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(["make", "-s", "-C", str(clone), target], check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    machine = torch_step.machine()[0]
    times = {name: timed_install(target) for name, target in TARGETS.items()}
    wall, cpu = times["demo"][0] / times["full"][0], times["demo"][1] / times["full"][1]
    rows = [
        f"| `make {TARGETS[name]}` ({name}) | {w:.0f} | {c:.0f} | "
        f"{w / times['full'][0]:.2f} | {c / times['full'][1]:.2f} |"
        for name, (w, c) in times.items()
    ]
    text = "\n".join(
        [
            "# `make demo`'s install against the full install",
            "",
            f"Command: `python {' '.join(['benchmarks/install.py', *sys.argv[1:]])}` "
            f"(from the repository root; each target in a fresh clone of {head})",
            "",
            machine,
            "",
            "| target | wall s | CPU s | wall ratio | CPU ratio |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            f"Target: the demo's install at most a third of the full one's: "
            f"**{'met' if max(wall, cpu) <= 1 / 3 else 'NOT met'}** "
            f"({wall:.2f}x wall, {cpu:.2f}x CPU).",
            "",
        ]
    )
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
