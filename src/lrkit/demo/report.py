"""The demo's results: the table, the charts, ``report.md`` and the machine they ran on."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import lrkit
from lrkit import Schedule
from lrkit.demo.recipes import HIDDEN, MOMENTUM, SEED_HORIZON, SEED_LR, TARGET
from lrkit.demo.runs import Run

if TYPE_CHECKING:
    from lrkit.demo.data import Dataset

__all__ = [
    "accuracy_chart",
    "describe_machine",
    "machine",
    "results_table",
    "schedules_chart",
    "summary",
    "write_report",
]


def _percent(x: float) -> str:
    return f"{100 * x:.2f}%"


def results_table(runs: Sequence[Run], target: float = TARGET) -> str:
    """The results as a Markdown table: one row per run, in order.

    >>> from lrkit.demo import Run, results_table
    >>> run = Run("cosine", lrkit.cosine(0.1, 3), [0.80, 0.885, 0.884], seconds=4.0)
    >>> print(results_table([run], target=0.885))
    | schedule | final test acc | best test acc (epoch) | first epoch >= 88.5% | wall time |
    |----------|---------------:|----------------------:|---------------------:|----------:|
    | cosine   |         88.40% |            88.50% (2) |                    2 |     4.0 s |
    """
    header = (
        "schedule",
        "final test acc",
        "best test acc (epoch)",
        f"first epoch >= {100 * target:.1f}%",
        "wall time",
    )
    rows = []
    for r in runs:
        first = r.first_reaching(target)
        rows.append(
            (
                r.name,
                _percent(r.final),
                f"{_percent(r.best)} ({r.best_epoch})",
                "-" if first is None else str(first),
                f"{r.seconds:.1f} s",
            )
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    lines.append(
        "|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|"
    )
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(runs: Sequence[Run], target: float = TARGET) -> str:
    """One line: which schedule reached the target first, and which ended highest."""
    reached = [(first, -r.final, r.name) for r in runs if (first := r.first_reaching(target))]
    best = max(runs, key=lambda r: r.final)
    if reached:
        first, _, name = min(reached)
        fastest = f"first to {100 * target:.1f}%: {name} (after {first} epochs)"
    else:
        fastest = f"no schedule reached {100 * target:.1f}%"
    return f"{fastest}; highest final accuracy: {best.name} ({_percent(best.final)})"


def machine() -> dict[str, Any]:
    """The machine and library versions, for reports."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    versions = {
        "python": platform.python_version(),
        "lrkit": lrkit.__version__,
        "numpy": np.__version__,
    }
    for module in ("keras", "tensorflow", "jax", "torch"):
        if module in sys.modules:
            versions[module] = str(getattr(sys.modules[module], "__version__", "?"))
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "system": f"{platform.system()} {platform.release()}",
        "versions": versions,
    }


def describe_machine(info: Mapping[str, Any]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    return (
        f"{info['cpus_usable'] or info['cpus']} CPUs ({info['cpu']}), {info['system']}; {versions}"
    )


# -- charts and report ---------------------------------------------------------------------


def schedules_chart(
    schedules: Mapping[str, Schedule], path: Path, epochs: int, steps_per_epoch: int | None
) -> Path:
    """The seed's chart: every schedule's rate over the budget, on an axis in epochs: every
    update's rate (per update), or each epoch's rate drawn flat within the epoch (per epoch)."""
    from lrkit import plot

    title = f"The schedules over {epochs} epochs"
    update = "epoch" if steps_per_epoch is None else "step"
    fig = plot.figure(
        dict(schedules), epochs, steps_per_epoch=steps_per_epoch, update=update, title=title
    )
    fig.savefig(path, dpi=120)
    return path


def accuracy_chart(runs: Sequence[Run], path: Path, target: float, title: str) -> Path:
    """Test accuracy after each epoch, one line per run, the target dashed."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for r in runs:
        epochs = np.arange(1, len(r.test_accuracy) + 1)
        ax.plot(epochs, 100 * np.asarray(r.test_accuracy), marker="o", markersize=3, label=r.name)
    ax.axhline(
        100 * target, color="grey", linestyle="--", linewidth=1, label=f"target {100 * target:g}%"
    )
    # Zoom on the end of training, where schedules differ; early epochs may fall below.
    top = max(max(r.best for r in runs), target)
    lowest = min(min(r.test_accuracy) for r in runs)
    bottom = max(lowest, min(min(r.final for r in runs), target) - 0.02)
    ax.set_ylim(100 * bottom - 0.3, 100 * top + 0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    fig.savefig(path, dpi=120)
    return path


def write_report(
    out: Path,
    runs: Sequence[Run],
    *,
    data: Dataset,
    setup: Mapping[str, Any],
    target: float,
    command: str,
) -> Path:
    """``report.md``: the setup, the table, both charts, the recipes and how to reproduce."""
    from lrkit.demo.data import describe

    info = machine()
    update = (
        "before every update, to schedule(step / steps_per_epoch), computed in the train step"
        if setup["update"] == "step"
        else "at each epoch's start, to schedule(epoch), by the drop-in callback"
    )
    recipe_rows = "\n".join(f"| {r.name} | `{r.schedule.spec()}` |" for r in runs)
    first_line = summary(runs, target)
    text = f"""# lrkit demo: which schedule trains fastest?

{describe(data)}. A multi-layer perceptron {data.features}-{HIDDEN}-{len(data.classes)} (ReLU) \
trained with SGD (momentum {MOMENTUM}, batch {setup["batch_size"]}) for {setup["epochs"]} epochs, \
once per schedule, from the same initial weights and in the same data order (seed \
{setup["seed"]}); {setup["framework"]}. The rate is set {update}.

## Results

{results_table(runs, target)}

{first_line[0].upper() + first_line[1:]}.

![Test accuracy after each epoch](accuracy.png)

One run per schedule and one seed: differences of a few tenths of a percent are within the \
noise between seeds. The training benchmark of the lrkit repository \
(`benchmarks/results/training.md`) has the full protocol: budgets of 3 to 15 epochs, two \
seeds, every schedule's peak tuned on a validation split.

## The schedules

![The schedules](schedules.png)

| name | schedule (lrkit text form, time in epochs) |
|------|------|
{recipe_rows}

The seed's five (`constant` to `one_cycle`) keep the seed's shapes and parameters, scaled to \
this model and budget. Rates are multiplied by peak / {SEED_LR}: the seed's schedules peak at \
{SEED_LR}, while SGD with momentum on this model trains best with peaks of 0.05 to 0.1 (each \
schedule's peak is the one the training benchmark's sweep picked at 8 epochs). Time is \
compressed by {setup["epochs"]} / {SEED_HORIZON:g}: the seed's constants describe about \
{SEED_HORIZON:g} epochs (its exponential decay is down to 1% by then). `cosine` decays to 0 \
over the budget; `onecycle` is the 1cycle of PyTorch and optax (30% warm-up from peak / 25, \
then down to peak / 250,000).

## Reproduce

```
{command}
```

Machine: {describe_machine(info)}.
"""
    path = out / "report.md"
    path.write_text(text, encoding="utf-8")
    return path
