"""A Lightning ``Trainer`` for the tests: CPU, one device, no logger, progress bar, model summary
or checkpoints unless asked for."""

from __future__ import annotations

from typing import Any

import pytest


def lightning_trainer(**kwargs: Any) -> Any:
    L = pytest.importorskip("lightning")
    quiet: dict[str, Any] = {
        "accelerator": "cpu",
        "devices": 1,
        "logger": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "enable_checkpointing": False,
    }
    return L.Trainer(**{**quiet, **kwargs})
