"""See schedules before training: matplotlib charts, and a text chart for the terminal.

:func:`plot` draws one or many schedules on one axis, :func:`save` writes that chart to a PNG,
SVG or PDF file, and :func:`text_chart` and :func:`table` show a schedule without a display
(``lrkit show``). Times are whole epochs or steps ``0 .. N-1``: ``schedule(k)`` is the rate
of the k-th epoch or update, so a chart of ``N`` epochs shows the ``N`` rates that training
uses.

The values come from one vectorized call per schedule, ``schedule(t)`` on a NumPy array, so
the chart is the same function that training runs. A plain function ``f(epoch)`` (the seed's
style) is accepted too and called once per plotted time. Phase boundaries of composites
(``schedule.breakpoints``) are marked with dotted lines.

matplotlib is imported only inside :func:`plot`, :func:`figure` and :func:`save`
(``pip install 'lrkit[plot]'``); the text chart needs NumPy only.

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

from lrkit._core import FunctionSchedule, Schedule, as_schedule

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["curve", "figure", "plot", "save", "table", "text_chart", "times"]

ScheduleLike: TypeAlias = Schedule | Callable[[Any], float]
Schedules: TypeAlias = ScheduleLike | Sequence[ScheduleLike] | Mapping[str, ScheduleLike]

#: At most this many boundaries are marked per schedule; more (many restarts) only clutter.
MAX_MARKS = 50
#: Default length of a chart when neither ``epochs`` nor ``steps`` is given and no schedule
#: has an end of its own.
DEFAULT_LENGTH = 100
FORMATS = ("png", "svg", "pdf")


def named(schedules: Schedules) -> list[tuple[str, Schedule]]:
    """``(label, schedule)`` pairs from one schedule, a list of them, or a ``{label: schedule}``
    mapping. Plain functions become :class:`~lrkit.FunctionSchedule`; labels default to the
    text form (shortened) or the function's name."""
    if isinstance(schedules, Mapping):
        return [(str(k), as_schedule(s)) for k, s in schedules.items()]
    if isinstance(schedules, Schedule) or callable(schedules):
        items: list[ScheduleLike] = [schedules]
    elif isinstance(schedules, Sequence) and not isinstance(schedules, str):
        items = list(schedules)
    else:
        raise TypeError(
            "Argument `schedules` must be a schedule, a function of the epoch, a list of them "
            f"or a dict of them. Received: schedules={schedules!r}"
        )
    if not items:
        raise ValueError("Argument `schedules` is empty: give at least one schedule.")
    out = []
    for item in items:
        s = as_schedule(item)
        out.append((label(s), s))
    return out


def label(schedule: Schedule, width: int = 60) -> str:
    """A legend label: the text form, cut to ``width`` characters, or a function's name."""
    if isinstance(schedule, FunctionSchedule):
        return str(getattr(schedule.fn, "__name__", "function"))
    text = schedule.spec()
    return text if len(text) <= width else text[: width - 1] + "…"


def length(epochs: int | None, steps: int | None, schedules: Sequence[Schedule]) -> tuple[int, str]:
    """The number of times to show and the unit's name, from ``epochs`` or ``steps``.

    With neither, the length is a little past the longest end among the schedules
    (``DEFAULT_LENGTH`` if none ends).
    """
    if epochs is not None and steps is not None:
        raise ValueError(
            f"Give `epochs` or `steps`, not both. Received: epochs={epochs!r}, steps={steps!r}"
        )
    for name, value in (("epochs", epochs), ("steps", steps)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(
                    f"Argument `{name}` must be an integer >= 1. Received: {name}={value!r}"
                )
            return int(value), name[:-1]
    ends = [d for s in schedules if (d := s.duration) is not None and 0 < d < math.inf]
    until = math.ceil(max(ends) * 1.1) + 1 if ends else DEFAULT_LENGTH
    return until, "epoch"


def times(schedule: Schedule, n: int, max_points: int = 2000) -> np.ndarray:
    """The whole times ``0 .. n-1`` to evaluate: all of them, or ``max_points`` evenly spread
    plus both sides of every phase boundary, so jumps stay sharp."""
    if n <= max_points:
        return np.arange(n, dtype=np.float64)
    grid = np.round(np.linspace(0.0, n - 1.0, max_points))
    edges = [math.ceil(b) for b in schedule.breakpoints(n)[: 10 * max_points] if 0 < b < n]
    extra = np.array([e for b in edges for e in (b - 1, b) if 0 <= e < n], dtype=np.float64)
    return np.unique(np.concatenate([grid, extra]))


def curve(schedule: ScheduleLike, n: int, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """``(t, schedule(t))`` over the whole times ``0 .. n-1``, in one vectorized call."""
    s = as_schedule(schedule)
    t = times(s, n, max_points)
    return t, np.asarray(s(t), dtype=np.float64)


def boundaries(schedule: Schedule, n: int) -> list[float]:
    """The phase boundaries inside ``(0, n)``, or none when there are too many to mark."""
    marks = sorted({b for b in schedule.breakpoints(n)[: 2 * MAX_MARKS] if 0 < b < n})
    return marks if len(marks) <= MAX_MARKS else []


def plot(
    schedules: Schedules,
    epochs: int | None = None,
    *,
    steps: int | None = None,
    ax: Axes | None = None,
    log: bool = False,
    phases: bool = True,
    title: str | None = None,
    max_points: int = 2000,
) -> Axes:
    """Draw schedules on one matplotlib axis, labelled, phase boundaries marked.

    Args:
        schedules: a schedule, a plain function ``f(epoch)``, a list of them, or a
            ``{label: schedule}`` dict.
        epochs: show epochs ``0 .. epochs-1``. steps: or steps ``0 .. steps-1`` (the
            x-axis label changes). With neither, a little past the longest schedule.
        ax: the axis to draw on; a new figure (``matplotlib.pyplot``) if ``None``.
        log: a logarithmic y-axis (zeros are left out).
        phases: mark phase boundaries (``schedule.breakpoints``) with dotted lines.
        title: the axis title.
        max_points: beyond this many times, sample evenly (plus both sides of each boundary).

    Returns:
        The axis. Each curve is a ``Line2D`` with ``gid="schedule"`` whose data is
        ``(t, schedule(t))``; boundary marks have ``gid="phase-boundary"``.

    Examples:
        >>> ax = lrkit.plot.plot(lrkit.cosine(0.1, 100), epochs=100)
        >>> t, y = ax.get_lines()[0].get_data()
        >>> len(t), float(y[0]), float(y[50])
        (100, 0.1, 0.05)
    """
    pairs = named(schedules)
    n, unit = length(epochs, steps, [s for _, s in pairs])
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    _draw(ax, pairs, n, unit, log=log, phases=phases, title=title, max_points=max_points)
    return ax


def _draw(
    ax: Axes,
    pairs: list[tuple[str, Schedule]],
    n: int,
    unit: str,
    *,
    log: bool,
    phases: bool,
    title: str | None,
    max_points: int,
) -> None:
    for name, s in pairs:
        t, y = curve(s, n, max_points)
        if log:
            y = np.where(y > 0, y, np.nan)  # log scale: leave zeros out rather than warn
        (line,) = ax.plot(t, y, label=name, gid="schedule", linewidth=1.8)
        if phases:
            for b in boundaries(s, n):
                ax.axvline(
                    b,
                    color=line.get_color(),
                    linestyle=":",
                    linewidth=1,
                    alpha=0.7,
                    gid="phase-boundary",
                )
    ax.set_xlabel(unit)
    ax.set_ylabel("learning rate")
    ax.set_xlim(0, max(n - 1, 1))
    if log:
        ax.set_yscale("log")
    elif ax.get_ylim()[0] > 0:
        ax.set_ylim(bottom=0)  # rates are compared from zero, so a flat line is not a big step
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    if len(pairs) > 1:
        ax.legend(fontsize="small")


def figure(
    schedules: Schedules,
    epochs: int | None = None,
    *,
    steps: int | None = None,
    log: bool = False,
    phases: bool = True,
    title: str | None = None,
    size: tuple[float, float] = (8.0, 4.5),
    max_points: int = 2000,
) -> Figure:
    """A new matplotlib ``Figure`` with :func:`plot`'s chart, made without ``pyplot`` (no
    window, no global state: safe in scripts, servers and threads)."""
    from matplotlib.figure import Figure

    pairs = named(schedules)
    n, unit = length(epochs, steps, [s for _, s in pairs])
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    _draw(ax, pairs, n, unit, log=log, phases=phases, title=title, max_points=max_points)
    return fig


def save(
    schedules: Schedules,
    path: str | Path,
    epochs: int | None = None,
    *,
    steps: int | None = None,
    log: bool = False,
    phases: bool = True,
    title: str | None = None,
    size: tuple[float, float] = (8.0, 4.5),
    dpi: int = 150,
) -> Path:
    """Write :func:`figure`'s chart to ``path``: ``.png``, ``.svg`` or ``.pdf``."""
    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            f"Argument `path` must end in .png, .svg or .pdf. Received: path={str(path)!r}"
        )
    fig = figure(schedules, epochs, steps=steps, log=log, phases=phases, title=title, size=size)
    fig.savefig(p, format=fmt, dpi=dpi)
    return p


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
