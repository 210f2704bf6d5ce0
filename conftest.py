"""Docstring doctests in src/ see ``lrkit`` and ``np`` without importing them.

Only docstrings: a page of the docs (``*.md``) is read and copied by people, so its examples
import what they use, and run here with nothing injected (tests/test_docs_site.py checks the
pages' other code blocks the same way)."""

from collections.abc import Iterator

import numpy as np
import pytest

import lrkit


@pytest.fixture(autouse=True)
def _doctest_namespace(request: pytest.FixtureRequest, doctest_namespace: dict) -> Iterator[None]:
    # doctest_namespace lives for the whole session: add the names for this test only.
    injected = {"lrkit": lrkit, "np": np} if request.node.path.suffix == ".py" else {}
    doctest_namespace.update(injected)
    yield
    for name in injected:
        del doctest_namespace[name]
