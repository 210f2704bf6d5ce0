"""lrkit.torch.ReduceOnPlateau on real torch.optim optimizers (and a real Lightning Trainer.fit):
PyTorch's own ReduceLROnPlateau as the reference on a constant, an independent replay of its
rule on warmup -> cosine, exact save/resume; the competing-scheduler warning; plain functions
checked; the horizon guard.

References are written here from PyTorch's documented rule (or are PyTorch itself), never
read from lrkit."""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import lrkit  # noqa: E402
from lightning_support import lightning_trainer  # noqa: E402
from lrkit.torch import LRScheduler, ReduceOnPlateau  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("torch_one_thread")]


def sgd(lr: float = 1.0, groups: int = 1) -> torch.optim.SGD:
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in range(groups)]
    return torch.optim.SGD([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(params)])


@pytest.fixture
def no_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def torch_rule_factors(
    metrics: list[float],
    rates_before: Callable[[int, float], float],
    *,
    factor: float,
    patience: int,
    threshold: float = 1e-4,
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
) -> list[float]:
    """The factor in force after each epoch, by PyTorch's documented rule (mode min, rel):
    better if metric < best * (1 - threshold); reduce when num_bad_epochs > patience, applied
    only if the rate falls by more than eps; bad epochs reset in cooldown."""
    best, bad, cool, c, out = math.inf, 0, 0, 1.0, []
    for epoch, m in enumerate(metrics):
        if m < best * (1 - threshold):
            best, bad = m, 0
        else:
            bad += 1
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            old = rates_before(epoch, c)
            if old - max(old * factor, min_lr) > eps:
                c *= factor
            cool, bad = cooldown, 0
        out.append(c)
    return out


# -- the peer on a constant ----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(25))
def test_on_an_optimizer_alone_equals_pytorchs_reduce_lr_on_plateau(seed: int) -> None:
    rng = random.Random(seed)
    kwargs = {
        "mode": rng.choice(["min", "max"]),
        "factor": rng.choice([0.1, 0.5, 0.9]),
        "patience": rng.randint(0, 3),
        "threshold": rng.choice([0.0, 1e-4, 0.05]),
        "threshold_mode": rng.choice(["rel", "abs"]),
        "cooldown": rng.randint(0, 2),
        "min_lr": rng.choice([0.0, 0.01, [0.02, 0.3]]),
        "eps": rng.choice([1e-8, 1e-3]),
    }
    metrics = [round(rng.uniform(0, 1), rng.choice([1, 3])) for _ in range(40)]
    theirs_opt, ours_opt = sgd(0.1, groups=2), sgd(0.1, groups=2)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
    ours = ReduceOnPlateau(ours_opt, **kwargs)
    for m in metrics:
        theirs_opt.step()
        ours_opt.step()
        theirs.step(m)
        ours.step(m)
        want = [g["lr"] for g in theirs_opt.param_groups]
        assert [g["lr"] for g in ours_opt.param_groups] == pytest.approx(want, rel=1e-12)
        assert (ours.num_bad_epochs, ours.cooldown_counter) == (
            theirs.num_bad_epochs,
            theirs.cooldown_counter,
        )


# -- warmup -> cosine -> plateau -----------------------------------------------------------

SPE, EPOCHS = 10, 14
SCHEDULE = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=SPE * 12), steps=SPE * 2)
STALLED = [1.0, 0.8, 0.7] + [0.7] * 11  # stops improving after epoch 2


def reference_warmup_cosine(k: int) -> float:
    """Linear warmup over 20 updates, then cosine from 0.1 to 0 over 120 (written out)."""
    if k < 2 * SPE:
        return 0.1 * k / (2 * SPE)
    t = min(k - 2 * SPE, 12 * SPE)
    return 0.05 * (1 + math.cos(math.pi * t / (12 * SPE)))


def train(plateau: ReduceOnPlateau, optimizer: torch.optim.Optimizer, epochs: range) -> list[float]:
    model_weight = optimizer.param_groups[0]["params"][0]
    rates = []
    for epoch in epochs:
        for _ in range(SPE):
            rates.append(optimizer.param_groups[0]["lr"])
            model_weight.grad = torch.ones_like(model_weight)
            optimizer.step()
            plateau.scheduler.step()
        plateau.step(STALLED[epoch])
    return rates


def test_warmup_cosine_plateau_in_a_plain_loop_equals_the_rule() -> None:
    optimizer = sgd()
    plateau = ReduceOnPlateau(LRScheduler(optimizer, SCHEDULE), factor=0.5, patience=2)
    assert plateau.advance is False  # a per-update schedule: step(metric) only sets the factor
    rates = train(plateau, optimizer, range(EPOCHS))

    factors = torch_rule_factors(
        STALLED,
        lambda e, c: reference_warmup_cosine((e + 1) * SPE) * c,
        factor=0.5,
        patience=2,
    )
    in_force = [1.0, *factors[:-1]]  # epoch e runs with the factor set after epoch e - 1
    expected = [reference_warmup_cosine(k) * in_force[k // SPE] for k in range(EPOCHS * SPE)]
    assert rates == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert min(in_force) < 1.0  # it did reduce
    assert plateau.factors == [factors[-1]]


def test_plateau_state_survives_save_and_resume_exactly(tmp_path: Path) -> None:
    whole_opt = sgd()
    whole = ReduceOnPlateau(LRScheduler(whole_opt, SCHEDULE), factor=0.5, patience=2, cooldown=1)
    expected = train(whole, whole_opt, range(EPOCHS))

    first_opt = sgd()
    first = ReduceOnPlateau(LRScheduler(first_opt, SCHEDULE), factor=0.5, patience=2, cooldown=1)
    before = train(first, first_opt, range(6))
    torch.save({"scheduler": first.state_dict(), "opt": first_opt.state_dict()}, tmp_path / "c")

    saved = torch.load(tmp_path / "c", weights_only=True)  # plain types only
    second_opt = sgd()
    second = ReduceOnPlateau(LRScheduler(second_opt, SCHEDULE), factor=0.5, patience=2, cooldown=1)
    second_opt.load_state_dict(saved["opt"])
    second.load_state_dict(saved["scheduler"])
    assert second.state_dict() == first.state_dict()
    after = train(second, second_opt, range(6, EPOCHS))
    assert before + after == expected  # exactly: the same closed form at the same state


def test_load_refuses_other_options() -> None:
    a = ReduceOnPlateau(sgd(), factor=0.5)
    b = ReduceOnPlateau(sgd(), factor=0.25)
    with pytest.raises(ValueError, match=r"factor: saved 0\.5, given 0\.25"):
        b.load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match=r"must come from lrkit\.torch\.ReduceOnPlateau"):
        b.load_state_dict({"best": 1.0})


def test_epoch_schedule_is_advanced_by_step_metric() -> None:
    optimizer = sgd()
    s = lrkit.cosine(start_lr=0.1, decay_steps=10)
    plateau = ReduceOnPlateau(LRScheduler(optimizer, s, unit="epoch"), factor=0.1, patience=0)
    assert plateau.advance is True
    rates = []
    for m in [1.0, 1.0, 0.5, 0.5]:
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        plateau.step(m)
    c = [1.0, 1.0, 0.1, 0.1]  # bad epoch 1 (> patience 0) -> 0.1 from epoch 2; 0.5 improves
    expected = [0.05 * (1 + math.cos(math.pi * e / 10)) * c[e] for e in range(4)]
    assert rates == pytest.approx(expected, rel=1e-12)


def test_argument_errors() -> None:
    with pytest.raises(TypeError, match=r"must be an lrkit\.torch\.LRScheduler or a torch"):
        ReduceOnPlateau(torch.optim.lr_scheduler.StepLR(sgd(), 2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Argument `factor` must be in \[0, 1\)"):
        ReduceOnPlateau(sgd(), factor=1.0)
    with pytest.raises(ValueError, match="Argument `mode` must be"):
        ReduceOnPlateau(sgd(), mode="auto")
    with pytest.raises(ValueError, match="Argument `min_lr` must have one value per"):
        ReduceOnPlateau(sgd(groups=2), min_lr=[0.1])
    inner = LRScheduler(sgd(), SCHEDULE)
    ReduceOnPlateau(inner)
    with pytest.raises(ValueError, match="already wrapped"):
        ReduceOnPlateau(inner)
    with pytest.raises(TypeError, match="takes the monitored metric"):
        ReduceOnPlateau(sgd()).step()


# -- Lightning --------------------------------------------------------------------------


def lightning_module(epochs_planned: int) -> Any:
    L = pytest.importorskip("lightning")

    class Stalls(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(4, 1)
            self.seen: list[tuple[int, int, float]] = []

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            lr = self.optimizers().optimizer.param_groups[0]["lr"]
            self.seen.append((self.global_step, self.current_epoch, lr))
            self.log("stall", STALLED[self.current_epoch], on_step=False, on_epoch=True)
            x, y = batch
            return torch.nn.functional.mse_loss(self.net(x), y)

        def configure_optimizers(self) -> Any:
            optimizer = torch.optim.SGD(self.parameters(), lr=1.0)
            total = self.trainer.estimated_stepping_batches
            schedule = lrkit.warmup(
                lrkit.cosine(start_lr=0.1, decay_steps=SPE * (epochs_planned - 2)), steps=2 * SPE
            )
            inner = LRScheduler(optimizer, schedule, total_steps=total)
            plateau = ReduceOnPlateau(inner, factor=0.5, patience=2)
            # Two configs: the schedule stepped every update, the plateau fed once per epoch.
            return [optimizer], [
                {"scheduler": inner, "interval": "step"},
                {"scheduler": plateau, "interval": "epoch", "monitor": "stall"},
            ]

    return Stalls()


def lightning_loader() -> Any:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(SPE * 4, 4, generator=generator)
    dataset = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    return torch.utils.data.DataLoader(dataset, batch_size=4)  # SPE batches per epoch


@pytest.mark.filterwarnings("ignore:.*does not have many workers")
@pytest.mark.filterwarnings("ignore:.*isinstance\\(treespec, LeafSpec\\)")
def test_lightning_fit_with_monitor_reduces_and_resumes_exactly(tmp_path: Path) -> None:
    whole = lightning_module(EPOCHS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lightning_trainer(max_epochs=EPOCHS).fit(whole, lightning_loader())
    assert not [w for w in caught if w.category is lrkit.HorizonWarning]  # planned = run
    rates = [lr for _, _, lr in whole.seen]
    factors = torch_rule_factors(
        STALLED,
        lambda e, c: reference_warmup_cosine((e + 1) * SPE) * c,
        factor=0.5,
        patience=2,
    )
    in_force = [1.0, *factors[:-1]]
    expected = [reference_warmup_cosine(k) * in_force[k // SPE] for k in range(EPOCHS * SPE)]
    assert [s for s, _, _ in whole.seen] == list(range(EPOCHS * SPE))
    assert rates == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert min(in_force) < 1.0

    first = lightning_module(EPOCHS)
    run = lightning_trainer(max_epochs=6)
    with pytest.warns(lrkit.HorizonWarning, match="ends at 140 steps but training runs 60 upd"):
        run.fit(first, lightning_loader())  # the guard sees the run stop before the plan
    run.save_checkpoint(tmp_path / "six.ckpt")
    second = lightning_module(EPOCHS)
    lightning_trainer(max_epochs=EPOCHS).fit(
        second, lightning_loader(), ckpt_path=tmp_path / "six.ckpt"
    )
    assert [lr for _, _, lr in first.seen + second.seen] == rates  # exactly


# -- another scheduler on the same optimizer ----------------------------------------------


@pytest.mark.parametrize(
    "rival",
    [
        lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0),
        lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
    ],
    ids=["ReduceLROnPlateau", "StepLR"],
)
def test_a_pytorch_scheduler_on_the_same_optimizer_is_named_once(rival: Any) -> None:
    optimizer = sgd()
    ours = LRScheduler(optimizer, lrkit.constant(0.1))
    theirs = rival(optimizer)
    name = type(theirs).__name__
    with pytest.warns(UserWarning, match=rf"torch\.optim\.lr_scheduler\.{name} on the same") as w:
        for _ in range(5):
            optimizer.step()
            ours.step()
            if name == "ReduceLROnPlateau":
                theirs.step(1.0)
            else:
                theirs.step()
    assert len([x for x in w if "was changed from 0.1" in str(x.message)]) == 1
    if name == "ReduceLROnPlateau":
        assert "lrkit.torch.ReduceOnPlateau(scheduler)" in str(w[0].message)


def test_no_rival_warning_inside_sequentiallr_or_under_our_plateau(no_warnings: None) -> None:
    optimizer = sgd()
    first = LRScheduler(optimizer, lrkit.linear(0.0, 5, end_lr=0.1))
    second = LRScheduler(optimizer, lrkit.cosine(0.1, 10))
    sequential = torch.optim.lr_scheduler.SequentialLR(optimizer, [first, second], [5])
    for _ in range(20):
        optimizer.step()
        sequential.step()
    optimizer = sgd()
    plateau = ReduceOnPlateau(LRScheduler(optimizer, SCHEDULE), factor=0.5, patience=0)
    for _ in range(4):
        for _ in range(SPE):
            optimizer.step()
            plateau.scheduler.step()
        plateau.step(1.0)
    assert plateau.factors[0] < 1.0


# -- plain functions are checked ------------------------------------------------------------


@pytest.mark.parametrize(
    ("returned", "message"),
    [(math.nan, "finite"), (-1.0, ">= 0"), (math.inf, "finite"), ("0.1", "number")],
)
def test_a_plain_function_output_is_checked(returned: Any, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        LRScheduler(sgd(), lambda t: returned)
    optimizer = sgd()
    late = LRScheduler(optimizer, lambda t: 0.1 if t < 3 else returned)
    with pytest.raises((ValueError, TypeError), match=message):
        for _ in range(5):
            optimizer.step()
            late.step()
