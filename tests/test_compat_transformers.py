"""Parity: lrkit.compat.transformers against Hugging Face transformers' own schedulers.

For every ``get_scheduler`` type that is a function of the step, random valid arguments
(seeded) are drawn; ``transformers.get_scheduler`` builds its ``LambdaLR`` on a real
``torch.optim.SGD``, which is stepped at least 1,000 times, and the rate it writes into
``optimizer.param_groups[0]["lr"]`` (``lr * lr_lambda(k)``, computed in float64) is compared
with ``schedule(k)`` built with ``base_lr=lr``: 1e-12 relative, plus a few units in the last
place of the peak where the rate is near zero (see ``test_compat.assert_matches_peer``).
The draws run past ``num_training_steps`` too, where the cosine types rise again.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from lrkit.compat import transformers as ch
from test_compat import EPS64, RTOL64, assert_matches_peer

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

pytestmark = pytest.mark.torch

DRAWS = 10


def peer_rates(name: str, lr: float, steps: int, args: dict[str, Any]) -> np.ndarray:
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # wsd warns when both lengths are given
        scheduler = transformers.get_scheduler(name, optimizer, **args)
    out = np.empty(steps)
    for k in range(steps):
        out[k] = optimizer.param_groups[0]["lr"]
        optimizer.step()
        scheduler.step()
    return out


def lengths(rng: random.Random) -> dict[str, Any]:
    warmup = rng.choice([0, 1, rng.randint(1, 300)])
    return dict(num_warmup_steps=warmup, num_training_steps=warmup + rng.randint(100, 800))


def cycles(rng: random.Random) -> dict[str, Any]:
    return {"num_cycles": rng.choice([0.5, rng.uniform(0.1, 3.0)])}


def min_lr(rng: random.Random, lr: float) -> dict[str, Any]:
    if rng.random() < 0.5:
        return {"min_lr": lr * rng.uniform(0.0, 0.5)}
    return {"min_lr_rate": rng.uniform(0.0, 0.5)}


def draw_wsd(rng: random.Random, lr: float) -> dict[str, Any]:
    warmup, decay = rng.choice([0, rng.randint(1, 300)]), rng.randint(1, 400)
    kwargs: dict[str, Any] = dict(
        num_decay_steps=decay,
        warmup_type=rng.choice(["linear", "cosine", "1-sqrt"]),
        decay_type=rng.choice(["linear", "cosine", "1-sqrt"]),
        min_lr_ratio=rng.choice([0.0, rng.uniform(0, 0.5)]),
        num_cycles=rng.choice([0.5, 0.5, rng.uniform(0.1, 2.0)]),
    )
    stable = rng.randint(0, 400)
    args: dict[str, Any] = dict(num_warmup_steps=warmup, scheduler_specific_kwargs=kwargs)
    if rng.random() < 0.5:
        kwargs["num_stable_steps"] = stable
    else:
        args["num_training_steps"] = warmup + decay + stable
    return args


def draw_polynomial(rng: random.Random, lr: float) -> dict[str, Any]:
    args = lengths(rng)
    kwargs = dict(
        lr_end=lr * rng.choice([0.0, 1e-7, rng.uniform(0, 0.9)]), power=rng.uniform(0.3, 3)
    )
    return dict(args, scheduler_specific_kwargs=kwargs)


# type -> draw of get_scheduler's arguments given the optimizer's lr
TYPES: dict[str, Callable[[random.Random, float], dict[str, Any]]] = {
    "linear": lambda rng, lr: lengths(rng),
    "cosine": lambda rng, lr: dict(lengths(rng), scheduler_specific_kwargs=cycles(rng)),
    "cosine_with_restarts": lambda rng, lr: dict(
        lengths(rng), scheduler_specific_kwargs={"num_cycles": rng.randint(1, 6)}
    ),
    "polynomial": draw_polynomial,
    "constant": lambda rng, lr: {},
    "constant_with_warmup": lambda rng, lr: {"num_warmup_steps": rng.randint(0, 600)},
    "inverse_sqrt": lambda rng, lr: dict(
        num_warmup_steps=rng.choice([0, rng.randint(1, 300)]),
        scheduler_specific_kwargs={"timescale": rng.choice([None, rng.randint(1, 2000)])},
    ),
    "cosine_with_min_lr": lambda rng, lr: dict(
        lengths(rng), scheduler_specific_kwargs=dict(cycles(rng), **min_lr(rng, lr))
    ),
    "cosine_warmup_with_min_lr": lambda rng, lr: dict(
        lengths(rng),
        scheduler_specific_kwargs=dict(
            cycles(rng),
            **min_lr(rng, lr),
            warmup_lr_rate=rng.choice([None, rng.uniform(0, 1)]),
        ),
    ),
    "warmup_stable_decay": draw_wsd,
}


def test_every_step_driven_scheduler_type_is_covered() -> None:
    metric_driven = {"reduce_lr_on_plateau", "greedy"}
    assert {t.value for t in transformers.SchedulerType} - metric_driven == set(TYPES)


@pytest.mark.parametrize("name", sorted(TYPES))
def test_transformers_schedulers_match_transformers(name: str) -> None:
    rng = random.Random(name)
    for i in range(DRAWS):
        lr = rng.choice([1.0, 0.1, rng.uniform(1e-4, 1.0)])
        args, steps = TYPES[name](rng, lr), rng.randint(1000, 1200)
        peer = peer_rates(name, lr, steps, args)
        ours = ch.get_scheduler(name, **args, base_lr=lr)(np.arange(steps))
        assert_matches_peer(ours, peer, rtol=RTOL64, eps=EPS64, what=f"{name}({args}, lr={lr}) {i}")


def test_get_scheduler_with_the_optimizer_works_as_written() -> None:
    """transformers' own call, ``get_scheduler(name, optimizer, ...)``, unchanged: two groups
    with different rates, every type, compared with transformers step by step."""
    pytest.importorskip("lrkit.torch")

    def rates(make: Callable[[Any], Any], lrs: list[float], steps: int) -> np.ndarray:
        groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
        optimizer = torch.optim.SGD(groups, lr=lrs[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # wsd warns when both lengths are given
            scheduler = make(optimizer)
        out = np.empty((steps, len(lrs)))
        for k in range(steps):
            out[k] = [g["lr"] for g in optimizer.param_groups]
            optimizer.step()
            scheduler.step()
        return out

    rng = random.Random("get_scheduler(name, optimizer)")
    for name in sorted(TYPES):
        for i in range(3):
            lrs = [rng.choice([0.1, rng.uniform(1e-3, 1.0)]), rng.uniform(1e-4, 0.1)]
            args, steps = TYPES[name](rng, lrs[0]), 1000
            if name == "polynomial":  # lr_end must stay below every group's rate
                args["scheduler_specific_kwargs"]["lr_end"] = min(lrs) * rng.uniform(0, 0.9)
            peer = rates(
                lambda o, a=args, n=name: transformers.get_scheduler(n, o, **a), lrs, steps
            )
            ours = rates(lambda o, a=args, n=name: ch.get_scheduler(n, o, **a), lrs, steps)
            for j in range(len(lrs)):
                what = f"get_scheduler({name!r}, optimizer, {args}) group {j} draw {i}"
                assert_matches_peer(ours[:, j], peer[:, j], rtol=RTOL64, eps=EPS64, what=what)


def test_get_scheduler_refuses_metric_driven_types_with_the_reason() -> None:
    pytest.importorskip("lrkit.torch")
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    for name in ("reduce_lr_on_plateau", "greedy"):
        with pytest.raises(ValueError, match="follows a metric"):
            ch.get_scheduler(name, optimizer)
