"""The documentation: its examples run, and the gallery covers the whole catalogue.

`mkdocs build --strict` itself runs in `make test`; these tests check the parts that can
drift from the code without breaking the build.
"""

from __future__ import annotations

import dataclasses
import doctest
import importlib.util
import inspect
import re
from pathlib import Path
from types import ModuleType

import matplotlib

matplotlib.use("Agg")

import matplotlib.image
import numpy as np
import pytest
import yaml

import lrkit
from lrkit.spec import parse

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: The pages written with the plots, the text form and the CLI (others own the rest).
PAGES = ["index.md", "getting-started.md", "text-form.md", "composition.md", "cli.md"]


@pytest.fixture(scope="module")
def gallery() -> ModuleType:
    pytest.importorskip("mkdocs")
    spec = importlib.util.spec_from_file_location(
        "lrkit_docs_gallery", DOCS / "_hooks" / "gallery.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page: str) -> None:
    result = doctest.testfile(
        str(DOCS / page),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
        verbose=False,
        report=True,
    )
    assert result.failed == 0


#: Framework guides whose examples pytest collects itself (they are in `testpaths`, with
#: `--doctest-glob='*.md'`); keras.md runs in test_keras.py, which sets Keras up for it.
GUIDES = ("torch.md", "jax.md", "compat.md")


def test_every_page_with_examples_is_run() -> None:
    with_examples = {p.name for p in DOCS.glob("*.md") if ">>> " in p.read_text()}
    assert with_examples <= {*PAGES, *GUIDES, "keras.md"}
    testpaths = next(
        line
        for line in (ROOT / "pyproject.toml").read_text().splitlines()
        if line.startswith("testpaths")
    )
    assert all(f'"docs/{page}"' in testpaths for page in GUIDES)


def test_nav_lists_every_page() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    listed: list[str] = []

    def walk(items: object) -> None:
        if isinstance(items, list):
            for item in items:
                walk(item)
        elif isinstance(items, dict):
            for value in items.values():
                walk(value)
        elif isinstance(items, str):
            listed.append(items)

    walk(config["nav"])
    for page in [*PAGES, "gallery.md", "keras.md", "torch.md", "jax.md", "compat.md", "demo.md"]:
        assert page in listed
    for page in listed:
        if page in PAGES or page.startswith("api/"):
            assert (DOCS / page).is_file(), page
    assert not (DOCS / "gallery.md").exists()  # generated at build time, never committed


def test_gallery_has_an_example_for_every_entry(gallery: ModuleType) -> None:
    layers = ("lrkit.schedules", "lrkit.recipes", "lrkit.compose")
    own = [n for n, c in lrkit.REGISTRY.items() if c.__module__ in layers]
    assert gallery.documented_names() == own == list(lrkit.REGISTRY)
    for name in own:
        spec, length, unit = gallery.example(name)
        s = parse(spec)
        assert s.name == name and spec == lrkit.REGISTRY[name].example
        assert parse(str(s)) == s
        assert unit in ("epochs", "steps") and length >= 10


def test_gallery_page(gallery: ModuleType) -> None:
    page = gallery.gallery_markdown()
    for name in gallery.documented_names():
        assert f"### `{name}` {{#{name}}}" in page
        assert f"](gallery/{name}.png)" in page
        assert lrkit.REGISTRY[name].example in page
        for field in dataclasses.fields(lrkit.REGISTRY[name]):  # every argument, in a table
            assert f"| `{field.name}`" in page
        doc = inspect.getdoc(lrkit.REGISTRY[name]) or ""
        formula = re.search(r"\$\$.+?\$\$", doc, re.S)
        if formula:
            assert formula.group() in page
    assert ":class:" not in page and not re.search(r"(?<!`)``(?!`)", page)  # reST made Markdown
    assert page.count("\n## ") == 3


def test_gallery_fails_the_build_when_an_entry_has_no_example(
    gallery: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lrkit.REGISTRY["cosine"], "example", "")
    with pytest.raises(gallery.PluginError, match="no `example` in the definition of cosine"):
        gallery.gallery_markdown()


def test_gallery_image(gallery: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "warmup.png"
    path.write_bytes(gallery.image("warmup"))
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[:2] == (252, 576)
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50


def test_command_output_in_pages(gallery: ModuleType) -> None:
    block = gallery.command_output('show "constant(0.1)" --epochs 5 --height 3')
    assert block.startswith('```console\n$ lrkit show "constant(0.1)" --epochs 5 --height 3\n')
    assert "  0.1  " in block and block.endswith("\n```")
    markdown = gallery.on_page_markdown("a\n<!-- lrkit: list --help -->\nb", None, None, None)
    assert "usage: lrkit list" in markdown and "<!--" not in markdown
    with pytest.raises(gallery.PluginError, match="exited with status 2"):
        gallery.command_output('show "nope(1)"')
