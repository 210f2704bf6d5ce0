"""Where schedules matter most: a small byte-level transformer on Python's own source code.

The model and training are ``lrkit demo --task text``'s (:mod:`lrkit.demo.gpt`): a GPT-style
causal transformer trained with AdamW (betas 0.9/0.95, weight decay 0.1, gradient clipping 1)
on random windows of a fixed list of the standard library's source files
(:mod:`lrkit.demo.text_data`; nothing downloaded), the rate set before every update by
``lrkit.torch.LRScheduler``. Losses are in bits per byte on held-out files.

The schedules (:mod:`lrkit.demo.text_recipes`; time in updates, each spans its budget):
constant after warmup; cosine to 10% of the peak; linear to zero; warmup-stable-decay with a
1-sqrt cooldown over the last 20%; inverse square root; the best of those without warmup; and
schedule-free AdamW (warmup, then a constant rate).

1. **Peaks** (tuning, on the validation files only): at the smallest budget, seed 0, each
   schedule at every peak of ``--peaks`` (schedule-free: ``--sf-peaks``); the lowest final
   validation loss picks the peak, used at every budget. A schedule whose best peak is the
   lowest or highest of its grid gets one more peak that way (a factor of 2), at most twice.
   The best schedule is also run without warmup at every peak (does warmup let a larger peak
   work?).
2. **Measure**: every schedule at every budget and seed with its peak; the test loss (test
   files, never used for tuning) after the last update.
3. **Decay anytime**: per seed, one run at WSD's peak with warmup and a constant rate,
   checkpointed at 80% of every budget; from each checkpoint a 1-sqrt cooldown over the last
   20% of that budget is branched (the same schedule as WSD at that budget, so these are WSD's
   results). Its compute is counted in units of one run of the largest budget.

    python benchmarks/text.py [--budgets 160 320 640] [--seeds 0 1] [--peaks ...] [--jobs 2]
        [--device cpu|cuda] [--threads 1] [--log /tmp/lrkit-text.jsonl] [--out benchmarks/results]

``--log`` keeps every finished run (JSON lines); a run already in it is not trained again, so
an interrupted benchmark resumes where it stopped; ``--report-only`` rewrites the report from the
log. ``--width/--layers/--heads/--context/--batch`` shrink the model (checks only).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))  # run from a checkout without installing

import lrkit  # noqa: E402
from lrkit.demo import describe_machine, machine  # noqa: E402
from lrkit.demo.runs import Progress  # noqa: E402
from lrkit.demo.text_data import describe_corpus, load_corpus  # noqa: E402
from lrkit.demo.text_recipes import COOLDOWN, FLOOR, TEXT_RECIPES, text_recipe  # noqa: E402

SF = "schedule_free"
#: How many times a peak grid is extended past its edge, when its best peak lies on it.
EXTEND = 2
LABELS = {
    "constant": "constant",
    "cosine": f"cosine to {FLOOR:.0%}",
    "linear_to_zero": "linear to zero",
    "wsd": f"WSD, 1-sqrt {COOLDOWN:.0%}",
    "inverse_sqrt": "inverse sqrt",
    SF: "schedule-free AdamW",
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--budgets", type=int, nargs="+", help="updates (cpu: 160 320 640)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--peaks", type=float, nargs="+", default=[0.00075, 0.0015, 0.003])
    parser.add_argument("--sf-peaks", type=float, nargs="+", default=[0.0015, 0.003, 0.006])
    parser.add_argument("--warmup", type=int, help="warmup updates (default: budget[0] / 8)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (cpu)")
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at once (processes)")
    parser.add_argument("--width", type=int)
    parser.add_argument("--layers", type=int)
    parser.add_argument("--heads", type=int)
    parser.add_argument("--context", type=int)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--log", type=Path, default=Path("/tmp/lrkit-text.jsonl"))
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--name", default="text")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    if args.budgets is None:
        args.budgets = [1000, 2000, 4000] if args.device == "cuda" else [160, 320, 640]
    args.budgets = sorted(args.budgets)
    if args.warmup is None:
        args.warmup = max(1, args.budgets[0] // 8)
    return args


@dataclasses.dataclass(frozen=True)
class Key:
    """What a run is: a log entry is reused when its key matches."""

    schedule: str  # a TEXT_RECIPES name, SF, or "anytime"
    budget: int
    peak: float
    warmup: int
    seed: int

    def id(self) -> str:  # a tuning run (seed 0, smallest budget) is also a measured one
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def schedule_of(key: Key) -> lrkit.Schedule:
    name = "constant" if key.schedule == SF else key.schedule
    return text_recipe(name, key.budget, key.peak, key.warmup)


class Bench:
    def __init__(self, args: argparse.Namespace, *, writes: bool = True) -> None:
        from lrkit.demo import gpt

        self.args = args
        self.gpt = gpt
        base = gpt.CUDA if args.device == "cuda" else gpt.CPU
        sizes = {k: getattr(args, k) for k in ("width", "layers", "heads", "context", "batch")}
        self.config = dataclasses.replace(base, **{k: v for k, v in sizes.items() if v})
        self.corpus = load_corpus()
        self.log: dict[str, dict[str, Any]] = {}
        if args.log.exists():
            for line in args.log.read_text().splitlines():
                entry = json.loads(line)
                self.log[entry["key"]] = entry
        self.progress = Progress(sys.stdout)
        self.writes = writes  # False in a worker process: the parent keeps the log
        self.fresh: list[dict[str, Any]] = []  # what this process trained, for the parent
        self.trained = 0
        self.updates = 0

    def run(self, key: Key) -> dict[str, Any]:
        if key.id() in self.log:
            return self.log[key.id()]
        if self.args.report_only:
            raise SystemExit(f"--report-only: {key} is not in {self.args.log}")
        result = self.gpt.train_text(
            self.corpus,
            schedule_of(key),
            updates=key.budget,
            seed=key.seed,
            config=self.config,
            optimizer="schedule-free" if key.schedule == SF else "adamw",
            device=self.args.device,
            name=f"{key.schedule} {key.budget} peak {key.peak:g} w{key.warmup} s{key.seed}",
            progress=self.progress,
        )
        self.updates += key.budget
        return self.record(key, result.to_json())

    def record(self, key: Key, entry: dict[str, Any]) -> dict[str, Any]:
        entry = {"key": key.id(), **entry}
        self.keep(entry)
        self.trained += 1
        return entry

    def keep(self, entry: dict[str, Any]) -> None:
        self.log[entry["key"]] = entry
        if self.writes:
            with self.args.log.open("a") as f:
                f.write(json.dumps(entry) + "\n")
        else:
            self.fresh.append(entry)

    def train_all(self, tasks: list[Task]) -> None:
        """Train what ``tasks`` need and the log lacks, ``--jobs`` processes at a time.

        The runs are independent (each seeds its own weights and data order), so running them
        side by side changes no result; the largest are started first.
        """
        todo = [t for t in tasks if not all(k.id() in self.log for k in t.keys(self.args))]
        if self.args.report_only or not todo:
            return
        todo.sort(key=lambda t: -t.cost(self.args))
        if self.args.jobs <= 1:
            for task in todo:
                task.do(self)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")  # no forked torch thread pools
        with ProcessPoolExecutor(
            self.args.jobs, mp_context=context, initializer=_start_worker, initargs=(self.args,)
        ) as pool:
            for entries, updates in pool.map(_work, todo):
                for entry in entries:
                    self.keep(entry)
                self.trained += len(entries)
                self.updates += updates

    def anytime(self, peak: float, seed: int) -> dict[int, dict[str, Any]]:
        """One stable run (warmup, constant) with a 1-sqrt cooldown branched at each budget."""
        budgets, w = self.args.budgets, self.args.warmup
        keys = {b: Key("anytime", b, peak, w, seed) for b in budgets}
        if all(k.id() in self.log for k in keys.values()):
            return {b: self.log[k.id()] for b, k in keys.items()}
        if self.args.report_only:
            raise SystemExit(f"--report-only: decay-anytime seed {seed} is not in the log")
        stable = lrkit.warmup(lrkit.constant(start_lr=peak), steps=w)
        starts = {b: b - round(COOLDOWN * b) for b in budgets}
        trunk = self.gpt.train_text(
            self.corpus,
            stable,
            updates=max(starts.values()),
            seed=seed,
            config=self.config,
            device=self.args.device,
            keep=starts.values(),
            name=f"anytime stable peak {peak:g} s{seed}",
            progress=self.progress,
        )
        self.updates += trunk.updates
        out = {}
        for b in budgets:
            schedule = lrkit.cooldown(stable, starts[b], b - starts[b], shape="1-sqrt")
            branch = self.gpt.train_text(
                self.corpus,
                schedule,
                updates=b,
                seed=seed,
                config=self.config,
                device=self.args.device,
                start=trunk.checkpoints[starts[b]],
                name=f"anytime cooldown {starts[b]}->{b} s{seed}",
                progress=self.progress,
            )
            self.updates += b - starts[b]
            entry = branch.to_json()
            entry["trunk_curve"] = [[s, round(v, 5)] for s, v in trunk.curve if s <= starts[b]]
            entry["compute_updates"] = starts[b] + (b - starts[b])
            entry["trunk_updates"] = trunk.updates
            out[b] = self.record(keys[b], entry)
        return out


@dataclasses.dataclass(frozen=True)
class Task:
    """A run (``key``) or one seed's decay-anytime runs (``peak``, ``seed``)."""

    key: Key | None = None
    peak: float = 0.0
    seed: int = 0

    def keys(self, args: argparse.Namespace) -> list[Key]:
        if self.key is not None:
            return [self.key]
        return [Key("anytime", b, self.peak, args.warmup, self.seed) for b in args.budgets]

    def cost(self, args: argparse.Namespace) -> int:
        if self.key is not None:
            return self.key.budget
        return max(args.budgets) + sum(round(COOLDOWN * b) for b in args.budgets)

    def do(self, bench: Bench) -> None:
        if self.key is not None:
            bench.run(self.key)
        else:
            bench.anytime(self.peak, self.seed)


_WORKER: list[Bench] = []


def _start_worker(args: argparse.Namespace) -> None:
    import threading

    import torch

    parent = os.getppid()

    def exit_with_parent() -> None:  # a killed benchmark leaves no run training on
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=exit_with_parent, daemon=True).start()

    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    _WORKER.append(Bench(args, writes=False))


def _work(task: Task) -> tuple[list[dict[str, Any]], int]:
    bench = _WORKER[0]
    bench.fresh, before = [], bench.updates
    task.do(bench)
    return bench.fresh, bench.updates - before


def main() -> None:
    args = parse_args()
    import torch

    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    bench = Bench(args)
    began = time.perf_counter()
    budgets, seeds, w = args.budgets, args.seeds, args.warmup
    small, tune_seed = budgets[0], seeds[0]

    # 1. peaks, at the smallest budget, on the validation files; a grid whose best peak is at
    #    its edge is extended that way by a factor of 2 (at most EXTEND times)
    names = (*TEXT_RECIPES, SF)
    grids = {n: sorted(args.sf_peaks if n == SF else args.peaks) for n in names}
    for extended in range(EXTEND + 1):
        bench.train_all([Task(Key(n, small, p, w, tune_seed)) for n in names for p in grids[n]])
        tuned = {n: {p: bench.run(Key(n, small, p, w, tune_seed)) for p in grids[n]} for n in names}
        peaks = {n: min(runs, key=lambda p: runs[p]["valid_bpb"]) for n, runs in tuned.items()}
        edge = [n for n in names if peaks[n] in (grids[n][0], grids[n][-1])]
        if not edge or extended == EXTEND:
            break
        for n in edge:
            g = grids[n]
            if peaks[n] == g[0]:
                g.insert(0, g[0] / 2)
            else:
                g.append(g[-1] * 2)
    best = min(TEXT_RECIPES, key=lambda n: tuned[n][peaks[n]]["valid_bpb"])
    plan = [(n, peaks[n], w) for n in TEXT_RECIPES if n != "wsd"]
    plan += [(SF, peaks[SF], w), (best, peaks[best], 0)]
    bench.train_all(
        [Task(Key(best, small, p, 0, tune_seed)) for p in grids[best]]
        + [Task(Key(n, b, p, v, s)) for n, p, v in plan for b in budgets for s in seeds]
        + [Task(peak=peaks["wsd"], seed=s) for s in seeds]
    )
    no_warmup = {p: bench.run(Key(best, small, p, 0, tune_seed)) for p in grids[best]}

    # 2. measure every schedule at every budget and seed (test files)
    measured: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for name, peak, warm in plan:
        label = f"{name}, no warmup" if warm == 0 else name
        measured[label] = {
            b: [bench.run(Key(name, b, peak, warm, s)) for s in seeds] for b in budgets
        }
    # 3. decay anytime: WSD's results, branched from one stable run per seed
    anytime = [bench.anytime(peaks["wsd"], s) for s in seeds]
    measured["wsd"] = {b: [a[b] for a in anytime] for b in budgets}

    results = {
        "command": "python benchmarks/text.py "
        + " ".join(shlex.quote(a) for a in sys.argv[1:] if a != "--report-only"),
        "budgets": budgets,
        "seeds": seeds,
        "warmup": w,
        "grid": {
            "peaks": args.peaks,
            "sf_peaks": args.sf_peaks,
            "by_schedule": grids,
            "budget": small,
            "seed": tune_seed,
        },
        "peaks": peaks,
        "best_with_warmup_at_tuning": best,
        "tuning_valid_bpb": {
            **{n: {str(p): r["valid_bpb"] for p, r in runs.items()} for n, runs in tuned.items()},
            f"{best}, no warmup": {str(p): r["valid_bpb"] for p, r in no_warmup.items()},
        },
        "wsd_separate_run": tuned["wsd"][peaks["wsd"]]["valid_bpb"],
        "runs": {n: {str(b): rs for b, rs in by.items()} for n, by in measured.items()},
        "config": bench.config.to_json(),
        "parameters": bench.gpt.parameters(bench.config),
        "device": args.device,
        "threads": args.threads if args.device == "cpu" else None,
        "jobs": args.jobs,
        "corpus": bench.corpus.to_json(),
        "corpus_text": describe_corpus(bench.corpus),
        "machine": machine(),
        "load_average": os.getloadavg(),
        "trained_now": {"runs": bench.trained, "updates": bench.updates},
        "seconds_now": round(time.perf_counter() - began, 1),
    }
    if args.report_only and (args.out / f"{args.name}.json").exists():
        old = json.loads((args.out / f"{args.name}.json").read_text())
        for k in ("machine", "load_average", "trained_now", "seconds_now", "wall_seconds"):
            results[k] = old.get(k, results.get(k, results["seconds_now"]))
    else:
        results["wall_seconds"] = results["seconds_now"]
    write(results, args)


# -- the report ----------------------------------------------------------------------------


def losses(results: dict[str, Any], name: str, budget: int) -> list[float]:
    return [r["test_bpb"] for r in results["runs"][name][str(budget)]]


def mean(results: dict[str, Any], name: str, budget: int) -> float:
    return float(np.mean(losses(results, name, budget)))


def label(name: str) -> str:
    base, _, rest = name.partition(", ")
    return LABELS.get(base, base) + (f", {rest}" if rest else "")


def comparison(results: dict[str, Any], a: str, b: str, budget: int) -> tuple[str, bool]:
    """``a - b`` (mean), each seed's paired difference, and whether all seeds agree in sign."""
    pairs = [
        x - y for x, y in zip(losses(results, a, budget), losses(results, b, budget), strict=True)
    ]
    d = float(np.mean(pairs))
    agree = all(p < 0 for p in pairs) or all(p > 0 for p in pairs)
    seeds = " / ".join(f"{p:+.3f}" for p in pairs)
    return f"{d:+.3f} ({seeds})", agree


def write(results: dict[str, Any], args: argparse.Namespace) -> None:
    budgets, seeds = results["budgets"], results["seeds"]
    names = list(results["runs"])
    order = ["constant", "cosine", "linear_to_zero", "wsd", "inverse_sqrt", SF]
    names = [n for n in order if n in names] + [n for n in names if n not in order]
    largest = budgets[-1]
    reference = mean(results, "constant", largest)
    lr_names = [n for n in names if n.partition(",")[0] != "constant"]
    best_at = {b: min(lr_names, key=lambda n: mean(results, n, b)) for b in budgets}
    best = best_at[largest]

    def needs(name: str) -> int | None:
        return next((b for b in budgets if mean(results, name, b) <= reference), None)

    quickest = min(
        (n for n in lr_names if needs(n) is not None),
        key=lambda n: (needs(n), mean(results, n, needs(n) or largest)),
        default=None,
    )
    cfg = results["config"]
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    info = results["machine"]
    load = ", ".join(f"{x:.1f}" for x in results["load_average"])
    n_runs = sum(len(rs) for by in results["runs"].values() for rs in by.values())
    tuning = results["tuning_valid_bpb"]
    n_tune = sum(len(v) for v in tuning.values())
    lines = [
        "# Text benchmark: a small transformer language model, schedule by schedule",
        "",
        f"`{results['command'].strip()}` (protocol in the script's docstring): {n_tune} tuning "
        f"runs and {n_runs} measured runs (decay-anytime branches counted one per budget), "
        f"{results['wall_seconds'] / 60:.0f} minutes of wall time.",
        "",
        f"Machine: {describe_machine(info)}; {results.get('jobs', 1)} runs trained at once, "
        f"torch threads {results['threads']} each; load average {load} at the end. The losses "
        "do not depend on the machine's load or on how many runs train at once (each run is "
        "deterministic given its seed; checked: `--jobs 1` and `--jobs 2` give the same log).",
        "",
        f"Data: {results['corpus_text']}. Python {results['corpus']['python']}; the training "
        f"files: {', '.join(results['corpus']['files']['train'])}.",
        "",
        f"Model: GPT-style byte-level causal transformer, {results['parameters']:,} parameters "
        f"(width {cfg['width']}, {cfg['layers']} layers, {cfg['heads']} heads, context "
        f"{cfg['context']} bytes, tied embeddings), batch {cfg['batch']} windows "
        f"({cfg['batch'] * cfg['context']:,} bytes per update), AdamW (betas {cfg['beta1']}/"
        f"{cfg['beta2']}, weight decay {cfg['weight_decay']}), gradient clipping {cfg['clip']}, "
        f"warmup {results['warmup']} updates (linear from 0). Budgets "
        f"{', '.join(map(str, budgets))} updates; seeds {', '.join(map(str, seeds))} (the seed "
        "fixes the initial weights and the data order; the same for every schedule).",
        "",
        f"Peaks chosen at {results['grid']['budget']} updates, seed {results['grid']['seed']}, "
        f"on the validation files, from {', '.join(f'{p:g}' for p in results['grid']['peaks'])} "
        f"(schedule-free: {', '.join(f'{p:g}' for p in results['grid']['sf_peaks'])}), and "
        "used at every budget; a grid whose best peak lay on its edge was extended that way by "
        f"a factor of 2 (at most {EXTEND} times){extended_grids(results)}. Losses below are on "
        "the test files, never used for tuning.",
        "",
        "## Final test loss (bits per byte), mean over seeds [min, max]",
        "",
        "| schedule | peak | " + " | ".join(f"{b} updates" for b in budgets) + " |",
        "|---|---:|" + "---:|" * len(budgets),
    ]
    for n in names:
        base = n.partition(",")[0]
        cells = []
        for b in budgets:
            xs = losses(results, n, b)
            cells.append(f"{np.mean(xs):.3f} [{min(xs):.3f}, {max(xs):.3f}]")
        lines.append(f"| {label(n)} | {results['peaks'][base]:g} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "WSD's row is the decay-anytime run: its cooldowns branched from one stable run per seed "
        "(the same schedule as a separate WSD run of that budget).",
        "",
        "## Best schedule against the constant rate",
        "",
        "| budget | constant | best schedule | its loss | difference (seed by seed) |",
        "|---:|---:|---|---:|---:|",
    ]
    for b in budgets:
        diff, agree = comparison(results, best_at[b], "constant", b)
        lines.append(
            f"| {b} | {mean(results, 'constant', b):.3f} | {label(best_at[b])} | "
            f"{mean(results, best_at[b], b):.3f} | {diff}{'' if agree else ' (seeds disagree)'} |"
        )
    need = needs(best)
    half = largest // 2
    lines += [
        "",
        f"**Updates to match the constant rate's {largest}-update loss ({reference:.3f} bits "
        f"per byte)**, at the budgets measured: the best schedule at {largest} ({label(best)}) "
        + (f"needs {need}" if need is not None else "does not reach it")
        + (
            f"; the quickest, {label(quickest)}, needs {needs(quickest)}"
            if quickest is not None and quickest != best
            else ""
        )
        + f". Goal (at most half, {half}): "
        + (
            "**met**."
            if quickest is not None and (needs(quickest) or largest) <= half
            else "**not met**."
        ),
        "",
        *crossings(results, largest),
        "## The research claims, on this task",
        "",
        "Each row: the mean difference in final test loss, A minus B (negative: A is better), "
        "and each seed's paired difference. A difference is real here when both seeds agree in "
        "sign; the spread of the seed-by-seed values shows how large the noise is.",
        "",
        "| comparison (A vs B) | " + " | ".join(f"{b} updates" for b in budgets) + " | verdict |",
        "|---|" + "---:|" * len(budgets) + "---|",
    ]
    claims = [
        (
            "linear_to_zero",
            "cosine",
            "Bergsma et al. 2025: linear decay to zero beats cosine to 10%",
        ),
        ("wsd", "cosine", "Hägele et al. 2024: WSD with a 1-sqrt cooldown matches cosine"),
        ("best", "best, no warmup", "warmup against none, at the same peak"),
        (SF, "best", "Defazio et al. 2024: schedule-free needs no schedule"),
    ]
    verdicts = []
    best_tuned = results["best_with_warmup_at_tuning"]
    for a, b, claim in claims:
        a = {"best": best_tuned}.get(a, a)
        b = {"best": best_tuned, "best, no warmup": f"{best_tuned}, no warmup"}.get(b, b)
        rows = [comparison(results, a, b, x) for x in budgets]
        ds = [mean(results, a, x) - mean(results, b, x) for x in budgets]
        real = [agree for _, agree in rows]
        if b.endswith("no warmup"):
            ok = all(d < 0 and r for d, r in zip(ds, real, strict=True))
            v = "warmup helps at every budget" if ok else "no consistent benefit"
        elif a == "linear_to_zero":
            ok = all(d < 0 and r for d, r in zip(ds, real, strict=True))
            some = any(d < 0 and r for d, r in zip(ds, real, strict=True))
            v = "reproduced" if ok else ("partly (some budgets)" if some else "not reproduced")
        elif a == "wsd":
            # "matches": within the seed noise, or better
            noise = [max(abs(p) for p in _pairs(results, a, b, x)) for x in budgets]
            ok = all(d <= 0 or not r for d, r in zip(ds, real, strict=True))
            v = "reproduced (matches or beats)" if ok else "not reproduced (cosine better)"
            del noise
        elif a == SF:
            ok = all(d <= 0 or not r for d, r in zip(ds, real, strict=True))
            v = "reproduced (no worse)" if ok else "not reproduced (the best schedule is better)"
        else:
            raise AssertionError(a)
        verdicts.append((claim, v))
        lines.append(
            f"| {label(a)} vs {label(b)} | "
            + " | ".join(d + ("" if r else " ~") for d, r in rows)
            + f" | {v} |"
        )
    lines += ["", "`~`: the seeds disagree in sign (within noise).", ""]
    # Kalra & Barkeshli: warmup tolerates a larger peak
    with_w = tuning[best_tuned]
    without = tuning[f"{best_tuned}, no warmup"]
    grid = results["grid"]["by_schedule"][best_tuned]
    lines += [
        "### Kalra & Barkeshli 2024: warmup lets a larger peak train",
        "",
        f"Validation loss at {results['grid']['budget']} updates (seed "
        f"{results['grid']['seed']}), {label(best_tuned)}, by peak:",
        "",
        "| peak | " + " | ".join(f"{p:g}" for p in grid) + " |",
        "|---|" + "---:|" * len(grid),
        "| with warmup | " + " | ".join(f"{with_w[str(p)]:.3f}" for p in grid) + " |",
        "| without | " + " | ".join(f"{without[str(p)]:.3f}" for p in grid) + " |",
        "",
    ]
    best_w = min(grid, key=lambda p: with_w[str(p)])
    best_n = min(grid, key=lambda p: without[str(p)])
    gap_top = without[str(grid[-1])] - with_w[str(grid[-1])]
    gap_low = without[str(grid[0])] - with_w[str(grid[0])]
    # Reproduced when warmup moves the best peak up, or when going without it costs more at
    # the highest peak than at the lowest (a larger peak needs the warmup).
    kalra = best_w > best_n or (gap_top > 0 and gap_top > gap_low + 0.01)
    verdicts.append(
        (
            "Kalra & Barkeshli 2024: warmup's benefit is tolerating a larger peak",
            ("reproduced" if kalra else "not reproduced")
            + f" (best peak {best_w:g} with warmup, {best_n:g} without; the cost of no warmup is "
            f"{gap_low:+.3f} bits at the lowest peak, {gap_top:+.3f} at the highest; one seed)",
        )
    )
    # decay anytime
    any_runs = results["runs"]["wsd"]
    trunk = any_runs[str(largest)][0]["trunk_updates"]
    per_seed = trunk + sum(b - (b - round(COOLDOWN * b)) for b in budgets)
    separate = sum(budgets)
    lines += [
        "## Decay anytime (Hägele et al. 2024)",
        "",
        f"One stable run (warmup, then the constant rate {results['peaks']['wsd']:g}) of {trunk} "
        "updates per seed, checkpointed at 80% of each budget; from each checkpoint a 1-sqrt "
        "cooldown to zero over the last 20% of the budget.",
        "",
        "| budget | cooldown from | test loss, mean [min, max] | cosine (separate runs) | "
        "constant |",
        "|---:|---:|---:|---:|---:|",
    ]
    for b in budgets:
        xs = losses(results, "wsd", b)
        lines.append(
            f"| {b} | {b - round(COOLDOWN * b)} | {np.mean(xs):.3f} [{min(xs):.3f}, "
            f"{max(xs):.3f}] | {mean(results, 'cosine', b):.3f} | "
            f"{mean(results, 'constant', b):.3f} |"
        )
    seed0 = any_runs[str(budgets[0])][0]
    separate_run = results.get("wsd_separate_run")
    lines += [
        "",
        f"Check: the branch at {budgets[0]} updates, seed {seeds[0]}, ends at "
        f"{seed0['valid_bpb']:.5f} validation bits per byte; the separate WSD run of the peak "
        f"grid (same schedule, peak and seed) at {separate_run:.5f}.",
        "",
        f"Compute: {per_seed} updates per seed for all {len(budgets)} budgets = "
        f"**{per_seed / largest:.2f} runs of {largest} updates** (separate runs: "
        f"{separate / largest:.2f}).",
        "",
        "## Verdicts",
        "",
        *[f"- {claim}: **{v}**." for claim, v in verdicts],
        "",
        f"![Validation loss against updates]({args.name}.png)",
        "",
        peak_caveat(results, names),
        "",
        f"Caveats: a {results['parameters'] / 1e6:.2f}M-parameter model trained on at most "
        f"{largest * cfg['batch'] * cfg['context'] / 1e6:.2f}M bytes, far shorter than the "
        "papers' runs (sized for about 30 minutes on 2 cores); peaks tuned once at the "
        "smallest budget; two seeds. `--device cuda` runs the 3.2M-parameter configuration at "
        "1k/2k/4k updates (not run here: no GPU).",
        "",
    ]
    (out / f"{args.name}.md").write_text("\n".join(lines), encoding="utf-8")
    (out / f"{args.name}.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    chart(results, names, out / f"{args.name}.png")
    print("\n".join(lines))
    print(f"wrote {out / (args.name + '.md')}, .json, .png")


#: Schedules whose rate does not depend on the budget: a run's validation curve is then that
#: schedule's loss at every shorter budget too (the runs are deterministic given the seed).
BUDGET_FREE = ("inverse_sqrt", SF)


def reaches(curve: list[list[float]], target: float) -> float | None:
    """The update at which ``curve`` (update, loss) first reaches ``target``, linear between
    its points (from the first point when that one is already below)."""
    previous: list[float] | None = None
    for point in curve:
        if point[1] <= target:
            if previous is None:
                return point[0]
            (s0, v0), (s1, v1) = previous, point
            return s0 + (s1 - s0) * (v0 - target) / (v0 - v1)
        previous = point
    return None


def crossings(results: dict[str, Any], largest: int) -> list[str]:
    """Between the budgets: where a budget-free schedule's validation curve (its own largest run)
    reaches the constant rate's final validation loss at the largest budget, seed by seed."""
    lines = []
    reference = results["runs"]["constant"][str(largest)]
    for name in (n for n in BUDGET_FREE if n in results["runs"]):
        runs = results["runs"][name][str(largest)]
        found = [reaches(r["curve"], c["valid_bpb"]) for r, c in zip(runs, reference, strict=True)]
        if any(u is None for u in found):
            lines.append(f"- {label(name)}: does not reach it within {largest} updates.")
            continue
        us = [float(u) for u in found if u is not None]
        each = " / ".join(f"{u:.0f}" for u in us)
        m = float(np.mean(us))
        lines.append(
            f"- {label(name)}: about **{m:.0f} updates ({m / largest:.2f}x)** "
            f"(seed by seed {each})."
        )
    if not lines:
        return []
    names = ", ".join(label(n) for n in BUDGET_FREE)
    # Checked, not assumed: each shorter run ends where the longest run's curve passes.
    shorter = [b for b in results["budgets"] if b < largest]
    gaps = [
        abs(curve[b] - short["valid_bpb"])
        for n in (*BUDGET_FREE, "constant")
        if n in results["runs"]
        for b in shorter
        for long, short in zip(
            results["runs"][n][str(largest)], results["runs"][n][str(b)], strict=True
        )
        if b in (curve := {int(u): v for u, v in long["curve"]})
    ]
    checked = (
        f" (checked where the curve has a point at a shorter budget: the separate runs, the "
        f"constant rate's too, end at most {max(gaps):.5f} bits from it)"
        if gaps
        else ""
    )
    return [
        f"Between the budgets, measured on validation loss: {names} do not depend on the "
        f"budget, so each one's validation curve in its {largest}-update run is its loss at every "
        f"shorter budget{checked}. The update at which the curve reaches the constant rate's "
        f"final {largest}-update validation loss (same seed; linear between the curve's points):",
        "",
        *lines,
        "",
    ]


def extended_grids(results: dict[str, Any]) -> str:
    grid = results["grid"]
    out = [
        f"{label(n)} {', '.join(f'{p:g}' for p in g)}"
        for n, g in grid.get("by_schedule", {}).items()
        if g != sorted(grid["sf_peaks"] if n == SF else grid["peaks"])
    ]
    return f" (extended: {'; '.join(out)})" if out else " (none was)"


def peak_caveat(results: dict[str, Any], names: list[str]) -> str:
    """What the tuning leaves uncertain: peaks at the edge of their grid, and the seeds' spread."""
    grid = results["grid"]
    edge = []
    for n, p in results["peaks"].items():
        g = grid["by_schedule"][n]
        if p in (min(g), max(g)):
            edge.append(f"{label(n)} ({p:g}, the {'lowest' if p == min(g) else 'highest'})")
    spread = max(
        (max(losses(results, n, b)) - min(losses(results, n, b)), n, b)
        for n in names
        for b in results["budgets"]
    )
    text = (
        f"**Caveat on the peaks.** Every peak was chosen on seed {grid['seed']} at "
        f"{grid['budget']} updates and used at every budget; a larger budget may favour "
        "another. "
    )
    if edge:
        text += (
            "Chosen at the edge of its grid, so the best may lie beyond it: "
            + ", ".join(edge)
            + ". "
        )
    return text + (
        f"The widest spread between the two seeds is {spread[0]:.3f} bits ({label(spread[1])} "
        f"at {spread[2]} updates): differences smaller than the seeds' own spread are noise. "
        "Each comparison pairs the runs by seed, each schedule at its own tuned peak."
    )


def _pairs(results: dict[str, Any], a: str, b: str, budget: int) -> list[float]:
    return [
        x - y for x, y in zip(losses(results, a, budget), losses(results, b, budget), strict=True)
    ]


def chart(results: dict[str, Any], names: list[str], path: Path) -> None:
    from matplotlib.figure import Figure

    budgets = results["budgets"]
    largest = budgets[-1]
    fig = Figure(figsize=(13, 4.5), layout="constrained")
    left, middle, right = fig.subplots(1, 3)
    colors = {}
    for n in names:
        runs = results["runs"][n][str(largest)]
        steps = [s for s, _ in runs[0]["curve"]]
        values = np.mean([[v for _, v in r["curve"]] for r in runs], axis=0)
        if n == "wsd":  # the stable trunk, then the branch's cooldown
            trunk = runs[0]["trunk_curve"]
            steps = [s for s, _ in trunk] + steps
            values = np.concatenate(
                [np.mean([[v for _, v in r["trunk_curve"]] for r in runs], axis=0), values]
            )
        (line,) = left.plot(steps, values, label=label(n), linewidth=1.4)
        colors[n] = line.get_color()
        middle.plot(
            budgets,
            [mean(results, n, b) for b in budgets],
            marker="o",
            color=colors[n],
            label=label(n),
        )
    for b in budgets[:-1]:  # decay anytime's other branches
        runs = results["runs"]["wsd"][str(b)]
        steps = [s for s, _ in runs[0]["curve"]]
        values = np.mean([[v for _, v in r["curve"]] for r in runs], axis=0)
        left.plot(steps, values, color=colors["wsd"], linestyle=":", linewidth=1.2)
    lo = min(
        min(v for _, v in r["curve"]) for by in results["runs"].values() for r in by[str(largest)]
    )
    left.set_ylim(lo - 0.05, lo + 1.2)
    left.set_xlabel("update")
    left.set_ylabel("validation loss (bits per byte)")
    left.set_title(f"Validation loss, {largest}-update runs (WSD: cooldowns dotted)")
    left.grid(True, alpha=0.3)
    left.legend(fontsize="small")
    middle.set_xscale("log", base=2)
    middle.set_xticks(budgets, [str(b) for b in budgets])
    middle.set_xlabel("budget (updates)")
    middle.set_ylabel("final test loss (bits per byte)")
    middle.set_title("Final test loss by budget (mean of seeds)")
    middle.grid(True, alpha=0.3)
    tuning = results["tuning_valid_bpb"]
    best = results["best_with_warmup_at_tuning"]
    for n, values in tuning.items():
        ps = sorted(values, key=float)
        style = "--" if n.endswith("no warmup") else "-"
        right.plot(
            [float(p) for p in ps],
            [values[p] for p in ps],
            marker="o",
            linestyle=style,
            color=colors.get(n.partition(",")[0], "black")
            if n != f"{best}, no warmup"
            else "black",
            label=label(n) if n.endswith("no warmup") else None,
        )
    right.set_xscale("log")
    every = sorted({float(p) for values in tuning.values() for p in values})
    right.set_xticks(every, [f"{p:g}" for p in every])
    right.minorticks_off()
    right.set_xlabel("peak rate")
    right.set_ylabel("validation loss (bits per byte)")
    right.set_title(f"Peak grid at {results['grid']['budget']} updates (validation)")
    right.grid(True, alpha=0.3)
    right.legend(fontsize="small")
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
