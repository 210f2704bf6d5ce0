"""See schedules before training: charts at true resolution, in notebooks, files and terminals.

:func:`chart` draws one or many schedules as a :class:`~lrkit._display.Chart`, which shows
itself inline in a notebook (hand-written SVG, no matplotlib needed); :func:`plot` draws on a
matplotlib axis, :func:`figure` makes a ``Figure`` and :func:`save` writes a PNG, SVG or PDF
file. :func:`text_chart` and :func:`table` show a schedule without a display (``lrkit show``).
Every schedule also has ``schedule.plot(...)`` (a ``Figure``) and displays itself in a notebook.

The charts are drawn at true resolution, from one vectorized call per schedule: with
``epochs`` and ``steps_per_epoch`` the rate of every update ``s(j / steps_per_epoch)`` on an
axis in epochs (without ``steps_per_epoch``, 2000 points), every phase boundary and the
instant before it (a jump is drawn at the boundary), so peaks and boundaries are drawn at
their true values. ``update="epoch"`` draws a rate set once per epoch as the step it is: flat
within each epoch. With ``steps`` the axis counts steps. Lines of more than 16,000 vertices
keep each boundary and the extremes of every slice of the axis (see
:func:`lrkit._display.thin`). A plain function ``f(epoch)`` (the seed's style) is accepted
too and called once per plotted time. Phase boundaries (``schedule.breakpoints``) are marked
with dotted lines.

matplotlib is imported only inside :func:`plot`, :func:`figure` and :func:`save`
(``pip install 'lrkit[plot]'``); the notebook chart and the text chart need NumPy only.

>>> s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=90), steps=10)
>>> print(lrkit.plot.text_chart(s, epochs=100, width=40, height=6))
      0.1 |    ********
          |   *:      *******
          |  * :            *****
     0.04 | ** :                 *****
          |*   :                     *******
        0 |*   :                           ********
          +----------------------------------------
           0                                     99
                            epoch
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from lrkit import _display
from lrkit._core import Schedule, as_schedule
from lrkit._display import Chart

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Chart", "chart", "curve", "figure", "plot", "save", "table", "text_chart", "times"]

ScheduleLike: TypeAlias = Schedule | Callable[[Any], float]
Schedules: TypeAlias = ScheduleLike | Sequence[ScheduleLike] | Mapping[str, ScheduleLike]

#: At most this many boundaries are marked per schedule; more (many restarts) only clutter.
MAX_MARKS = _display.MAX_MARKS
#: Default length of a chart when neither ``epochs`` nor ``steps`` is given and no schedule
#: has an end of its own.
DEFAULT_LENGTH = _display.DEFAULT_LENGTH
FORMATS = ("png", "svg", "pdf")
#: The largest image :func:`save` writes, in pixels (a PNG of 4000 x 4000: its RGBA buffer,
#: 64 MB, keeps a plot within the 100 MB that any one input may take, docs/limits.md).
MAX_PIXELS = 16_000_000


def named(schedules: Schedules) -> list[tuple[str, Schedule]]:
    """``(label, schedule)`` pairs from one schedule, a list of them, or a ``{label: schedule}``
    mapping. Plain functions become :class:`~lrkit.FunctionSchedule`; labels default to the
    text form (in full) or the function's name."""
    if isinstance(schedules, Mapping):
        return [(str(k), as_schedule(s)) for k, s in schedules.items()]
    if isinstance(schedules, Schedule) or callable(schedules):
        items: list[ScheduleLike] = [schedules]
    elif isinstance(schedules, Sequence) and not isinstance(schedules, str):
        items = list(schedules)
    else:
        raise TypeError(
            "Argument `schedules` must be a schedule, a function of the epoch, a list of them "
            f"or a dict of them. Received: schedules={_display._short(repr(schedules))}"
        )
    if not items:
        raise ValueError("Argument `schedules` is empty: give at least one schedule.")
    out = []
    for item in items:
        s = as_schedule(item)
        out.append((label(s), s))
    return out


def label(schedule: Schedule) -> str:
    """A legend label: the text form in full (charts wrap it), or a function's name."""
    return _display.label_of(schedule)


def length(epochs: int | None, steps: int | None, schedules: Sequence[Schedule]) -> tuple[int, str]:
    """The number of times to show and the unit's name, from ``epochs`` or ``steps``.

    With neither, the length is a little past the longest end among the schedules
    (``DEFAULT_LENGTH`` if none ends, at most 10**15).
    """
    return _display.length(epochs, steps, schedules)


def times(schedule: Schedule, n: int, max_points: int = 2000) -> np.ndarray:
    """The whole times ``0 .. n-1`` of the terminal chart and table: all of them, or
    ``max_points`` evenly spread plus both sides of every phase boundary, so jumps stay sharp."""
    if n <= max_points:
        return np.arange(n, dtype=np.float64)
    grid = np.round(np.linspace(0.0, n - 1.0, max_points))
    edges = np.ceil(_display.boundaries(schedule, n, 10 * max_points))
    extra = np.concatenate([edges - 1, edges])
    return np.unique(np.concatenate([grid, extra[(extra >= 0) & (extra < n)]]))


def curve(schedule: ScheduleLike, n: int, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """``(t, schedule(t))`` over the whole times ``0 .. n-1``, in one vectorized call."""
    s = as_schedule(schedule)
    t = times(s, n, max_points)
    return t, np.asarray(s(t), dtype=np.float64)


def boundaries(schedule: Schedule, n: int) -> list[float]:
    """The phase boundaries inside ``(0, n)``, or none when there are too many to mark."""
    marks = _display.boundaries(schedule, n, 2 * MAX_MARKS)
    return [float(b) for b in marks] if len(marks) <= MAX_MARKS else []


def chart(
    schedules: Schedules,
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
    """The chart of one or many schedules, as plain arrays: it displays itself in a notebook
    (SVG, no matplotlib) and draws as a matplotlib figure with ``.figure()``.

    Args:
        schedules: a schedule, a plain function ``f(epoch)``, a list of them, or a
            ``{label: schedule}`` dict.
        epochs: show epochs ``[0, epochs]``. steps: or steps ``[0, steps]`` (the x-axis
            label says so). With neither, a little past the longest schedule.
        steps_per_epoch: with ``epochs``, the updates per epoch: every update's rate
            ``s(j / steps_per_epoch)`` is a vertex of the line.
        update: ``"step"`` (the rate as it changes within an epoch) or ``"epoch"`` (the rate
            set once per epoch, ``s(k)``, drawn flat over each epoch).
        log: a logarithmic y-axis (zeros are left out).
        phases: mark phase boundaries (``schedule.breakpoints``) with dotted lines.
        title: the title; one schedule's default is its text form.
        max_points: a line of more than ``4 * max_points`` vertices keeps, in each of
            ``max_points`` slices of the axis, the first, last, lowest and highest, and every
            phase boundary.

    Examples:
        >>> c = lrkit.plot.chart(lrkit.one_cycle_policy(0.1, 5), epochs=5, steps_per_epoch=391)
        >>> line = c.series[0]
        >>> float(line.y.max()), 1.5 in line.x
        (0.1, True)
        >>> c.svg().startswith("<svg")
        True
    """
    return _display.schedule_chart(
        named(schedules),
        epochs,
        steps=steps,
        steps_per_epoch=steps_per_epoch,
        update=update,
        log=log,
        phases=phases,
        title=title,
        max_points=max_points,
    )


def plot(
    schedules: Schedules,
    epochs: int | None = None,
    *,
    ax: Axes | None = None,
    **options: Any,
) -> Axes:
    """Draw :func:`chart` on one matplotlib axis, labelled, phase boundaries marked.

    ``ax`` is the axis to draw on; a new figure (``matplotlib.pyplot``) if ``None``. The other
    options are :func:`chart`'s (``steps``, ``steps_per_epoch``, ``update``, ``log``,
    ``phases``, ``title``, ``max_points``).

    Returns:
        The axis. Each curve is a ``Line2D`` with ``gid="schedule"`` whose data is
        ``(t, schedule(t))``; boundary marks have ``gid="phase-boundary"``.

    Examples:
        >>> ax = lrkit.plot.plot(lrkit.cosine(0.1, 100), epochs=100, steps_per_epoch=10)
        >>> t, y = ax.get_lines()[0].get_data()
        >>> len(t), float(y[0]), float(y[500]), float(t[500])
        (1001, 0.1, 0.05, 50.0)
    """
    c = chart(schedules, epochs, **options)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    c.draw(ax)
    return ax


def figure(
    schedules: Schedules,
    epochs: int | None = None,
    *,
    size: tuple[float, float] = (8.0, 4.5),
    dpi: float = 100,
    **options: Any,
) -> Figure:
    """A new matplotlib ``Figure`` with :func:`chart`'s chart, made without ``pyplot`` (no
    window, no global state: safe in scripts, servers and threads). ``size`` is in inches."""
    return chart(schedules, epochs, **options).figure(size, dpi)


def save(
    schedules: Schedules,
    path: str | Path,
    epochs: int | None = None,
    *,
    size: tuple[float, float] = (8.0, 4.5),
    dpi: float = 150,
    **options: Any,
) -> Path:
    """Write :func:`figure`'s chart to ``path``: ``.png``, ``.svg`` or ``.pdf``, ``size``
    inches at ``dpi`` (at most 16 million pixels)."""
    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            f"Argument `path` must end in .png, .svg or .pdf. "
            f"Received: path={_display._short(str(path))!r}"
        )
    check_size(size, dpi)
    fig = figure(schedules, epochs, size=size, dpi=dpi, **options)
    fig.savefig(p, format=fmt, dpi=dpi)
    return p


def check_size(size: tuple[float, float], dpi: float) -> None:
    """Refuse an image size that is not positive or too big to render in memory."""
    w, h = size
    ok = all(isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in (w, h, dpi))
    if not ok or w * dpi < 1 or h * dpi < 1:
        raise ValueError(
            f"Arguments `size` and `dpi` must be positive. Received: size={size!r}, dpi={dpi!r}"
        )
    if w * dpi * h * dpi > MAX_PIXELS:
        raise ValueError(
            f"The image would have {w * dpi:.0f} x {h * dpi:.0f} pixels, more than "
            f"{MAX_PIXELS:,}: give a smaller `size` or `dpi`. Received: size={size!r}, dpi={dpi!r}"
        )


# -- the terminal ------------------------------------------------------------------------


def text_chart(
    schedule: ScheduleLike,
    epochs: int | None = None,
    *,
    steps: int | None = None,
    width: int = 64,
    height: int = 14,
    log: bool = False,
) -> str:
    """A chart of ``schedule`` in plain text, for a terminal without a display.

    Each column covers an equal share of the times ``0 .. N-1`` and is filled between the
    lowest and highest value there (and the previous column's last value, so jumps show as
    vertical runs). Phase boundaries are dotted columns (``:``).
    """
    s = as_schedule(schedule)
    n, unit = length(epochs, steps, [s])
    if width < 8 or height < 3:
        raise ValueError(f"The chart needs width >= 8 and height >= 3. Received: {width}x{height}")
    t, y = curve(s, n, max_points=max(20 * width, 4000))
    shown = y.copy()
    if log:
        positive = y[y > 0]
        floor = float(positive.min()) if positive.size else 1.0
        shown = np.log10(np.maximum(y, floor))
    lo, hi = float(np.nanmin(shown)), float(np.nanmax(shown))
    span = hi - lo
    if span > 0:
        rows = np.round((shown - lo) / span * (height - 1)).astype(int)
    else:  # a flat line: draw it across the middle
        rows = np.full(len(shown), (height - 1) // 2)
    cols = np.minimum((t * width / n).astype(int), width - 1)
    grid = [[" "] * width for _ in range(height)]
    for b in boundaries(s, n):
        c = min(int(b * width / n), width - 1)
        for r in range(height):
            grid[r][c] = ":"
    previous: int | None = None
    for c in range(width):
        here = rows[cols == c]
        if here.size == 0:  # fewer times than columns: the value holds until the next time
            here = rows[-1:] if previous is None else np.array([previous])
        low, high = int(here.min()), int(here.max())
        if previous is not None:  # reach back to the row next to the previous column's end
            low = min(low, previous + 1)
            high = max(high, previous - 1)
        for r in range(low, high + 1):
            grid[r][c] = "*"
        previous = int(here[-1])

    def tick(value: float) -> str:
        return f"{10**value if log else value:.3g}"

    middle = (height - 1) // 2
    if span > 0:
        labels = {height - 1: tick(hi), 0: tick(lo)}
        if height >= 5:
            labels[middle] = tick(lo + span * middle / (height - 1))
    else:
        labels = {middle: tick(hi)}
    lines = [
        f"{labels.get(r, ''):>9} |" + "".join(grid[r]).rstrip() for r in range(height - 1, -1, -1)
    ]
    lines.append(" " * 10 + "+" + "-" * width)
    last = str(n - 1)
    lines.append(" " * 11 + "0" + last.rjust(width - 1))
    lines.append(" " * 11 + unit.center(width).rstrip())
    return "\n".join(lines)


def table(
    schedule: ScheduleLike,
    epochs: int | None = None,
    *,
    steps: int | None = None,
    points: int = 5,
    max_boundaries: int = 20,
) -> list[tuple[int, float, str]]:
    """Rows ``(t, schedule(t), note)``: the start, both sides of each phase boundary, a few
    evenly spaced times, and the last time ``N-1``.

    >>> s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=90), steps=10)
    >>> for t, lr, note in lrkit.plot.table(s, epochs=100, points=1):
    ...     print(t, round(lr, 6), note)
    0 0.0 start
    9 0.09 before the boundary at 10
    10 0.1 phase boundary
    50 0.058682
    99 3e-05 last
    """
    s = as_schedule(schedule)
    n, _ = length(epochs, steps, [s])
    notes: dict[int, list[str]] = {0: ["start"]}
    for b in boundaries(s, n)[:max_boundaries]:
        at = math.ceil(b)
        notes.setdefault(at - 1, []).append(f"before the boundary at {b:g}")
        notes.setdefault(at, []).append(
            "phase boundary" if at == b else f"first after the boundary at {b:g}"
        )
    for t in np.linspace(0, n - 1, points + 2)[1:-1]:
        notes.setdefault(round(t), [])
    notes.setdefault(n - 1, []).append("last")
    ts = sorted(t for t in notes if 0 <= t < n)
    values = np.asarray(s(np.array(ts, dtype=np.float64)), dtype=np.float64)
    return [(t, float(v), ", ".join(notes[t])) for t, v in zip(ts, values, strict=True)]


def format_table(rows: Sequence[tuple[int, float, str]], unit: str = "epoch") -> str:
    """:func:`table`'s rows as aligned text."""
    width = max(len(unit), *(len(str(t)) for t, _, _ in rows))
    lines = [f"{unit:>{width}}  {'learning rate':<13}  note"]
    lines += [f"{t:>{width}}  {v:<13.6g}  {note}".rstrip() for t, v, note in rows]
    return "\n".join(lines)
