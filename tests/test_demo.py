"""lrkit demo: the recipes against the seed's formulas, the table, and real runs on the digits."""

from __future__ import annotations

import io
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lrkit import demo
from lrkit.demo import RECIPES, Progress, Run, recipe, results_table

# -- the recipes: the seed's formulas, scaled ------------------------------------------------


def seed_functions(peak: float, epochs: float) -> dict[str, object]:
    """The seed's own functions (as in the seed text), with rates x peak/0.001 and time
    compressed from 50 epochs to ``epochs``."""
    k = 50 / epochs
    lr0 = 0.001 * peak / 0.001

    def constant(t: float) -> float:
        return lr0

    def time_based(t: float) -> float:
        return lr0 / (1.0 + 0.1 * k * t)

    def exponential(t: float) -> float:
        return lr0 * math.exp(-0.1 * k * t)

    def constant_then_exponential(t: float) -> float:
        return lr0 if t < 10 / k else lr0 * math.exp(-0.1 * k * t)

    def one_cycle(t: float) -> float:
        start, low, high, ramp = lr0 / 10, lr0 / 100, lr0, 10 / k
        if t < ramp:
            return (high - start) / ramp * t + start
        return (high - low) * 0.8 ** (k * (t - ramp)) + low

    return {
        "constant": constant,
        "time_based_decay": time_based,
        "exponential_decay": exponential,
        "constant_then_exponential_decay": constant_then_exponential,
        "one_cycle": one_cycle,
    }


@pytest.mark.parametrize("epochs", [3, 8, 15])
@pytest.mark.parametrize("name", RECIPES[:5])
def test_seed_recipes_are_the_seed_scaled(name: str, epochs: int) -> None:
    reference = seed_functions(0.1, epochs)[name]
    s = recipe(name, epochs, 0.1)
    for t in np.linspace(0, epochs, 61):
        assert s(float(t)) == pytest.approx(reference(float(t)), rel=1e-5)  # type: ignore[operator]


def test_cosine_and_onecycle_span_the_budget() -> None:
    cosine, onecycle = recipe("cosine", 8, 0.2), recipe("onecycle", 8, 0.2)
    assert cosine(0) == 0.2 and cosine(4) == pytest.approx(0.1) and cosine(8) == 0.0
    assert onecycle(0) == pytest.approx(0.2 / 25)
    assert onecycle(0.3 * 8) == pytest.approx(0.2)  # the peak, 30% of the way
    assert onecycle(8) == pytest.approx(0.2 / 25 / 1e4)


def test_recipes_use_the_tuned_peaks() -> None:
    for name, s in demo.recipes(8).items():
        t = np.linspace(0, 8, 801)
        assert float(np.max(s(t))) == pytest.approx(demo.PEAKS[name], rel=1e-3), name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("cosinus", 8, 0.1), "Argument `name` must be one of"),
        (("cosine", 0, 0.1), "Argument `epochs` must be > 0. Received: epochs=0"),
        (("cosine", 8, -1.0), "Argument `peak` must be > 0. Received: peak=-1.0"),
    ],
)
def test_recipe_rejects_bad_arguments(args: tuple[str, float, float], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        recipe(*args)


# -- the table -----------------------------------------------------------------------------


def parse_table(text: str) -> list[dict[str, str]]:
    """The rows of a Markdown table in ``text``, as dicts keyed by the header."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
    assert len(lines) >= 3, text
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]
    header, rule, rows = cells[0], cells[1], cells[2:]
    assert all(re.fullmatch(r":?-+:?", c) for c in rule), rule
    assert all(len(r) == len(header) for r in rows)
    return [dict(zip(header, r, strict=True)) for r in rows]


def test_results_table_parses() -> None:
    import lrkit

    runs = [
        Run("constant", lrkit.constant(0.1), [0.80, 0.84, 0.83], seconds=12.34),
        Run("cosine", lrkit.cosine(0.1, 3), [0.81, 0.886, 0.89], seconds=3.0),
    ]
    rows = parse_table(results_table(runs, target=0.885))
    assert [r["schedule"] for r in rows] == ["constant", "cosine"]
    assert rows[0]["final test acc"] == "83.00%" and rows[1]["final test acc"] == "89.00%"
    assert rows[0]["best test acc (epoch)"] == "84.00% (2)"
    assert rows[0]["first epoch >= 88.5%"] == "-" and rows[1]["first epoch >= 88.5%"] == "2"
    assert rows[0]["wall time"] == "12.3 s"
    assert demo.summary(runs, 0.885) == (
        "first to 88.5%: cosine (after 2 epochs); highest final accuracy: cosine (89.00%)"
    )


def test_progress_without_a_terminal_prints_one_line_per_run() -> None:
    out = io.StringIO()
    progress = Progress(out)
    progress.begin("cosine")
    progress.update(0.5, "epoch 1/2")
    progress.end("final 90.00%")
    assert out.getvalue().count("\n") == 1 and "cosine" in out.getvalue()
    assert "final 90.00%" in out.getvalue() and "\r" not in out.getvalue()


# -- real runs ----------------------------------------------------------------------------


@pytest.fixture
def no_fashion_mnist(tmp_path: Path) -> Path:
    """An empty data directory: the demo falls back to scikit-learn's digits."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    return empty


@pytest.mark.keras
@pytest.mark.slow
def test_lrkit_demo_end_to_end(tmp_path: Path, no_fashion_mnist: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    command = [sys.executable, "-m", "lrkit", "demo", "--epochs", "2", "--data"]
    proc = subprocess.run(
        [*command, str(no_fashion_mnist), "--out", str(out), "--target", "0.8"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "apt-get install dataset-fashion-mnist" in proc.stderr  # the fallback's note
    rows = parse_table(proc.stdout)
    assert [r["schedule"] for r in rows] == list(RECIPES)
    for row in rows:
        final = float(row["final test acc"].rstrip("%"))
        best, epoch = re.fullmatch(r"([\d.]+)% \((\d)\)", row["best test acc (epoch)"]).groups()  # type: ignore[union-attr]
        assert 0 <= final <= float(best) <= 100 and epoch in ("1", "2")
        first = row["first epoch >= 80.0%"]
        assert first == "-" or (first in ("1", "2") and float(best) >= 80.0)
        assert float(row["wall time"].removesuffix(" s")) > 0

    for image in ("schedules.png", "accuracy.png"):
        assert (out / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text()
    assert "![Test accuracy after each epoch](accuracy.png)" in report
    assert "![The schedules](schedules.png)" in report
    assert parse_table(report.split("## Results")[1].split("##")[0]) == rows
    results = json.loads((out / "results.json").read_text())
    assert [r["name"] for r in results["runs"]] == list(RECIPES)
    assert [len(r["test_accuracy"]) for r in results["runs"]] == [2] * len(RECIPES)


@pytest.mark.keras
def test_keras_once_per_epoch_with_the_callback() -> None:
    import lrkit
    from lrkit.demo.data import load_digits

    run = demo.train(load_digits(), lrkit.cosine(0.1, 2), epochs=2, update="epoch")
    assert len(run.test_accuracy) == 2 and run.final > 0.5  # ten classes: chance is 0.1


@pytest.mark.torch
def test_demo_with_torch(
    tmp_path: Path, no_fashion_mnist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "out"
    status = demo.main(
        ["--framework", "torch", "--epochs", "2", "--data", str(no_fashion_mnist), "--out",
         str(out), "--schedules", "constant", "onecycle", "cosine(0.05, 2)", "--update", "step"]
    )  # fmt: skip
    assert status == 0
    rows = parse_table(capsys.readouterr().out)
    assert [r["schedule"] for r in rows] == ["constant", "onecycle", "cosine(0.05, 2)"]
    assert all(float(r["final test acc"].rstrip("%")) > 50 for r in rows)
    report = (out / "report.md").read_text()
    assert "--framework torch --update step" in report  # the command that repeats the run
    assert "--schedules constant onecycle 'cosine(0.05, 2)'" in report
    assert (out / "accuracy.png").exists() and (out / "schedules.png").exists()


@pytest.mark.torch
def test_demo_find_takes_the_peaks_from_a_range_test(
    tmp_path: Path, no_fashion_mnist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    from lrkit.demo.data import load
    from lrkit.find_command import range_test

    out = tmp_path / "out"
    status = demo.main(
        ["--framework", "torch", "--epochs", "2", "--data", str(no_fashion_mnist), "--out",
         str(out), "--schedules", "cosine", "--find", "--seed", "1"]
    )  # fmt: skip
    assert status == 0
    printed = capsys.readouterr().out
    test = range_test(load(str(no_fashion_mnist)), "torch", seed=1)
    peak = float(f"{test.suggest():.3g}")
    constant = min(peak, float(f"{test.suggest('extremum'):.3g}"))
    assert f"from a range test (lrkit find): {peak} (the constant rate: {constant})" in printed
    assert peak != demo.PEAKS["cosine"]  # not the committed sweep's
    results = json.loads((out / "results.json").read_text())
    assert f"cosine(start_lr={peak}" in json.dumps(results)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--epochs", "0"], "--epochs must be >= 1"),
        (["--schedules", "cosine(0.1,"], "--schedules 'cosine(0.1,'"),
        (["--schedules", "nonsense(1)"], "nonsense"),
        (["--target", "88.5"], "--target is a fraction"),
        (["--framework", "torch", "--backend", "jax"], "--backend selects Keras' backend"),
    ],
)
def test_bad_options_are_one_line_errors(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.main([*args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lrkit demo: error: ") and message in err and err.count("\n") == 1
