"""The seed walkthrough (examples/keras_seed.py) runs, and checks what it claims to check."""

from __future__ import annotations

import importlib.util
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
pytest.importorskip("sklearn")

import lrkit  # noqa: E402

pytestmark = pytest.mark.keras
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "keras_seed.py"


@pytest.fixture(scope="module")
def example() -> Iterator[ModuleType]:
    sys.path.insert(0, str(EXAMPLE.parent))  # the example imports its sibling seed.py
    try:
        spec = importlib.util.spec_from_file_location("keras_seed", EXAMPLE)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(EXAMPLE.parent))


def test_seed_walkthrough_trains_five_models_with_the_seeds_rates(example: ModuleType) -> None:
    histories = example.main(epochs=12, samples=400, verbose=0)
    assert list(histories) == [
        "Constant",
        "Time-based decay",
        "Exponential decay",
        "Constant then exponential decay",
        "One cycle",
    ]
    for history in histories.values():
        assert len(history["learning_rate"]) == 12
        assert history["loss"][-1] < history["loss"][0]  # it trained
    # A few values worked out by hand from the seed's formulas.
    rates = {name: history["learning_rate"] for name, history in histories.items()}
    assert rates["Constant then exponential decay"][9:11] == pytest.approx(
        [0.001, 0.001 * math.exp(-1.0)], rel=1e-6
    )
    assert rates["One cycle"][0] == pytest.approx(0.0001, rel=1e-6)
    assert rates["One cycle"][10] == pytest.approx(0.001, rel=1e-6)
    assert rates["Time-based decay"][10] == pytest.approx(0.0005, rel=1e-6)


def test_seed_walkthrough_detects_a_wrong_schedule(
    example: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_constant = example.SCHEDULES["Constant"][1]
    wrong = {"Constant": (lrkit.constant(start_lr=0.002), seed_constant)}
    monkeypatch.setattr(example, "SCHEDULES", wrong)
    with pytest.raises(RuntimeError, match="differ from the seed's"):
        example.main(epochs=1, samples=64, verbose=0)
