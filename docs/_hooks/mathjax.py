"""mkdocs hook: MathJax served from the site itself, so formulas render with no network.

The files come from the ``django-static-mathjax`` wheel on PyPI (MathJax 3.2.2, Apache-2.0;
a plain copy of MathJax's build, importable as ``mathjax``), a ``dev`` extra, so
``pip install -e ".[dev]"`` (and so ``make``) brings them. They are copied into the site under
``javascripts/mathjax/``. Without them the build fails: a site that silently shows raw
``\\(...\\)`` is the failure this hook exists to prevent.

Only what a page can load is copied: ``tex-svg.js`` (TeX in, SVG out: the glyphs are paths,
so no web font has to load) and the folders it loads further pieces from on demand
(TeX extensions, the context menu, the accessibility add-ons).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

#: Where the site serves MathJax from (mkdocs.yml's extra_javascript points here).
SITE_FOLDER = "javascripts/mathjax"
ENTRY = "tex-svg.js"
ON_DEMAND = ("input/tex/extensions", "ui", "a11y", "sre")


def mathjax_root() -> Path:
    """The installed MathJax ``es5`` folder; a PluginError that says how to get it if absent."""
    fix = 'install the docs tools: pip install -e ".[dev]" (it brings django-static-mathjax)'
    try:
        root = Path(str(resources.files("mathjax"))) / "static" / "mathjax" / "es5"
    except ModuleNotFoundError:
        raise PluginError(f"MathJax is not installed, so formulas cannot render: {fix}") from None
    if not (root / ENTRY).is_file():
        raise PluginError(f"MathJax's {ENTRY} is missing under {root}: {fix}")
    return root


def asset_paths(root: Path) -> list[Path]:
    paths = [root / ENTRY]
    for folder in ON_DEMAND:
        paths += sorted(p for p in (root / folder).rglob("*") if p.is_file())
    return paths


def on_files(files: Files, config: Any) -> Files:
    root = mathjax_root()
    for path in asset_paths(root):
        uri = f"{SITE_FOLDER}/{path.relative_to(root).as_posix()}"
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
