"""The horizon guard (lrkit.control.horizon_problem, lrkit.HorizonWarning) in the torch adapter:
it warns once, with both numbers, their units and the fix, when a schedule ends long before or
after training, and says nothing on correct set-ups."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import lrkit
from lrkit.control import horizon_problem

torch = pytest.importorskip("torch")

from lrkit.torch import LRScheduler, ReduceOnPlateau  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("torch_one_thread")]

SPE, EPOCHS = 391, 10
TOTAL = SPE * EPOCHS  # 3,910 updates


def sgd(groups: int = 1) -> torch.optim.SGD:
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in range(groups)]
    return torch.optim.SGD([{"params": [p], "lr": 0.1} for p in params])


WRONG: dict[str, tuple[dict[str, Any], str]] = {
    # An epoch-length cosine read in steps (torch's default unit="step").
    "epoch schedule read in steps": (
        {"schedule": lrkit.cosine(0.1, EPOCHS)},
        "ends at 10 steps but training runs 3,910 updates: the rate reaches its end value "
        "early.*give unit='epoch' and steps_per_epoch",
    ),
    "steps schedule read in epochs": (
        {"schedule": lrkit.cosine(0.1, TOTAL), "unit": "epoch", "steps_per_epoch": SPE},
        r"ends at 3,910 epochs \(1,528,810 updates\) but training runs 3,910 updates "
        r"\(10 epochs\): the decay never finishes; did you mean a schedule of steps\? .*"
        "unit='step'",
    ),
    "10x shorter": (
        {"schedule": lrkit.warmup(lrkit.cosine(0.1, 291), steps=100)},
        "ends at 391 steps but training runs 3,910 updates: the rate reaches its end value",
    ),
    "10x longer": (
        {"schedule": lrkit.cosine(0.1, 10 * TOTAL)},
        "ends at 39,100 steps but training runs 3,910 updates: the decay never finishes; make "
        "the schedule 3,910 steps long",
    ),
    "10x shorter in epochs": (
        {"schedule": lrkit.cosine(0.1, 1), "unit": "epoch", "steps_per_epoch": SPE},
        r"ends at 1 epochs \(391 updates\) but training runs 3,910 updates \(10 epochs\): "
        "the rate reaches its end value early.*make the schedule 10 epochs long",
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG))
def test_the_guard_fires_once_with_both_numbers_and_the_fix(case: str) -> None:
    kwargs, message = WRONG[case]
    kwargs = dict(kwargs)
    schedule = kwargs.pop("schedule")
    optimizer = sgd(groups=2)
    with pytest.warns(lrkit.HorizonWarning, match=message) as caught:
        scheduler = LRScheduler(optimizer, [schedule, schedule], total_steps=TOTAL, **kwargs)
        assert scheduler.check_horizon(TOTAL) is False  # said once
    assert len(caught) == 1
    assert caught[0].filename == __file__  # points at the user's line


RIGHT: list[tuple[Any, dict[str, Any]]] = [
    (lrkit.cosine(0.1, TOTAL), {}),
    (lrkit.warmup(lrkit.cosine(0.1, TOTAL - 400), steps=400), {}),
    (lrkit.cosine(0.1, EPOCHS), {"unit": "epoch", "steps_per_epoch": SPE}),
    (lrkit.one_cycle_policy(max_lr=0.1, total_steps=TOTAL), {}),
    (lrkit.warmup_stable_decay(0.1, 100, 3000, 810), {}),
    (lrkit.linear(1.0, TOTAL), {"relative": True}),
    (lrkit.constant(0.1), {}),
    (lrkit.inverse_sqrt(0.1, 100), {}),  # no end
    (lrkit.cosine_restarts(0.1, 100), {}),  # no end
    (lrkit.step(0.1, 1000, 0.5), {}),  # no end
    (lrkit.exponential(0.1, 0.5, 100), {}),  # no end
    (lambda t: 0.1 / (1 + t), {}),  # a plain function: no known end
    (lrkit.cosine(0.1, 2000), {}),  # 0.51 of training: a deliberate early end
    (lrkit.cosine(0.1, 5800), {}),  # 1.48 of training: stops a little before the end
    (lrkit.multistep(0.1, [2000, 3000]), {}),
    (lrkit.piecewise_constant([1000, 3000], [0.1, 0.01, 0.001]), {}),
    (lrkit.cosine(0.1, TOTAL), {"accumulation_steps": 4}),  # total_steps counts updates
    (lrkit.cosine(0.1, EPOCHS), {"unit": "epoch"}),  # stepped per epoch: nothing to compare
    (lrkit.parse("warmup(cosine(0.1, 9), steps=1)"), {"unit": "epoch", "steps_per_epoch": SPE}),
    ("per group", {}),
]


@pytest.mark.parametrize("index", range(len(RIGHT)))
def test_the_guard_is_silent_on_correct_set_ups(index: int) -> None:
    schedule, kwargs = RIGHT[index]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if schedule == "per group":
            optimizer = sgd(groups=2)
            inner = LRScheduler(
                optimizer, [lrkit.cosine(0.1, TOTAL), lrkit.constant(0.01)], total_steps=TOTAL
            )
            ReduceOnPlateau(inner, factor=0.5)
        else:
            scheduler = LRScheduler(sgd(), schedule, total_steps=TOTAL, **kwargs)
            assert scheduler.check_horizon(TOTAL) is False


def test_the_message_names_the_epoch_fix_when_epochs_are_known() -> None:
    # What an adapter that knows the epochs (Keras fit) says for an epoch schedule in steps.
    message = horizon_problem(
        EPOCHS, unit="step", steps_per_epoch=SPE, total_steps=TOTAL, epochs=EPOCHS
    )
    assert message is not None
    assert message.endswith(
        "did you mean an epoch schedule? Read it in epochs: give unit='epoch' and "
        "steps_per_epoch=391."
    )


def test_total_steps_is_checked() -> None:
    with pytest.raises(ValueError, match="Argument `total_steps` must be an integer >= 1"):
        LRScheduler(sgd(), lrkit.cosine(0.1, 10), total_steps=0)
