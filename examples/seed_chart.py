"""The seed's chart: its five schedules, with its own parameters, on one axis.

    python examples/seed_chart.py                        # writes seed-schedules.png
    python examples/seed_chart.py chart.svg --epochs 100 --log

Before drawing, the script checks that lrkit's five give exactly the rates of the seed's own
functions (copied below as the seed wrote them) at every epoch shown. The same chart from the
shell, in one line:

    lrkit plot "constant(start_lr=0.001)" "time_based_decay(start_lr=0.001, decay=0.1)" \\
        "exponential_decay(start_lr=0.001, exp_decay=0.1)" \\
        "constant_then_exponential_decay(start_lr=0.001, rampup_epochs=10, exp_decay=0.1)" \\
        "one_cycle(start_lr=0.0001, min_lr=0.00001, max_lr=0.001, rampup_epochs=10, \\
                   sustain_epochs=0, exp_decay=0.8)" \\
        --label Constant --label "Time-based decay" --label "Exponential decay" \\
        --label "Constant then exponential decay" --label "One cycle" \\
        --epochs 50 --title "The seed's five schedules" -o seed-schedules.png
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import lrkit
import lrkit.plot

# -- the seed's functions, as the seed wrote them (with its parameters) -----------------------


def seed_constant(epoch):
    start_lr = 0.001
    return start_lr


def seed_time_based_decay(epoch):
    start_lr = 0.001
    decay = 0.1
    previous_lr = 1

    def lr(epoch, start_lr, decay):
        nonlocal previous_lr
        previous_lr *= start_lr / (1.0 + decay * epoch)
        return previous_lr

    return lr(epoch, start_lr, decay)


def seed_exponential_decay(epoch):
    start_lr = 0.001
    exp_decay = 0.1

    def lr(epoch, start_lr, exp_decay):
        return start_lr * math.exp(-exp_decay * epoch)

    return lr(epoch, start_lr, exp_decay)


def seed_constant_then_exponential_decay(epoch):
    start_lr = 0.001
    rampup_epochs = 10
    exp_decay = 0.1

    def lr(epoch, start_lr, rampup_epochs, exp_decay):
        if epoch < rampup_epochs:
            return start_lr
        else:
            return start_lr * math.exp(-exp_decay * epoch)

    return lr(epoch, start_lr, rampup_epochs, exp_decay)


def seed_one_cycle(epoch):
    start_lr = 0.0001
    min_lr = 0.00001
    max_lr = 0.001
    rampup_epochs = 10
    sustain_epochs = 0
    exp_decay = 0.8

    def lr(epoch, start_lr, min_lr, max_lr, rampup_epochs, sustain_epochs, exp_decay):
        if epoch < rampup_epochs:
            lr = (max_lr - start_lr) / rampup_epochs * epoch + start_lr
        elif epoch < rampup_epochs + sustain_epochs:
            lr = max_lr
        else:
            lr = (max_lr - min_lr) * exp_decay ** (epoch - rampup_epochs - sustain_epochs) + min_lr
        return lr

    return lr(epoch, start_lr, min_lr, max_lr, rampup_epochs, sustain_epochs, exp_decay)


# -- the same five in lrkit -------------------------------------------------------------------

SCHEDULES = {
    "Constant": lrkit.constant(start_lr=0.001),
    "Time-based decay": lrkit.time_based_decay(start_lr=0.001, decay=0.1),
    "Exponential decay": lrkit.exponential_decay(start_lr=0.001, exp_decay=0.1),
    "Constant then exponential decay": lrkit.constant_then_exponential_decay(
        start_lr=0.001, rampup_epochs=10, exp_decay=0.1
    ),
    "One cycle": lrkit.one_cycle(
        start_lr=0.0001,
        min_lr=0.00001,
        max_lr=0.001,
        rampup_epochs=10,
        sustain_epochs=0,
        exp_decay=0.8,
    ),
}
SEED_FUNCTIONS = [
    seed_constant,
    seed_time_based_decay,
    seed_exponential_decay,
    seed_constant_then_exponential_decay,
    seed_one_cycle,
]


def check_against_seed(epochs: int) -> None:
    """Raise if any of lrkit's five differs from the seed's function at an epoch shown."""
    t = np.arange(epochs)
    for (name, schedule), seed in zip(SCHEDULES.items(), SEED_FUNCTIONS, strict=True):
        ours = schedule(t)
        theirs = np.array([seed(int(e)) for e in t])
        if not np.allclose(ours, theirs, rtol=1e-12, atol=0.0):
            worst = int(np.argmax(np.abs(ours - theirs)))
            raise AssertionError(
                f"{name}: lrkit gives {ours[worst]!r} at epoch {worst}, the seed {theirs[worst]!r}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default="seed-schedules.png", help="PNG, SVG or PDF")
    parser.add_argument("--epochs", type=int, default=50, help="epochs shown (50)")
    parser.add_argument("--log", action="store_true", help="logarithmic learning-rate axis")
    args = parser.parse_args(argv)
    check_against_seed(args.epochs)
    path = lrkit.plot.save(
        SCHEDULES, args.output, epochs=args.epochs, log=args.log, title="The seed's five schedules"
    )
    print(f"wrote {path} (lrkit's five equal the seed's functions at epochs 0..{args.epochs - 1})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
