"""Bad arguments raise ValueError/TypeError naming the argument and echoing the value."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import lrkit

C = lrkit.cosine(0.1, 10)
NAN, INF = math.nan, math.inf

# (constructor, kwargs, error, argument named in the message)
BAD: list[tuple[Callable[..., Any], dict[str, Any], type[Exception], str]] = [
    (lrkit.constant, {"start_lr": -0.1}, ValueError, "start_lr"),
    (lrkit.constant, {"start_lr": NAN}, ValueError, "start_lr"),
    (lrkit.constant, {"start_lr": INF}, ValueError, "start_lr"),
    (lrkit.constant, {"start_lr": "0.1"}, TypeError, "start_lr"),
    (lrkit.constant, {"start_lr": None}, TypeError, "start_lr"),
    (lrkit.constant, {"start_lr": True}, TypeError, "start_lr"),
    (lrkit.constant, {"start_lr": 10**400}, ValueError, "start_lr"),
    (lrkit.constant, {"start_lr": [0.1]}, TypeError, "start_lr"),
    (lrkit.time_based_decay, {"start_lr": 0.1, "decay": -0.1}, ValueError, "decay"),
    (lrkit.time_based_decay, {"start_lr": 0.1, "decay": "fast"}, TypeError, "decay"),
    (lrkit.exponential_decay, {"start_lr": 0.1, "exp_decay": -1}, ValueError, "exp_decay"),
    (lrkit.exponential_decay, {"start_lr": -1, "exp_decay": 1}, ValueError, "start_lr"),
    (
        lrkit.constant_then_exponential_decay,
        {"start_lr": 0.1, "rampup_epochs": -5, "exp_decay": 0.1},
        ValueError,
        "rampup_epochs",
    ),
    (
        lrkit.constant_then_exponential_decay,
        {"start_lr": 0.1, "rampup_epochs": 5, "exp_decay": 0.1, "continuous": "yes"},
        TypeError,
        "continuous",
    ),
    (
        lrkit.one_cycle,
        dict(
            start_lr=1e-4,
            min_lr=1e-3,
            max_lr=1e-4,
            rampup_epochs=10,
            sustain_epochs=0,
            exp_decay=0.8,
        ),
        ValueError,
        "min_lr",
    ),
    (
        lrkit.one_cycle,
        dict(
            start_lr=1e-4,
            min_lr=1e-5,
            max_lr=1e-3,
            rampup_epochs=10,
            sustain_epochs=0,
            exp_decay=1.5,
        ),
        ValueError,
        "exp_decay",
    ),
    (
        lrkit.one_cycle,
        dict(
            start_lr=1e-4,
            min_lr=1e-5,
            max_lr=1e-3,
            rampup_epochs=-1,
            sustain_epochs=0,
            exp_decay=0.8,
        ),
        ValueError,
        "rampup_epochs",
    ),
    (
        lrkit.one_cycle,
        dict(
            start_lr=1e-4,
            min_lr=1e-5,
            max_lr=1e-3,
            rampup_epochs=1,
            sustain_epochs=NAN,
            exp_decay=0.8,
        ),
        ValueError,
        "sustain_epochs",
    ),
    (lrkit.step, {"start_lr": 0.1, "step_size": 0}, ValueError, "step_size"),
    (lrkit.step, {"start_lr": 0.1, "step_size": -3}, ValueError, "step_size"),
    (lrkit.step, {"start_lr": 0.1, "step_size": 3, "gamma": 1.5}, ValueError, "gamma"),
    (lrkit.multistep, {"start_lr": 0.1, "milestones": []}, ValueError, "milestones"),
    (lrkit.multistep, {"start_lr": 0.1, "milestones": [30, 10]}, ValueError, "milestones"),
    (lrkit.multistep, {"start_lr": 0.1, "milestones": [10, 10]}, ValueError, "milestones"),
    (lrkit.multistep, {"start_lr": 0.1, "milestones": "10,20"}, TypeError, "milestones"),
    (lrkit.multistep, {"start_lr": 0.1, "milestones": [10, None]}, TypeError, "milestones[1]"),
    (lrkit.multistep, {"start_lr": 0.1, "milestones": [-1, 3]}, ValueError, "milestones[0]"),
    (lrkit.multistep, {"start_lr": 0.1, "milestones": [1], "gamma": -1}, ValueError, "gamma"),
    (lrkit.piecewise_constant, {"boundaries": [10], "values": [0.1]}, ValueError, "values"),
    (
        lrkit.piecewise_constant,
        {"boundaries": [20, 10], "values": [1, 2, 3]},
        ValueError,
        "boundaries",
    ),
    (
        lrkit.piecewise_constant,
        {"boundaries": [10], "values": [0.1, -0.1]},
        ValueError,
        "values[1]",
    ),
    (
        lrkit.piecewise_constant,
        {"boundaries": [10], "values": [1, 2], "closed": "both"},
        ValueError,
        "closed",
    ),
    (lrkit.piecewise_constant, {"boundaries": None, "values": [1]}, TypeError, "boundaries"),
    (lrkit.linear, {"start_lr": 0.1, "end_lr": 0.0, "decay_steps": 0}, ValueError, "decay_steps"),
    (lrkit.linear, {"start_lr": 0.1, "end_lr": -0.1, "decay_steps": 5}, ValueError, "end_lr"),
    (lrkit.linear_to_zero, {"start_lr": 0.1, "decay_steps": -5}, ValueError, "decay_steps"),
    (
        lrkit.polynomial,
        {"start_lr": 0.1, "end_lr": 0, "decay_steps": 5, "power": 0},
        ValueError,
        "power",
    ),
    (
        lrkit.polynomial,
        {"start_lr": 0.1, "end_lr": 0, "decay_steps": 5, "cycle": 1},
        TypeError,
        "cycle",
    ),
    (lrkit.inverse_time, {"start_lr": 0.1, "decay_rate": -1}, ValueError, "decay_rate"),
    (
        lrkit.inverse_time,
        {"start_lr": 0.1, "decay_rate": 1, "decay_steps": 0},
        ValueError,
        "decay_steps",
    ),
    (lrkit.exponential, {"start_lr": 0.1, "decay_rate": 0}, ValueError, "decay_rate"),
    (lrkit.exponential, {"start_lr": 0.1, "decay_rate": 1.5}, ValueError, "end_lr"),
    (lrkit.exponential, {"start_lr": 0.1, "decay_rate": 0.5, "end_lr": -1}, ValueError, "end_lr"),
    (
        lrkit.exponential,
        {"start_lr": 0.1, "decay_rate": 0.5, "staircase": None},
        TypeError,
        "staircase",
    ),
    (lrkit.cosine, {"start_lr": 0.1, "decay_steps": 0}, ValueError, "decay_steps"),
    (lrkit.cosine, {"start_lr": 0.1, "decay_steps": INF}, ValueError, "decay_steps"),
    (lrkit.cosine, {"start_lr": 0.1, "decay_steps": 10, "exponent": 0}, ValueError, "exponent"),
    (lrkit.cosine, {"start_lr": 0.1, "decay_steps": 10, "end_lr": NAN}, ValueError, "end_lr"),
    (lrkit.one_minus_sqrt, {"start_lr": 0.1, "decay_steps": -1}, ValueError, "decay_steps"),
    (
        lrkit.tanh_decay,
        {"start_lr": 0.1, "decay_steps": 10, "lower": 3, "upper": -6},
        ValueError,
        "upper",
    ),
    (lrkit.tanh_decay, {"start_lr": 0.1, "decay_steps": 10, "end_lr": 0.2}, ValueError, "end_lr"),
    (lrkit.inverse_sqrt, {"start_lr": 0.1, "timescale": 0}, ValueError, "timescale"),
    (lrkit.noam, {"d_model": 0, "warmup_steps": 100}, ValueError, "d_model"),
    (lrkit.noam, {"d_model": 512, "warmup_steps": 0}, ValueError, "warmup_steps"),
    (
        lrkit.cosine_restarts,
        {"start_lr": 0.1, "first_decay_steps": 0},
        ValueError,
        "first_decay_steps",
    ),
    (
        lrkit.cosine_restarts,
        {"start_lr": 0.1, "first_decay_steps": 10, "t_mul": 0.5},
        ValueError,
        "t_mul",
    ),
    (
        lrkit.cosine_restarts,
        {"start_lr": 0.1, "first_decay_steps": 10, "m_mul": 2},
        ValueError,
        "m_mul",
    ),
    (
        lrkit.cosine_restarts,
        {"start_lr": 0.1, "first_decay_steps": 10, "end_lr": 0.5},
        ValueError,
        "end_lr",
    ),
    (lrkit.cyclic, {"base_lr": 0.01, "max_lr": 0.001}, ValueError, "base_lr"),
    (lrkit.cyclic, {"base_lr": 0.001, "max_lr": 0.01, "mode": "sine"}, ValueError, "mode"),
    (
        lrkit.cyclic,
        {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 0},
        ValueError,
        "step_size_up",
    ),
    (
        lrkit.cyclic,
        {"base_lr": 0.001, "max_lr": 0.01, "step_size_down": -2},
        ValueError,
        "step_size_down",
    ),
    (lrkit.cyclic, {"base_lr": 0.001, "max_lr": 0.01, "gamma": 0}, ValueError, "gamma"),
    (lrkit.one_cycle_policy, {"max_lr": 0.1, "total_steps": 0}, ValueError, "total_steps"),
    (
        lrkit.one_cycle_policy,
        {"max_lr": 0.1, "total_steps": 100, "pct_start": 1.0},
        ValueError,
        "pct_start",
    ),
    (
        lrkit.one_cycle_policy,
        {"max_lr": 0.1, "total_steps": 100, "pct_start": 0.6, "three_phase": True},
        ValueError,
        "pct_start",
    ),
    (
        lrkit.one_cycle_policy,
        {"max_lr": 0.1, "total_steps": 100, "div_factor": 0},
        ValueError,
        "div_factor",
    ),
    (
        lrkit.one_cycle_policy,
        {"max_lr": 0.1, "total_steps": 100, "anneal": "cosine"},
        ValueError,
        "anneal",
    ),
    (lrkit.one_cycle_policy, {"max_lr": -0.1, "total_steps": 100}, ValueError, "max_lr"),
    (
        lrkit.warmup_stable_decay,
        dict(peak_lr=0.1, warmup_steps=-1, stable_steps=5, decay_steps=5),
        ValueError,
        "warmup_steps",
    ),
    (
        lrkit.warmup_stable_decay,
        dict(peak_lr=0.1, warmup_steps=1, stable_steps=5, decay_steps=0),
        ValueError,
        "decay_steps",
    ),
    (
        lrkit.warmup_stable_decay,
        dict(peak_lr=0.1, warmup_steps=1, stable_steps=5, decay_steps=5, decay_shape="sqrt"),
        ValueError,
        "decay_shape",
    ),
    (
        lrkit.warmup_stable_decay,
        dict(peak_lr=0.1, warmup_steps=1, stable_steps=5, decay_steps=5, end_lr=0.2),
        ValueError,
        "end_lr",
    ),
    (lrkit.warmup, {"schedule": 0.1, "steps": 5}, TypeError, "schedule"),
    (lrkit.warmup, {"schedule": C, "steps": -5}, ValueError, "steps"),
    (lrkit.warmup, {"schedule": C, "steps": 5, "shape": "quadratic"}, ValueError, "shape"),
    (lrkit.warmup, {"schedule": C, "steps": 5, "shape": "exponential"}, ValueError, "start_lr"),
    (
        lrkit.warmup,
        {"schedule": lrkit.constant(0.0), "steps": 5, "shape": "exponential", "start_lr": 0.1},
        ValueError,
        "schedule",
    ),
    (lrkit.Join, {"schedules": [], "boundaries": []}, ValueError, "schedules"),
    (lrkit.Join, {"schedules": [C, C], "boundaries": []}, ValueError, "boundaries"),
    (lrkit.Join, {"schedules": [C, C, C], "boundaries": [10, 5]}, ValueError, "boundaries"),
    (lrkit.Join, {"schedules": [C, C], "boundaries": [0]}, ValueError, "boundaries"),
    (lrkit.Join, {"schedules": [C, "cosine"], "boundaries": [5]}, TypeError, "schedules[1]"),
    (lrkit.join, {"schedules": [None], "boundaries": []}, ValueError, "schedules"),
    (lrkit.restarts, {"schedule": C, "period": 0}, ValueError, "period"),
    (lrkit.restarts, {"schedule": C, "period": 10, "period_mul": 0.9}, ValueError, "period_mul"),
    (
        lrkit.restarts,
        {"schedule": C, "period": 10, "amplitude_mul": -0.5},
        ValueError,
        "amplitude_mul",
    ),
    (lrkit.restarts, {"schedule": "cosine", "period": 10}, TypeError, "schedule"),
    (lrkit.scale, {"schedule": lrkit.Cosine, "factor": 2}, TypeError, "schedule"),
    (lrkit.scale, {"schedule": C, "factor": -1}, ValueError, "factor"),
    (lrkit.clip, {"schedule": C}, ValueError, "min_lr"),
    (lrkit.clip, {"schedule": C, "min_lr": 0.2, "max_lr": 0.1}, ValueError, "min_lr"),
    (lrkit.shift, {"schedule": C, "delay": NAN}, ValueError, "delay"),
    (lrkit.staircase, {"schedule": C, "step_size": 0}, ValueError, "step_size"),
    (lrkit.stretch, {"schedule": C, "factor": 0}, ValueError, "factor"),
    (lrkit.FunctionSchedule, {"fn": 3}, TypeError, "fn"),
]


@pytest.mark.parametrize(
    ("factory", "kwargs", "error", "argument"),
    BAD,
    ids=[f"{f.__name__}-{a}-{i}" for i, (f, _, _, a) in enumerate(BAD)],
)
def test_bad_argument(
    factory: Callable[..., Any], kwargs: dict[str, Any], error: type[Exception], argument: str
) -> None:
    with pytest.raises(error) as info:
        factory(**kwargs)
    message = str(info.value)
    assert f"`{argument}`" in message or f"{argument}=" in message, message
    if argument in kwargs and error is ValueError and argument.isidentifier():
        assert f"{argument}=" in message, message  # the value is echoed


def test_at_least_sixty_cases() -> None:
    assert len(BAD) >= 60


def test_messages_read_like_keras() -> None:
    with pytest.raises(
        ValueError, match=r"^Argument `decay` must be >= 0\. Received: decay=-0\.1$"
    ):
        lrkit.time_based_decay(0.1, -0.1)


def test_bad_config_and_bad_time() -> None:
    with pytest.raises(ValueError, match="Unknown schedule name 'cosinus'"):
        lrkit.from_config({"name": "cosinus", "start_lr": 0.1})
    with pytest.raises(ValueError, match="Unknown argument"):
        lrkit.from_config({"name": "cosine", "start_lr": 0.1, "decay_steps": 5, "warm": 1})
    with pytest.raises(ValueError, match="needs a `name`"):
        lrkit.from_config({"start_lr": 0.1})
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="finite time"):
            C(bad)
    with pytest.raises(TypeError):
        C("5")
    with pytest.raises(TypeError):
        C(True)
    with pytest.raises(TypeError):
        C(np.array(["a"]))


def test_no_assert_in_the_library() -> None:
    from pathlib import Path

    src = Path(lrkit.__file__).parent
    offenders = [p.name for p in src.rglob("*.py") if "\n    assert " in p.read_text()]
    assert offenders == []
