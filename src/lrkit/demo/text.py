"""``lrkit demo --task text``: a small transformer language model, one run per schedule.

A short version of ``benchmarks/text.py``: the byte-level GPT of :mod:`lrkit.demo.gpt` on
Python's own source (:mod:`lrkit.demo.text_data`), trained with AdamW for ``--updates``
updates (default 300) once per schedule, from the same initial weights and in the same data
order. It prints a table (final validation and test loss in bits per byte, the lowest
validation loss and when, wall time) and writes ``schedules.png``, ``loss.png`` (validation
loss against updates), ``report.md`` and ``results.json``, as the image task does.

The schedules (:func:`lrkit.demo.text_recipes.text_recipe`) peak at :data:`TEXT_PEAKS`, the
peaks the benchmark's grid picked; warmup is :data:`WARMUP` updates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lrkit
from lrkit import Schedule
from lrkit.demo.gpt import CUDA, QUICK, GPTConfig, TextRun, parameters, train_text
from lrkit.demo.report import describe_machine, machine
from lrkit.demo.runs import Progress
from lrkit.demo.text_data import Corpus, describe_corpus, load_corpus
from lrkit.demo.text_recipes import DEFAULT_UPDATES, TEXT_RECIPES, text_recipe

__all__ = [
    "DEFAULT_UPDATES",
    "DEMO_RECIPES",
    "TEXT_PEAKS",
    "WARMUP",
    "compare",
    "loss_chart",
    "run_text",
    "text_recipes",
    "text_table",
    "write_text_report",
]

WARMUP = 25
#: The schedules the demo compares by default.
DEMO_RECIPES = ("constant", "cosine", "linear_to_zero", "wsd")
#: Each schedule's peak: the one the text benchmark's grid picked (validation files, 200
#: updates); see ``benchmarks/results/text.md``.
TEXT_PEAKS: dict[str, float] = {
    "constant": 0.0015,
    "cosine": 0.003,
    "linear_to_zero": 0.003,
    "wsd": 0.003,
    "inverse_sqrt": 0.003,
}


def text_recipes(
    updates: int, names: Sequence[str] = DEMO_RECIPES, warmup: int = WARMUP
) -> dict[str, Schedule]:
    """The demo's text schedules over ``updates`` updates, at :data:`TEXT_PEAKS`."""
    return {n: text_recipe(n, updates, TEXT_PEAKS[n], min(warmup, updates - 1)) for n in names}


def compare(
    corpus: Corpus,
    schedules: Mapping[str, Schedule],
    *,
    updates: int,
    seed: int = 0,
    config: GPTConfig = QUICK,
    device: str = "cpu",
    progress: Progress | None = None,
) -> list[TextRun]:
    """One run per schedule, from the same initial weights and data order."""
    return [
        train_text(
            corpus,
            s,
            updates=updates,
            seed=seed,
            config=config,
            device=device,
            name=name,
            evals=10,
            progress=progress,
        )
        for name, s in schedules.items()
    ]


def text_table(runs: Sequence[TextRun]) -> str:
    """The results as a Markdown table: one row per run, in order."""
    lines = [
        "| schedule | final validation (bits/byte) | final test | lowest validation (update) "
        "| wall time |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in runs:
        step, low = min(r.curve, key=lambda c: c[1])
        lines.append(
            f"| {r.name} | {r.valid:.3f} | {r.test:.3f} | {low:.3f} ({step}) | {r.seconds:.1f} s |"
        )
    return "\n".join(lines)


def text_summary(runs: Sequence[TextRun]) -> str:
    best = min(runs, key=lambda r: r.test)
    worst = max(runs, key=lambda r: r.test)
    return (
        f"lowest final test loss: {best.name} ({best.test:.3f} bits per byte); highest: "
        f"{worst.name} ({worst.test:.3f})"
    )


def loss_chart(runs: Sequence[TextRun], path: Path, title: str) -> Path:
    """Validation loss against updates, one line per run."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for r in runs:
        ax.plot(*zip(*r.curve, strict=True), marker="o", markersize=3, label=r.name)
    low = min(min(v for _, v in r.curve) for r in runs)
    ax.set_ylim(low - 0.05, low + 1.0)  # the end of training, where schedules differ
    ax.set_xlabel("update")
    ax.set_ylabel("validation loss (bits per byte)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    fig.savefig(path, dpi=120)
    return path


def write_text_report(
    out: Path,
    runs: Sequence[TextRun],
    *,
    corpus: Corpus,
    config: GPTConfig,
    setup: Mapping[str, Any],
    command: str,
) -> Path:
    """``report.md``: the setup, the table, both charts, the schedules and how to reproduce."""
    recipe_rows = "\n".join(f"| {r.name} | `{r.schedule.spec()}` |" for r in runs)
    first = text_summary(runs)
    text = f"""# lrkit demo: which schedule trains a language model best?

{describe_corpus(corpus)}. A GPT-style byte-level transformer ({parameters(config):,} \
parameters: width {config.width}, {config.layers} layers, {config.heads} heads, context \
{config.context}) trained with AdamW (betas {config.beta1}/{config.beta2}, weight decay \
{config.weight_decay}) on batches of {config.batch} windows for {setup["updates"]} updates, \
once per schedule, from the same initial weights and in the same data order (seed \
{setup["seed"]}); {setup["device"]}. The rate is set before every update by \
`lrkit.torch.LRScheduler`.

## Results

{text_table(runs)}

{first[0].upper() + first[1:]}.

![Validation loss against updates](loss.png)

One run per schedule and one seed, on a short budget: differences of a few hundredths of a bit \
are within the noise. The text benchmark of the lrkit repository \
(`benchmarks/results/text.md`) has the full protocol: three budgets, two seeds, every \
schedule's peak tuned on validation files, schedule-free AdamW and decay-anytime.

## The schedules

![The schedules](schedules.png)

| name | schedule (lrkit text form, time in updates) |
|------|------|
{recipe_rows}

## Reproduce

```
{command}
```

Machine: {describe_machine(machine())}.
"""
    path = out / "report.md"
    path.write_text(text, encoding="utf-8")
    return path


def run_text(
    *,
    out: Path,
    schedules: Mapping[str, Schedule],
    updates: int,
    seed: int,
    device: str,
    command: str,
    config: GPTConfig | None = None,
) -> list[TextRun]:
    """The text task of ``lrkit demo``: train, print the table, write the report and charts."""
    import torch

    from lrkit import plot

    config = config or (CUDA if device == "cuda" else QUICK)
    corpus = load_corpus()
    engine = f"PyTorch {torch.__version__} on {device}"
    print(describe_corpus(corpus))
    print(
        f"GPT {parameters(config):,} parameters, AdamW, batch {config.batch}x{config.context} "
        f"bytes, {updates} updates, {engine}; {len(schedules)} schedules",
        flush=True,
    )
    runs = compare(
        corpus,
        schedules,
        updates=updates,
        seed=seed,
        config=config,
        device=device,
        progress=Progress(),
    )
    print("\n" + text_table(runs) + "\n")
    print(text_summary(runs))
    out.mkdir(parents=True, exist_ok=True)
    fig = plot.figure(dict(schedules), steps=updates, title=f"The schedules over {updates} updates")
    fig.savefig(out / "schedules.png", dpi=120)
    loss_chart(runs, out / "loss.png", "Python source, bytes: validation loss")
    setup = {"updates": updates, "seed": seed, "device": engine, "config": config.to_json()}
    report = write_text_report(
        out, runs, corpus=corpus, config=config, setup=setup, command=command
    )
    results = {
        "task": "text",
        "data": corpus.to_json(),
        "setup": setup,
        "runs": [r.to_json() for r in runs],
        "machine": machine(),
    }
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {report}, {out / 'schedules.png'}, {out / 'loss.png'}, {out / 'results.json'}")
    return runs


def resolve_text_schedules(specs: Sequence[str] | None, updates: int) -> dict[str, Schedule]:
    """``{label: schedule}`` for ``--schedules`` with ``--task text``: names or text forms."""
    if not specs:
        return text_recipes(updates)
    out: dict[str, Schedule] = {}
    for spec in specs:
        text = spec.strip()
        out[text] = (
            text_recipes(updates, [text])[text] if text in TEXT_RECIPES else lrkit.parse(text)
        )
    return out
