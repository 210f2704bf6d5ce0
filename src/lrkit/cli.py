"""The ``lrkit`` command: see, list and convert schedules from the shell.

    lrkit plot "constant(0.001)" "exponential_decay(0.001, 0.1)" --epochs 100 -o seed.png
    lrkit show "warmup(cosine(0.1, 90), steps=10)" --epochs 100
    lrkit show "cosine(0.1, 90)" "step(0.1, 30)" --epochs 100 --format csv > rates.csv
    lrkit list
    lrkit convert schedule.yaml --to python

A schedule is given as its text form (see :mod:`lrkit.spec`), or as a file: ``.json``,
``.yaml``/``.yml`` (configs written by :func:`lrkit.save`) or any other file holding a text
form; ``-`` reads standard input. Bad input (an unknown name, a bad value, an unreadable file)
gives a one-line message on standard error and exit status 2, never a traceback.

More subcommands plug in through :data:`EXTENSIONS`: a module that defines
``add_arguments(parser)`` and ``run(args) -> int`` becomes ``lrkit NAME`` when it can be
imported, and is imported only when that subcommand runs.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import difflib
import functools
import importlib
import importlib.util
import inspect
import io
import json
import math
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import lrkit
from lrkit import _display
from lrkit import plot as lrplot
from lrkit._core import REGISTRY, Schedule
from lrkit.spec import SpecError, parse, python_source

__all__ = ["EXTENSIONS", "InputError", "build_parser", "main", "read_schedule"]

#: Subcommands in their own modules: ``name -> (module, one-line help)``. The module defines
#: ``add_arguments(parser: argparse.ArgumentParser) -> None`` and
#: ``run(args: argparse.Namespace) -> int``. It is listed only when it is installed, and
#: imported only when its subcommand runs, so its imports never slow down the others.
EXTENSIONS: dict[str, tuple[str, str]] = {
    "demo": (
        "lrkit.demo.cli",
        "train a small network with the seed's schedules and show which trains fastest",
    ),
    "find": ("lrkit.find_command", "run the learning-rate range test on the demo's network"),
}

FILE_SUFFIXES = (".json", ".yaml", ".yml", ".txt", ".spec")
#: The largest input read, in characters (a schedule's config is a few hundred).
MAX_INPUT = 1 << 20
#: Bounds on the sizes people type, so that no option can exhaust memory.
MAX_LENGTH = 10**15
MAX_COLUMNS = 1000
MAX_ROWS = 1_000_000
SEED_FIVE = (
    "constant",
    "time_based_decay",
    "exponential_decay",
    "constant_then_exponential_decay",
    "one_cycle",
)
SECTIONS = ("The seed's five", "The catalogue", "Composition")


def section(name: str) -> str:
    """Which of :data:`SECTIONS` lists the registered schedule ``name`` (``lrkit list`` and the
    docs' gallery group the same way)."""
    if name in SEED_FIVE:
        return "The seed's five"
    if REGISTRY[name].__module__ == "lrkit.compose":
        return "Composition"
    return "The catalogue"


class InputError(Exception):
    """Bad input from the user: reported as one line, with exit status 2."""


# -- reading schedules -----------------------------------------------------------------


def read_schedule(source: str) -> Schedule:
    """The schedule that ``source`` names: a text form, a config or spec file, or ``-``."""
    if source == "-":
        return _from_text(_bounded(sys.stdin, "<stdin>"), "<stdin>", "")
    looks_like_file = source.lower().endswith(FILE_SUFFIXES) and "(" not in source
    if "(" not in source and os.path.exists(source) and not os.path.isfile(source):
        raise InputError(f"cannot read {_short(source)}: not a regular file")
    if looks_like_file or os.path.isfile(source):
        path = Path(source)
        try:
            with path.open(encoding="utf-8") as f:
                text = _bounded(f, source)
        except (OSError, UnicodeDecodeError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise InputError(f"cannot read {_short(source)}: {reason}") from None
        return _from_text(text, source, path.suffix.lower())
    try:
        return parse(source)
    except SpecError as e:
        raise InputError(f"{_short(source)}: {e}") from None


def _bounded(stream: Any, where: str) -> str:
    """Read at most ``MAX_INPUT`` characters: a larger input (or ``/dev/zero``) is refused
    before it fills memory."""
    text = str(stream.read(MAX_INPUT + 1))
    if len(text) > MAX_INPUT:
        raise InputError(f"{_short(where)} is larger than {MAX_INPUT >> 20} MiB: not a schedule")
    return text


def _from_text(text: str, where: str, suffix: str) -> Schedule:
    if suffix in (".yaml", ".yml"):
        fmt = "yaml"
    elif suffix == ".json" or text.lstrip().startswith("{"):
        fmt = "json"
    else:
        try:
            return parse(text.strip())
        except SpecError as e:
            raise InputError(f"{where}: {e}") from None
    try:
        return lrkit.loads(text, fmt)
    except json.JSONDecodeError as e:
        raise InputError(f"{where} is not valid JSON: {e}") from None
    except ImportError as e:
        raise InputError(str(e)) from None
    except RecursionError:
        raise InputError(f"{where}: the config is nested too deeply") from None
    except (ValueError, TypeError) as e:
        raise InputError(f"{where}: {e}") from None
    except Exception as e:  # yaml.YAMLError, without importing yaml for every command
        if type(e).__module__.startswith("yaml"):
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise InputError(f"{where} is not valid YAML: {first}") from None
        raise


def _short(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``, written as people type it
    (``1000``, ``1_000``, ``1e3``; not ``1.5``)."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"expected a whole number, got {_short(text)!r}"
                ) from None
            if not number.is_integer():
                raise argparse.ArgumentTypeError(
                    f"expected a whole number, got {_short(text)}"
                ) from None
            value = int(number)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected a number from {low} to {_power(high)}, got {_short(text)}"
            )
        return value

    convert.__name__ = "whole number"  # argparse names the type in its messages
    return convert


def _power(n: int) -> str:
    return "10**15" if n == 10**15 else str(n)


_positive_int = _whole(1, MAX_LENGTH)


def _add_length(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--epochs", type=_positive_int, metavar="N", help="N epochs (1e3 is fine)")
    group.add_argument(
        "--steps", type=_positive_int, metavar="N", help="N steps (the axis says 'step')"
    )


# -- plot --------------------------------------------------------------------------------


def _plot_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("schedules", nargs="+", metavar="SPEC", help="text forms or files")
    _add_length(parser)
    parser.add_argument(
        "--steps-per-epoch",
        type=_whole(1, MAX_LENGTH),
        metavar="S",
        help="with --epochs: draw the rate of every update, s(j / S), on an axis in epochs",
    )
    parser.add_argument(
        "--update",
        choices=_display.UPDATES,
        default="step",
        help="'epoch': the rate set once per epoch, drawn flat within each epoch (default: step)",
    )
    parser.add_argument("--log", action="store_true", help="logarithmic learning-rate axis")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write FILE (.png, .svg or .pdf) instead of opening a window "
        "(without a display: lrkit-plot.png)",
    )
    parser.add_argument(
        "--label",
        action="append",
        metavar="TEXT",
        help="legend label, once per SPEC in order (default: the text form)",
    )
    parser.add_argument("--title", help="chart title (default for one SPEC: its text form)")
    parser.add_argument("--no-phases", action="store_true", help="do not mark phase boundaries")
    parser.add_argument(
        "--size", type=_size, default=(8.0, 4.5), metavar="WxH", help="image size in inches (8x4.5)"
    )
    parser.add_argument(
        "--dpi", type=_whole(10, 1000), default=150, help="pixels per inch of a PNG (150)"
    )


def _size(text: str) -> tuple[float, float]:
    """``WxH`` in inches, each from 1 to 100."""
    parts = text.lower().split("x")
    try:
        w, h = (float(v) for v in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH in inches, got {_short(text)!r}") from None
    if not (1 <= w <= 100 and 1 <= h <= 100):
        raise argparse.ArgumentTypeError(f"expected each side from 1 to 100 inches, got {text}")
    return w, h


def _run_plot(args: argparse.Namespace) -> int:
    schedules = [read_schedule(s) for s in args.schedules]
    items: Any = schedules
    if args.label:
        if len(args.label) != len(schedules):
            raise InputError(
                f"got {len(args.label)} --label for {len(schedules)} schedules: give one per SPEC"
            )
        items = dict(zip(args.label, schedules, strict=True))
    options = {
        "steps": args.steps,
        "steps_per_epoch": args.steps_per_epoch,
        "update": args.update,
        "log": args.log,
        "phases": not args.no_phases,
        "title": args.title,
    }
    if args.steps_per_epoch is not None and args.steps is not None:
        raise InputError("--steps-per-epoch goes with --epochs (the axis in epochs), not --steps")
    try:
        lrplot.check_size(args.size, args.dpi)
        chart = lrplot.chart(items, args.epochs, **options)
    except ValueError as e:
        raise InputError(str(e)) from None
    if args.output is None and _has_display():
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=args.size, layout="constrained")
        chart.draw(ax)
        plt.show()
        return 0
    out = Path(args.output or "lrkit-plot.png")
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in lrplot.FORMATS:
        raise InputError(
            f"cannot write {_short(str(out))}: the file name must end in .png, .svg or .pdf"
        )
    fig = chart.figure(args.size, args.dpi)
    try:
        fig.savefig(out, format=fmt, dpi=args.dpi)
    except OSError as e:
        raise InputError(f"cannot write {_short(str(out))}: {e.strerror or e}") from None
    print(f"wrote {out}")
    return 0


def _has_display() -> bool:
    """Whether matplotlib would open a window (an interactive backend is in use)."""
    import matplotlib

    backend = matplotlib.get_backend().lower()
    files_only = ("agg", "pdf", "svg", "ps", "cairo", "pgf", "template")
    return backend not in files_only and "inline" not in backend


# -- show --------------------------------------------------------------------------------


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("schedules", nargs="+", metavar="SPEC", help="text forms or files")
    _add_length(parser)
    parser.add_argument(
        "--format",
        choices=SHOW_FORMATS,
        default="table",
        help="table: a text chart and the values at the phase boundaries (default); "
        "csv or json: the rate at every time 0 .. N-1, one column per SPEC",
    )
    parser.add_argument(
        "--every",
        type=_whole(1, MAX_LENGTH),
        default=1,
        metavar="K",
        help="csv/json: every K-th time only (1)",
    )
    parser.add_argument("--log", action="store_true", help="logarithmic learning-rate axis")
    parser.add_argument("--width", type=_positive_int, default=64, help="chart columns (64)")
    parser.add_argument("--height", type=_positive_int, default=14, help="chart rows (14)")
    parser.add_argument(
        "--points", type=int, default=5, metavar="K", help="evenly spaced rows in the table (5)"
    )


SHOW_FORMATS = ("table", "csv", "json")


def _run_show(args: argparse.Namespace) -> int:
    schedules = [read_schedule(s) for s in args.schedules]
    if not (8 <= args.width <= MAX_COLUMNS and 3 <= args.height <= MAX_COLUMNS):
        raise InputError(
            f"the chart needs --width from 8 to {MAX_COLUMNS} and --height from 3 to "
            f"{MAX_COLUMNS}; got {args.width}x{args.height}"
        )
    try:
        n, unit = lrplot.length(args.epochs, args.steps, schedules)
    except ValueError as e:
        raise InputError(str(e)) from None
    if args.format != "table":
        sys.stdout.write(export(schedules, n, unit, args.format, every=args.every))
        return 0
    length = {"epochs": n} if unit == "epoch" else {"steps": n}
    blocks = []
    for s in schedules:
        chart = lrplot.text_chart(s, width=args.width, height=args.height, log=args.log, **length)
        rows = lrplot.table(s, points=max(0, min(args.points, 100)), **length)
        table = lrplot.format_table(rows, unit)
        blocks.append("\n".join([s.spec(), _summary(s, n, unit), "", chart, "", table]))
    print("\n\n".join(blocks))
    return 0


def export(schedules: Sequence[Schedule], n: int, unit: str, fmt: str, every: int = 1) -> str:
    """The rate of each schedule at every ``every``-th whole time ``0 .. n-1``, as CSV (a
    column per schedule, headed by its text form) or JSON (``{"unit", "times", "schedules":
    [{"schedule", "rates"}]}``; a non-finite rate is ``null``)."""
    count = -(-n // every)
    if count > MAX_ROWS:
        raise InputError(
            f"--format {fmt} would write {count:,} rows, more than {MAX_ROWS:,}: "
            "give --every K or a shorter --epochs/--steps"
        )
    times = np.arange(0, n, every, dtype=np.int64)
    columns = [np.asarray(s(times.astype(np.float64)), dtype=np.float64) for s in schedules]
    labels = [lrplot.label(s) for s in schedules]
    if fmt == "json":
        data = {
            "unit": unit,
            "times": times.tolist(),
            "schedules": [
                {"schedule": name, "rates": [v if math.isfinite(v) else None for v in c.tolist()]}
                for name, c in zip(labels, columns, strict=True)
            ],
        }
        return json.dumps(data, allow_nan=False) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([unit, *labels])
    for t, *values in zip(times.tolist(), *(c.tolist() for c in columns), strict=True):
        writer.writerow([t, *(repr(v) for v in values)])
    return buffer.getvalue()


def _summary(s: Schedule, n: int, unit: str) -> str:
    parts = [f"{unit}s 0 .. {n - 1}"]
    bounds = lrplot.boundaries(s, n)
    if bounds:
        shown = ", ".join(f"{b:g}" for b in bounds[:10]) + (", ..." if len(bounds) > 10 else "")
        parts.append(f"phase boundaries at {shown}")
    d = s.duration
    if d is None:
        parts.append("never settles")
    else:
        parts.append(f"holds {float(s(d)):.6g} from {d:g} on")
    return "; ".join(parts)


# -- list --------------------------------------------------------------------------------


def _list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name", nargs="?", help="show one entry's full documentation instead of the list"
    )


def _run_list(args: argparse.Namespace) -> int:
    if args.name is not None:
        cls = REGISTRY.get(args.name)
        if cls is None:
            close = difflib.get_close_matches(args.name, REGISTRY, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(f"unknown schedule {args.name!r}{hint}")
        print(signature(cls))
        print()
        print(_plain(inspect.getdoc(cls) or ""))
        return 0
    groups: dict[str, list[type[Schedule]]] = {title: [] for title in SECTIONS}
    for name, cls in REGISTRY.items():
        groups[section(name)].append(cls)
    width = min(shutil.get_terminal_size().columns, 100)
    blocks = []
    for title, classes in groups.items():
        lines = [f"{title}:"]
        for cls in classes:
            lines.append(f"  {signature(cls)}")
            lines += textwrap.wrap(
                summary(cls), width, initial_indent=" " * 6, subsequent_indent=" " * 6
            )
        blocks.append("\n".join(lines))
    print("\n\n".join(blocks))
    print("\n`lrkit list NAME` shows one entry's formula, arguments and examples.")
    return 0


def summary(cls: type[Schedule]) -> str:
    """The first line of a schedule's docstring, without reST roles."""
    doc = inspect.getdoc(cls) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    return _plain(first)


def signature(cls: type[Schedule]) -> str:
    """``name(arg, arg=default, ...)`` from the dataclass fields."""
    args = []
    for f in dataclasses.fields(cls):
        if f.kw_only and "*" not in args:
            args.append("*")
        if f.default is dataclasses.MISSING:
            args.append(f.name)
        else:
            args.append(f"{f.name}={f.default!r}")
    return f"{cls.name}({', '.join(args)})"


def _plain(text: str) -> str:
    """Docstring markup made readable in a terminal: no reST roles, no double backquotes,
    formulas as plain text (``$\\eta_0 e^{-k t}$`` prints as ``η₀ e^(-k t)``)."""
    text = re.sub(r":(?:class|func|mod|meth|data|attr):`~?([^`]+)`", r"\1", text)
    text = text.replace("``", "")
    text = re.sub(
        r"\$\$(.+?)\$\$|\\\[(.+?)\\\]",
        lambda m: "    " + plain_math(m.group(1) or m.group(2)),
        text,
        flags=re.DOTALL,
    )
    return re.sub(
        r"\$(.+?)\$|\\\((.+?)\\\)",
        lambda m: plain_math(m.group(1) or m.group(2)),
        text,
        flags=re.DOTALL,
    )


#: LaTeX commands in lrkit's formulas, as the characters a terminal shows.
_TEX_SYMBOLS = {
    "eta": "η", "mu": "μ", "gamma": "γ", "delta": "δ", "tau": "τ", "pi": "π", "phi": "φ",
    "alpha": "α", "beta": "β", "lambda": "λ", "sigma": "σ", "theta": "θ", "omega": "ω",
    "ge": "≥", "geq": "≥", "le": "≤", "leq": "≤", "in": "∈", "to": "→", "infty": "∞",
    "approx": "≈", "cdot": "·", "times": "×", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈",
    "rceil": "⌉", "left": "", "right": "", "big": "", "Big": "", "quad": "  ", "qquad": "  ",
    "!": "", ",": " ", ";": " ", ":": " ", " ": " ", "\\": "; ", "{": "{", "}": "}",
    "#": "#", "%": "%", "_": "_", "&": "&",
}  # fmt: skip
_FUNCTIONS = ("cos", "sin", "tan", "tanh", "exp", "log")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def plain_math(tex: str) -> str:
    """A LaTeX formula as plain text: Greek letters and relations as Unicode, ``\\frac{a}{b}``
    as ``a/b``, cases as ``x if c; y if d``. Unknown commands print as their name."""
    out: list[str] = []
    i, n = 0, len(tex)

    def argument(i: int) -> tuple[str, int]:
        while i < n and tex[i].isspace():
            i += 1
        if i >= n:
            return "", i
        if tex[i] == "{":
            j = _closing(tex, i)
            return plain_math(tex[i + 1 : j]).strip(), j + 1
        if tex[i] == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", tex[i:])
            name = m.group(1) if m else ""
            return _TEX_SYMBOLS.get(name, name), i + (m.end() if m else 1)
        return tex[i], i + 1

    while i < n:
        c = tex[i]
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", tex[i:])
            name = m.group(1) if m else ""
            i += m.end() if m else 1
            if name in ("frac", "tfrac", "dfrac"):
                a, i = argument(i)
                b, i = argument(i)
                fraction = f"{_grouped(a)}/{_grouped(b)}"
                applied = "".join(out).rstrip().endswith(_FUNCTIONS)  # cos(a/b), not cos(a)/b
                out.append(f"({fraction})" if applied else fraction)
            elif name == "sqrt":
                a, i = argument(i)
                out.append(f"√{_grouped(a)}")
            elif name in ("text", "operatorname", "mathrm", "mathit", "mathbf"):
                a, i = argument(i)
                out.append(a)
            elif name in ("begin", "end"):
                _, i = argument(i)
                out.append(" ")
            else:
                out.append(_TEX_SYMBOLS.get(name, name))
        elif c in "_^":
            a, i = argument(i + 1)
            if c == "_" and a.isdigit():
                out.append(a.translate(_SUBSCRIPT))
            else:
                out.append(c + _grouped(a))
        elif c == "{":
            j = _closing(tex, i)
            out.append(plain_math(tex[i + 1 : j]))
            i = j + 1
        elif c == "&":
            out.append(" if ")
            i += 1
        else:
            out.append(c)
            i += 1
    return re.sub(r"\s+;", ";", re.sub(r"\s+", " ", "".join(out))).strip()


def _closing(tex: str, i: int) -> int:
    """The index of the brace that closes the one at ``i`` (the end if it never closes)."""
    depth = 0
    for j in range(i, len(tex)):
        if tex[j] == "{" and (j == 0 or tex[j - 1] != "\\"):
            depth += 1
        elif tex[j] == "}" and tex[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return j
    return len(tex)


def _grouped(text: str) -> str:
    """``text`` as one operand: bare when it is a single symbol or word, else in brackets."""
    return text if len(text) <= 1 or text.isalnum() else f"({text})"


# -- convert ------------------------------------------------------------------------------

TARGETS = ("spec", "json", "yaml", "python")
_SUFFIX_TARGET = {
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".py": "python",
    ".txt": "spec",
    ".spec": "spec",
}


def _convert_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SPEC|FILE", help="a text form, a file, or - (stdin)")
    parser.add_argument(
        "--to",
        choices=TARGETS,
        help="output form (default: from the -o file's suffix, else spec); "
        "refused when it contradicts that suffix",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write FILE instead of stdout: .json, .yaml/.yml, .py, or .txt/.spec (text form)",
    )


def output_target(to: str | None, output: str | None) -> str:
    """The form to write: ``--to``, or the one that the ``-o`` file's suffix names; a suffix
    that names another form than ``--to``, or none, is refused rather than guessed."""
    if output is None:
        return to or "spec"
    suffix = Path(output).suffix.lower()
    named = _SUFFIX_TARGET.get(suffix)
    if to is None and named is None:
        known = ", ".join(_SUFFIX_TARGET)
        raise InputError(
            f"cannot tell the form to write from {_short(output)!r}: name the file {known}, "
            "or give --to"
        )
    if to is not None and named is not None and to != named:
        raise InputError(
            f"-o {_short(output)} names {named} but --to says {to}: "
            f"drop --to or name the file for {to}"
        )
    return to or named or "spec"


def _run_convert(args: argparse.Namespace) -> int:
    target = output_target(args.to, args.output)
    s = read_schedule(args.source)
    text = convert(s, target)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot write {_short(args.output)}: {e.strerror or e}") from None
    print(f"wrote {args.output}")
    return 0


def convert(schedule: Schedule, target: str) -> str:
    """``schedule`` as text: its text form, a JSON or YAML config, or Python code."""
    if target == "spec":
        return schedule.spec() + "\n"
    if target in ("json", "yaml"):
        try:
            return lrkit.dumps(schedule, target)
        except ImportError as e:
            raise InputError(str(e)) from None
    if target == "python":
        code = python_source(schedule)
        imports = ["import math"] if "math." in code else []
        modules = sorted(set(re.findall(r"\b(lrkit(?:\.\w+)*)\.\w+\(", code)) - {"lrkit"})
        imports += ["import lrkit", *(f"import {m}" for m in modules)]
        return "\n".join(imports) + f"\n\nschedule = {code}\n"
    raise ValueError(f"Argument `target` must be one of {TARGETS}. Received: target={target!r}")


# -- the command table ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Command:
    """One subcommand: its help, how to add its arguments, and what runs it."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {
    "plot": Command(
        "chart one or more schedules (PNG, SVG, PDF, or a window)", _plot_arguments, _run_plot
    ),
    "show": Command(
        "schedules in the terminal: a text chart and the values at the phase boundaries, "
        "or every value as CSV or JSON",
        _show_arguments,
        _run_show,
    ),
    "list": Command(
        "the catalogue: names, one-line descriptions, arguments", _list_arguments, _run_list
    ),
    "convert": Command(
        "between the text form, JSON/YAML configs and Python code",
        _convert_arguments,
        _run_convert,
    ),
}


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The argument parser. ``selected`` names the subcommand about to run: only that
    extension module is imported (the others are listed by name and help only)."""
    parser = argparse.ArgumentParser(
        prog="lrkit",
        description="Learning-rate schedules: plot, show, list and convert them.",
        epilog='A SPEC is a schedule\'s text form, e.g. "warmup(cosine(0.1, 90), steps=10)", '
        "or a .json/.yaml config file. `lrkit COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"lrkit {lrkit.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(p)
        p.set_defaults(run=command.run)
    for name, (module_name, help) in EXTENSIONS.items():
        if name in COMMANDS or not _installed(module_name):
            continue
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(run=_extension(module_name, p) if name == selected else None)
    return parser


def _parser(selected: str | None) -> argparse.ArgumentParser:
    """:func:`build_parser`, built once per subcommand and table of extensions: a parser
    keeps no state between ``parse_args`` calls, and building one costs more than most
    commands' work."""
    known = selected if selected in COMMANDS or selected in EXTENSIONS else None
    return _cached_parser(known, tuple(EXTENSIONS.items()))


@functools.lru_cache(maxsize=16)
def _cached_parser(
    selected: str | None, extensions: tuple[tuple[str, tuple[str, str]], ...]
) -> argparse.ArgumentParser:
    return build_parser(selected)


def _installed(module_name: str) -> bool:
    try:
        return importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):
        return False


def _extension(
    module_name: str, parser: argparse.ArgumentParser
) -> Callable[[argparse.Namespace], int]:
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        message = f"{parser.prog} is not available: {e}"

        def unavailable(args: argparse.Namespace) -> int:
            print(f"{parser.prog}: error: {message}", file=sys.stderr)
            return 1

        return unavailable
    module.add_arguments(parser)
    run: Callable[[argparse.Namespace], int] = module.run
    return run


def _selected(argv: Sequence[str]) -> str | None:
    """The subcommand in ``argv``: its first argument that is not an option."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lrkit`` command with ``argv`` (default: ``sys.argv[1:]``); the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _parser(_selected(args_list))
    try:
        args = parser.parse_args(args_list)
    except SystemExit as e:  # --help, --version, or a usage error (status 2)
        return e.code if isinstance(e.code, int) else 2
    try:
        status: int = args.run(args)
        sys.stdout.flush()
    except InputError as e:
        print(f"lrkit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except ArithmeticError as e:  # a valid but extreme schedule overflowed float64
        reason = f"{type(e).__name__}: {_short(str(e), 80)}"
        print(f"lrkit {args.command}: error: the schedule overflows ({reason})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `lrkit list | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return status
