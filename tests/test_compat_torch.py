"""Parity: lrkit.compat.torch against PyTorch's own schedulers, stepped on a real optimizer.

For every class, random valid parameter sets (seeded) are drawn; PyTorch's scheduler is
stepped on a real ``torch.optim.SGD`` for at least 1,000 steps, and the rate it writes into
``optimizer.param_groups[0]["lr"]`` before each update is compared with ``schedule(k)``.

PyTorch computes most schedulers recursively (from the previous rate), which drifts from
its documented closed form by rounding at every step. Both the ``step()`` sequence (what
training uses) and PyTorch's closed form (``step(epoch)``) are compared, each to 1e-12
relative plus 4 units in the last place of the peak rate, which only matters near zero (see
``test_compat.assert_matches_peer``): over 1,200 steps the drift stays inside that.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from lrkit.compat import torch as ct
from test_compat import EPS64, RTOL64, assert_matches_peer

torch = pytest.importorskip("torch")
S = torch.optim.lr_scheduler

pytestmark = pytest.mark.torch

DRAWS = 10


def peer_rates(
    make: Callable[[Any], Any], steps: int, lr: float, *, closed: bool = False, key: str = "lr"
) -> np.ndarray:
    """``param_groups[0][key]`` before each of ``steps`` updates of a real SGD optimizer."""
    param = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.SGD([param], lr=lr, momentum=0.9)
    scheduler = make(optimizer)
    out = np.empty(steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # step(epoch) is deprecated
        for k in range(steps):
            out[k] = optimizer.param_groups[0][key]
            optimizer.step()
            if closed:
                scheduler.step(k + 1)
            else:
                scheduler.step()
    return out


def base_lr(rng: random.Random) -> float:
    return rng.choice([1.0, 0.1, rng.uniform(1e-4, 1.0)])


def draw_step(rng: random.Random) -> dict[str, Any]:
    return dict(step_size=rng.randint(1, 400), gamma=rng.uniform(0.05, 1.0))


def draw_multistep(rng: random.Random) -> dict[str, Any]:
    k = rng.randint(1, 6)
    return dict(milestones=[rng.randint(0, 1100) for _ in range(k)], gamma=rng.uniform(0.05, 1))


def draw_constant(rng: random.Random) -> dict[str, Any]:
    return dict(factor=rng.uniform(0.01, 1.0), total_iters=rng.randint(1, 1100))


def draw_linear(rng: random.Random) -> dict[str, Any]:
    return dict(
        start_factor=rng.uniform(0.01, 1.0),
        end_factor=rng.choice([0.0, 1.0, rng.uniform(0.0, 1.0)]),
        total_iters=rng.randint(1, 1100),
    )


def draw_exponential(rng: random.Random) -> dict[str, Any]:
    return dict(gamma=rng.uniform(0.99, 1.0))


def draw_polynomial(rng: random.Random) -> dict[str, Any]:
    return dict(total_iters=rng.randint(1, 1100), power=rng.uniform(0.3, 3.0))


def draw_cosine(rng: random.Random) -> dict[str, Any]:
    return dict(T_max=rng.randint(1, 1100), eta_min=rng.choice([0.0, rng.uniform(0, 1e-3)]))


def draw_restarts(rng: random.Random) -> dict[str, Any]:
    return dict(
        T_0=rng.randint(1, 400),
        T_mult=rng.randint(1, 3),
        eta_min=rng.choice([0.0, rng.uniform(0, 1e-4)]),
    )


# class name -> (draw, PyTorch class, compat constructor, has a separate closed form)
MULTIPLIERS: dict[str, tuple[Callable[[random.Random], dict[str, Any]], Any, Any, bool]] = {
    "StepLR": (draw_step, S.StepLR, ct.StepLR, True),
    "MultiStepLR": (draw_multistep, S.MultiStepLR, ct.MultiStepLR, True),
    "ConstantLR": (draw_constant, S.ConstantLR, ct.ConstantLR, True),
    "LinearLR": (draw_linear, S.LinearLR, ct.LinearLR, True),
    "ExponentialLR": (draw_exponential, S.ExponentialLR, ct.ExponentialLR, True),
    "PolynomialLR": (draw_polynomial, S.PolynomialLR, ct.PolynomialLR, True),
    "CosineAnnealingLR": (draw_cosine, S.CosineAnnealingLR, ct.CosineAnnealingLR, True),
    "CosineAnnealingWarmRestarts": (
        draw_restarts,
        S.CosineAnnealingWarmRestarts,
        ct.CosineAnnealingWarmRestarts,
        False,
    ),
}


@pytest.mark.parametrize("name", sorted(MULTIPLIERS))
def test_multiplier_schedulers_match_pytorch(name: str) -> None:
    draw, peer_class, compat, has_closed_form = MULTIPLIERS[name]
    rng = random.Random(name)
    for i in range(DRAWS):
        kwargs, lr, steps = draw(rng), base_lr(rng), rng.randint(1000, 1200)
        ours = compat(**kwargs, base_lr=lr)(np.arange(steps))
        what = f"{name}({kwargs}, lr={lr}) draw {i}"
        recursive = peer_rates(lambda o, kw=kwargs: peer_class(o, **kw), steps, lr)
        assert_matches_peer(ours, recursive, rtol=RTOL64, eps=EPS64, what=what)
        if has_closed_form:
            closed = peer_rates(lambda o, kw=kwargs: peer_class(o, **kw), steps, lr, closed=True)
            assert_matches_peer(ours, closed, rtol=RTOL64, eps=EPS64, what=what + " closed")


def test_multistep_repeated_milestones_compound_like_pytorch() -> None:
    kwargs = dict(milestones=[300, 100, 300, 700, 300, 100], gamma=0.5)
    peer = peer_rates(lambda o: S.MultiStepLR(o, **kwargs), 1000, 0.1)
    ours = ct.MultiStepLR(**kwargs, base_lr=0.1)(np.arange(1000))
    assert_matches_peer(ours, peer, rtol=RTOL64, eps=EPS64, what="MultiStepLR repeats")
    assert ours[300] == pytest.approx(0.1 * 0.5**5, rel=1e-15)


def test_cosine_annealing_held_variant_matches_pytorch_up_to_t_max() -> None:
    rng = random.Random(7)
    for _ in range(DRAWS):
        kwargs, lr = draw_cosine(rng), base_lr(rng)
        steps = kwargs["T_max"] + 1
        ours = ct.CosineAnnealingLR(**kwargs, base_lr=lr, hold_after_T_max=True)
        closed = peer_rates(
            lambda o, kw=kwargs: S.CosineAnnealingLR(o, **kw), steps, lr, closed=True
        )
        np.testing.assert_array_equal(
            ours(np.arange(steps)), closed
        )  # the same formula, bit for bit
        assert ours(steps + 100) == closed[-1]


def draw_cyclic(rng: random.Random) -> dict[str, Any]:
    low = rng.uniform(1e-4, 0.1)
    return dict(
        base_lr=low,
        max_lr=low * rng.uniform(1.0, 20.0),
        step_size_up=rng.randint(1, 300),
        step_size_down=rng.choice([None, rng.randint(1, 300)]),
        mode=rng.choice(["triangular", "triangular2", "exp_range"]),
        gamma=rng.uniform(0.995, 1.0),
    )


def test_cyclic_lr_matches_pytorch() -> None:
    rng = random.Random(11)
    for i in range(DRAWS):
        kwargs, steps = draw_cyclic(rng), rng.randint(1000, 1200)
        ours = ct.CyclicLR(**kwargs)(np.arange(steps))
        peer = peer_rates(lambda o, kw=kwargs: S.CyclicLR(o, **kw), steps, 1.0)
        assert_matches_peer(ours, peer, rtol=RTOL64, eps=EPS64, what=f"CyclicLR({kwargs}) {i}")


def draw_one_cycle(rng: random.Random) -> dict[str, Any]:
    three = rng.random() < 0.4
    kwargs: dict[str, Any] = dict(
        max_lr=rng.uniform(1e-3, 1.0),
        pct_start=rng.uniform(0.01, 0.5 if three else 0.95),
        anneal_strategy=rng.choice(["cos", "linear"]),
        base_momentum=rng.uniform(0.7, 0.9),
        max_momentum=rng.uniform(0.9, 0.99),
        div_factor=rng.uniform(2.0, 100.0),
        final_div_factor=10 ** rng.uniform(1, 5),
        three_phase=three,
    )
    if rng.random() < 0.5:
        kwargs["total_steps"] = rng.randint(1000, 1200)
    else:
        kwargs["epochs"], kwargs["steps_per_epoch"] = rng.randint(5, 8), rng.randint(200, 240)
    return kwargs


def test_one_cycle_lr_and_momentum_match_pytorch() -> None:
    rng = random.Random(13)
    for i in range(DRAWS):
        kwargs = draw_one_cycle(rng)
        total = kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"]
        t = np.arange(total)  # PyTorch's steps 0 .. total_steps - 1 (it raises past total_steps)
        what = f"OneCycleLR({kwargs}) {i}"
        for key, compat in (("lr", ct.OneCycleLR), ("momentum", ct.OneCycleMomentum)):
            peer = peer_rates(lambda o, kw=kwargs: S.OneCycleLR(o, **kw), total, 1.0, key=key)
            assert_matches_peer(compat(**kwargs)(t), peer, rtol=RTOL64, eps=EPS64, what=what + key)


def test_one_cycle_past_the_end_holds_where_pytorch_raises() -> None:
    schedule = ct.OneCycleLR(max_lr=0.1, total_steps=1000)
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    scheduler = S.OneCycleLR(optimizer, max_lr=0.1, total_steps=1000)
    with pytest.raises(ValueError, match="Tried to step 1001 times"):
        for _ in range(1001):
            optimizer.step()
            scheduler.step()
    final = 0.1 / 25 / 1e4
    assert schedule(999) == pytest.approx(final, rel=1e-12)
    assert schedule(1000) == schedule(10**6) == schedule(999)


SEQUENCE_PARTS = list(MULTIPLIERS)


def test_sequential_lr_matches_pytorch() -> None:
    rng = random.Random(17)
    for i in range(DRAWS):
        steps = rng.randint(1000, 1200)
        names = [rng.choice(SEQUENCE_PARTS) for _ in range(rng.randint(2, 3))]
        kwargs = [MULTIPLIERS[n][0](rng) for n in names]
        milestones = sorted(rng.sample(range(1, steps), len(names) - 1))
        lr = base_lr(rng)

        def make(
            optimizer: Any,
            names: list[str] = names,
            kwargs: list[Any] = kwargs,
            milestones: list[int] = milestones,
        ) -> Any:
            parts = [
                MULTIPLIERS[n][1](optimizer, **kw) for n, kw in zip(names, kwargs, strict=True)
            ]
            return S.SequentialLR(optimizer, parts, milestones)

        peer = peer_rates(make, steps, lr)
        parts = [MULTIPLIERS[n][2](**kw, base_lr=lr) for n, kw in zip(names, kwargs, strict=True)]
        ours = ct.SequentialLR(parts, milestones)(np.arange(steps))
        what = f"SequentialLR({list(zip(names, kwargs, strict=True))}, {milestones}, lr={lr}) {i}"
        assert_matches_peer(ours, peer, rtol=RTOL64, eps=EPS64, what=what)


def test_sequential_lr_milestone_zero_skips_the_first_scheduler() -> None:
    def make(optimizer: Any) -> Any:
        parts = [S.ConstantLR(optimizer, 0.5, 10), S.ExponentialLR(optimizer, 0.99)]
        return S.SequentialLR(optimizer, parts, [0])

    peer = peer_rates(make, 1000, 0.1)
    ours = ct.SequentialLR(
        [ct.ConstantLR(0.5, 10, base_lr=0.1), ct.ExponentialLR(0.99, base_lr=0.1)], [0]
    )
    assert_matches_peer(ours(np.arange(1000)), peer, rtol=RTOL64, eps=EPS64, what="milestone 0")


def test_migration_is_one_line_with_the_lrkit_adapter() -> None:
    """Native scheduler vs ``lrkit.torch.LRScheduler`` on the compat schedule, two groups."""
    lrkit_torch = pytest.importorskip("lrkit.torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: threads only spin, badly so on a busy machine
    try:
        check_migration(lrkit_torch)
    finally:
        torch.set_num_threads(threads)


def check_migration(lrkit_torch: Any) -> None:
    def train(make: Callable[[Any], Any], steps: int = 1000) -> np.ndarray:
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
        groups = [
            {"params": model[0].parameters(), "lr": 0.1},
            {"params": model[2].parameters(), "lr": 0.02},
        ]
        optimizer = torch.optim.SGD(groups, lr=0.1, momentum=0.9)
        scheduler = make(optimizer)
        x, y = torch.randn(64, 4), torch.randn(64, 1)
        rates = np.empty((steps, 3))
        for k in range(steps):
            g = optimizer.param_groups
            rates[k] = (g[0]["lr"], g[1]["lr"], g[0]["momentum"])
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
            scheduler.step()
        return rates

    def native_warmup_cosine(o: Any) -> Any:
        parts = [S.LinearLR(o, start_factor=0.01, total_iters=100), S.CosineAnnealingLR(o, 900)]
        return S.SequentialLR(o, parts, milestones=[100])

    def lrkit_warmup_cosine(o: Any) -> Any:
        s = ct.SequentialLR([ct.LinearLR(0.01, total_iters=100), ct.CosineAnnealingLR(900)], [100])
        return lrkit_torch.LRScheduler(o, s, relative=True)

    native, ours = train(native_warmup_cosine), train(lrkit_warmup_cosine)
    for j in (0, 1):
        assert_matches_peer(ours[:, j], native[:, j], rtol=RTOL64, eps=EPS64, what=f"group {j}")

    kwargs = dict(max_lr=0.1, total_steps=1000, pct_start=0.25, three_phase=True)
    native = train(lambda o: S.OneCycleLR(o, **kwargs))
    ours = train(
        lambda o: lrkit_torch.LRScheduler(
            o, ct.OneCycleLR(**kwargs), momentum=ct.OneCycleMomentum(**kwargs)
        )
    )
    for j, what in ((0, "1cycle lr"), (2, "1cycle momentum")):
        assert_matches_peer(ours[:, j], native[:, j], rtol=RTOL64, eps=EPS64, what=what)
