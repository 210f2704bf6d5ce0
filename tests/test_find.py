"""lrkit.find: the sweep's closed form, the smoothing and the stop rule, the result's JSON, the
schedules it builds, the plot, and the suggestion rules against the peers' own code."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

import lrkit
from lrkit.find import RULES, RangeTest, run, sweep_rates


def quadratic(k: int, rate: float) -> float:
    """A loss falling to its lowest at rate 0.01, then rising (in log-rate)."""
    return 1.0 + (math.log10(rate) + 2) ** 2


# -- the sweep, the smoothing, the stop ------------------------------------------------------


@pytest.mark.parametrize("mode", ["exponential", "linear"])
def test_rates_are_the_closed_form(mode: str) -> None:
    start, end, n = 3e-6, 2.5, 77
    if mode == "exponential":
        closed = [start * (end / start) ** (k / (n - 1)) for k in range(n)]
    else:
        closed = [start + (end - start) * k / (n - 1) for k in range(n)]
    assert sweep_rates(start, end, n, mode) == closed
    seen: list[float] = []
    result = run(
        lambda k, r: seen.append(r) or 1.0,
        start_lr=start,
        end_lr=end,
        num_steps=n,
        mode=mode,
        progress=False,
    )
    assert list(result.rates) == closed == seen
    assert closed[0] == start and closed[-1] == pytest.approx(end, rel=1e-12)


def test_smoothing_is_the_bias_corrected_average() -> None:
    rng = np.random.default_rng(0)
    raw = list(2 + rng.normal(0, 0.1, 50))
    result = run(
        lambda k, r: raw[k], start_lr=1e-3, end_lr=1e-2, num_steps=50, beta=0.9, progress=False
    )
    assert list(result.losses) == raw
    for k in range(50):  # the closed form of the average: sum of weights (1-b) b^(k-j)
        weights = np.array([0.1 * 0.9 ** (k - j) for j in range(k + 1)])
        assert result.smoothed[k] == pytest.approx(float(weights @ raw[: k + 1] / weights.sum()))


def test_it_stops_at_the_step_the_rule_names() -> None:
    # Flat at 1, then from step 30 on the loss doubles each step: the smoothed loss passes
    # 4 x its best (1) at the first k with s_k > 4.
    raw = [1.0 if k < 30 else 2.0 ** (k - 29) for k in range(100)]
    result = run(lambda k, r: raw[k], start_lr=1e-3, end_lr=1.0, num_steps=100, progress=False)
    b, average, stop = 0.98, 0.0, None
    for k, x in enumerate(raw):
        average = b * average + (1 - b) * x
        if average / (1 - b ** (k + 1)) > 4.0:
            stop = k
            break
    assert result.reason == "diverged" and result.stopped_at == stop
    assert len(result.rates) == stop + 1  # the step that tripped the rule is recorded


def test_a_nan_stops_it_and_is_recorded() -> None:
    result = run(
        lambda k, r: math.nan if k == 40 else 1.0,
        start_lr=1e-3,
        end_lr=1.0,
        num_steps=100,
        progress=False,
    )
    assert result.reason == "non-finite" and result.stopped_at == 40
    assert math.isnan(result.losses[40]) and len(result.losses) == 41


def test_a_non_finite_first_loss_is_an_error() -> None:
    with pytest.raises(
        ValueError, match=r"first step is not finite \(loss=inf\) at start_lr=1e-07"
    ):
        run(lambda k, r: math.inf, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start_lr": 0.1, "end_lr": 0.1}, r"`end_lr` must be > start_lr.*end_lr=0.1"),
        ({"start_lr": 1.0, "end_lr": 0.1}, r"`end_lr` must be > start_lr.*end_lr=0.1"),
        ({"start_lr": 0.0}, r"`start_lr` must be > 0. Received: start_lr=0.0"),
        ({"num_steps": 9}, r"`num_steps` must be >= 10. Received: num_steps=9"),
        ({"num_steps": 20.0}, r"`num_steps` must be an integer. Received: num_steps=20.0"),
        ({"mode": "log"}, r"`mode` must be one of .*mode='log'"),
        ({"beta": 1.0}, r"`beta` must be in \[0, 1\). Received: beta=1.0"),
        ({"diverge_threshold": 1.0}, r"`diverge_threshold` must be > 1.*=1.0"),
        ({"accumulation_steps": 0}, r"`accumulation_steps` must be >= 1.*=0"),
        ({"end_lr": math.nan}, r"`end_lr` must be finite"),
    ],
)
def test_bad_settings_name_the_argument(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        run(quadratic, progress=False, **kwargs)


# -- the result ---------------------------------------------------------------------------


def test_json_round_trip_keeps_everything_nan_included() -> None:
    result = run(
        lambda k, r: math.nan if k == 30 else quadratic(k, r),
        start_lr=1e-4,
        end_lr=1.0,
        num_steps=60,
        progress=False,
    )
    text = result.to_json()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))
    back = RangeTest.from_json(text)
    assert back.rates == result.rates and back.reason == "non-finite"
    assert back.smoothed[:30] == result.smoothed[:30] and math.isnan(back.smoothed[30])
    assert back.suggestions() == result.suggestions()
    with pytest.raises(ValueError, match="not a range test"):
        RangeTest.from_json('{"rates": []}')


def test_schedules_peak_at_the_suggestion() -> None:
    result = run(quadratic, start_lr=1e-5, end_lr=10.0, num_steps=200, progress=False)
    peak = float(f"{result.suggest():.3g}")
    assert result.onecycle(1000) == lrkit.one_cycle_policy(max_lr=peak, total_steps=1000)
    assert result.onecycle(10, rule="valley").max_lr == float(f"{result.suggest('valley'):.3g}")
    cosine = result.warmup_cosine(1000, warmup_steps=100)
    assert cosine(100) == pytest.approx(peak) and cosine(1000) == pytest.approx(0.0, abs=1e-12)
    wsd = result.warmup_stable_decay(1000)  # a plateau: the extremum by default
    plateau = float(f"{result.suggest('extremum'):.3g}")
    assert plateau < peak
    assert wsd(50) == pytest.approx(plateau) and wsd(799) == pytest.approx(plateau)
    assert str(result.onecycle(1000)) == f"one_cycle_policy(max_lr={peak:g}, total_steps=1000)"


def test_extremum_is_the_lowest_smoothed_loss_moved_back_by_the_averages_delay() -> None:
    rng = np.random.default_rng(3)
    result = run(
        lambda k, r: quadratic(k, r) + rng.normal(0, 0.05),
        start_lr=1e-5,
        end_lr=10.0,
        num_steps=150,
        progress=False,
    )
    k = int(np.argmin(result.smoothed))
    weights = np.array([0.98**i for i in range(k + 1)])  # on the losses of steps k, k-1, ...
    delay = float(weights @ np.arange(k + 1) / weights.sum())
    assert result.suggest("extremum") == result.rates[k - round(delay)]
    assert 20 < delay < 49  # towards beta / (1 - beta) = 49 steps as k grows


@pytest.mark.parametrize("seed", range(5))
def test_consensus_is_twice_the_extremum_clamped_to_the_peer_rules(seed: int) -> None:
    rng = np.random.default_rng(seed)
    result = run(
        lambda k, r: quadratic(k, r) * (1 + 0.3 * seed * (k > 120)) + rng.normal(0, 0.05),
        start_lr=1e-5,
        end_lr=10.0,
        num_steps=150,
        progress=False,
    )
    peers = [result.suggest(rule) for rule in ("steepest", "valley", "minimum", "slide")]
    lowest = result.rates[int(np.argmin(result.smoothed))]  # no divergence: all finite
    peak = min(2 * result.suggest("extremum"), lowest)
    assert peak == 2 * result.suggest("extremum")  # an interior minimum: twice the extremum
    expected = min(max(peak, min(peers)), max(peers))
    assert result.suggest() == expected == result.suggestions()["consensus"]


def test_a_curve_that_only_rises_gets_its_first_rate() -> None:
    """Already too fast at start_lr: the extremum is the first step, inside the peers' range,
    and the consensus does not double it (the loss rose from there on)."""
    result = run(lambda k, r: 1.0 + r, start_lr=1e-3, end_lr=1.0, num_steps=100, progress=False)
    assert result.suggest("extremum") == result.suggest() == 1e-3


def test_too_short_a_curve_says_so() -> None:
    result = run(
        lambda k, r: 1.0 if k < 5 else 100.0,
        start_lr=1e-4,
        end_lr=1.0,
        num_steps=100,
        progress=False,
    )
    assert len(result.rates) < 17
    with pytest.raises(ValueError, match="needs at least 17 finite points"):
        result.suggest("steepest")
    with pytest.raises(ValueError, match="no rule has enough finite points"):
        result.suggest()
    with pytest.raises(ValueError, match=r"`rule` must be one of"):
        result.suggest("fastest")


def test_the_plot_marks_every_suggestion() -> None:
    pytest.importorskip("matplotlib")
    result = run(quadratic, start_lr=1e-5, end_lr=10.0, num_steps=120, progress=False)
    fig = result.plot()
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    found = result.suggestions()
    for rule in RULES:
        assert f"{rule}: {found[rule]:.3g}" in labels
    smoothed = next(line for line in ax.get_lines() if line.get_label() == "smoothed")
    assert list(smoothed.get_xdata()) == list(result.rates)
    assert ax.get_xscale() == "log"


# -- the rules against the peers' own code ----------------------------------------------------


def recorded_curves() -> list[RangeTest]:
    """24 range tests recorded by lrkit.torch.find_lr on digits (seeds, batch sizes and
    optimizers vary: small batches give noisy curves, high end_lr ones that diverge), and 8
    synthetic curves with heavy noise."""
    torch = pytest.importorskip("torch")
    from sklearn.datasets import load_digits

    import lrkit.torch

    d = load_digits()
    x, y = torch.tensor(d.data / 16, dtype=torch.float32), torch.tensor(d.target)
    curves = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for seed in range(6):
            for batch_size in (8, 64):
                for name in ("sgd", "adam"):
                    torch.manual_seed(seed)
                    model = torch.nn.Sequential(
                        torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)
                    )
                    opt = (
                        torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
                        if name == "sgd"
                        else torch.optim.Adam(model.parameters())
                    )
                    loader = torch.utils.data.DataLoader(
                        torch.utils.data.TensorDataset(x, y), batch_size=batch_size, shuffle=True
                    )
                    curves.append(
                        lrkit.torch.find_lr(
                            model,
                            opt,
                            torch.nn.CrossEntropyLoss(),
                            loader,
                            start_lr=1e-5,
                            end_lr=10.0 if seed % 2 else 100.0,
                            num_steps=100 + 20 * seed,
                            verbose=False,
                        )
                    )
    finally:
        torch.set_num_threads(threads)
    rng = np.random.default_rng(7)
    for i in range(8):
        noise = 0.02 * 2**i
        curves.append(
            run(
                lambda k, r, noise=noise: quadratic(k, r) + rng.normal(0, noise),
                start_lr=1e-6,
                end_lr=10.0,
                num_steps=100 + 10 * i,
                progress=False,
            )
        )
    return curves


@pytest.fixture(scope="module")
def curves() -> list[RangeTest]:
    found = recorded_curves()
    assert sum(c.reason != "completed" for c in found) >= 4  # some stop early
    return found


def test_steepest_is_torch_lr_finders(curves: list[RangeTest]) -> None:
    """torch-lr-finder's own ``LRFinder.plot(suggest_lr=True)`` (skip_start=10, skip_end=5,
    the argmin of ``np.gradient`` of the loss) on the recorded smoothed curves. It is given
    the finite part of each curve (torch-lr-finder stops on divergence, not on NaN, so its
    curves have none)."""
    torch = pytest.importorskip("torch")
    tlf = pytest.importorskip("torch_lr_finder")
    from matplotlib.figure import Figure

    model = torch.nn.Linear(1, 1)
    finder = tlf.LRFinder(
        model, torch.optim.SGD(model.parameters(), lr=0.1), torch.nn.MSELoss(), device="cpu"
    )
    for curve in curves:
        rates, smoothed = np.asarray(curve.rates), np.asarray(curve.smoothed)
        finite = (
            int(np.argmax(~np.isfinite(smoothed)))
            if not np.isfinite(smoothed).all()
            else len(smoothed)
        )
        finder.history = {"lr": list(rates[:finite]), "loss": list(smoothed[:finite])}
        _, theirs = finder.plot(ax=Figure().add_subplot(), suggest_lr=True)
        assert curve.suggest("steepest") == theirs


def fastai_points(curve: RangeTest, torch: Any) -> tuple[Any, Any]:
    """What fastai's ``Learner.lr_find`` hands its suggestion functions: its recorder's rates
    and smoothed losses, without the first ``num_it // 10`` and the last 5, cut at the first
    NaN (its lines, on our recording; float64 so that no rounding differs)."""
    num_it = curve.num_steps
    lrs = torch.tensor(curve.rates[num_it // 10 : -5], dtype=torch.float64)
    losses = torch.tensor(curve.smoothed[num_it // 10 : -5], dtype=torch.float64)
    nan_idxs = torch.nonzero(torch.isnan(losses.view(-1)))
    if len(nan_idxs) > 0:
        drop_idx = min(nan_idxs)
        lrs = lrs[:drop_idx]
        losses = losses[:drop_idx]
    return lrs, losses


@pytest.mark.filterwarnings("ignore:__array_wrap__:DeprecationWarning")  # in fastai's slide
@pytest.mark.parametrize("rule", ["valley", "minimum", "slide"])
def test_valley_minimum_slide_are_fastais(curves: list[RangeTest], rule: str) -> None:
    torch = pytest.importorskip("torch")
    schedule = pytest.importorskip("fastai.callback.schedule")
    theirs_fn = getattr(schedule, rule)
    differ = 0
    for curve in curves:
        lrs, losses = fastai_points(curve, torch)
        theirs, _ = theirs_fn(lrs, losses, curve.num_steps)
        assert curve.suggest(rule) == pytest.approx(theirs, rel=1e-15, abs=0)
        differ += curve.suggest(rule) != curve.suggest("steepest")
    assert differ > 0  # the rules are not all one rule


# -- lrkit find ------------------------------------------------------------------------------


def test_lrkit_find_prints_the_suggestions_and_the_schedule(
    tmp_path: Any, capsys: Any, torch_one_thread: None
) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from lrkit.cli import main

    empty = tmp_path / "no-data"  # no Fashion-MNIST there: the demo falls back to the digits
    empty.mkdir()
    out = tmp_path / "out"
    args = ["find", "--framework", "torch", "--data", str(empty), "--epochs", "5"]
    assert main([*args, "--num-steps", "120", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    saved = RangeTest.load(out / "range-test.json")
    assert (out / "range-test.png").stat().st_size > 1000
    assert len(saved.rates) <= 120 and saved.num_steps == 120
    for rule, rate in saved.suggestions().items():
        assert f"{rule:<10} {rate:.3g}" in printed
    line = next(ln for ln in printed.splitlines() if ln.startswith("recommended"))
    schedule = lrkit.parse(line.split(": ", 1)[1])
    assert schedule == saved.onecycle(total_steps=5)


def test_lrkit_find_rejects_a_bad_sweep(tmp_path: Any, capsys: Any) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from lrkit.cli import main

    empty = tmp_path / "no-data"
    empty.mkdir()
    args = ["find", "--framework", "torch", "--data", str(empty), "--out", str(tmp_path)]
    assert main([*args, "--start-lr", "1", "--end-lr", "0.1"]) == 2
    assert "`end_lr` must be > start_lr" in capsys.readouterr().err


def test_demo_peaks_are_the_consensus_the_constant_rate_at_most_the_extremum(
    torch_one_thread: None,
) -> None:
    pytest.importorskip("torch")
    from lrkit.demo import RECIPES
    from lrkit.demo.data import load_digits
    from lrkit.find_command import demo_peaks, range_test

    data = load_digits()
    test = range_test(data, "torch", seed=3)
    consensus, extremum = (float(f"{test.suggest(r):.3g}") for r in ("consensus", "extremum"))
    assert consensus > extremum  # twice it, unless the peer rules clamp it
    expected = dict.fromkeys(RECIPES, consensus) | {"constant": extremum}
    assert demo_peaks(data, "torch", seed=3) == expected
    low = float(f"{test.suggest('minimum'):.3g}")
    assert low < extremum
    assert demo_peaks(data, "torch", seed=3, rule="minimum") == dict.fromkeys(RECIPES, low)


def test_range_test_batch_size_reaches_the_loader_and_is_checked(torch_one_thread: None) -> None:
    pytest.importorskip("torch")
    from lrkit.demo.data import load_digits
    from lrkit.find_command import range_test

    data = load_digits()
    kwargs: dict[str, Any] = {"seed": 3, "num_steps": 10, "verbose": False}
    full = range_test(data, "torch", batch_size=len(data.x_train), **kwargs)
    small = range_test(data, "torch", batch_size=8, **kwargs)
    # the same network and seed: were the argument dropped, both would use the demo's 128
    assert full.losses[0] != small.losses[0]
    assert full.losses[1:] != small.losses[1:]
    for bad, error in ((0, ValueError), (True, TypeError), (2.5, TypeError)):
        with pytest.raises(error, match=r"`batch_size`.*Received: batch_size="):
            range_test(data, "torch", batch_size=bad, **kwargs)
