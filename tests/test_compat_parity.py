"""Parity of the one-line migration: ``lrkit.torch.LRScheduler(opt, lrkit.compat.torch.X(**kw))``
against ``torch.optim.lr_scheduler.X(opt, **kw)``, for every public class of the pinned torch.

Each draw builds two identical real optimizers (``SGD`` with momentum or ``Adam``, two parameter
groups with different rates), drives one with PyTorch's scheduler and the other with lrkit's
adapter on the compat plan built from the *same* keyword arguments (no extra flag), and reads
every group's ``lr`` and momentum (``betas[0]`` for Adam) before each of 1,000 steps. Per class,
50 argument sets are drawn at random (seeded by the class name), per-group lists included where
PyTorch takes them. The criterion is ``test_compat.assert_matches_peer``: 1e-12 relative plus 4
units in the last place of the column's peak, except that the relative term is 1e-11:
PyTorch's recursive cosine with an ``eta_min`` near the base rate drifts from the exact value
by up to 5.9e-12 relative over 1,000 steps (lrkit's closed form stays within 2.2e-16 of it).

``COVERED`` and ``DIFFERENCES`` together must name every class in
``torch.optim.lr_scheduler.__all__`` (and ``torch.optim.swa_utils.SWALR``): a class added to a
future torch fails ``test_every_public_class_is_covered`` until it is mapped or documented.

``optimizer.step()`` is not called: PyTorch's schedulers set the same rates without it (they
read only their counter and the groups), and skipping it keeps 850,000 steps under a minute.
"""

from __future__ import annotations

import random
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lrkit
from lrkit.compat import torch as ct
from test_compat import EPS64, assert_matches_peer

torch = pytest.importorskip("torch")
lrkit_torch = pytest.importorskip("lrkit.torch")
S = torch.optim.lr_scheduler
SWALR = torch.optim.swa_utils.SWALR

pytestmark = pytest.mark.torch

STEPS = 1000
DRAWS = 50
#: See the module docstring: PyTorch's recursion, not lrkit, sets this bound.
RTOL = 1e-11
DOCS = Path(__file__).parent.parent / "docs" / "compat.md"

Draw = Callable[[random.Random, list[float]], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """How to draw keyword arguments for a class, given the groups' rates."""

    draw: Draw
    peer: Callable[..., Any]
    ours: Callable[..., Any]


# -- the optimizer and the readings --------------------------------------------------------


def make_optimizer(kind: str, lrs: list[float]) -> Any:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)
    return torch.optim.Adam(groups, lr=lrs[0], betas=(0.9, 0.999))


def readings(optimizer: Any, scheduler: Any, steps: int = STEPS) -> np.ndarray:
    """Each group's ``lr`` and momentum (``betas[0]``) before each of ``steps`` updates."""
    groups = optimizer.param_groups
    out = np.empty((steps, 2 * len(groups)))
    with warnings.catch_warnings():
        # optimizer.step() is skipped on purpose (see the module docstring).
        warnings.filterwarnings("ignore", message=r".*`lr_scheduler.step\(\)` before")
        for k in range(steps):
            for j, g in enumerate(groups):
                out[k, 2 * j] = g["lr"]
                out[k, 2 * j + 1] = g["momentum"] if "momentum" in g else g["betas"][0]
            scheduler.step()
    return out


def compare(peer: np.ndarray, ours: np.ndarray, what: str) -> None:
    for col in range(peer.shape[1]):
        label = f"{what} group {col // 2} {'lr' if col % 2 == 0 else 'momentum'}"
        assert_matches_peer(ours[:, col], peer[:, col], rtol=RTOL, eps=EPS64, what=label)


def group_lrs(rng: random.Random) -> list[float]:
    return [rng.choice([0.1, 1.0, rng.uniform(1e-3, 1.0)]), rng.uniform(1e-4, 0.5)]


def maybe_list(rng: random.Random, draw: Callable[[], Any], groups: int = 2) -> Any:
    """One value for every group, or (half the time) a list with one per group."""
    return [draw() for _ in range(groups)] if rng.random() < 0.5 else draw()


# -- draws (valid arguments in lrkit's documented domain) ----------------------------------


def draw_step(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    return dict(step_size=rng.randint(1, 400), gamma=rng.uniform(0.05, 1.0))


def draw_multistep(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    k = rng.randint(1, 6)
    return dict(milestones=[rng.randint(0, 1100) for _ in range(k)], gamma=rng.uniform(0.05, 1))


def draw_constant(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    return dict(factor=rng.uniform(0.01, 1.0), total_iters=rng.randint(1, 1100))


def draw_linear(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    return dict(
        start_factor=rng.uniform(0.01, 1.0),
        end_factor=rng.choice([0.0, 1.0, rng.uniform(0.0, 1.0)]),
        total_iters=rng.randint(1, 1100),
    )


def draw_exponential(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    return dict(gamma=rng.uniform(0.99, 1.0))


def draw_polynomial(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    return dict(total_iters=rng.randint(1, 1100), power=rng.uniform(0.3, 3.0))


def draw_cosine(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    # eta_min is absolute: each group anneals from its own rate to the same floor.
    return dict(T_max=rng.randint(1, 1100), eta_min=rng.choice([0.0, rng.uniform(0, min(lrs))]))


def draw_restarts(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    return dict(
        T_0=rng.randint(1, 400),
        T_mult=rng.randint(1, 3),
        eta_min=rng.choice([0.0, rng.uniform(0, min(lrs))]),
    )


def random_factor_schedule(rng: random.Random) -> lrkit.Schedule:
    """An lrkit schedule of factors, as a LambdaLR user would write it."""
    n = rng.randint(10, 1200)
    return rng.choice(
        [
            lrkit.warmup(lrkit.cosine(1.0, n), steps=rng.randint(1, 100)),
            lrkit.linear(1.0, n, end_lr=rng.uniform(0, 1)),
            lrkit.exponential(1.0, rng.uniform(0.99, 1.0)),
            lrkit.inverse_sqrt(1.0, rng.randint(1, 200)),
        ]
    )


def random_function(rng: random.Random) -> Callable[[int], float]:
    """A plain Python function of the step, as in PyTorch's own docs."""
    n, w = rng.randint(10, 1200), rng.randint(1, 50)
    return rng.choice(
        [
            lambda k: 0.95 ** (k // n),
            lambda k: min(1.0, (k + 1) / w),
            lambda k: 1.0 / (1.0 + k / n),
        ]
    )


def draw_lambda(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    def one() -> Any:
        return random_factor_schedule(rng) if rng.random() < 0.5 else random_function(rng)

    return dict(lr_lambda=maybe_list(rng, one))


def draw_multiplicative(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    def one() -> Any:
        g, n = rng.uniform(0.99, 1.0), rng.randint(1, 300)
        return rng.choice(
            [
                lambda k: g,
                lambda k: 0.5 if k % n == 0 else 1.0,
                lrkit.linear(1.0, rng.randint(10, 1200), end_lr=g),
            ]
        )

    return dict(lr_lambda=maybe_list(rng, one))


def draw_swalr(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    return dict(
        swa_lr=maybe_list(rng, lambda: rng.uniform(0.0, 0.5)),
        anneal_epochs=rng.choice([0, 1, rng.randint(1, 1100)]),
        anneal_strategy=rng.choice(["cos", "linear"]),
    )


def draw_cyclic(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    groups = rng.random() < 0.5
    lows = [rng.uniform(1e-4, 0.1) for _ in lrs]
    highs = [low * rng.uniform(1.0, 20.0) for low in lows]
    mom_lo = [rng.uniform(0.5, 0.9) for _ in lrs]
    mom_hi = [m + rng.uniform(0.0, 0.09) for m in mom_lo]
    kwargs: dict[str, Any] = dict(
        base_lr=lows if groups else lows[0],
        max_lr=highs if groups else highs[0],
        step_size_up=rng.randint(1, 300),
        step_size_down=rng.choice([None, rng.randint(1, 300)]),
        mode=rng.choice(["triangular", "triangular2", "exp_range"]),
        gamma=rng.uniform(0.995, 1.0),
        cycle_momentum=rng.random() < 0.7,
    )
    if rng.random() < 0.7:
        kwargs["base_momentum"] = mom_lo if groups and rng.random() < 0.5 else mom_lo[0]
        kwargs["max_momentum"] = mom_hi if groups and rng.random() < 0.5 else mom_hi[0]
        if isinstance(kwargs["base_momentum"], float) and isinstance(kwargs["max_momentum"], list):
            kwargs["max_momentum"] = [max(m, kwargs["base_momentum"]) for m in mom_hi]
        elif isinstance(kwargs["max_momentum"], float) and isinstance(
            kwargs["base_momentum"], list
        ):
            kwargs["base_momentum"] = [min(m, kwargs["max_momentum"]) for m in mom_lo]
    return kwargs


def draw_one_cycle(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    three = rng.random() < 0.4
    kwargs: dict[str, Any] = dict(
        max_lr=maybe_list(rng, lambda: rng.uniform(1e-3, 1.0)),
        pct_start=rng.uniform(0.01, 0.5 if three else 0.95),
        anneal_strategy=rng.choice(["cos", "linear"]),
        cycle_momentum=rng.random() < 0.8,
        base_momentum=rng.uniform(0.7, 0.9),
        max_momentum=rng.uniform(0.9, 0.99),
        div_factor=rng.uniform(2.0, 100.0),
        final_div_factor=10 ** rng.uniform(1, 5),
        three_phase=three,
    )
    if rng.random() < 0.5:
        kwargs["total_steps"] = rng.randint(STEPS, 1200)
    else:
        kwargs["epochs"], kwargs["steps_per_epoch"] = rng.randint(5, 8), rng.randint(200, 240)
    return kwargs


#: The chainable classes (PyTorch scales the current rate by their ratio), with their draws.
CHAINABLE: dict[str, tuple[Draw, Any, Any]] = {
    "StepLR": (draw_step, S.StepLR, ct.StepLR),
    "MultiStepLR": (draw_multistep, S.MultiStepLR, ct.MultiStepLR),
    "ConstantLR": (draw_constant, S.ConstantLR, ct.ConstantLR),
    "LinearLR": (draw_linear, S.LinearLR, ct.LinearLR),
    "ExponentialLR": (draw_exponential, S.ExponentialLR, ct.ExponentialLR),
    "PolynomialLR": (draw_polynomial, S.PolynomialLR, ct.PolynomialLR),
    "MultiplicativeLR": (draw_multiplicative, S.MultiplicativeLR, ct.MultiplicativeLR),
    # eta_min = 0, and T_max past the run: see DIFFERENCES["ChainedScheduler"].
    "CosineAnnealingLR": (
        lambda rng, lrs: dict(T_max=rng.randint(STEPS, 1500)),
        S.CosineAnnealingLR,
        ct.CosineAnnealingLR,
    ),
}

#: The classes SequentialLR's parts are drawn from.
SEQUENCE_PARTS: dict[str, tuple[Draw, Any, Any]] = {
    **{k: v for k, v in CHAINABLE.items() if k != "CosineAnnealingLR"},
    "CosineAnnealingLR": (draw_cosine, S.CosineAnnealingLR, ct.CosineAnnealingLR),
    "CosineAnnealingWarmRestarts": (
        draw_restarts,
        S.CosineAnnealingWarmRestarts,
        ct.CosineAnnealingWarmRestarts,
    ),
    "LambdaLR": (draw_lambda, S.LambdaLR, ct.LambdaLR),
}


def draw_parts(
    rng: random.Random, lrs: list[float], table: dict[str, tuple[Draw, Any, Any]], n: int
) -> list[tuple[str, dict[str, Any]]]:
    return [(name, table[name][0](rng, lrs)) for name in rng.choices(sorted(table), k=n)]


def draw_chained(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    return dict(schedulers=draw_parts(rng, lrs, CHAINABLE, rng.randint(2, 3)))


def peer_chained(optimizer: Any, schedulers: list[tuple[str, dict[str, Any]]]) -> Any:
    parts = [CHAINABLE[name][1](optimizer, **kw) for name, kw in schedulers]
    return S.ChainedScheduler(parts, optimizer)


def ours_chained(schedulers: list[tuple[str, dict[str, Any]]]) -> Any:
    return ct.ChainedScheduler([CHAINABLE[name][2](**kw) for name, kw in schedulers])


def draw_sequential(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    parts = draw_parts(rng, lrs, SEQUENCE_PARTS, rng.randint(2, 3))
    return dict(schedulers=parts, milestones=sorted(rng.sample(range(1, STEPS), len(parts) - 1)))


def peer_sequential(optimizer: Any, schedulers: Any, milestones: list[int]) -> Any:
    parts = [SEQUENCE_PARTS[name][1](optimizer, **kw) for name, kw in schedulers]
    return S.SequentialLR(optimizer, parts, milestones)


def ours_sequential(schedulers: Any, milestones: list[int]) -> Any:
    return ct.SequentialLR([SEQUENCE_PARTS[name][2](**kw) for name, kw in schedulers], milestones)


# -- the table -------------------------------------------------------------------------------

COVERED: dict[str, Case] = {
    "StepLR": Case(draw_step, S.StepLR, ct.StepLR),
    "MultiStepLR": Case(draw_multistep, S.MultiStepLR, ct.MultiStepLR),
    "ConstantLR": Case(draw_constant, S.ConstantLR, ct.ConstantLR),
    "LinearLR": Case(draw_linear, S.LinearLR, ct.LinearLR),
    "ExponentialLR": Case(draw_exponential, S.ExponentialLR, ct.ExponentialLR),
    "PolynomialLR": Case(draw_polynomial, S.PolynomialLR, ct.PolynomialLR),
    "CosineAnnealingLR": Case(draw_cosine, S.CosineAnnealingLR, ct.CosineAnnealingLR),
    "CosineAnnealingWarmRestarts": Case(
        draw_restarts, S.CosineAnnealingWarmRestarts, ct.CosineAnnealingWarmRestarts
    ),
    "LambdaLR": Case(draw_lambda, S.LambdaLR, ct.LambdaLR),
    "MultiplicativeLR": Case(draw_multiplicative, S.MultiplicativeLR, ct.MultiplicativeLR),
    "CyclicLR": Case(draw_cyclic, S.CyclicLR, ct.CyclicLR),
    "OneCycleLR": Case(draw_one_cycle, S.OneCycleLR, ct.OneCycleLR),
    "SWALR": Case(draw_swalr, SWALR, ct.SWALR),
    "SequentialLR": Case(draw_sequential, peer_sequential, ours_sequential),
    "ChainedScheduler": Case(draw_chained, peer_chained, ours_chained),
}

#: Classes not driven by a compat plan, each with the heading of docs/compat.md that says why
#: (and, for ReduceLROnPlateau, the test below that covers it).
DIFFERENCES: dict[str, str] = {
    "LRScheduler": "the base class: lrkit.torch.LRScheduler is one",
    "ReduceLROnPlateau": "metric-driven: see lrkit.torch.ReduceOnPlateau",
}

#: Classes covered whose parity holds within a documented domain (docs/compat.md).
DOMAINS = ("ChainedScheduler", "SWALR", "SequentialLR", "CyclicLR", "OneCycleLR")


def public_classes() -> set[str]:
    return set(S.__all__) | {"SWALR"}


def test_every_public_class_is_covered() -> None:
    listed = set(COVERED) | set(DIFFERENCES)
    assert not set(COVERED) & set(DIFFERENCES)
    assert public_classes() - listed == set(), "map it in lrkit.compat.torch or document it"
    assert listed - public_classes() == set(), "no longer in torch: drop it from the table"
    page = DOCS.read_text(encoding="utf-8")
    for name in (*DIFFERENCES, *DOMAINS):
        assert re.search(rf"`{name}`", page), f"docs/compat.md must say how {name} differs"


@pytest.mark.parametrize("name", sorted(COVERED))
def test_lrkit_scheduler_sets_the_rates_and_momentum_pytorch_sets(name: str) -> None:
    case = COVERED[name]
    rng = random.Random(name)
    for i in range(DRAWS):
        lrs, kind = group_lrs(rng), rng.choice(["sgd", "adam"])
        kwargs = case.draw(rng, lrs)
        what = f"{name}({kwargs}) on {kind}{lrs} draw {i}"
        optimizer = make_optimizer(kind, lrs)
        peer = readings(optimizer, case.peer(optimizer, **kwargs))
        optimizer = make_optimizer(kind, lrs)
        ours = readings(optimizer, lrkit_torch.LRScheduler(optimizer, case.ours(**kwargs)))
        compare(peer, ours, what)


def test_lrkit_scheduler_is_a_pytorch_scheduler() -> None:
    # DIFFERENCES["LRScheduler"]: the base class itself has no rule to migrate.
    assert issubclass(lrkit_torch.LRScheduler, S.LRScheduler)


def test_plans_need_no_flag_and_keep_absolute_rates_absolute() -> None:
    """The issue's cases: the rate is the group's, and eta_min is PyTorch's absolute floor."""
    for relative in (False, True):  # relative=True, which lrkit 0.x documented, changes nothing
        optimizer = make_optimizer("sgd", [0.1, 0.01])
        plan = ct.CosineAnnealingLR(T_max=50, eta_min=0.001)
        rates = readings(optimizer, lrkit_torch.LRScheduler(optimizer, plan, relative=relative), 51)
        assert rates[0, 0] == pytest.approx(0.1, rel=1e-15)
        assert rates[0, 2] == pytest.approx(0.01, rel=1e-15)
        assert rates[50, 0] == pytest.approx(0.001, rel=1e-12)
        assert rates[50, 2] == pytest.approx(0.001, rel=1e-12)


def test_one_cycle_migration_keeps_its_momentum_cycle() -> None:
    optimizer = make_optimizer("adam", [0.1, 0.1])
    plan = ct.OneCycleLR(max_lr=0.1, total_steps=100)
    rates = readings(optimizer, lrkit_torch.LRScheduler(optimizer, plan), 100)
    assert rates[0, 1] == 0.95 and rates[29, 1] == pytest.approx(0.85, rel=1e-12)


# -- ReduceLROnPlateau: covered by lrkit.torch.ReduceOnPlateau once it is merged --------------


def draw_plateau(rng: random.Random, lrs: list[float]) -> dict[str, Any]:
    return dict(
        mode=rng.choice(["min", "max"]),
        factor=rng.uniform(0.05, 0.9),
        patience=rng.randint(0, 30),
        threshold=rng.choice([0.0, 1e-4, rng.uniform(0, 0.05)]),
        threshold_mode=rng.choice(["rel", "abs"]),
        cooldown=rng.randint(0, 20),
        min_lr=maybe_list(rng, lambda: rng.choice([0.0, rng.uniform(0, 1e-3)])),
        eps=rng.choice([1e-8, 0.0]),
    )


def metrics(rng: random.Random, steps: int) -> list[float]:
    """A loss that improves, stalls and is noisy, with exact ties sometimes."""
    out, value = [], rng.uniform(1, 10)
    for _ in range(steps):
        if rng.random() < 0.3:
            value *= rng.uniform(0.9, 1.0)
        out.append(round(value + rng.choice([0.0, rng.gauss(0, 0.01)]), 4))
    return out


def test_reduce_on_plateau_matches_reduce_lr_on_plateau() -> None:
    plateau = lrkit_torch.ReduceOnPlateau
    rng = random.Random("ReduceLROnPlateau")
    for i in range(DRAWS):
        lrs, kind = group_lrs(rng), rng.choice(["sgd", "adam"])
        kwargs, losses = draw_plateau(rng, lrs), metrics(rng, STEPS)
        out = []
        for make in (S.ReduceLROnPlateau, plateau):
            optimizer = make_optimizer(kind, lrs)
            scheduler = make(optimizer, **kwargs)
            rates = np.empty((STEPS, len(lrs)))
            for k, loss in enumerate(losses):
                rates[k] = [g["lr"] for g in optimizer.param_groups]
                scheduler.step(loss)
            out.append(rates)
        for j in range(len(lrs)):
            what = f"ReduceOnPlateau({kwargs}) group {j} draw {i}"
            assert_matches_peer(out[1][:, j], out[0][:, j], rtol=RTOL, eps=EPS64, what=what)


def warm(step: int) -> float:
    return min(1.0, (step + 1) / 20)


CHECKPOINT_PLANS: list[Callable[[], Any]] = [
    lambda: ct.CosineAnnealingLR(T_max=50, eta_min=0.001),
    lambda: ct.CyclicLR([0.01, 0.001], 0.1, step_size_up=7, mode="triangular2"),
    lambda: ct.OneCycleLR(0.1, total_steps=100, three_phase=True),
    lambda: ct.LambdaLR(warm),
    lambda: ct.MultiplicativeLR(lrkit.linear(1.0, 50, end_lr=0.95)),
    lambda: ct.ChainedScheduler([ct.LinearLR(0.1, total_iters=10), ct.ExponentialLR(0.98)]),
    lambda: ct.SWALR([0.05, 0.01], anneal_epochs=20),
]


@pytest.mark.parametrize("make", CHECKPOINT_PLANS)
def test_plans_resume_from_a_checkpoint_exactly(make: Callable[[], Any], tmp_path: Path) -> None:
    """The state dict of a bound plan saves (weights_only) and resumes step for step."""
    optimizer = make_optimizer("adam", [0.1, 0.02])
    scheduler = lrkit_torch.LRScheduler(optimizer, make())
    readings(optimizer, scheduler, 37)
    torch.save({"scheduler": scheduler.state_dict()}, tmp_path / "ckpt.pt")
    rest = readings(optimizer, scheduler, 40)

    optimizer = make_optimizer("adam", [0.1, 0.02])
    resumed = lrkit_torch.LRScheduler(optimizer, make())
    resumed.load_state_dict(torch.load(tmp_path / "ckpt.pt", weights_only=True)["scheduler"])
    again = readings(optimizer, resumed, 40)
    np.testing.assert_array_equal(again, rest)
