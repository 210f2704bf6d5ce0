"""Doctests see ``lrkit`` and ``np`` without importing them."""

import numpy as np
import pytest

import lrkit


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace: dict) -> None:
    doctest_namespace["lrkit"] = lrkit
    doctest_namespace["np"] = np
