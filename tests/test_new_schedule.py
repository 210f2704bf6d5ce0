"""Adding a schedule touches its own definition (and one reference test): defined here, in
this file alone, a toy schedule is found by the registry, the text form, configs, the CLI's
``lrkit list``, the docs gallery build and the property tests."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit
from lrkit import _params as p
from lrkit.cli import main
from strategies import instances
from test_properties import check_all

DOCS_HOOK = Path(__file__).parents[1] / "docs" / "_hooks" / "gallery.py"


def define_toy() -> type[lrkit.Schedule]:
    @dataclasses.dataclass(frozen=True, repr=False)
    class ToyRise(lrkit.Schedule, name="toy_rise"):
        r"""A toy that rises to twice its start over ``period``, then holds.

        $$\eta(t) = \eta_0 \left(1 + \min(t, T)/T\right)$$

        Examples:
            >>> s = lrkit.REGISTRY["toy_rise"](start_lr=0.1, period=10)
            >>> s(0), s(10)
            (0.1, 0.2)
        """

        example: ClassVar[str] = "toy_rise(start_lr=0.1, period=10)"

        start_lr: float = p.rate(r"$\eta_0$.")
        period: float = p.length("$T$.")

        def _f(self, t: Any, ops: Any) -> Any:
            return self.start_lr * (1.0 + ops.minimum(t, self.period) / self.period)

        @property
        def duration(self) -> float | None:
            return self.period

    return ToyRise


@pytest.fixture(scope="module")
def toy() -> Iterator[type[lrkit.Schedule]]:
    cls = define_toy()
    cls.__qualname__ = "ToyRise"
    globals()["ToyRise"] = cls  # where pickle looks for it, as for a class defined at the top
    yield cls
    del lrkit.REGISTRY["toy_rise"], globals()["ToyRise"]  # the registry as other tests know it


def reference(t: float) -> float:
    return 0.1 * (1 + min(t, 10) / 10)


def test_registry_text_form_and_config(toy: type[lrkit.Schedule]) -> None:
    assert lrkit.REGISTRY["toy_rise"] is toy
    s = lrkit.parse("toy_rise(0.1, 10)")
    assert isinstance(s, toy) and str(s) == "toy_rise(start_lr=0.1, period=10)"
    assert lrkit.from_config(s.to_config()) == s
    assert lrkit.loads(lrkit.dumps(s)) == s
    np.testing.assert_allclose(s(np.arange(20.0)), [reference(t) for t in range(20)])


def test_declared_arguments_check_document_and_name_config_errors(
    toy: type[lrkit.Schedule],
) -> None:
    with pytest.raises(ValueError, match=r"Argument `period` must be > 0\. Received: period=0"):
        toy(0.1, 0)
    assert "period: a number > 0. $T$." in (toy.__doc__ or "")
    with pytest.raises(ValueError, match=r"needs argument\(s\) period"):
        lrkit.from_config({"name": "toy_rise", "start_lr": 0.1})
    with pytest.raises(ValueError, match=r"Unknown argument\(s\) .periode."):
        lrkit.from_config({"name": "toy_rise", "start_lr": 0.1, "period": 1, "periode": 2})


def test_lrkit_list_shows_it(toy: type[lrkit.Schedule]) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["list"]) == 0
    assert "toy_rise(start_lr, period)" in out.getvalue()
    assert "A toy that rises" in out.getvalue()


def test_the_docs_gallery_draws_it(toy: type[lrkit.Schedule]) -> None:
    pytest.importorskip("mkdocs")
    spec = importlib.util.spec_from_file_location("gallery_hook", DOCS_HOOK)
    assert spec is not None and spec.loader is not None
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    toy.__module__ = "lrkit.schedules"  # as if it were defined there, among the leaves
    try:
        page = gallery.gallery_markdown()
        png = gallery.image("toy_rise")
    finally:
        toy.__module__ = __name__
    assert "### `toy_rise`" in page and "toy_rise(start_lr=0.1, period=10)" in page
    assert "| `period` | a number > 0 | required | $T$. |" in page
    assert png.startswith(b"\x89PNG")


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_the_property_tests_draw_it(toy: type[lrkit.Schedule], data: st.DataObject) -> None:
    check_all(data.draw(instances(toy, st.nothing())))
