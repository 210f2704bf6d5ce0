"""The built site's own machinery: pages import what they use, docstring examples become code
blocks, and MathJax comes from the site or the build fails. (tests/test_browser.py looks at the
built pages in a real browser.)"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([*(ROOT / "docs").glob("*.md"), ROOT / "README.md"])

#: Names that stand for the reader's own objects in illustrative (not run) blocks.
READER_OBJECTS = {
    "model", "x", "y", "optimizer", "train_dataset",
    # the range test's and a training loop's inputs, and the lengths of the reader's run
    "loss_fn", "loss", "loader", "batches", "params", "x_train", "y_train",
    "epochs", "steps", "total_steps", "longer_plan",
}  # fmt: skip

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)


def code_blocks(markdown: str) -> list[str]:
    """The Python source of each code block of a page, in order (doctests as their source)."""
    blocks = []
    for lang, body in _FENCE.findall(markdown):
        if ">>> " in body:
            lines = [ln[4:] for ln in body.splitlines() if ln.startswith((">>> ", "... "))]
            blocks.append("\n".join(lines))
        elif lang in ("python", "py"):
            blocks.append(body)
    return blocks


def unbound_names(blocks: list[str]) -> list[str]:
    """Names a block reads that neither it nor an earlier block binds (nor Python's builtins)."""
    bound = set(dir(builtins))
    missing: list[str] = []
    for source in blocks:
        tree = ast.parse(source)
        read = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound.add(node.name)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                bound.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bound.add(node.id)
            elif isinstance(node, ast.Name):
                read.append(node.id)
        missing += [n for n in dict.fromkeys(read) if n not in bound and n not in missing]
    return missing


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_imports_what_it_uses(page: Path) -> None:
    assert set(unbound_names(code_blocks(page.read_text()))) <= READER_OBJECTS


def test_unbound_names_finds_a_missing_import() -> None:
    page = "```python\n>>> s = lrkit.cosine(0.1, 10)\n>>> np.asarray(s(0))\n```\n"
    assert unbound_names(code_blocks(page)) == ["lrkit", "np"]
    fixed = "```python\n>>> import numpy as np, lrkit\n```\n" + page
    assert unbound_names(code_blocks(fixed)) == []
    # an import in a later block does not count for an earlier one
    assert unbound_names(code_blocks(page + "```python\nimport lrkit\n```\n")) == ["lrkit", "np"]


def _load(name: str) -> ModuleType:
    pytest.importorskip("mkdocs")
    spec = importlib.util.spec_from_file_location(
        f"lrkit_docs_{name}", ROOT / f"docs/_hooks/{name}.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_doctests_in_docstring_text_become_code_blocks() -> None:
    fence = _load("doctest_blocks").fence_doctests
    # a doctest block runs to the next blank line, as in doctest itself
    text = "Some prose.\n>>> s = f(1)\n>>> s\n0.5\n\nMore prose.\n\n>>> g()"
    assert fence(text) == (
        "Some prose.\n\n```pycon\n>>> s = f(1)\n>>> s\n0.5\n```\n\nMore prose.\n\n"
        "```pycon\n>>> g()\n```"
    )
    assert fence(fence(text)) == fence(text)  # already fenced: left alone
    examples = "Examples:\n    >>> f(1)\n    0.5"  # griffe shows these as code itself
    assert fence(examples) == examples


def test_mathjax_missing_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = _load("mathjax")
    assert (hook.mathjax_root() / hook.ENTRY).is_file()
    assert any(p.name == "ams.js" for p in hook.asset_paths(hook.mathjax_root()))
    monkeypatch.setitem(sys.modules, "mathjax", None)  # the package made unimportable
    with pytest.raises(hook.PluginError, match=r"MathJax is not installed.*pip install"):
        hook.mathjax_root()
