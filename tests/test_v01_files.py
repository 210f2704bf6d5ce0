"""Configs and text forms written by lrkit 0.1 (``tests/fixtures/v0.1``, saved by commit
cedf96c with the values 0.1 computed) still load, to equal schedules with equal values,
although names and argument orders changed since (``onecycle`` is ``one_cycle_policy``;
``linear`` and ``polynomial`` take ``end_lr`` by keyword).

The values were computed on an AVX-512 machine. NumPy picks its ``cos``/``exp``/``power`` kernels
by the CPU's SIMD level, and those differ by an ulp or two (measured: at most 2 ulp, on a machine
without AVX-512), so the values are compared to :data:`MAX_ULP`, not bit for bit: a changed
formula moves them by far more."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import lrkit

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "v0.1" / "schedules.json").read_text())
CASES = FIXTURE["schedules"]
#: NumPy's transcendental kernels differ by this much between SIMD levels (2 measured).
MAX_ULP = 4


def load_quietly(load: object, *args: object) -> lrkit.Schedule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return load(*args)  # type: ignore[operator, no-any-return]


@pytest.mark.parametrize("key", sorted(CASES))
def test_a_v01_file_loads_to_the_same_schedule_and_values(key: str) -> None:
    case = CASES[key]
    from_text = load_quietly(lrkit.parse, case["text"])
    from_json = load_quietly(lrkit.from_config, case["config"])
    from_yaml = load_quietly(lrkit.loads, case["yaml"], "yaml")
    assert from_text == from_json == from_yaml
    t = np.asarray(case["t"])
    np.testing.assert_array_max_ulp(from_json(t), np.asarray(case["values"]), maxulp=MAX_ULP)


def test_an_old_name_warns_once_with_the_new_one() -> None:
    with pytest.warns(DeprecationWarning, match="now 'one_cycle_policy'"):
        s = lrkit.parse(CASES["onecycle"]["text"])
    assert isinstance(s, lrkit.OneCyclePolicy)
    with pytest.warns(DeprecationWarning, match="lrkit.one_cycle_policy"):
        assert lrkit.onecycle is lrkit.OneCyclePolicy  # type: ignore[attr-defined]


def test_an_old_positional_linear_fails_loudly_instead_of_meaning_something_else() -> None:
    # 0.1's order was linear(start_lr, end_lr, decay_steps): a third positional value is refused
    with pytest.raises(TypeError):
        lrkit.linear(0.1, 0.0, 10)  # type: ignore[misc]
    with pytest.raises(lrkit.SpecError, match="at most 2 positional arguments"):
        lrkit.parse("linear(0.1, 0.0, 10)")
