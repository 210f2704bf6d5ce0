"""``lrkit find``: the learning-rate range test on the demo's model and data.

It builds ``lrkit demo``'s network (an MLP with one hidden layer, SGD with momentum, batch
128; :mod:`lrkit.demo`) on the demo's data (Fashion-MNIST, or scikit-learn's digits when it is
not installed; :mod:`lrkit.demo.data`), runs the range test in Keras (:func:`lrkit.keras.find_lr`)
or PyTorch (:func:`lrkit.torch.find_lr`), prints every rule's suggestion and the 1cycle it
recommends in lrkit's text form, and writes the plot and the result::

    lrkit find --framework torch --epochs 8
    lrkit find --num-steps 300 --out range-test

:func:`range_test` is the same test as a function, and :func:`demo_peaks` turns it into the
peaks of the demo's recipes (``lrkit demo --find``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lrkit import _validate as v
from lrkit.find import RULES, RangeTest

if TYPE_CHECKING:
    from lrkit.demo.data import Dataset

__all__ = ["add_arguments", "demo_peaks", "range_test", "run"]

#: Fewer updates than one epoch of Fashion-MNIST at batch 128 (469): the test costs < 1 epoch.
NUM_STEPS = 300
START_LR = 1e-4
END_LR = 10.0


def range_test(
    data: Dataset,
    framework: str = "keras",
    *,
    seed: int = 0,
    start_lr: float = START_LR,
    end_lr: float = END_LR,
    num_steps: int = NUM_STEPS,
    mode: str = "exponential",
    batch_size: int | None = None,
    verbose: bool | str = "auto",
) -> RangeTest:
    """The range test of ``lrkit demo``'s network, freshly built from ``seed``, on ``data``'s
    training set (batches of ``batch_size``, default the demo's, in an order drawn from
    ``seed``)."""
    from lrkit.demo.recipes import BATCH_SIZE, HIDDEN, MOMENTUM

    batch_size = BATCH_SIZE if batch_size is None else v.count("batch_size", batch_size, 1)
    settings: dict[str, Any] = {
        "start_lr": start_lr,
        "end_lr": end_lr,
        "num_steps": num_steps,
        "mode": mode,
        "verbose": verbose,
    }
    classes = len(data.classes)
    if framework == "keras":
        import keras

        import lrkit.keras

        keras.utils.set_random_seed(seed)
        model = keras.Sequential(
            [
                keras.Input((data.features,)),
                keras.layers.Dense(HIDDEN, activation="relu"),
                keras.layers.Dense(classes),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=start_lr, momentum=MOMENTUM),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        return lrkit.keras.find_lr(
            model, data.x_train, data.y_train, batch_size=batch_size, seed=seed, **settings
        )
    if framework == "torch":
        import torch

        import lrkit.torch

        torch.manual_seed(seed)
        hidden, output = torch.nn.Linear(data.features, HIDDEN), torch.nn.Linear(HIDDEN, classes)
        for layer in (hidden, output):  # Keras' initialisation, as the demo does
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
        net = torch.nn.Sequential(hidden, torch.nn.ReLU(), output)
        optimizer = torch.optim.SGD(net.parameters(), lr=start_lr, momentum=MOMENTUM)
        dataset = torch.utils.data.TensorDataset(
            torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
        )
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(seed),
        )
        return lrkit.torch.find_lr(net, optimizer, torch.nn.CrossEntropyLoss(), loader, **settings)
    raise ValueError(
        f"Argument `framework` must be 'keras' or 'torch'. Received: framework={framework!r}"
    )


def demo_peaks(
    data: Dataset, framework: str = "keras", *, seed: int = 0, rule: str = "consensus"
) -> dict[str, float]:
    """Every recipe of ``lrkit demo`` peaking at the range test's suggestion, the constant
    rate at most at the extremum: the ``peaks`` argument of :func:`lrkit.demo.recipes`
    (``lrkit demo --find``).

    A constant rate stays at its peak, where Smith asks for less than the extremum; the
    consensus is a cycle's peak, twice it (the training benchmark's validation sweeps agree:
    0.05 for the constant rate, 0.1 for 1cycle, at 3 to 8 epochs)."""
    from lrkit.demo.recipes import RECIPES

    test = range_test(data, framework, seed=seed)
    peak = float(f"{test.suggest(rule):.3g}")
    constant = min(peak, float(f"{test.suggest('extremum'):.3g}"))
    return {name: constant if name == "constant" else peak for name in RECIPES}


# -- the command ---------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``lrkit find``."""
    parser.add_argument(
        "--framework",
        choices=("keras", "torch"),
        default="keras",
        help="run the test in Keras (default; backend from $KERAS_BACKEND) or PyTorch",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="directory with the Fashion-MNIST IDX files (default: lrkit demo's search; "
        "scikit-learn's digits when none has them)",
    )
    parser.add_argument("--start-lr", type=float, default=START_LR, help=f"default {START_LR:g}")
    parser.add_argument("--end-lr", type=float, default=END_LR, help=f"default {END_LR:g}")
    parser.add_argument(
        "--num-steps",
        type=int,
        default=NUM_STEPS,
        help=f"updates in the sweep (default {NUM_STEPS}, under one epoch of Fashion-MNIST)",
    )
    parser.add_argument("--mode", choices=("exponential", "linear"), default="exponential")
    parser.add_argument(
        "--rule",
        choices=RULES,
        default="consensus",
        help="the suggestion the recommended schedule peaks at (default consensus)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=8,
        help="length of the recommended 1cycle, in epochs (default 8, the demo's)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--out",
        default="lrkit-find",
        metavar="DIR",
        help="where to write range-test.png and range-test.json (default lrkit-find)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``lrkit find`` with parsed ``args``; the exit status."""
    from lrkit.demo.data import describe, load

    if args.epochs < 1:
        print(f"lrkit find: error: --epochs must be >= 1, got {args.epochs}", file=sys.stderr)
        return 2
    if args.framework == "keras":
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    try:
        data = load(args.data)
        print(describe(data), flush=True)
        result = range_test(
            data,
            args.framework,
            seed=args.seed,
            start_lr=args.start_lr,
            end_lr=args.end_lr,
            num_steps=args.num_steps,
            mode=args.mode,
        )
    except (ValueError, TypeError, FileNotFoundError) as e:
        print(f"lrkit find: error: {e}", file=sys.stderr)
        return 2
    print(report(result, args.rule, args.epochs, len(data.x_train)))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figure = result.plot()
    figure.savefig(out / "range-test.png", dpi=120)
    result.save(out / "range-test.json")
    print(f"wrote {out / 'range-test.png'}, {out / 'range-test.json'}")
    return 0


def report(result: RangeTest, rule: str, epochs: int, samples: int) -> str:
    """The suggestions, the recommended 1cycle and what the test cost, as text."""
    from lrkit.demo.recipes import BATCH_SIZE

    steps_per_epoch = -(-samples // BATCH_SIZE)
    stop = "" if result.stopped_at is None else f" at step {result.stopped_at}"
    lines = [
        f"range test: {len(result.rates)} of {result.num_steps} updates, {result.mode} from "
        f"{result.start_lr:g} to {result.end_lr:g}; {result.reason}{stop} "
        f"({len(result.rates) / steps_per_epoch:.2f} epochs of training)",
        "suggestions:",
    ]
    for name, rate in result.suggestions().items():
        shown = "-" if rate is None else f"{rate:.3g}"
        lines.append(f"  {name:<10} {shown}" + ("   <- used" if name == rule else ""))
    try:
        schedule = result.onecycle(total_steps=epochs, rule=rule)
    except ValueError as e:
        lines.append(f"no schedule recommended: {e}")
        return "\n".join(lines)
    lines.append(f"recommended ({epochs} epochs, time in epochs): {schedule}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lrkit.find_command [options]``: the same as ``lrkit find [options]``."""
    parser = argparse.ArgumentParser(prog="lrkit find", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
