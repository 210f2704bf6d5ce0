"""mkdocs hook: pages generated from the code at build time, so the docs cannot drift.

- ``gallery.md`` and ``gallery/NAME.png``: one chart per registered schedule, drawn by
  ``lrkit.plot`` from the text form shown under it, with the formula from its docstring. Every
  catalogue and composition entry must have an example below, or the build fails.
- ``<!-- lrkit: ARGS -->`` in a page is replaced by the output of ``lrkit ARGS`` (a failing
  command fails the build).
- reST roles left in docstrings (``:class:`X` ``) are shown as plain code.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import re
import shlex
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

import lrkit
import lrkit.plot
from lrkit.cli import main as lrkit_main
from lrkit.cli import section
from lrkit.spec import parse

#: name -> (text form, length of the chart, unit). The text form is what the page shows.
EXAMPLES: dict[str, tuple[str, int, str]] = {
    "constant": ("constant(start_lr=0.001)", 50, "epochs"),
    "time_based_decay": ("time_based_decay(start_lr=0.001, decay=0.1)", 50, "epochs"),
    "exponential_decay": ("exponential_decay(start_lr=0.001, exp_decay=0.1)", 50, "epochs"),
    "constant_then_exponential_decay": (
        "constant_then_exponential_decay(start_lr=0.001, rampup_epochs=10, exp_decay=0.1)",
        50,
        "epochs",
    ),
    "one_cycle": (
        "one_cycle(start_lr=0.0001, min_lr=0.00001, max_lr=0.001, rampup_epochs=10, "
        "sustain_epochs=0, exp_decay=0.8)",
        50,
        "epochs",
    ),
    "step": ("step(start_lr=0.1, step_size=30)", 100, "epochs"),
    "multistep": ("multistep(start_lr=0.1, milestones=[30, 80])", 100, "epochs"),
    "piecewise_constant": (
        "piecewise_constant(boundaries=[30, 60], values=[0.1, 0.05, 0.01])",
        100,
        "epochs",
    ),
    "linear": ("linear(start_lr=0.1, end_lr=0.01, decay_steps=80)", 100, "epochs"),
    "linear_to_zero": ("linear_to_zero(start_lr=0.1, decay_steps=100)", 110, "epochs"),
    "polynomial": (
        "polynomial(start_lr=0.1, end_lr=0.001, decay_steps=40, power=2.0, cycle=True)",
        120,
        "epochs",
    ),
    "inverse_time": (
        "inverse_time(start_lr=0.1, decay_rate=1.0, decay_steps=10, staircase=True)",
        100,
        "epochs",
    ),
    "exponential": (
        "exponential(start_lr=0.1, decay_rate=0.5, decay_steps=10, end_lr=0.005)",
        100,
        "epochs",
    ),
    "cosine": ("cosine(start_lr=0.1, decay_steps=100)", 110, "epochs"),
    "one_minus_sqrt": ("one_minus_sqrt(start_lr=0.1, decay_steps=100)", 110, "epochs"),
    "tanh_decay": ("tanh_decay(start_lr=0.1, decay_steps=100)", 110, "epochs"),
    "inverse_sqrt": ("inverse_sqrt(start_lr=0.1, timescale=10)", 100, "epochs"),
    "noam": ("noam(d_model=512, warmup_steps=4000)", 40_000, "steps"),
    "cosine_restarts": (
        "cosine_restarts(start_lr=0.1, first_decay_steps=10, t_mul=2.0, m_mul=0.8)",
        150,
        "epochs",
    ),
    "cyclic": (
        "cyclic(base_lr=0.001, max_lr=0.006, step_size_up=500, mode='triangular2')",
        5000,
        "steps",
    ),
    "onecycle": ("onecycle(max_lr=0.1, total_steps=1000)", 1000, "steps"),
    "warmup_stable_decay": (
        "warmup_stable_decay(peak_lr=0.1, warmup_steps=100, stable_steps=700, decay_steps=200, "
        "decay_shape='1-sqrt')",
        1100,
        "steps",
    ),
    "join": (
        "join(schedules=[linear(start_lr=0.0, end_lr=0.1, decay_steps=10), "
        "cosine(start_lr=0.1, decay_steps=90)], boundaries=[10])",
        110,
        "epochs",
    ),
    "warmup": ("warmup(cosine(start_lr=0.1, decay_steps=90), steps=10)", 110, "epochs"),
    "restarts": (
        "restarts(linear(start_lr=0.1, end_lr=0.0, decay_steps=25), period=25, amplitude_mul=0.7)",
        100,
        "epochs",
    ),
    "scale": ("scale(cosine(start_lr=0.1, decay_steps=100), factor=0.5)", 110, "epochs"),
    "sum": (
        "sum(a=cosine(start_lr=0.09, decay_steps=100), b=constant(start_lr=0.01))",
        110,
        "epochs",
    ),
    "product": (
        "product(a=exponential_decay(start_lr=0.1, exp_decay=0.02), "
        "b=cyclic(base_lr=0.2, max_lr=1.0, step_size_up=10))",
        100,
        "epochs",
    ),
    "clip": ("clip(exponential_decay(start_lr=0.1, exp_decay=0.05), min_lr=0.02)", 100, "epochs"),
    "shift": ("shift(cosine(start_lr=0.1, decay_steps=80), delay=20)", 110, "epochs"),
    "staircase": ("staircase(cosine(start_lr=0.1, decay_steps=100), step_size=10)", 110, "epochs"),
    "stretch": ("stretch(cosine(start_lr=0.1, decay_steps=10), factor=100)", 1100, "steps"),
}

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
        if cls.__module__ in ("lrkit.schedules", "lrkit.compose")
    ]


def _markdown(text: str) -> str:
    """reST markup in docstrings made into Markdown."""
    text = re.sub(r":(?:class|func|mod|meth|data|attr):`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def entry_markdown(name: str) -> str:
    spec, length, unit = EXAMPLES[name]
    cls = lrkit.REGISTRY[name]
    doc = inspect.getdoc(cls) or ""
    paragraphs = doc.split("\n\n")
    parts = [f"### `{name}` {{#{name}}}", _markdown(" ".join(paragraphs[0].split()))]
    parts.append(f"![{name}: {spec}](gallery/{name}.png)")
    formula = re.search(r"\$\$.+?\$\$", doc, re.S)
    if formula:
        parts.append(formula.group())
    parts.append(f"```text\n{spec}\n```")
    qualified = f"{cls.__module__}.{cls.__name__}"
    parts.append(
        f'[`lrkit.{name}`][{qualified}] · in a terminal: `lrkit show "{spec}" --{unit} {length}`'
    )
    return "\n\n".join(parts)


def gallery_markdown() -> str:
    missing = sorted(set(documented_names()) - set(EXAMPLES))
    if missing:
        raise PluginError(f"the gallery has no example for {', '.join(missing)}: add to EXAMPLES")
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
    spec, length, unit = EXAMPLES[name]
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
