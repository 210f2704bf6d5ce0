"""``lrkit demo``: train one small network per schedule on real data and show which trains fastest.

The command line (:func:`add_arguments`, :func:`run`), reached through
:data:`lrkit.cli.EXTENSIONS`; ``python -m lrkit.demo`` runs :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import lrkit
from lrkit import Schedule
from lrkit.demo.recipes import (
    BATCH_SIZE,
    DEFAULT_EPOCHS,
    HIDDEN,
    MOMENTUM,
    PEAKS,
    RECIPES,
    TARGET,
    recipe,
    recipes,
)
from lrkit.demo.report import (
    accuracy_chart,
    machine,
    results_table,
    schedules_chart,
    summary,
    write_report,
)
from lrkit.demo.runs import Progress
from lrkit.demo.text_recipes import DEFAULT_UPDATES, TEXT_RECIPES
from lrkit.demo.training import train

__all__ = ["DemoError", "add_arguments", "main", "resolve_schedules", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``lrkit demo``."""
    parser.add_argument(
        "--epochs",
        type=int,
        default=DEFAULT_EPOCHS,
        help=f"training budget in epochs (default {DEFAULT_EPOCHS}); every schedule spans it",
    )
    parser.add_argument(
        "--schedules",
        nargs="+",
        metavar="SPEC",
        help="schedules to compare: names of the demo's recipes (" + ", ".join(RECIPES) + "; "
        "with --task text: " + ", ".join(TEXT_RECIPES) + ") "
        'or text forms with time in epochs (updates with --task text), e.g. "cosine(0.05, 8)" '
        "(default: all recipes)",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="directory with the Fashion-MNIST IDX files (default: $LRKIT_DATA, "
        "/usr/share/datasets/fashion-mnist, ~/.keras/datasets/fashion-mnist; "
        "scikit-learn's digits when none has them)",
    )
    parser.add_argument(
        "--out",
        default="lrkit-demo",
        metavar="DIR",
        help="where to write the charts, report.md and results.json (default lrkit-demo)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--backend",
        choices=("tensorflow", "jax", "torch"),
        help="Keras backend (default: $KERAS_BACKEND, else tensorflow)",
    )
    parser.add_argument(
        "--framework",
        choices=("keras", "torch"),
        default="keras",
        help="train with Keras (default) or a plain PyTorch loop (lrkit.torch.LRScheduler)",
    )
    parser.add_argument(
        "--update",
        choices=("step", "epoch"),
        default="epoch",
        help="set the rate once per epoch with the drop-in callback, as the seed does "
        "(default), or before every update, in-graph",
    )
    parser.add_argument(
        "--task",
        choices=("image", "text"),
        default="image",
        help="image: the MLP on Fashion-MNIST (default); text: a small transformer language "
        "model on Python's own source, in PyTorch",
    )
    parser.add_argument(
        "--updates",
        type=int,
        default=DEFAULT_UPDATES,
        help=f"--task text: training budget in updates (default {DEFAULT_UPDATES})",
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cpu",
        help="--task text: where to train; cuda also trains a larger model (default cpu)",
    )
    parser.add_argument(
        "--find",
        action="store_true",
        help="take each recipe's peak from a learning-rate range test on this network and data "
        "(lrkit find) instead of the training benchmark's sweep",
    )
    parser.add_argument(
        "--target",
        type=float,
        default=TARGET,
        help=f"test accuracy to reach, as a fraction (default {TARGET})",
    )


class DemoError(Exception):
    """Bad options: reported as one line."""


def resolve_schedules(
    specs: Sequence[str] | None, epochs: int, peaks: Mapping[str, float] | None = None
) -> dict[str, Schedule]:
    """``{label: schedule}`` for ``--schedules``: recipe names or text forms (labelled as given);
    the recipes peak at ``peaks`` (default: the training benchmark's :data:`PEAKS`)."""
    peaks = PEAKS if peaks is None else peaks
    if not specs:
        return recipes(epochs, peaks)
    out: dict[str, Schedule] = {}
    for spec in specs:
        text = spec.strip()
        if text in RECIPES:
            out[text] = recipe(text, epochs, peaks[text])
            continue
        try:
            out[text] = lrkit.parse(text)
        except lrkit.SpecError as e:
            raise DemoError(f"--schedules {text!r}: {e}") from None
    return out


def _keras_backend(requested: str | None) -> str:
    """Select the Keras backend before Keras is imported; the backend in use."""
    if requested is not None:
        loaded = sys.modules.get("keras")
        if loaded is not None and loaded.backend.backend() != requested:
            raise DemoError(
                f"--backend {requested}: Keras is already running on "
                f"{loaded.backend.backend()} in this process"
            )
        os.environ["KERAS_BACKEND"] = requested
    import keras

    return str(keras.backend.backend())


def run(args: argparse.Namespace) -> int:
    """Run ``lrkit demo`` with parsed ``args``; the exit status."""
    try:
        return _run(args)
    except (DemoError, FileNotFoundError, ValueError) as e:
        print(f"lrkit demo: error: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if getattr(args, "task", "image") == "text":
        return _run_text(args)
    from lrkit.demo.data import describe, load

    if args.epochs < 1:
        raise DemoError(f"--epochs must be >= 1, got {args.epochs}")
    if not 0 < args.target <= 1:
        raise DemoError(f"--target is a fraction in (0, 1], got {args.target}")
    if args.framework == "torch" and args.backend is not None:
        raise DemoError("--backend selects Keras' backend; it has no effect with --framework torch")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    data = load(args.data)
    if args.framework == "keras":
        backend = _keras_backend(args.backend)  # before anything imports Keras
        engine = f"Keras {_keras_version()} on {backend}"
    else:
        import torch

        engine = f"PyTorch {torch.__version__}"
    peaks = None
    if args.find:  # after the backend is chosen: the range test trains this network
        from lrkit.find_command import demo_peaks

        peaks = demo_peaks(data, args.framework, seed=args.seed)
        print(
            f"peaks from a range test (lrkit find): {peaks['onecycle']} "
            f"(the constant rate: {peaks['constant']})"
        )
    schedules = resolve_schedules(args.schedules, args.epochs, peaks)
    steps = math.ceil(len(data.x_train) / BATCH_SIZE)
    print(describe(data))
    print(
        f"MLP {data.features}-{HIDDEN}-{len(data.classes)}, SGD momentum {MOMENTUM}, batch "
        f"{BATCH_SIZE}, {args.epochs} epochs, {engine}, rate set every "
        f"{'update' if args.update == 'step' else 'epoch'}; {len(schedules)} schedules",
        flush=True,
    )
    progress = Progress()
    runs = [
        train(
            data,
            s,
            epochs=args.epochs,
            seed=args.seed,
            name=name,
            framework=args.framework,
            update=args.update,
            progress=progress,
        )
        for name, s in schedules.items()
    ]
    table = results_table(runs, args.target)
    print("\n" + table + "\n")
    print(summary(runs, args.target))

    setup = {
        "epochs": args.epochs,
        "seed": args.seed,
        "batch_size": BATCH_SIZE,
        "framework": engine,
        "update": args.update,
    }
    command = _command(args)
    schedules_chart(
        {r.name: r.schedule for r in runs},
        out / "schedules.png",
        args.epochs,
        steps if args.update == "step" else None,
    )
    accuracy_chart(runs, out / "accuracy.png", args.target, f"{data.name}: test accuracy")
    report = write_report(out, runs, data=data, setup=setup, target=args.target, command=command)
    results = {
        "data": describe(data),
        "setup": setup,
        "target": args.target,
        "runs": [r.to_json() for r in runs],
        "machine": machine(),
    }
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(
        f"wrote {report}, {out / 'schedules.png'}, {out / 'accuracy.png'}, {out / 'results.json'}"
    )
    return 0


def _run_text(args: argparse.Namespace) -> int:
    if args.updates < 2:
        raise DemoError(f"--updates must be >= 2, got {args.updates}")
    if args.backend is not None or args.framework != "keras":
        raise DemoError("--task text trains in PyTorch; --backend and --framework do not apply")
    from lrkit.demo.text import resolve_text_schedules, run_text

    try:
        schedules = resolve_text_schedules(args.schedules, args.updates)
    except lrkit.SpecError as e:
        raise DemoError(f"--schedules: {e}") from None
    run_text(
        out=Path(args.out),
        schedules=schedules,
        updates=args.updates,
        seed=args.seed,
        device=args.device,
        command=_command(args),
    )
    return 0


def _keras_version() -> str:
    import keras

    return str(keras.__version__)


def _command(args: argparse.Namespace) -> str:
    """The ``lrkit demo`` command line that repeats this run (options left at defaults omitted)."""
    import shlex

    defaults = argparse.ArgumentParser()
    add_arguments(defaults)
    words = ["lrkit", "demo"]
    for option, value in vars(args).items():
        if option in ("command", "run") or value == defaults.get_default(option):
            continue
        values = value if isinstance(value, list) else [value]
        words += ["--" + option.replace("_", "-"), *(str(v) for v in values)]
    return " ".join(shlex.quote(w) for w in words)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lrkit.demo [options]``: the same as ``lrkit demo [options]``."""
    parser = argparse.ArgumentParser(prog="lrkit demo", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
