"""Do schedules train faster? The budget protocol on Fashion-MNIST.

The model and training are ``lrkit demo``'s (:mod:`lrkit.demo`): an MLP 784-256-10, SGD with
momentum 0.9, batch 128, Keras on TensorFlow, the rate set before every update to
``schedule(step / steps_per_epoch)`` (``--update epoch``: at each epoch's start to
``schedule(epoch)``, the demo's default). The schedules are the demo's recipes: the seed's five
(their shapes, scaled to the peak and the budget, see :func:`lrkit.demo.recipe`), cosine decay
and PyTorch's/optax's 1cycle; and two the benchmark adds (:func:`recipe`): a linear warmup over
5% of the budget then linear decay to zero (``linear_to_zero``), and warmup-stable-decay with
the same warmup and a 1-sqrt cooldown over the last 20% (``wsd``).

For every schedule and every budget (3, 4, 5, 8 and 15 epochs; the schedule's length equals the
budget):

1. **Sweep** (tuning, on the training set only): train on 50,000 training images and measure
   the accuracy on the other 10,000 (a validation split), for peaks 0.025, 0.05, 0.1, 0.2;
   while the best peak is at an edge of what was tried, try the next one beyond it (x2 or /2,
   at most twice). The best final validation accuracy picks the peak. One seed.
2. **Measure**: train on all 60,000 training images with that peak, for each seed; record the
   test accuracy (10,000 test images, never used for tuning) after every epoch.

Every schedule gets the same model, data, budgets, seeds, sweep and number of runs. The report
gives the final test accuracy (mean over seeds, and the range), the smallest budget at which
the mean reaches 88.5% and 89%, and the target check: lrkit's best recipe reaches 88.5% at a
budget at most a third of the constant rate's (or the constant rate never reaches it within 15
epochs).

    python benchmarks/training.py [--budgets 3 4 5 8 15] [--seeds 0 1] [--peaks ...]
        [--update step|epoch] [--log /tmp/lrkit-training.jsonl] [--out benchmarks/results]
        [--name training]

``--log`` keeps every finished run (JSON lines); a run already in the log is not trained again,
so an interrupted benchmark resumes where it stopped, and ``--report-only`` rewrites the report
from the log without training. ``--train-limit N`` (checks only) trains on the first N training
images.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
THRESHOLDS = (0.885, 0.89)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=[3, 4, 5, 8, 15])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--peaks", type=float, nargs="+", default=[0.025, 0.05, 0.1, 0.2])
    parser.add_argument("--extend", type=int, default=2, help="extra peaks per edge, at most")
    parser.add_argument("--sweep-seed", type=int, default=100)
    parser.add_argument("--validation", type=int, default=10_000, help="validation split size")
    parser.add_argument("--schedules", nargs="+", help="recipe names (default: all)")
    parser.add_argument("--data", help="Fashion-MNIST directory (default: lrkit.demo.data.load)")
    parser.add_argument("--train-limit", type=int, help="train on the first N images (checks)")
    parser.add_argument(
        "--update",
        choices=["step", "epoch"],
        default="step",
        help="set the rate before every update (default) or at each epoch's start",
    )
    parser.add_argument("--log", type=Path, default=Path("/tmp/lrkit-training.jsonl"))
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--name", default="training", help="file name of the results")
    parser.add_argument(
        "--report-only", action="store_true", help="write the report from --log; train nothing"
    )
    return parser.parse_args(argv)


ARGS = parse_args()
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402, F401  (its version, and TensorFlow's, go into the report)

import lrkit  # noqa: E402
from lrkit import demo  # noqa: E402
from lrkit.demo.data import Dataset, describe, holdout, load  # noqa: E402

#: The schedules the benchmark compares besides the demo's recipes.
EXTRA_RECIPES = ("linear_to_zero", "wsd")
WARMUP = 0.05  # of the budget, for EXTRA_RECIPES
COOLDOWN = 0.2  # of the budget, for wsd


def recipe(name: str, budget: float, peak: float) -> lrkit.Schedule:
    """The demo's recipe ``name``, or one of :data:`EXTRA_RECIPES` (time in epochs)."""
    w = WARMUP * budget
    if name == "linear_to_zero":
        return lrkit.warmup(lrkit.linear_to_zero(start_lr=peak, decay_steps=budget - w), steps=w)
    if name == "wsd":
        return lrkit.warmup_stable_decay(
            peak_lr=peak,
            warmup_steps=w,
            stable_steps=(1 - COOLDOWN) * budget - w,
            decay_steps=COOLDOWN * budget,
            decay_shape="1-sqrt",
        )
    return demo.recipe(name, budget, peak)


UPDATE_TEXT = {
    "step": "before every update to `schedule(step / steps_per_epoch)` (`lrkit.keras.schedule`)",
    "epoch": "at each epoch's start to `schedule(epoch)` (the drop-in callback)",
}


@dataclasses.dataclass(frozen=True)
class Key:
    """What identifies a run in the log."""

    phase: str  # "sweep" (validation split) or "test"
    schedule: str
    budget: int
    peak: float
    seed: int
    train_limit: int | None
    update: str  # "step" or "epoch": when the rate is set (lrkit.demo.train's `update`)

    def json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def training_seconds(log: Log) -> float:
    """The wall time of the runs this protocol used, summed (as when they ran, resumed or not)."""
    return float(sum(log.runs[key]["seconds"] for key in log.used))


class Log:
    """Finished runs, kept in a JSON-lines file so that a stopped benchmark resumes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.runs: dict[Key, dict[str, Any]] = {}
        self.used: set[Key] = set()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                self.runs[Key(**entry["key"])] = entry

    def run(self, key: Key, data: Dataset) -> dict[str, Any]:
        self.used.add(key)
        if key in self.runs:
            return self.runs[key]
        if ARGS.report_only:
            raise SystemExit(f"--report-only: {key} is not in {self.path}")
        schedule = recipe(key.schedule, key.budget, key.peak)
        label = f"{key.phase} {key.schedule} @{key.budget} peak={key.peak:g} seed={key.seed}"
        result = demo.train(
            data,
            schedule,
            epochs=key.budget,
            seed=key.seed,
            update=key.update,
            name=label,
            progress=PROGRESS,
        )
        entry = {
            "key": key.json(),
            "schedule": schedule.spec(),
            "accuracy": [round(a, 5) for a in result.test_accuracy],
            "seconds": round(result.seconds, 2),
        }
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        self.runs[key] = entry
        return entry


PROGRESS = demo.Progress(sys.stdout)


def sweep(log: Log, data: Dataset, name: str, budget: int) -> tuple[float, dict[float, float]]:
    """The peak with the best final validation accuracy, and every peak tried -> accuracy."""
    tried: dict[float, float] = {}

    def score(peak: float) -> float:
        key = Key("sweep", name, budget, peak, ARGS.sweep_seed, ARGS.train_limit, ARGS.update)
        tried[peak] = log.run(key, data)["accuracy"][-1]
        return tried[peak]

    for peak in ARGS.peaks:
        score(peak)
    for _ in range(ARGS.extend):
        best = max(tried, key=lambda p: tried[p])
        if best == max(tried):
            score(best * 2)
        elif best == min(tried):
            score(best / 2)
        else:
            break
    best = max(tried, key=lambda p: tried[p])
    return best, dict(sorted(tried.items()))


def smallest_budget(finals: dict[int, list[float]], threshold: float) -> int | None:
    """The smallest budget whose mean final accuracy over seeds reaches ``threshold``."""
    return next((b for b in sorted(finals) if np.mean(finals[b]) >= threshold), None)


def main() -> int:
    data = load(ARGS.data, fallback=False)
    if ARGS.train_limit:
        n = ARGS.train_limit
        data = dataclasses.replace(data, x_train=data.x_train[:n], y_train=data.y_train[:n])
    validation = holdout(data, min(ARGS.validation, len(data.x_train) // 5), ARGS.sweep_seed)
    names = ARGS.schedules or [*demo.RECIPES, *EXTRA_RECIPES]
    log = Log(ARGS.log)
    print(describe(data), flush=True)

    results: dict[str, Any] = {}
    for name in names:
        results[name] = {"peaks": {}, "sweep": {}, "test": {}}
        for budget in ARGS.budgets:
            peak, tried = sweep(log, validation, name, budget)
            results[name]["peaks"][budget] = peak
            results[name]["sweep"][budget] = tried
            keys = [
                Key("test", name, budget, peak, seed, ARGS.train_limit, ARGS.update)
                for seed in ARGS.seeds
            ]
            results[name]["test"][budget] = {key.seed: log.run(key, data) for key in keys}
    write(results, data, names, training_seconds(log), len(log.used))
    return 0


# -- the report ----------------------------------------------------------------------------


def finals_of(result: dict[str, Any]) -> dict[int, list[float]]:
    return {b: [run["accuracy"][-1] for run in runs.values()] for b, runs in result["test"].items()}


def mean_final(results: dict[str, Any], name: str, budget: int) -> float:
    return float(np.mean(finals_of(results[name])[budget]))


def verdict(results: dict[str, Any], threshold: float) -> tuple[str, bool]:
    """The target check, in words, and whether it is met; needs the constant rate's results."""
    longest = max(ARGS.budgets)
    pct = f"{100 * threshold:g}%"
    first = {name: smallest_budget(finals_of(r), threshold) for name, r in results.items()}
    reached = {n: b for n, b in first.items() if b is not None and n != "constant"}
    constant, at_longest = first["constant"], mean_final(results, "constant", longest)
    if constant is None:
        text = (
            f"The constant rate never reaches {pct} within {longest} epochs "
            f"({100 * at_longest:.2f}% at {longest})"
        )
    else:
        text = f"The constant rate reaches {pct} at {constant} epochs"
    if not reached:
        return text + f"; no other schedule reaches it within {longest} epochs either.", False
    best = min(reached, key=lambda n: (reached[n], -mean_final(results, n, reached[n])))
    budget = reached[best]
    text += f"; the first recipe to reach it is {best}, at {budget} epochs."
    if constant is None:
        met = True
        if 3 * budget > longest:
            text += (
                f" So the target is met by its second clause only: {best} needs {budget} epochs "
                f"for {pct}, not {longest // 3}."
            )
    else:
        met = 3 * budget <= constant
        text += f" That is {constant / budget:.2g}x fewer epochs (the target is 3x)."
    match = {n: smallest_budget(finals_of(r), at_longest) for n, r in results.items()}
    faster = {n: b for n, b in match.items() if b is not None and n != "constant"}
    if faster:
        quickest = min(faster, key=lambda n: (faster[n], -mean_final(results, n, faster[n])))
        text += (
            f" Measured the other way, by the budget a schedule needs to match what the constant "
            f"rate reaches in {longest} epochs ({100 * at_longest:.2f}%): {quickest} needs "
            f"{faster[quickest]}, {longest / faster[quickest]:.2g}x fewer epochs."
        )
    return text, met


def write(
    results: dict[str, Any], data: Dataset, names: list[str], seconds: float, n_runs: int
) -> None:
    budgets, seeds = ARGS.budgets, ARGS.seeds
    info = demo.machine()
    argv = [a for a in sys.argv[1:] if a != "--report-only"]  # the command that trained
    command = "python benchmarks/training.py " + " ".join(shlex.quote(a) for a in argv)
    out: Path = ARGS.out
    out.mkdir(parents=True, exist_ok=True)

    def pct(x: float) -> str:
        return f"{100 * x:.2f}"

    longest = max(budgets)
    reference = mean_final(results, "constant", longest)
    text, met = verdict(results, THRESHOLDS[0])
    gap = np.mean(
        [
            results[n]["sweep"][b][results[n]["peaks"][b]] - mean_final(results, n, b)
            for n in names
            for b in budgets
        ]
    )
    lines = [
        "# Training benchmark: how many epochs does each schedule need?",
        "",
        f"`{command.strip()}`: {n_runs} training runs, {seconds / 60:.0f} minutes in all. "
        "The protocol is in the script's docstring.",
        "",
        f"Machine: {demo.describe_machine(info)}; `nproc` = {os.cpu_count()}, shared with "
        "other work while it ran (times are not the point here; accuracies are).",
        "",
        f"Data: {describe(data)}. Model: MLP {data.features}-{demo.HIDDEN}-"
        f"{len(data.classes)}, SGD momentum {demo.MOMENTUM}, batch {demo.BATCH_SIZE}, Keras "
        f"on TensorFlow, the rate set {UPDATE_TEXT[ARGS.update]}. Seeds "
        f"{', '.join(map(str, seeds))} (the same initial weights and data order for every "
        "schedule). Each schedule's peak is picked per budget by a sweep on a validation split "
        f"of the training set (seed {ARGS.sweep_seed}); the accuracies below are on the 10,000 "
        "test images, never used for tuning (the sweep's validation accuracies run "
        f"{100 * gap:.1f} points higher).",
        "",
        "## Verdict",
        "",
        f"**Target: {'met' if met else 'not met'}** (lrkit's best recipe reaches 88.5% at a "
        "budget at most a third of the constant rate's, or the constant rate never reaches it "
        f"within {longest} epochs). {text}",
        "",
        "## Smallest budget (epochs) at which the mean final test accuracy reaches",
        "",
        "| schedule | "
        + " | ".join(f"{100 * t:g}%" for t in THRESHOLDS)
        + f" | the constant rate's {longest}-epoch accuracy ({pct(reference)}%) |",
        "|---|" + "---:|" * (len(THRESHOLDS) + 1),
    ]
    for name in names:
        finals = finals_of(results[name])
        cells = [
            str(smallest_budget(finals, t) or f"> {longest}") for t in (*THRESHOLDS, reference)
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"## Final test accuracy (%), mean over {len(seeds)} seeds [min, max]",
        "",
        "| schedule | " + " | ".join(f"{b} epochs" for b in budgets) + " |",
        "|---|" + "---:|" * len(budgets),
    ]
    for name in names:
        finals = finals_of(results[name])
        cells = [
            f"**{pct(np.mean(finals[b]))}** [{pct(min(finals[b]))}, {pct(max(finals[b]))}]"
            for b in budgets
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"![Final test accuracy against the budget]({ARGS.name}.png)",
        "",
        "## The recipes, at a budget of 8 epochs",
        "",
        "| schedule | text form (time in epochs) |",
        "|---|---|",
    ]
    sample = 8 if 8 in budgets else budgets[-1]
    for name in names:
        peak = results[name]["peaks"][sample]
        lines.append(f"| {name} | `{recipe(name, sample, peak).spec()}` |")
    lines += [
        "",
        "## Peak sweep: final validation accuracy (%) per peak; the chosen peak in bold",
        "",
        "| schedule | budget | " + " | ".join(["peaks tried"]) + " |",
        "|---|---:|---|",
    ]
    for name in names:
        for b in budgets:
            tried = results[name]["sweep"][b]
            chosen = results[name]["peaks"][b]
            cells = ", ".join(
                (f"**{p:g}: {pct(a)}**" if p == chosen else f"{p:g}: {pct(a)}")
                for p, a in tried.items()
            )
            lines.append(f"| {name} | {b} | {cells} |")
    (out / f"{ARGS.name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")

    payload = {
        "command": command.strip(),
        "machine": info,
        "training_minutes": round(seconds / 60, 1),
        "training_runs": n_runs,
        "data": describe(data),
        "budgets": budgets,
        "seeds": seeds,
        "sweep_seed": ARGS.sweep_seed,
        "thresholds": list(THRESHOLDS),
        "target_met": met,
        "verdict": text,
        "schedules": {
            name: {
                "peaks": results[name]["peaks"],
                "sweep": {
                    b: {f"{p:g}": a for p, a in t.items()}
                    for b, t in results[name]["sweep"].items()
                },
                "smallest_budget": {
                    f"{100 * t:g}%": smallest_budget(finals_of(results[name]), t)
                    for t in THRESHOLDS
                },
                "runs": [
                    {
                        "budget": b,
                        "seed": s,
                        "schedule": run["schedule"],
                        "test_accuracy": run["accuracy"],
                        "seconds": run["seconds"],
                    }
                    for b, runs in results[name]["test"].items()
                    for s, run in runs.items()
                ],
            }
            for name in names
        },
    }
    (out / f"{ARGS.name}.json").write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    chart(results, names, out / f"{ARGS.name}.png")
    print("\n".join(lines[:30]))


def chart(results: dict[str, Any], names: list[str], path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.8), layout="constrained")
    ax = fig.add_subplot()
    for name in names:
        finals = finals_of(results[name])
        budgets = sorted(finals)
        mean = np.array([100 * np.mean(finals[b]) for b in budgets])
        low = mean - np.array([100 * min(finals[b]) for b in budgets])
        high = np.array([100 * max(finals[b]) for b in budgets]) - mean
        style = {"linewidth": 2.6} if name == "constant" else {"linewidth": 1.6}
        ax.errorbar(budgets, mean, yerr=[low, high], marker="o", capsize=3, label=name, **style)
    longest = max(ARGS.budgets)
    reference = 100 * mean_final(results, "constant", longest)
    ax.axhline(reference, color="C0", linestyle=":", linewidth=1)
    ax.annotate(
        f"constant rate at {longest} epochs",
        (0.01, reference),
        xycoords=("axes fraction", "data"),
        xytext=(0, 3),
        textcoords="offset points",
        fontsize="small",
        color="C0",
    )
    for t in THRESHOLDS:
        ax.axhline(100 * t, color="grey", linestyle="--", linewidth=1)
        ax.annotate(
            f"{100 * t:g}%",
            (1.0, 100 * t),
            xycoords=("axes fraction", "data"),
            xytext=(2, 0),
            textcoords="offset points",
            va="center",
            fontsize="small",
        )
    ax.set_xticks(ARGS.budgets)
    ax.set_xlabel("budget (epochs; each schedule spans its budget)")
    ax.set_ylabel("final test accuracy (%)")
    ax.set_title("Fashion-MNIST, MLP 784-256-10, SGD: accuracy at the end of each budget")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
