"""The ``lrkit`` command: see, list and convert schedules from the shell.

    lrkit plot "constant(0.001)" "exponential_decay(0.001, 0.1)" --epochs 100 -o seed.png
    lrkit show "warmup(cosine(0.1, 90), steps=10)" --epochs 100
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
import dataclasses
import difflib
import importlib
import importlib.util
import inspect
import json
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lrkit
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
        "lrkit.demo",
        "train a small network with the seed's schedules and show which trains fastest",
    ),
    "find": ("lrkit.find_command", "run the learning-rate range test on the demo's network"),
}

FILE_SUFFIXES = (".json", ".yaml", ".yml", ".txt", ".spec")
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
        return _from_text(sys.stdin.read(), "<stdin>", "")
    looks_like_file = source.lower().endswith(FILE_SUFFIXES) and "(" not in source
    if looks_like_file or os.path.isfile(source):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise InputError(f"cannot read {source}: {reason}") from None
        return _from_text(text, source, path.suffix.lower())
    try:
        return parse(source)
    except SpecError as e:
        raise InputError(f"{_short(source)}: {e}") from None


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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 10**15:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to 10**15, got {text}")
    return value


def _add_length(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--epochs", type=_positive_int, metavar="N", help="show epochs 0 .. N-1")
    group.add_argument(
        "--steps", type=_positive_int, metavar="N", help="show steps 0 .. N-1 (labels say 'step')"
    )


# -- plot --------------------------------------------------------------------------------


def _plot_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("schedules", nargs="+", metavar="SPEC", help="text forms or files")
    _add_length(parser)
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
    parser.add_argument("--title", help="chart title")
    parser.add_argument("--no-phases", action="store_true", help="do not mark phase boundaries")


def _run_plot(args: argparse.Namespace) -> int:
    schedules = [read_schedule(s) for s in args.schedules]
    items: Any = schedules
    if args.label:
        if len(args.label) != len(schedules):
            raise InputError(
                f"got {len(args.label)} --label for {len(schedules)} schedules: give one per SPEC"
            )
        items = dict(zip(args.label, schedules, strict=True))
    if args.output is None and _has_display():
        import matplotlib.pyplot as plt

        lrplot.plot(
            items,
            args.epochs,
            steps=args.steps,
            log=args.log,
            phases=not args.no_phases,
            title=args.title,
        )
        plt.show()
        return 0
    out = Path(args.output or "lrkit-plot.png")
    if out.suffix.lower().lstrip(".") not in lrplot.FORMATS:
        raise InputError(f"cannot write {out}: the file name must end in .png, .svg or .pdf")
    try:
        lrplot.save(
            items,
            out,
            args.epochs,
            steps=args.steps,
            log=args.log,
            phases=not args.no_phases,
            title=args.title,
        )
    except OSError as e:
        raise InputError(f"cannot write {out}: {e.strerror or e}") from None
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
    parser.add_argument("schedule", metavar="SPEC", help="a text form or a file")
    _add_length(parser)
    parser.add_argument("--log", action="store_true", help="logarithmic learning-rate axis")
    parser.add_argument("--width", type=_positive_int, default=64, help="chart columns (64)")
    parser.add_argument("--height", type=_positive_int, default=14, help="chart rows (14)")
    parser.add_argument(
        "--points", type=int, default=5, metavar="K", help="evenly spaced rows in the table (5)"
    )


def _run_show(args: argparse.Namespace) -> int:
    s = read_schedule(args.schedule)
    if args.width < 8 or args.height < 3:
        raise InputError("the chart needs --width >= 8 and --height >= 3")
    n, unit = lrplot.length(args.epochs, args.steps, [s])
    print(s.spec())
    print(_summary(s, n, unit))
    print()
    print(
        lrplot.text_chart(
            s, args.epochs, steps=args.steps, width=args.width, height=args.height, log=args.log
        )
    )
    print()
    rows = lrplot.table(s, args.epochs, steps=args.steps, points=max(0, min(args.points, 100)))
    print(lrplot.format_table(rows, unit))
    return 0


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
        if f.default is dataclasses.MISSING:
            args.append(f.name)
        else:
            args.append(f"{f.name}={f.default!r}")
    return f"{cls.name}({', '.join(args)})"


def _plain(text: str) -> str:
    """Docstring markup made readable in a terminal: no reST roles, no double backquotes."""
    text = re.sub(r":(?:class|func|mod|meth|data|attr):`~?([^`]+)`", r"\1", text)
    return text.replace("``", "")


# -- convert ------------------------------------------------------------------------------

TARGETS = ("spec", "json", "yaml", "python")
_SUFFIX_TARGET = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".py": "python"}


def _convert_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SPEC|FILE", help="a text form, a file, or - (stdin)")
    parser.add_argument(
        "--to",
        choices=TARGETS,
        help="output form (default: from the -o file's suffix, else spec)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write FILE instead of stdout")


def _run_convert(args: argparse.Namespace) -> int:
    s = read_schedule(args.source)
    target = args.to
    if target is None:
        suffix = Path(args.output).suffix.lower() if args.output else ""
        target = _SUFFIX_TARGET.get(suffix, "spec")
    text = convert(s, target)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot write {args.output}: {e.strerror or e}") from None
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
        "a schedule in the terminal: a text chart and its values at the phase boundaries",
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
    parser = build_parser(_selected(args_list))
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
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `lrkit list | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return status
