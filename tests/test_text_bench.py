"""The text task (lrkit demo --task text, benchmarks/text.py) on a tiny model, real torch."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lrkit

torch = pytest.importorskip("torch")

from lrkit import demo  # noqa: E402
from lrkit.demo.gpt import GPTConfig, train_text  # noqa: E402
from lrkit.demo.text import run_text, text_recipes  # noqa: E402
from lrkit.demo.text_data import TEST_FILES, VALID_FILES, load_corpus  # noqa: E402
from lrkit.demo.text_recipes import text_recipe  # noqa: E402

pytestmark = pytest.mark.torch
TINY = GPTConfig(width=32, layers=1, heads=2, context=32, batch=8, eval_windows=64)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def corpus():  # type: ignore[no-untyped-def]
    return load_corpus()


def test_corpus_holds_out_whole_files(corpus) -> None:  # type: ignore[no-untyped-def]
    files = corpus.files
    assert not set(files["train"]) & set(VALID_FILES + TEST_FILES)
    assert files["valid"] == VALID_FILES and files["test"] == TEST_FILES
    # The test split is exactly the listed files' bytes, joined by newlines.
    root = Path(corpus.directory)
    expected = b"\n".join((root / f).read_bytes() for f in TEST_FILES)
    assert corpus.test.tobytes() == expected
    assert len(corpus.sha256) == 64 and corpus.python.count(".") == 2


def test_loss_falls_in_a_few_dozen_updates(corpus, torch_one_thread) -> None:  # type: ignore[no-untyped-def]
    schedule = text_recipe("cosine", updates=48, peak=0.01, warmup=6)
    run = train_text(corpus, schedule, updates=48, config=TINY, evals=4)
    assert [s for s, _ in run.curve] == [12, 24, 36, 48]
    # An untrained model predicts about uniformly over 256 bytes: 8 bits per byte.
    first, last = run.curve[0][1], run.valid
    assert last < first < 8.5 and last < 6.0
    assert math.isfinite(run.test) and run.test < 6.0


def test_text_recipes_are_their_formulas() -> None:
    """The text recipes, evaluated by lrkit, against their definitions written out here."""
    peak, n, w = 0.004, 1000, 50
    t = np.arange(n, dtype=float)
    ramp = peak * t / w
    after = t - w
    cases = {
        "constant": np.where(t < w, ramp, peak),
        "linear_to_zero": np.where(t < w, ramp, peak * (1 - after / (n - w))),
        "cosine": np.where(
            t < w, ramp, 0.1 * peak + 0.9 * peak * 0.5 * (1 + np.cos(np.pi * after / (n - w)))
        ),
        "wsd": np.where(
            t < w,
            ramp,
            np.where(t < 800, peak, peak * (1 - np.sqrt(np.clip(t - 800, 0, None) / 200))),
        ),
        "inverse_sqrt": np.where(t < w, ramp, peak / np.sqrt((np.maximum(after, 0) + w) / w)),
    }
    for name, expected in cases.items():
        got = text_recipe(name, n, peak, w)(t)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15, err_msg=name)


def test_a_branched_cooldown_equals_the_run_it_stands_for(corpus, torch_one_thread) -> None:  # type: ignore[no-untyped-def]
    """Decay anytime: stable run, checkpoint, 1-sqrt cooldown == one WSD run, update for update."""
    peak, n, w = 0.01, 30, 4
    stable = lrkit.warmup(lrkit.constant(start_lr=peak), steps=w)
    trunk = train_text(corpus, stable, updates=24, config=TINY, keep=[24], evals=1)
    branch = train_text(
        corpus,
        lrkit.cooldown(stable, 24, 6, shape="1-sqrt"),
        updates=n,
        config=TINY,
        start=trunk.checkpoints[24],
        evals=1,
    )
    whole = train_text(corpus, text_recipe("wsd", n, peak, w), updates=n, config=TINY, evals=1)
    assert branch.valid == whole.valid and branch.test == whole.test
    # and the constant run differs: the cooldown did something
    assert trunk.valid != whole.valid


def test_schedule_free_trains(corpus, torch_one_thread) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("schedulefree")
    schedule = text_recipe("constant", 40, 0.01, 4)
    run = train_text(corpus, schedule, updates=40, config=TINY, optimizer="schedule-free", evals=2)
    assert run.valid < run.curve[0][1] < 8.5


def test_demo_text_writes_the_report(tmp_path: Path, corpus, torch_one_thread) -> None:  # type: ignore[no-untyped-def]
    schedules = text_recipes(40, ["constant", "linear_to_zero"], warmup=5)
    runs = run_text(
        out=tmp_path,
        schedules=schedules,
        updates=40,
        seed=0,
        device="cpu",
        command="lrkit demo --task text --updates 40",
        config=TINY,
    )
    assert [r.name for r in runs] == ["constant", "linear_to_zero"]
    assert all(r.valid < r.curve[0][1] for r in runs)
    report = (tmp_path / "report.md").read_text()
    assert (
        "| linear_to_zero |" in report and "![Validation loss against updates](loss.png)" in report
    )
    assert "lrkit demo --task text --updates 40" in report
    for chart in ("loss.png", "schedules.png"):
        assert (tmp_path / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["task"] == "text" and results["data"]["python"] == corpus.python
    assert [r["test_bpb"] for r in results["runs"]] == [round(r.test, 5) for r in runs]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--updates", "1"], "--updates must be >= 2"),
        (["--backend", "jax"], "--task text trains in PyTorch"),
        (["--schedules", "cosine(0.1"], "--schedules"),
    ],
)
def test_demo_text_bad_options(tmp_path: Path, capsys, args, message) -> None:  # type: ignore[no-untyped-def]
    assert demo.main(["--task", "text", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lrkit demo: error: ") and message in err


@pytest.mark.beside  # a minute of training subprocesses
def test_benchmark_writes_its_report(tmp_path: Path) -> None:
    """benchmarks/text.py end to end on a tiny model and tiny budgets."""
    command = [
        sys.executable,
        str(ROOT / "benchmarks/text.py"),
        *("--budgets", "8", "16", "--peaks", "0.005", "0.01", "--sf-peaks", "0.01"),
        *("--width", "16", "--layers", "1", "--heads", "2", "--context", "16", "--batch", "4"),
        *("--log", str(tmp_path / "log.jsonl"), "--out", str(tmp_path), "--warmup", "2"),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    report = (tmp_path / "text.md").read_text()
    for heading in (
        "## Final test loss",
        "## The research claims",
        "## Decay anytime",
        "## Verdicts",
    ):
        assert heading in report
    results = json.loads((tmp_path / "text.json").read_text())
    assert set(results["runs"]) >= {"constant", "cosine", "linear_to_zero", "wsd", "schedule_free"}
    assert all(len(rs) == 2 for by in results["runs"].values() for rs in by.values())  # 2 seeds
    # the decay-anytime branch at 8 updates is the grid's separate WSD run: equal losses
    branch = results["runs"]["wsd"]["8"][0]["valid_bpb"]
    assert branch == results["wsd_separate_run"]
    assert (tmp_path / "text.png").read_bytes()[:4] == b"\x89PNG"

    # --jobs 2 trains two runs at once, in processes: the same runs, the same losses (one seed,
    # to keep it short: every run it trains is in the serial log).
    parallel = tmp_path / "parallel"
    parallel.mkdir()
    subprocess.run(
        [
            *command[:-6],
            *("--log", str(parallel / "log.jsonl"), "--out", str(parallel)),
            *("--warmup", "2", "--jobs", "2", "--seeds", "0"),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )

    def log(path: Path) -> dict[str, tuple[float, list[list[float]]]]:
        entries = (json.loads(line) for line in path.read_text().splitlines())
        return {e["key"]: (e["test_bpb"], e["curve"]) for e in entries}

    serial, side_by_side = log(tmp_path / "log.jsonl"), log(parallel / "log.jsonl")
    assert len(side_by_side) > 10
    assert side_by_side == {k: serial[k] for k in side_by_side}
