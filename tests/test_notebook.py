"""Notebook display: schedules, several schedules and a range-test-like result render as SVG
(hand-written, no matplotlib) and PNG (matplotlib) that decode and are not blank, through
IPython's own display formatter and in a notebook run on a real Jupyter kernel."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import matplotlib

matplotlib.use("Agg")

import matplotlib.image
import nbformat
import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.pylabtools import select_figure_formats
from nbclient import NotebookClient

import lrkit
import lrkit.plot
from lrkit._display import Chart, Marker, Series

SVG = "{http://www.w3.org/2000/svg}"
ONE = lrkit.warmup(lrkit.cosine(0.1, 90), steps=10)
THREE = [
    lrkit.one_cycle_policy(max_lr=0.1, total_steps=5),
    lrkit.parse("warmup(cosine(0.1, 4), steps=1)"),
    lrkit.cosine_restarts(0.05, 1, t_mul=2.0),
]


def range_test_like() -> Chart:
    """What a learning-rate range test shows: loss against a log-spaced rate, a suggestion."""
    lrs = np.geomspace(1e-6, 1.0, 200)
    loss = 2.3 - 1.5 / (1 + np.exp(-4 * (np.log10(lrs) + 3))) + np.exp(8 * (np.log10(lrs) + 0.5))
    best = int(np.argmin(np.gradient(loss, np.log10(lrs))))
    return Chart(
        (Series(lrs, loss, "loss"),),
        title="learning-rate range test",
        xlabel="learning rate",
        ylabel="loss",
        markers=(Marker(float(lrs[best]), float(loss[best]), f"suggested {lrs[best]:.2g}"),),
        log_x=True,
    )


def check_svg(text: str, lines: int, title: str | None = None) -> ET.Element:
    """The SVG parses, has ``lines`` drawn paths of many distinct points inside the frame."""
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    frame = root.find(f"{SVG}rect[@fill='none']")
    assert frame is not None
    fx, fy = float(frame.get("x", 0)), float(frame.get("y", 0))
    fw, fh = float(frame.get("width", 0)), float(frame.get("height", 0))
    paths = root.findall(f"{SVG}path")
    assert len(paths) == lines
    for path in paths:
        points = np.array(re.findall(r"[ML]([-\d.]+) ([-\d.]+)", path.get("d", "")), dtype=float)
        assert len(points) > 20
        assert len(np.unique(points[:, 1])) > 10  # not a flat line: the curve moves
        assert points[:, 0].min() >= fx - 0.1 and points[:, 0].max() <= fx + fw + 0.1
        assert points[:, 1].min() >= fy - 0.1 and points[:, 1].max() <= fy + fh + 0.1
    if title is not None:
        assert title in "".join(root.itertext())
    return root


def check_png(data: bytes | str) -> None:
    if isinstance(data, str):  # a display message carries PNG as base64 text
        data = base64.b64decode(data)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
    rgb = pixels[..., :3].reshape(-1, 3)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert len(np.unique(rgb, axis=0)) > 50  # lines and text, not a uniform image
    assert (rgb.min(axis=1) < 0.5).mean() > 0.003


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    shell = InteractiveShell.instance()
    select_figure_formats(shell, {"png"})  # what `%matplotlib inline` sets up for figures
    return shell


def test_a_schedule_displays_as_svg_and_html(shell: InteractiveShell) -> None:
    data, _ = shell.display_formatter.format(ONE)
    assert data["text/plain"] == ONE.spec()
    check_svg(data["image/svg+xml"], 1, title=ONE.spec())
    html = data["text/html"]
    assert html.startswith("<figure") and f"<code>{ONE.spec()}</code>" in html
    check_svg(html[html.index("<svg") : html.index("</svg>") + 6], 1)
    # charts inline in one page share its ids: each names its clip by its content
    ids = [re.findall(r'id="([^"]+)"', s._repr_svg_()) for s in (ONE, ONE, THREE[0])]
    assert ids[0] == ids[1] != ids[2] and len(ids[0]) == 1


def test_three_schedules_display_together(shell: InteractiveShell) -> None:
    chart = lrkit.plot.chart(THREE, epochs=5, steps_per_epoch=391)
    data, _ = shell.display_formatter.format(chart)
    root = check_svg(data["image/svg+xml"], 3)
    text = "".join(root.itertext())
    for s in THREE:  # the legend has every text form in full
        assert s.spec() in text or all(word in text for word in s.spec().split(", "))


def test_a_range_test_result_displays(shell: InteractiveShell) -> None:
    data, _ = shell.display_formatter.format(range_test_like())
    root = check_svg(data["image/svg+xml"], 1, title="learning-rate range test")
    assert len(root.findall(f"{SVG}circle")) == 1
    assert "suggested" in "".join(root.itertext())
    check_png(shell.display_formatter.format(range_test_like().figure())[0]["image/png"])


def test_a_real_range_test_displays(shell: InteractiveShell) -> None:
    rates = np.geomspace(1e-5, 1.0, 120)
    losses = 2.3 - 1.5 / (1 + np.exp(-4 * (np.log10(rates) + 3))) + np.exp(6 * np.log10(rates))
    average, smoothed = 0.0, []
    for k, loss in enumerate(losses, start=1):  # bias-corrected moving average, beta 0.98
        average = 0.98 * average + 0.02 * loss
        smoothed.append(average / (1 - 0.98**k))
    result = lrkit.RangeTest(
        rates=tuple(rates),
        losses=tuple(losses),
        smoothed=tuple(smoothed),
        reason="completed",
        stopped_at=None,
        start_lr=1e-5,
        end_lr=1.0,
        num_steps=120,
    )
    data, _ = shell.display_formatter.format(result)
    root = check_svg(data["image/svg+xml"], 2, title="learning-rate range test")
    assert len(root.findall(f"{SVG}circle")) == 1
    assert f"suggested {result.suggest():.3g}" in "".join(root.itertext())
    assert "text/html" in data
    check_png(shell.display_formatter.format(result.plot())[0]["image/png"])


def test_figures_display_as_png(shell: InteractiveShell) -> None:
    for figure in (ONE.plot(epochs=100, steps_per_epoch=50), lrkit.plot.figure(THREE, 5)):
        data, _ = shell.display_formatter.format(figure)
        check_png(data["image/png"])


def test_display_touches_no_pyplot_state() -> None:
    code = (
        "import sys, lrkit; s = lrkit.cosine(0.1, 10); s._repr_svg_(); s._repr_html_(); "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # the SVG needs no matplotlib at all


CELLS = [
    "import lrkit, lrkit.plot\nimport numpy as np\n"
    "from lrkit._display import Chart, Marker, Series",
    "lrkit.warmup(lrkit.cosine(0.1, 90), steps=10)",
    "lrkit.plot.chart([lrkit.one_cycle_policy(0.1, 5),"
    " lrkit.parse('warmup(cosine(0.1, 4), steps=1)'),"
    " lrkit.cosine_restarts(0.05, 1, t_mul=2.0)], epochs=5, steps_per_epoch=391)",
    "lrs = np.geomspace(1e-6, 1, 100)\n"
    "Chart((Series(lrs, 2 - np.tanh(np.log10(lrs) + 3) + lrs * 5, 'loss'),),"
    " title='range test', xlabel='learning rate', ylabel='loss',"
    " markers=(Marker(1e-3, 2.0, 'suggested'),), log_x=True)",
    "%matplotlib inline\nlrkit.cosine(0.1, 10).plot(epochs=10, steps_per_epoch=20)",
]


def test_a_notebook_on_a_real_kernel() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = [cell.outputs for cell in nb.cells]
    assert all(o.output_type != "error" for cell in outputs for o in cell)
    one, three, finder, figure = (cell[0]["data"] for cell in outputs[1:])
    check_svg(one["image/svg+xml"], 1, title="warmup(schedule=cosine(")
    assert "<svg" in one["text/html"]
    check_svg(three["image/svg+xml"], 3)
    check_svg(finder["image/svg+xml"], 1, title="range test")
    check_png(figure["image/png"])
