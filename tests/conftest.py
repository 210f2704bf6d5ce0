"""Shared test set-up.

Hypothesis profiles: ``make test`` (and so CI) runs the ``ci`` profile: derandomized, so a
gate run draws the same examples every time and cannot fail by chance. A plain ``pytest`` run
draws fresh examples; ``--hypothesis-seed=N`` over many N is the soak that finds new cases
(each one found becomes an explicit test)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

#: Not a test module: the long atheris run, started by hand (it needs the `fuzz` extra).
collect_ignore = ["fuzz_atheris.py"]

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def torch_one_thread() -> Iterator[None]:
    """PyTorch on one thread while a test runs: the tests' models are tiny, one thread is
    fastest, and spare threads only spin on a busy machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
