"""Plots: the drawn data is the schedule, files decode, the text chart and table are right."""

from __future__ import annotations

import io
import math
import runpy
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest

import lrkit
import lrkit.plot
from lrkit.spec import parse

ROOT = Path(__file__).resolve().parents[1]

WARMUP_COSINE = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=90), steps=10)


def seed_one_cycle(epoch: int) -> float:
    """The seed's own function (a plain, scalar-only Python function)."""
    start_lr, min_lr, max_lr, rampup, sustain, decay = 0.0001, 0.00001, 0.001, 10, 0, 0.8
    if epoch < rampup:
        return (max_lr - start_lr) / rampup * epoch + start_lr
    if epoch < rampup + sustain:
        return max_lr
    return (max_lr - min_lr) * decay ** (epoch - rampup - sustain) + min_lr


@pytest.fixture(autouse=True)
def _close_figures() -> None:
    yield
    plt.close("all")


def curves(ax: matplotlib.axes.Axes) -> list[matplotlib.lines.Line2D]:
    return [line for line in ax.get_lines() if line.get_gid() == "schedule"]


def marks(ax: matplotlib.axes.Axes) -> list[float]:
    return sorted(
        float(line.get_xdata()[0]) for line in ax.get_lines() if line.get_gid() == "phase-boundary"
    )


@pytest.mark.parametrize(
    ("schedule", "kwargs"),
    [
        (WARMUP_COSINE, {"epochs": 100}),
        (lrkit.multistep(0.1, [30, 80]), {"epochs": 100}),
        (lrkit.one_cycle_policy(max_lr=0.1, total_steps=10_000), {"steps": 10_000}),
        (lrkit.cosine_restarts(0.1, 10, t_mul=2.0) * 0.5 + 0.001, {"epochs": 150}),
        (lrkit.noam(d_model=512, warmup_steps=4000), {"steps": 100_000}),
    ],
)
def test_line_data_is_the_schedule_at_the_plotted_times(
    schedule: lrkit.Schedule, kwargs: dict[str, int]
) -> None:
    ax = lrkit.plot.plot(schedule, **kwargs)
    (line,) = curves(ax)
    t, y = (np.asarray(v, dtype=float) for v in line.get_data())
    n = next(iter(kwargs.values()))
    assert t[0] == 0 and t[-1] == n
    assert np.all(np.diff(t) > 0)
    # One scalar call per plotted time: a different code path from the vectorized plot.
    assert y.tolist() == pytest.approx([schedule(float(x)) for x in t], rel=1e-12, abs=1e-15)
    whole = t[t == np.round(t)]
    if n + 1 <= 16_000:  # every whole time is a vertex
        assert whole.tolist() == list(range(n + 1))
    else:  # thinned: a few thousand vertices, each boundary kept, the extremes exact
        assert len(t) <= 16_000 + 2 * len(schedule.breakpoints(n))
        grid = np.arange(n + 1, dtype=float)
        assert y.max() == np.max(schedule(grid)) and y.min() == np.min(schedule(grid))
    for b in schedule.breakpoints(n):
        assert b in t
    assert ax.get_xlabel() == next(iter(kwargs))[:-1]


def test_plain_function_is_plotted_from_its_scalar_calls() -> None:
    ax = lrkit.plot.plot(seed_one_cycle, epochs=50)
    (line,) = curves(ax)
    t, y = line.get_data()
    # called at whole epochs only, as Keras' LearningRateScheduler calls it
    assert t.tolist() == list(range(51))
    assert list(y) == [seed_one_cycle(int(e)) for e in t]
    rates = [0.1, 0.1, 0.05, 0.01]  # a function that indexes a list by the epoch
    c = lrkit.plot.chart(lambda epoch: rates[epoch], epochs=3, update="epoch")
    assert c.series[0].y.tolist() == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05]
    assert (
        lrkit.FunctionSchedule(lambda epoch: rates[min(epoch, 3)])._repr_svg_().startswith("<svg")
    )
    assert line.get_label() == "seed_one_cycle"


def test_phase_boundaries_are_marked() -> None:
    ax = lrkit.plot.plot(WARMUP_COSINE, epochs=100)
    assert marks(ax) == [10.0]
    s = lrkit.piecewise_constant([20, 50, 70], [0.1, 0.05, 0.01, 0.001])
    assert marks(lrkit.plot.plot(s, epochs=60)) == [20.0, 50.0]  # only those inside the range
    assert marks(lrkit.plot.plot(s, epochs=60, phases=False)) == []
    assert marks(lrkit.plot.plot(lrkit.cosine(0.1, 10), epochs=20)) == []


def test_many_schedules_on_one_axis_with_labels_and_log_scale() -> None:
    pair = {"warmup + cosine": WARMUP_COSINE, "step": lrkit.step(0.1, 30)}
    ax = lrkit.plot.plot(pair, epochs=100, log=True, title="two")
    lines = curves(ax)
    assert [line.get_label() for line in lines] == list(pair)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(pair)
    handles = ax.get_legend().legend_handles
    assert [h.get_color() for h in handles] == [line.get_color() for line in lines]
    assert [h.get_linestyle() for h in handles] == ["-", "-"]  # the curves, not the marks
    assert ax.get_yscale() == "log" and ax.get_title() == "two"
    t0, y0 = lines[0].get_data()
    assert np.isnan(y0[0])  # warmup starts at 0, which a log axis cannot show
    assert y0[t0 == 10] == pytest.approx([0.1])


def test_default_labels_and_length() -> None:
    ax = lrkit.plot.plot([lrkit.cosine(0.1, 90), lrkit.constant(0.01)])
    labels = [line.get_label() for line in curves(ax)]
    assert labels == ["cosine(start_lr=0.1, decay_steps=90)", "constant(start_lr=0.01)"]
    assert curves(ax)[0].get_xdata()[-1] == math.ceil(90 * 1.1) + 1  # a little past the end
    long = parse("one_cycle(0.0001, 0.00001, 0.001, 10, 0, 0.8)")
    assert lrkit.plot.label(long) == long.spec()  # in full: charts wrap it, never cut it
    assert len(long.spec()) > 60


def test_plot_on_a_given_axis() -> None:
    _, (left, right) = plt.subplots(1, 2)
    assert lrkit.plot.plot(WARMUP_COSINE, epochs=20, ax=right) is right
    assert curves(left) == [] and len(curves(right)) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "`epochs` must be an integer from 1 to 10\\*\\*15"),
        ({"steps": 2.5}, "`steps` must be an integer from 1"),
        ({"steps": 10**16}, "`steps` must be an integer from 1"),
        ({"steps": 10, "steps_per_epoch": 5}, "`steps_per_epoch` needs a chart in epochs"),
        ({"epochs": 10, "steps_per_epoch": 0}, "`steps_per_epoch` must be an integer"),
        ({"epochs": 10, "update": "batch"}, "`update` must be 'step' or 'epoch'"),
        ({"steps": 10, "update": "epoch"}, "needs a chart in epochs"),
        ({"epochs": 10, "steps": 10}, "not both"),
    ],
)
def test_bad_lengths(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lrkit.plot.plot(WARMUP_COSINE, **kwargs)  # type: ignore[arg-type]


def test_bad_schedules() -> None:
    with pytest.raises(ValueError, match="empty"):
        lrkit.plot.plot([], epochs=10)
    with pytest.raises(TypeError, match="`schedules`"):
        lrkit.plot.plot("cosine(0.1, 10)", epochs=10)  # type: ignore[arg-type]


def assert_png(path: Path, size: tuple[int, int]) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[:2] == (size[1], size[0])
    rgb = pixels[..., :3].reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) > 50  # antialiased lines and text, not a flat image
    assert (rgb.min(axis=1) < 0.5).mean() > 0.005  # enough dark ink: axes, labels, curves


def test_save_png_svg_pdf(tmp_path: Path) -> None:
    png = lrkit.plot.save(WARMUP_COSINE, tmp_path / "a.png", epochs=100, dpi=100)
    assert_png(png, (800, 450))
    svg = lrkit.plot.save(WARMUP_COSINE, tmp_path / "a.svg", epochs=100)
    assert ET.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    pdf = lrkit.plot.save(WARMUP_COSINE, tmp_path / "a.pdf", epochs=100)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF") and b"/Page" in data
    with pytest.raises(ValueError, match=r"\.png, \.svg or \.pdf"):
        lrkit.plot.save(WARMUP_COSINE, tmp_path / "a.jpg", epochs=100)


def test_the_curve_is_drawn_where_the_values_are(tmp_path: Path) -> None:
    """Pixels of the curve's colour appear at the top-left (0.1 at t=10), not the top-right."""
    fig = lrkit.plot.figure(lrkit.linear(0.1, 100, end_lr=0.0), epochs=101, size=(4, 4))
    fig.savefig(tmp_path / "line.png", dpi=50)
    pixels = matplotlib.image.imread(tmp_path / "line.png")[..., :3]
    blue = np.array(matplotlib.colors.to_rgb("C0"))
    is_blue = np.abs(pixels - blue).sum(axis=2) < 0.15
    rows, cols = np.nonzero(is_blue)
    assert len(rows) > 50
    # a falling line: the leftmost blue pixels are higher (smaller row) than the rightmost
    assert rows[cols <= cols.min() + 3].mean() < rows[cols >= cols.max() - 3].mean()


def test_seed_chart_example_writes_a_png(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "examples"))  # for examples/seed.py
    example = runpy.run_path(str(ROOT / "examples" / "seed_chart.py"))
    out = tmp_path / "seed.png"
    assert example["main"]([str(out), "--epochs", "50"]) == 0
    assert_png(out, (1200, 675))


def test_matplotlib_is_not_imported_by_lrkit() -> None:
    code = (
        "import sys, lrkit, lrkit.plot, lrkit.spec, lrkit.cli; print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- true resolution ---------------------------------------------------------------------------

STEPS_PER_EPOCH = 391


def resolution_cases(epochs: int) -> list[tuple[str, lrkit.Schedule, float]]:
    """``(name, schedule in epochs, its true maximum in closed form)``: every peak lies on a
    phase boundary that is not an update time (0.3 * 5 epochs = 586.5 updates)."""
    e = float(epochs)
    return [
        ("1cycle", lrkit.one_cycle_policy(max_lr=0.1, total_steps=e), 0.1),
        (
            "warmup+cosine",
            lrkit.warmup(lrkit.cosine(0.08, 0.9483 * e), steps=0.0517 * e),
            0.08,
        ),
        (
            "restarts",
            lrkit.warmup(lrkit.cosine_restarts(0.05, 0.13 * e, t_mul=2.0), steps=0.0317 * e),
            0.05,
        ),
        ("wsd", lrkit.warmup_stable_decay(0.02, 0.0713 * e, 0.6 * e, 0.3287 * e), 0.02),
    ]


CASES = [(e, *case) for e in (2, 5, 100) for case in resolution_cases(e)]


def drawn(schedule: lrkit.Schedule, **kwargs: object) -> tuple[np.ndarray, np.ndarray]:
    fig = schedule.plot(**kwargs)
    (line,) = curves(fig.axes[0])
    x, y = (np.asarray(v, dtype=np.float64) for v in line.get_data())
    return x, y


@pytest.mark.parametrize(("epochs", "name", "schedule", "peak"), CASES, ids=lambda v: str(v))
def test_peaks_and_boundaries_are_drawn_at_their_true_values(
    epochs: int, name: str, schedule: lrkit.Schedule, peak: float
) -> None:
    x, y = drawn(schedule, epochs=epochs, steps_per_epoch=STEPS_PER_EPOCH)
    assert x[0] == 0 and x[-1] == epochs
    assert np.max(y) == pytest.approx(peak, rel=1e-9)
    # every update's rate (the full grid, in one call here) lies within the drawn range
    grid = np.arange(epochs * STEPS_PER_EPOCH + 1) / STEPS_PER_EPOCH
    on_grid = np.asarray(schedule(grid))
    assert on_grid.max() <= peak * (1 + 1e-12)
    assert y.min() <= on_grid.min() and on_grid.max() <= y.max()
    picked = np.linspace(0, len(x) - 1, 200).astype(int)
    assert y[picked].tolist() == pytest.approx(
        [schedule(float(v)) for v in x[picked]], rel=1e-12, abs=1e-15
    )
    bounds = schedule.breakpoints(epochs)
    assert len(bounds) >= 1
    for b in bounds:
        (at,) = np.flatnonzero(x == b)
        assert y[at] == pytest.approx(schedule(b), rel=1e-12, abs=1e-15)  # a scalar call
        assert x[at - 1] == np.nextafter(b, 0)  # the instant before: a jump is vertical
    if epochs * STEPS_PER_EPOCH < 16_000:  # not thinned: every update is a vertex
        assert np.isin(grid, x).all()


def test_vertices_follow_an_independent_formula() -> None:
    # warmup 0 -> 0.1 over 0.37 epochs, then cosine 0.1 -> 0 over 4.63 epochs
    s = lrkit.warmup(lrkit.cosine(0.1, 4.63), steps=0.37)
    x, y = drawn(s, epochs=5, steps_per_epoch=STEPS_PER_EPOCH)
    expected = np.where(x < 0.37, 0.1 * x / 0.37, 0.05 * (1 + np.cos(np.pi * (x - 0.37) / 4.63)))
    np.testing.assert_allclose(y, expected, rtol=1e-9, atol=1e-15)
    assert 0.37 in x and y[x == 0.37][0] == pytest.approx(0.1)


def test_the_issue_example_shows_the_true_peak_without_steps_per_epoch() -> None:
    """`lrkit plot "onecycle(0.1, 5)" --epochs 5` drew 0.095 at 1.5 (whole epochs only)."""
    ax = lrkit.plot.plot(
        [lrkit.one_cycle_policy(0.1, 5), parse("warmup(cosine(0.1, 4), steps=1)")], 5
    )
    one, warm = curves(ax)
    assert one.get_ydata().max() == pytest.approx(0.1, rel=1e-12)
    assert 1.5 in one.get_xdata() and len(one.get_xdata()) >= 2000
    # a cosine drawn through thousands of points, not as a straight line
    xw, yw = warm.get_data()
    middle = (xw > 1) & (xw < 5)
    assert np.ptp(np.diff(yw[middle]) / np.diff(xw[middle])) > 0.01


@pytest.mark.parametrize("epochs", [2, 5, 100])
def test_a_rate_set_once_per_epoch_is_drawn_flat_within_each_epoch(epochs: int) -> None:
    s = lrkit.one_cycle_policy(max_lr=0.1, total_steps=float(epochs))
    x, y = drawn(s, epochs=epochs, steps_per_epoch=STEPS_PER_EPOCH, update="epoch")
    assert x[0] == 0 and x[-1] == epochs
    for k in range(epochs):
        inside = (x >= k) & (x <= k + 1)
        spans = np.flatnonzero(inside[:-1] & inside[1:] & (np.diff(x) > 0))
        assert len(spans) == 1  # one flat segment from k to k + 1
        (i,) = spans
        assert (x[i], x[i + 1]) == (k, k + 1)
        assert y[i] == y[i + 1] == pytest.approx(s(k), rel=1e-12, abs=1e-15)
    assert np.all(np.diff(x) >= 0)  # the risers are vertical: x never goes back


def test_thinning_keeps_every_slice_extremes() -> None:
    from lrkit import _display

    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 10, 50_000))
    y = rng.standard_normal(50_000)
    keep = x[[17, 31_000]]
    idx = _display.thin(x, y, 100, keep)
    assert len(idx) <= 4 * 100 + 2 and np.all(np.diff(idx) > 0)
    slot = np.minimum((x / (x[-1] - x[0]) * 100).astype(int), 99)  # x[0] is close to 0
    slot = np.minimum(((x - x[0]) / (x[-1] - x[0]) * 100).astype(int), 99)
    for k in range(100):
        ours = y[idx][slot[idx] == k]
        assert ours.max() == y[slot == k].max() and ours.min() == y[slot == k].min()
    assert 17 in idx and 31_000 in idx and 0 in idx and len(x) - 1 in idx
    assert _display.thin(x[:300], y[:300], 100).tolist() == list(range(300))


def test_one_schedule_is_titled_with_its_text_form_and_long_labels_wrap() -> None:
    long = parse("one_cycle(0.0001, 0.00001, 0.001, 10, 0, 0.8)")
    ax = lrkit.plot.plot(long, epochs=30)
    assert ax.get_title().replace("\n", " ") == long.spec()
    ax = lrkit.plot.plot([long, lrkit.cosine(0.1, 30)], epochs=30)
    texts = [t.get_text().replace("\n", " ") for t in ax.get_legend().get_texts()]
    assert texts == [long.spec(), "cosine(start_lr=0.1, decay_steps=30)"]


def test_text_is_never_read_as_mathtext(tmp_path: Path) -> None:
    out = lrkit.plot.save(
        {"a $x^$ b": WARMUP_COSINE}, tmp_path / "t.png", epochs=10, title="$\\foo$ 5$"
    )
    assert_png(out, (1200, 675))


@pytest.mark.parametrize(
    ("size", "dpi", "message"),
    [
        ((8, 4.5), 0, "must be positive"),
        ((-1, 4), 100, "must be positive"),
        ((1000, 1000), 100, "more than 16,000,000"),
    ],
)
def test_image_size_is_bounded(
    tmp_path: Path, size: tuple[float, float], dpi: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        lrkit.plot.save(WARMUP_COSINE, tmp_path / "big.png", epochs=10, size=size, dpi=dpi)
    assert not (tmp_path / "big.png").exists()


def test_huge_lengths_are_sampled_in_bounded_memory() -> None:
    s = lrkit.cosine(0.1, 1e20)
    c = lrkit.plot.chart(s)  # default length: capped at 10**15
    (line,) = c.series
    assert line.x[-1] == 10**15 and len(line.x) <= 16_000
    far = lrkit.plot.chart(lrkit.cosine(0.1, 1e308), steps=10**15)
    assert np.isfinite(far.series[0].y).all() and far.series[0].y.max() == 0.1
    d = lrkit.plot.chart(lrkit.multistep(0.1, [3e14]), epochs=10**15, steps_per_epoch=391)
    assert 3e14 in d.series[0].x and d.series[0].y.min() == pytest.approx(0.01)


# -- the terminal ----------------------------------------------------------------------------


def test_text_chart_shape_and_boundary() -> None:
    chart = lrkit.plot.text_chart(WARMUP_COSINE, epochs=100, width=50, height=10)
    lines = chart.splitlines()
    assert len(lines) == 10 + 3
    plot_rows = [line.split("|", 1)[1] for line in lines[:10]]
    assert all(len(row) <= 50 for row in plot_rows)
    assert lines[0].split("|")[0].strip() == "0.1" and lines[9].split("|")[0].strip() == "0"
    assert lines[10].strip() == "+" + "-" * 50
    assert lines[11].split() == ["0", "99"] and lines[12].strip() == "epoch"
    column = 10 * 50 // 100  # the boundary at t=10
    assert sum(row[column : column + 1] in ":*" for row in plot_rows) == 10
    # the warmup rises: in the first columns the curve climbs from the bottom row to the top
    first_col = [row[0:1] for row in plot_rows]
    assert first_col[-1] == "*"
    top = plot_rows[0]
    assert top.index("*") <= column + 1


def test_text_chart_of_constant_and_log() -> None:
    flat = lrkit.plot.text_chart(lrkit.constant(0.001), epochs=10, width=20, height=5).splitlines()
    assert (
        flat[2] == "    0.001 |" + "*" * 20
    )  # the middle row, every column (fewer times than columns)
    assert [line.count("*") for line in flat[:5]] == [0, 0, 20, 0, 0]
    log = lrkit.plot.text_chart(lrkit.multistep(0.1, [30, 80]), epochs=100, log=True)
    assert log.splitlines()[0].split("|")[0].strip() == "0.1"
    assert log.splitlines()[13].split("|")[0].strip() == "0.001"


def test_table_has_both_sides_of_each_boundary() -> None:
    rows = lrkit.plot.table(WARMUP_COSINE, epochs=100, points=3)
    by_t = {t: (v, note) for t, v, note in rows}
    # independent formulas: linear warmup 0 -> 0.1 over 10, then cosine from 0.1 over 90
    assert by_t[0] == (0.0, "start")
    assert by_t[9][0] == pytest.approx(0.09) and "before the boundary at 10" in by_t[9][1]
    assert by_t[10][0] == pytest.approx(0.1) and by_t[10][1] == "phase boundary"
    assert by_t[99][0] == pytest.approx(0.05 * (1 + math.cos(math.pi * 89 / 90)))
    assert by_t[99][1] == "last"
    assert [t for t, _, _ in rows] == sorted(by_t)
    assert len(rows) == 4 + 3


def test_table_at_a_fractional_boundary_and_format() -> None:
    s = lrkit.Join([lrkit.constant(0.1), lrkit.constant(0.01)], [2.5])
    rows = lrkit.plot.table(s, epochs=5, points=0)
    assert rows == [
        (0, 0.1, "start"),
        (2, 0.1, "before the boundary at 2.5"),
        (3, 0.01, "first after the boundary at 2.5"),
        (4, 0.01, "last"),
    ]
    text = lrkit.plot.format_table(rows, "step").splitlines()
    assert text[0].split() == ["step", "learning", "rate", "note"]
    assert text[2].split()[:2] == ["2", "0.1"]


@pytest.mark.parametrize(
    ("schedules", "kwargs"),
    [
        (lrkit.constant(0.0), {"epochs": 3, "log": True}),  # nothing a log axis can show
        (lrkit.constant(0.1), {"epochs": 1, "update": "epoch"}),  # one flat step
        (lrkit.linear(1e300, 10, end_lr=1e-300), {"epochs": 10, "log": True}),
        # near the largest float (a schedule reaching inf is refused at construction)
        (lrkit.constant(1e307) * 1.7, {"epochs": 2}),
    ],
)
def test_degenerate_charts_still_draw(schedules: object, kwargs: dict[str, object]) -> None:
    chart = lrkit.plot.chart(schedules, **kwargs)  # type: ignore[arg-type]
    assert ET.fromstring(chart.svg()).tag == "{http://www.w3.org/2000/svg}svg"
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # matplotlib's own, near 1e308
        chart.figure().savefig(io.BytesIO(), format="png")


def test_a_function_returning_nan_is_refused_with_where() -> None:
    # A plain function's outputs are checked like a schedule's (in every adapter and plot).
    with pytest.raises(ValueError, match=r"returned nan at t=3\.0; a schedule must return"):
        lrkit.plot.figure(lambda e: math.nan if e > 2 else 0.1, epochs=5)
