"""The seed's chart: its five schedules, with its own parameters, on one axis.

    python examples/seed_chart.py                        # writes seed-schedules.png
    python examples/seed_chart.py chart.svg --epochs 100 --log

Before drawing, the script checks that lrkit's five give exactly the rates of the seed's own
functions (in ``seed.py``, as the seed wrote them) at every epoch shown. The same chart from the
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

import numpy as np
from seed import SCHEDULES  # examples/seed.py: the seed's functions and lrkit's five

import lrkit
import lrkit.plot


def check_against_seed(epochs: int) -> None:
    """Raise if any of lrkit's five differs from the seed's function at an epoch shown."""
    t = np.arange(epochs)
    for name, (schedule, seed) in SCHEDULES.items():
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
        {name: schedule for name, (schedule, _) in SCHEDULES.items()},
        args.output,
        epochs=args.epochs,
        log=args.log,
        title="The seed's five schedules",
    )
    print(f"wrote {path} (lrkit's five equal the seed's functions at epochs 0..{args.epochs - 1})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
