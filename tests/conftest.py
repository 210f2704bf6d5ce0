"""Hypothesis profiles. ``make test`` (and so CI) runs the ``ci`` profile: derandomized, so a
gate run draws the same examples every time and cannot fail by chance. A plain ``pytest`` run
draws fresh examples; ``--hypothesis-seed=N`` over many N is the soak that finds new cases
(each one found becomes an explicit test)."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
