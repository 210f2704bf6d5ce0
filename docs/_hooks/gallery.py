"""mkdocs hook: pages generated from the code at build time, so the docs cannot drift.

- ``gallery.md`` and ``gallery/NAME.png``: one chart per registered schedule, drawn by
  ``lrkit.plot`` from the text form its definition gives as ``example``, with the formula from
  its docstring and a table of its arguments from their declarations. An entry without an
  example, or with an undeclared argument, fails the build.
- ``<!-- lrkit: ARGS -->`` in a page is replaced by the output of ``lrkit ARGS`` (a failing
  command fails the build).
- reST roles left in docstrings (``:class:`X` ``) are shown as plain code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import io
import math
import os
import re
import shlex
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

import lrkit
import lrkit.plot
from lrkit._params import declared
from lrkit.cli import main as lrkit_main
from lrkit.cli import section
from lrkit.spec import parse


def example(name: str) -> tuple[str, int, str]:
    """The text form a schedule's definition gives as its example, and the length (and unit)
    of its chart: past its end, or four times its last phase boundary when it never ends."""
    cls = lrkit.REGISTRY[name]
    s = parse(cls.example)
    end = s.duration or 4 * max(s.breakpoints(1e6), default=25)
    length = max(10, math.ceil(1.1 * end))
    return cls.example, length, "steps" if length > 1000 else "epochs"


SECTIONS = {
    "The seed's five": "The schedules of the seed, with its names and parameters.",
    "The catalogue": "The families in common use, with the parameters of their peers.",
    "Composition": "Schedules built from schedules (see [Composition](composition.md)).",
}


def documented_names() -> list[str]:
    """The registered names the gallery must show: lrkit's own catalogue and composition."""
    return [
        name
        for name, cls in lrkit.REGISTRY.items()
        if cls.__module__ in ("lrkit.schedules", "lrkit.recipes", "lrkit.compose")
    ]


def _markdown(text: str) -> str:
    """reST markup in docstrings made into Markdown."""
    text = re.sub(r":(?:class|func|mod|meth|data|attr):`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def arguments_table(cls: type[lrkit.Schedule]) -> str:
    """Every argument of ``cls``, from its declaration: name, rule, default, meaning."""
    rows = ["| argument | takes | default | meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        p = declared(f)
        if p is None:
            raise PluginError(f"{cls.__name__}.{f.name} is not declared with lrkit._params")
        default = "required" if f.default is dataclasses.MISSING else f"`{f.default!r}`"
        keyword = " (keyword only)" if f.kw_only else ""
        rows.append(f"| `{f.name}`{keyword} | {p.rule()} | {default} | {_markdown(p.doc)} |")
    return "\n".join(rows)


def entry_markdown(name: str) -> str:
    spec, length, unit = example(name)
    cls = lrkit.REGISTRY[name]
    doc = inspect.getdoc(cls) or ""
    paragraphs = doc.split("\n\n")
    parts = [f"### `{name}` {{#{name}}}", _markdown(" ".join(paragraphs[0].split()))]
    parts.append(f"![{name}: {spec}](gallery/{name}.png)")
    formula = re.search(r"\$\$.+?\$\$", doc, re.S)
    if formula:
        parts.append(formula.group())
    parts.append(f"```text\n{spec}\n```")
    parts.append(arguments_table(cls))
    qualified = f"{cls.__module__}.{cls.__name__}"
    parts.append(
        f'[`lrkit.{name}`][{qualified}] · in a terminal: `lrkit show "{spec}" --{unit} {length}`'
    )
    return "\n\n".join(parts)


def gallery_markdown() -> str:
    missing = [n for n in documented_names() if not lrkit.REGISTRY[n].example]
    if missing:
        raise PluginError(f"no `example` in the definition of {', '.join(missing)}")
    out = [
        "# Catalogue",
        "Every schedule in lrkit, each drawn when this site was built by `lrkit.plot` from "
        "the text form under it (the same text works in `lrkit.parse`, `lrkit plot` and "
        "`lrkit show`). Dotted lines mark phase boundaries. `lrkit list` prints this list "
        "in a terminal; the [API reference](api/schedules.md) has every argument.",
    ]
    for title, intro in SECTIONS.items():
        out += [f"## {title}", intro]
        out += [entry_markdown(n) for n in documented_names() if section(n) == title]
    return "\n\n".join(out) + "\n"


def image(name: str) -> bytes:
    spec, length, unit = example(name)
    fig = lrkit.plot.figure(parse(spec), size=(6.4, 2.8), **{unit: length})
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    return buffer.getvalue()


def on_files(files: Files, config: Any) -> Files:
    files.append(File.generated(config, "gallery.md", content=gallery_markdown()))
    for name in documented_names():
        files.append(File.generated(config, f"gallery/{name}.png", content=image(name)))
    return files


_COMMAND = re.compile(r"<!-- lrkit: (.+?) -->")


def command_output(arguments: str) -> str:
    """``lrkit ARGUMENTS`` run in-process (80 columns), as a console block."""
    out = io.StringIO()
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        with contextlib.redirect_stdout(out):
            status = lrkit_main(shlex.split(arguments))
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    if status != 0:
        raise PluginError(f"`lrkit {arguments}` exited with status {status}")
    return f"```console\n$ lrkit {arguments}\n{out.getvalue().rstrip()}\n```"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    return _COMMAND.sub(lambda m: command_output(m.group(1)), markdown)


_ROLE = re.compile(r":(?:class|func|mod|meth|attr|data):(<code>)~?")


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """reST roles in docstrings (``:class:`X` ``), rendered as plain code."""
    return _ROLE.sub(r"\1", html)
