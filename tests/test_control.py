"""lrkit.control.Plateau on its own (no framework): the two rules' reduction points, the
state as plain data, and argument checks. The framework tests (test_plateau_torch.py,
test_keras_control.py) compare it with the peers themselves."""

from __future__ import annotations

import json
import math

import pytest

from lrkit.control import Plateau


def reductions(rule: str, patience: int, metrics: list[float]) -> list[bool]:
    p = Plateau(rule=rule, factor=0.5, patience=patience, threshold=0.0, threshold_mode="abs")
    return [p.step(m, [0.1]) for m in metrics]


def test_torch_reduces_on_the_patience_plus_first_bad_epoch_keras_on_the_patience_th() -> None:
    stalled = [1.0, 1.0, 1.0, 1.0, 1.0]  # epoch 0 is the best, then 4 bad epochs
    assert reductions("torch", 2, stalled) == [False, False, False, True, False]
    assert reductions("keras", 2, stalled) == [False, False, True, False, True]


def test_the_rate_multiplies_any_base_and_floors_only_the_reduction() -> None:
    p = Plateau(factor=0.1, patience=0, min_lr=0.01)
    p.step(1.0, [0.1])
    p.step(1.0, [0.1])  # a bad epoch: 0.1 -> 0.01 > eps
    assert p.scales == [0.1]
    assert p.rate(0.5) == pytest.approx(0.05)
    assert p.rate(0.05) == 0.01  # 0.005 floored at min_lr
    assert p.rate(0.001) == 0.001  # a warmup's start below min_lr is kept


def test_state_is_plain_data_and_restores_exactly() -> None:
    a = Plateau(rule="torch", factor=0.5, patience=1, cooldown=2, groups=2)
    for m in [1.0, 0.9, 0.9, 0.9, 0.95]:
        a.step(m, [0.1, 0.01])
    state = json.loads(json.dumps(a.state_dict()))
    b = Plateau(rule="torch", factor=0.5, patience=1, cooldown=2, groups=2)
    b.load_state_dict(state)
    assert b.state_dict() == a.state_dict()
    for m in [0.95, 0.95, 0.95, 0.5]:
        assert a.step(m, [0.1, 0.01]) == b.step(m, [0.1, 0.01])
    assert a.state_dict() == b.state_dict()
    assert Plateau(mode="max").best == -math.inf and Plateau(rule="keras").best is None


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match=r"Argument `factor` must be in \[0, 1\)"):
        Plateau(factor=1.0)
    with pytest.raises(ValueError, match="Argument `rule` must be one of"):
        Plateau(rule="optax")
    with pytest.raises(ValueError, match="must be 'abs' with rule='keras'"):
        Plateau(rule="keras", threshold_mode="rel")
    with pytest.raises(ValueError, match="Argument `patience` must be an integer >= 0"):
        Plateau(patience=-1)
    with pytest.raises(ValueError, match=r"one rate per group \(2\)"):
        Plateau(groups=2).step(1.0, [0.1])
    with pytest.raises(ValueError, match=r"must come from Plateau\.state_dict"):
        Plateau().load_state_dict({"best": 1.0})
    with pytest.raises(ValueError, match="set it to 'min' or 'max'"):
        Plateau(rule="keras", mode="auto").step(1.0, [0.1])
