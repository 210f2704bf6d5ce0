"""The schedules of the text task (time in updates): :func:`text_recipe`.

Each starts with the same linear warmup (unless ``warmup=0``) and spans the budget:

- ``constant``: warmup, then the peak held;
- ``cosine``: warmup, then cosine decay to 10% of the peak (the common default);
- ``linear_to_zero``: warmup, then linear decay to 0 (Bergsma et al. 2025);
- ``wsd``: warmup-stable-decay with a 1-sqrt cooldown over the last 20% (Hägele et al. 2024);
- ``inverse_sqrt``: warmup, then peak / sqrt(t / warmup) (Vaswani et al.'s "Noam").

>>> text_recipe("linear_to_zero", updates=1000, peak=0.004, warmup=50)(525)
0.002
"""

from __future__ import annotations

import lrkit
from lrkit import Schedule

__all__ = ["COOLDOWN", "DEFAULT_UPDATES", "FLOOR", "TEXT_RECIPES", "text_recipe"]

TEXT_RECIPES = ("constant", "cosine", "linear_to_zero", "wsd", "inverse_sqrt")
#: Cosine's floor, as a fraction of the peak.
FLOOR = 0.1
#: WSD's cooldown, as a fraction of the budget.
COOLDOWN = 0.2
#: ``lrkit demo --task text``'s budget, in updates.
DEFAULT_UPDATES = 300


def text_recipe(name: str, updates: int, peak: float, warmup: int) -> Schedule:
    """The text task's schedule ``name`` over ``updates`` updates, peaking at ``peak``."""
    if name not in TEXT_RECIPES:
        raise ValueError(f"Argument `name` must be one of {TEXT_RECIPES}. Received: name={name!r}")
    if not 0 <= warmup < updates:
        raise ValueError(f"Argument `warmup` must be in [0, updates). Received: warmup={warmup!r}")
    rest = updates - warmup
    if name == "wsd":
        decay = round(COOLDOWN * updates)
        return lrkit.warmup_stable_decay(
            peak_lr=peak,
            warmup_steps=warmup,
            stable_steps=updates - decay - warmup,
            decay_steps=decay,
            decay_shape="1-sqrt",
        )
    if name == "constant":
        after: Schedule = lrkit.constant(start_lr=peak)
    elif name == "cosine":
        after = lrkit.cosine(start_lr=peak, decay_steps=rest, end_lr=FLOOR * peak)
    elif name == "linear_to_zero":
        after = lrkit.linear_to_zero(start_lr=peak, decay_steps=rest)
    else:
        after = lrkit.inverse_sqrt(start_lr=peak, timescale=max(warmup, 1))
    return lrkit.warmup(after, steps=warmup) if warmup else after
