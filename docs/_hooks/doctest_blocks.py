"""griffe extension (mkdocs.yml, mkdocstrings' ``extensions``): docstring examples as code.

A doctest written straight into a docstring's text (``>>> x`` at the left margin, not under an
``Examples:`` heading) is Markdown for a blockquote nested three deep, its lines run together
into one paragraph. This wraps each such block in a ``pycon`` fence, the way griffe already
shows the blocks under ``Examples:``; the docstrings stay plain doctests that pytest runs.
"""

from __future__ import annotations

from typing import Any

import griffe


def _is_prompt(line: str) -> bool:
    return line == ">>>" or line.startswith(">>> ")


def fence_doctests(text: str) -> str:
    """``text`` with every doctest block at the left margin, outside a fence, fenced."""
    lines = text.splitlines()
    out: list[str] = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if in_fence or not _is_prompt(line):
            out.append(line)
            i += 1
            continue
        end = i
        while end < len(lines) and lines[end].strip():  # a doctest block ends at a blank line
            end += 1
        if out and out[-1].strip():
            out.append("")
        out += ["```pycon", *lines[i:end], "```"]
        i = end
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
