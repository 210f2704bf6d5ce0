"""Charts at true resolution, drawn without matplotlib: the notebook display and the figures.

A low module: it imports NumPy and no other lrkit module, so the schedule model
(``Schedule._repr_svg_``, ``Schedule.plot``) delegates here without importing upward. A
schedule is used duck-typed: ``s(array)``, ``s.duration``, ``s.breakpoints(until)``, ``str(s)``.

Sampling (:func:`sample`): every update time ``j / steps_per_epoch`` of the chart, every phase
boundary, and the instant just before each boundary (so a jump is drawn at the boundary, not
as a slope over one update). The drawn line keeps each boundary's value and the true maximum
and minimum over the updates; only what no screen can show is thinned (:func:`thin`).

A :class:`Chart` is plain arrays (:class:`Series`, :class:`Marker`): :meth:`Chart.svg` writes
SVG by hand (no matplotlib needed) and :meth:`Chart.figure` builds a matplotlib ``Figure``, so
other results (the learning-rate range test) display through the same code.
"""

from __future__ import annotations

import dataclasses
import html
import math
import textwrap
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as Figure

#: Update times evaluated at most per schedule; a longer chart is evaluated at this many
#: evenly spread updates (plus every boundary and its neighbours).
GRID_LIMIT = 1 << 20
#: Phase boundaries drawn exactly at most (many restarts); those past it are sampled.
MAX_BOUNDARIES = 10_000
#: Boundaries marked with dotted lines at most; more only clutter.
MAX_MARKS = 50
#: Points per chart when the unit has no update grid (epochs without ``steps_per_epoch``).
DENSE = 2000
#: Length of a chart when none is given and no schedule ends (in the schedule's unit).
DEFAULT_LENGTH = 100
#: The longest chart (10**15 epochs or steps, exact in float64).
MAX_LENGTH = 10**15
#: matplotlib's default colour cycle, so the SVG and the figure agree.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
UPDATES = ("step", "epoch")


@dataclasses.dataclass(frozen=True)
class Series:
    """One line: ``x`` and ``y`` (float arrays of one length), its legend label, and the
    x positions to mark with dotted lines (phase boundaries)."""

    x: np.ndarray
    y: np.ndarray
    label: str = ""
    marks: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        x, y = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (self.x, self.y))
        if x.shape != y.shape:
            raise ValueError(f"`x` and `y` must have one length. Received: {len(x)} and {len(y)}")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)


@dataclasses.dataclass(frozen=True)
class Marker:
    """A highlighted point with a short label (a suggested rate)."""

    x: float
    y: float
    label: str = ""


@dataclasses.dataclass(frozen=True)
class Chart:
    """Lines on one axis, ready to draw as SVG (:meth:`svg`) or matplotlib (:meth:`figure`).

    Displays itself in a notebook (``_repr_svg_``/``_repr_html_``).
    """

    series: tuple[Series, ...]
    title: str = ""
    xlabel: str = ""
    ylabel: str = "learning rate"
    markers: tuple[Marker, ...] = ()
    log_x: bool = False
    log_y: bool = False
    xlim: tuple[float, float] | None = None
    #: a linear y-axis starts at zero (rates are compared from zero); False: fit the data
    from_zero: bool = True

    def svg(self, width: int = 640, height: int = 320) -> str:
        return svg(self, width, height)

    def figure(self, size: tuple[float, float] = (8.0, 4.5), dpi: float = 100) -> Figure:
        """A new matplotlib ``Figure``, made without ``pyplot`` (no window, no global state)."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=size, dpi=dpi, layout="constrained")
        self.draw(fig.add_subplot())
        return fig

    def draw(self, ax: Axes) -> None:
        draw(self, ax)

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_html_(self) -> str:
        return html_of(self)


# -- sampling -----------------------------------------------------------------------------


def length(epochs: Any, steps: Any, schedules: Sequence[Any]) -> tuple[int, str]:
    """The chart's length and unit (``"epoch"`` or ``"step"``) from ``epochs`` or ``steps``;
    with neither, a little past the longest end among ``schedules`` (at most ``MAX_LENGTH``)."""
    if epochs is not None and steps is not None:
        raise ValueError(
            f"Give `epochs` or `steps`, not both. Received: epochs={epochs!r}, steps={steps!r}"
        )
    for name, value in (("epochs", epochs), ("steps", steps)):
        if value is not None:
            whole = isinstance(value, int | np.integer) and not isinstance(value, bool)
            if not whole or not 1 <= value <= MAX_LENGTH:
                raise ValueError(
                    f"Argument `{name}` must be an integer from 1 to 10**15. "
                    f"Received: {name}={_short(repr(value))}"
                )
            return int(value), name[:-1]
    ends = [float(d) for s in schedules if (d := s.duration) is not None and 0 < d < math.inf]
    if not ends:
        return DEFAULT_LENGTH, "epoch"
    return min(math.ceil(min(max(ends), MAX_LENGTH) * 1.1) + 1, MAX_LENGTH), "epoch"


def boundaries(schedule: Any, until: float, limit: int = MAX_BOUNDARIES) -> np.ndarray:
    """The phase boundaries inside ``(0, until)``, sorted, at most ``limit``."""
    found = np.asarray(schedule.breakpoints(until)[: 2 * limit], dtype=np.float64)
    found = np.unique(found[np.isfinite(found) & (found > 0) & (found < until)])
    return found[:limit]


def update_times(until: int, per_unit: int, limit: int = GRID_LIMIT) -> np.ndarray:
    """The update times ``j / per_unit`` in ``[0, until]``: all of them, or ``limit`` of them
    evenly spread (the first and the last included)."""
    n = until * per_unit
    if n < limit:
        return np.arange(n + 1, dtype=np.float64) / per_unit
    return np.unique(np.round(np.linspace(0.0, float(n), limit))) / per_unit


def sample(
    schedule: Any,
    until: int,
    *,
    steps_per_epoch: int | None = None,
    update: str = "step",
    limit: int = GRID_LIMIT,
) -> tuple[np.ndarray, np.ndarray]:
    """``(t, schedule(t))`` to draw over ``[0, until]``, in one vectorized call.

    ``update="step"``: the rate at every update ``j / steps_per_epoch`` (without
    ``steps_per_epoch``: ``DENSE`` points, whole times included), at every phase boundary and
    just before it. ``update="epoch"``: the rate of each epoch ``k`` held flat over
    ``[k, k + 1)``, drawn as steps. Beyond ``limit`` updates (or epochs), ``limit`` of them
    evenly spread are drawn, each held until the next.
    """
    if update not in UPDATES:
        raise ValueError(
            f"Argument `update` must be 'step' or 'epoch'. Received: update={update!r}"
        )
    if update == "epoch":
        k = update_times(until - 1, 1, limit)
        y = np.asarray(schedule(k), dtype=np.float64)
        ends = np.append(k[1:], float(until))
        return np.column_stack([k, ends]).ravel(), np.repeat(y, 2)
    # A plain function f(epoch) is the seed's per-epoch style (it may index a list by the
    # epoch): it is called at whole times only, unless steps_per_epoch asks for updates.
    per = steps_per_epoch or (1 if _plain_function(schedule) else max(1, math.ceil(DENSE / until)))
    t = update_times(until, per, limit)
    b = boundaries(schedule, until)
    extra = [b, np.nextafter(b, 0.0)]
    if len(t) < until * per + 1:  # thinned: put each boundary's update neighbours back
        extra += [np.floor(b * per) / per, np.ceil(b * per) / per]
    t = np.unique(np.concatenate([t, *extra]))
    return t, np.asarray(schedule(t), dtype=np.float64)


def thin(x: np.ndarray, y: np.ndarray, buckets: int, keep: np.ndarray | None = None) -> np.ndarray:
    """Indices of the vertices worth drawing when there are more than ``4 * buckets``: in each
    of ``buckets`` equal slices of the x range, the first, last, lowest and highest vertex,
    plus those whose x is in ``keep``. Each slice keeps its extremes, so the line looks the
    same at that resolution and its maximum and minimum are exact."""
    n = len(x)
    if n <= 4 * buckets:
        return np.arange(n)
    span = float(x[-1] - x[0]) or 1.0
    slot = np.minimum(((x - x[0]) / span * buckets).astype(np.int64), buckets - 1)
    firsts = np.flatnonzero(np.diff(slot, prepend=-1))
    lasts = np.append(firsts[1:] - 1, n - 1)
    order = np.lexsort((np.nan_to_num(y, nan=-np.inf), slot))  # by slot, then value
    starts = np.flatnonzero(np.diff(slot[order], prepend=-1))
    ends = np.append(starts[1:] - 1, n - 1)
    chosen = [firsts, lasts, order[starts], order[ends], np.flatnonzero(~np.isfinite(y))]
    if keep is not None and len(keep):
        chosen.append(np.flatnonzero(np.isin(x, keep)))
    return np.unique(np.concatenate(chosen))


def _plain_function(schedule: Any) -> bool:
    """Whether ``schedule`` wraps a plain Python function (``FunctionSchedule``, by its
    ``fn``): this module knows schedules by what they do, not by their class."""
    return callable(getattr(schedule, "fn", None))


def label_of(schedule: Any) -> str:
    """A schedule's legend label: its text form, or a plain function's name."""
    if _plain_function(schedule):
        return str(getattr(schedule.fn, "__name__", "function"))
    return str(schedule)


def schedule_chart(
    schedules: Sequence[tuple[str, Any]],
    epochs: int | None = None,
    *,
    steps: int | None = None,
    steps_per_epoch: int | None = None,
    update: str = "step",
    log: bool = False,
    phases: bool = True,
    title: str | None = None,
    max_points: int = 4000,
) -> Chart:
    """The :class:`Chart` of ``(label, schedule)`` pairs (see :func:`sample`).

    With ``steps_per_epoch`` the schedules are written in epochs and the chart shows each
    update's rate ``s(j / steps_per_epoch)`` on an axis in epochs. Beyond ``4 * max_points``
    vertices a line is thinned (:func:`thin`), keeping every boundary and each slice's
    extremes. A single schedule gets its text form as title.
    """
    if not schedules:
        raise ValueError("Argument `schedules` is empty: give at least one schedule.")
    until, unit = length(epochs, steps, [s for _, s in schedules])
    if steps_per_epoch is not None:
        whole = isinstance(steps_per_epoch, int | np.integer) and not isinstance(
            steps_per_epoch, bool
        )
        if not whole or not 1 <= steps_per_epoch <= MAX_LENGTH:
            raise ValueError(
                "Argument `steps_per_epoch` must be an integer from 1 to 10**15. "
                f"Received: steps_per_epoch={_short(repr(steps_per_epoch))}"
            )
        if unit != "epoch":
            raise ValueError(
                "Argument `steps_per_epoch` needs a chart in epochs: give `epochs`, not `steps`."
            )
    if update == "epoch" and unit != "epoch":
        raise ValueError("Argument `update='epoch'` needs a chart in epochs, not in steps.")
    series = []
    for name, s in schedules:
        x, y = sample(s, until, steps_per_epoch=steps_per_epoch, update=update)
        b = boundaries(s, until)
        if update == "step":
            keep = np.flatnonzero(np.isin(x, np.concatenate([b, np.nextafter(b, 0.0)])))
            idx = thin(x, y, max_points, x[keep])
            x, y = x[idx], y[idx]
        if log:
            y = np.where(y > 0, y, np.nan)  # a log axis cannot show zeros: leave them out
        marks = tuple(float(v) for v in b) if phases and len(b) <= MAX_MARKS else ()
        series.append(Series(x, y, name, marks))
    if title is None and len(schedules) == 1:
        title = schedules[0][0]
    return Chart(
        tuple(series),
        title=title or "",
        xlabel=unit,
        log_y=log,
        xlim=(0.0, float(until)),
    )


# -- matplotlib -----------------------------------------------------------------------------


def draw(chart: Chart, ax: Axes) -> None:
    """Draw ``chart`` on a matplotlib axis. Text is never read as mathtext (a ``$`` in a
    label stays a ``$``). Each line has ``gid="schedule"``, each boundary ``"phase-boundary"``."""
    lines = []
    for i, s in enumerate(chart.series):
        colour = COLOURS[i % len(COLOURS)]
        (line,) = ax.plot(s.x, s.y, label=s.label, gid="schedule", linewidth=1.8, color=colour)
        lines.append(line)
        for b in s.marks:
            ax.axvline(b, color=colour, linestyle=":", linewidth=1, alpha=0.7, gid="phase-boundary")
    for m in chart.markers:
        ax.plot([m.x], [m.y], "o", color="black", markersize=6, gid="marker")
        ax.annotate(
            m.label, (m.x, m.y), xytext=(6, 6), textcoords="offset points", parse_math=False
        )
    ax.set_xlabel(chart.xlabel, parse_math=False)
    ax.set_ylabel(chart.ylabel, parse_math=False)
    if chart.xlim is not None:
        ax.set_xlim(*chart.xlim)
    if chart.log_x and any((s.x > 0).any() for s in chart.series):
        ax.set_xscale("log")
    if chart.log_y:
        if any((s.y > 0).any() for s in chart.series):  # else matplotlib refuses the scale
            ax.set_yscale("log")
    elif chart.from_zero and _finite(chart) and ax.get_ylim()[0] > 0:
        ax.set_ylim(bottom=0)  # rates are compared from zero, so a flat line is not a big step
    ax.grid(True, alpha=0.3)
    if chart.title:
        ax.set_title(textwrap.fill(chart.title, 90), fontsize="medium", parse_math=False)
    if len(chart.series) > 1:
        labels = [textwrap.fill(s.label, 70) for s in chart.series]
        legend = ax.legend(lines, labels, fontsize="small")
        for text in legend.get_texts():
            text.set_parse_math(False)


def _finite(chart: Chart) -> bool:
    return any(np.isfinite(s.y).any() for s in chart.series)


# -- SVG ------------------------------------------------------------------------------------


def ticks(lo: float, hi: float, log: bool, count: int = 5) -> list[float]:
    """Round tick values inside ``[lo, hi]`` (decades on a log axis)."""
    if log:
        first, last = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
        stride = max(1, math.ceil((last - first + 1) / 8))
        return [10.0**e for e in range(first, last + 1, stride)]
    raw = (hi - lo) / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(lo / step - 1e-9)
    return [k * step for k in range(start, math.floor(hi / step + 1e-9) + 1)]


def _limits(values: list[np.ndarray], log: bool, lo: float | None = None) -> tuple[float, float]:
    v = np.concatenate(values) if values else np.array([])
    v = v[np.isfinite(v) & ((v > 0) if log else True)]
    if not v.size:
        return (0.1, 1.0) if log else (0.0, 1.0)
    a, b = float(v.min()), float(v.max())
    if log:
        return (a / 1.25, b * 1.25) if b > a else (a / 10, a * 10)
    if lo is not None and a > lo:
        a = lo
    if b == a:
        return (a - 1.0, a + 1.0) if a == 0 else (min(0.0, a), max(0.0, a) * 1.1 or 1.0)
    return a, b + (b - a) * 0.04


def _fmt(v: float) -> str:
    return f"{v:.4g}".replace("e-0", "e-").replace("e+0", "e")


def svg(chart: Chart, width: int = 640, height: int = 320) -> str:
    """``chart`` as a standalone SVG document (lines, dotted boundaries, ticks, legend)."""
    title_lines = textwrap.wrap(chart.title, max(20, width // 7)) if chart.title else []
    legend = [textwrap.wrap(s.label, max(20, width // 7 - 4)) or [""] for s in chart.series]
    legend_rows = sum(len(lines) for lines in legend) if len(chart.series) > 1 else 0
    top = 12 + 16 * len(title_lines)
    left, right = 64, 16
    plot_h = height - top - 44
    full_h = height + 15 * legend_rows + (6 if legend_rows else 0)
    plot_w = width - left - right
    x0, x1 = chart.xlim or _limits([s.x for s in chart.series], chart.log_x)
    y0, y1 = _limits(
        [s.y for s in chart.series] + [np.array([m.y for m in chart.markers])],
        chart.log_y,
        0.0 if chart.from_zero and not chart.log_y else None,
    )

    def scale(v: np.ndarray, lo: float, hi: float, log: bool) -> np.ndarray:
        if log:
            with np.errstate(all="ignore"):
                logs: np.ndarray = np.log10(v)
            return (logs - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        return (v - lo) / ((hi - lo) or 1.0)

    def px(x: np.ndarray) -> np.ndarray:
        return left + scale(np.asarray(x, dtype=np.float64), x0, x1, chart.log_x) * plot_w

    def py(y: np.ndarray) -> np.ndarray:
        return top + (1 - scale(np.asarray(y, dtype=np.float64), y0, y1, chart.log_y)) * plot_h

    esc = html.escape
    # Inline SVGs share one page's ids (a notebook of charts): name the clip by the content.
    digest = zlib.crc32(repr((chart.title, width, height, top, len(chart.series))).encode())
    for s in chart.series:
        digest = zlib.crc32(s.y.tobytes(), zlib.crc32(s.x.tobytes(), digest))
    clip = f"lrkit-plot-{digest:08x}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{full_h}" '
        f'viewBox="0 0 {width} {full_h}" font-family="sans-serif" font-size="11">',
        f"<title>{esc(chart.title or 'chart')}</title>",
        f'<rect width="{width}" height="{full_h}" fill="white"/>',
    ]
    for i, line in enumerate(title_lines):
        out.append(
            f'<text x="{width / 2:.1f}" y="{14 + 16 * i}" text-anchor="middle" '
            f'font-size="12">{esc(line)}</text>'
        )
    bottom = top + plot_h
    for v in ticks(y0, y1, chart.log_y):
        y = float(py(np.array(v)))
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
        )
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    for v in ticks(x0, x1, chart.log_x):
        x = float(px(np.array(v)))
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" '
            'stroke="#eee" stroke-width="1"/>'
        )
        out.append(f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">{_fmt(v)}</text>')
    out.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#444" stroke-width="1"/>'
    )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{bottom + 30}" '
        f'text-anchor="middle">{esc(chart.xlabel)}</text>'
    )
    out.append(
        f'<text transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{esc(chart.ylabel)}</text>'
    )
    out.append(
        f'<clipPath id="{clip}"><rect x="{left}" y="{top}" width="{plot_w}" '
        f'height="{plot_h}"/></clipPath>'
    )
    for i, s in enumerate(chart.series):
        colour = COLOURS[i % len(COLOURS)]
        for b in s.marks:
            x = float(px(np.array(b)))
            out.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" '
                f'stroke="{colour}" stroke-dasharray="2 3" stroke-opacity="0.7"/>'
            )
        idx = thin(s.x, s.y, max(plot_w, 1) // 2)
        d = _path(px(s.x[idx]), py(s.y[idx]))
        if d:
            out.append(
                f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.6" '
                f'stroke-linejoin="round" clip-path="url(#{clip})"/>'
            )
    for m in chart.markers:
        x, y = float(px(np.array(m.x))), float(py(np.array(m.y)))
        if math.isfinite(x) and math.isfinite(y):
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="black"/>')
            out.append(f'<text x="{x + 6:.1f}" y="{y - 6:.1f}">{esc(m.label)}</text>')
    if legend_rows:
        row = height + 2
        for i, lines in enumerate(legend):
            colour = COLOURS[i % len(COLOURS)]
            out.append(
                f'<line x1="{left}" x2="{left + 18}" y1="{row - 4}" y2="{row - 4}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
            for line in lines:
                out.append(f'<text x="{left + 24}" y="{row}">{esc(line)}</text>')
                row += 15
    out.append("</svg>")
    return "\n".join(out)


def _path(x: np.ndarray, y: np.ndarray) -> str:
    """SVG path data through the finite points; a gap (NaN, or a zero on a log axis) starts
    a new subpath."""
    ok = np.isfinite(x) & np.isfinite(y)
    parts: list[str] = []
    pen_down = False
    for xi, yi, good in zip(x.tolist(), y.tolist(), ok.tolist(), strict=True):
        if not good:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{xi:.1f} {yi:.1f}")
        pen_down = True
    return " ".join(parts)


def html_of(chart: Chart) -> str:
    """The chart inline, its title as a caption below: text that copies into ``lrkit.parse``."""
    if not chart.title:
        return f'<figure style="margin: 0">{chart.svg()}</figure>'
    untitled = dataclasses.replace(chart, title="").svg()
    caption = f"<figcaption><code>{html.escape(chart.title)}</code></figcaption>"
    return f'<figure style="margin: 0">{untitled}{caption}</figure>'


def chart_of(schedule: Any) -> Chart:
    """One schedule's notebook chart: its default length, its text form as title."""
    return schedule_chart([(label_of(schedule), schedule)])


def figure(
    schedules: Sequence[tuple[str, Any]],
    epochs: int | None = None,
    *,
    size: tuple[float, float] = (8.0, 4.5),
    dpi: float = 100,
    **options: Any,
) -> Figure:
    """:func:`schedule_chart` as a new matplotlib ``Figure`` (no ``pyplot``)."""
    return schedule_chart(schedules, epochs, **options).figure(size, dpi)


def figure_of(schedule: Any, epochs: int | None = None, **options: Any) -> Figure:
    """One schedule's figure (``Schedule.plot``): its text form as title."""
    return figure([(label_of(schedule), schedule)], epochs, **options)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
