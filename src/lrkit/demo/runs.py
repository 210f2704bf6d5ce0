"""What a demo run produced (:class:`Run`) and the progress bar shown while it trains."""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Any, TextIO

import numpy as np

from lrkit import Schedule

__all__ = ["Progress", "Run", "status"]


@dataclasses.dataclass
class Run:
    """One training run: what was trained and the test accuracy after each epoch."""

    name: str
    schedule: Schedule
    test_accuracy: list[float]
    seconds: float
    seed: int = 0

    @property
    def final(self) -> float:
        """Test accuracy after the last epoch."""
        return self.test_accuracy[-1]

    @property
    def best(self) -> float:
        return max(self.test_accuracy)

    @property
    def best_epoch(self) -> int:
        """The (1-based) epoch after which the test accuracy was highest."""
        return int(np.argmax(self.test_accuracy)) + 1

    def first_reaching(self, target: float) -> int | None:
        """The first (1-based) epoch after which the test accuracy is >= ``target``."""
        return next((i + 1 for i, a in enumerate(self.test_accuracy) if a >= target), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "schedule": self.schedule.spec(),
            "config": self.schedule.to_config(),
            "seed": self.seed,
            "test_accuracy": [round(a, 5) for a in self.test_accuracy],
            "seconds": round(self.seconds, 2),
        }


class Progress:
    """A one-line progress bar per run on a terminal; a line per finished run elsewhere."""

    def __init__(self, stream: TextIO | None = None, width: int = 24) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = ""
        self.start = time.perf_counter()

    def begin(self, label: str) -> None:
        self.label, self.start = label, time.perf_counter()
        self.update(0.0, "")

    def update(self, fraction: float, status: str) -> None:
        if not self.live:
            return
        done = round(self.width * min(max(fraction, 0.0), 1.0))
        bar = "#" * done + "." * (self.width - done)
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r{self.label:<34} [{bar}] {status:<26} {elapsed:6.1f}s")
        self.stream.flush()

    def end(self, status: str) -> None:
        elapsed = time.perf_counter() - self.start
        if self.live:
            self.update(1.0, status)
            self.stream.write("\n")
        else:
            self.stream.write(f"{self.label:<34} {status:<26} {elapsed:6.1f}s\n")
        self.stream.flush()


def status(epoch: int, epochs: int, accuracy: float | None) -> str:
    """The progress bar's status: the epoch, and the last test accuracy when known."""
    shown = "" if accuracy is None else f"  test {accuracy:.2%}"
    return f"epoch {epoch}/{epochs}{shown}"
