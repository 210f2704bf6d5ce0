"""`import lrkit` imports NumPy and nothing heavier."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("tensorflow", "keras", "torch", "jax", "jaxlib", "optax", "matplotlib", "yaml", "scipy")


def test_import_lrkit_pulls_no_framework() -> None:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import lrkit"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    imported = {line.split("|")[-1].strip().split(".")[0] for line in out.splitlines()[1:]}
    assert "numpy" in imported and "lrkit" in imported
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))
