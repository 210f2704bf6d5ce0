"""Changing the plan on resume (``on_change``) with real torch.optim, in a plain loop and in
Lightning's ``Trainer.fit``: a run trained for 2 epochs under a plan for 2 is resumed with a
plan for 4.

The checks are the ones a user would make on the rates the optimizer actually used: at the
resume step the rate moves by no more than the new schedule's own largest per-update change
(an independent bound: ``keep_count``'s jump breaks it), and the last rate is the new
schedule's final value.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lrkit  # noqa: E402
from lightning_support import lightning_trainer  # noqa: E402
from lrkit.torch import LRScheduler  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("torch_one_thread")]

STEPS_PER_EPOCH = 5
OLD = lrkit.cosine(0.1, 2 * STEPS_PER_EPOCH, end_lr=0.001)  # planned for 2 epochs
NEW = lrkit.cosine(0.1, 4 * STEPS_PER_EPOCH, end_lr=0.001)  # planned for 4


def largest_step(schedule: lrkit.Schedule, steps: int) -> float:
    """The schedule's own largest change from one update to the next."""
    return float(np.abs(np.diff([schedule(k) for k in range(steps + 1)])).max())


def build(schedule: lrkit.Schedule, **kwargs: Any) -> tuple[Any, Any, LRScheduler]:
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.9)
    return model, optimizer, LRScheduler(optimizer, schedule, **kwargs)


def train(model: Any, optimizer: Any, scheduler: LRScheduler, start: int, stop: int) -> list[float]:
    """Updates ``start`` to ``stop`` on fixed generated batches; the rate each one used."""
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(64, 4, generator=generator)
    y = x.sum(1, keepdim=True)
    rates = []
    for k in range(start, stop):
        batch = slice(8 * (k % 8), 8 * (k % 8 + 1))
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x[batch]), y[batch]).backward()
        optimizer.step()
        scheduler.step()
    return rates


def checkpoint(model: Any, optimizer: Any, scheduler: LRScheduler) -> dict[str, Any]:
    buffer = io.BytesIO()
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
    torch.save({**state, "scheduler": scheduler.state_dict()}, buffer)
    buffer.seek(0)
    return dict(torch.load(buffer, weights_only=True))


def resume(state: dict[str, Any], schedule: lrkit.Schedule, **kwargs: Any) -> Any:
    model, optimizer, scheduler = build(schedule, **kwargs)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    return model, optimizer, scheduler


def first_half() -> tuple[list[float], dict[str, Any]]:
    model, optimizer, scheduler = build(OLD)
    rates = train(model, optimizer, scheduler, 0, 2 * STEPS_PER_EPOCH)
    return rates, checkpoint(model, optimizer, scheduler)


def test_plain_loop_continue_extends_a_run_smoothly() -> None:
    before, state = first_half()
    model, optimizer, scheduler = resume(state, NEW, on_change="continue")
    after = train(model, optimizer, scheduler, 2 * STEPS_PER_EPOCH, 4 * STEPS_PER_EPOCH)
    bound = largest_step(NEW, 4 * STEPS_PER_EPOCH)
    assert abs(after[0] - before[-1]) <= bound
    assert abs(NEW(2 * STEPS_PER_EPOCH) - before[-1]) > bound  # what keep_count would do
    assert after[0] == pytest.approx(OLD(2 * STEPS_PER_EPOCH), rel=1e-12)  # the run's own rate
    assert optimizer.param_groups[0]["lr"] == NEW(NEW.duration)  # the new plan's final value
    assert min(after) >= 0.0 and max(after) <= 0.1
    # Smooth after the resume too: no update moves more than the new plan's own steps do.
    assert np.abs(np.diff([before[-1], *after])).max() <= bound


def test_a_second_resume_under_the_same_plan_continues_the_take_over() -> None:
    _, state = first_half()
    model, optimizer, scheduler = resume(state, NEW, on_change="continue")
    straight = train(model, optimizer, scheduler, 10, 20)

    model, optimizer, scheduler = resume(state, NEW, on_change="continue")
    head = train(model, optimizer, scheduler, 10, 15)
    again = checkpoint(model, optimizer, scheduler)
    assert again["scheduler"]["plan"]["lr"] == [NEW.to_config()]  # the take-over is saved
    model, optimizer, scheduler = resume(again, NEW)  # also under the default "refuse"
    tail = train(model, optimizer, scheduler, 15, 20)
    assert head + tail == straight


def test_refuse_is_the_default_and_names_the_option() -> None:
    _, state = first_half()
    _, optimizer, scheduler = build(NEW)
    with pytest.raises(ValueError, match=r"LRScheduler\(\.\.\., on_change='continue'\)") as e:
        scheduler.load_state_dict(state["scheduler"])
    assert "on_change='keep_count'" in str(e.value)
    assert "lr[0]: saved cosine(start_lr=0.1, decay_steps=10" in str(e.value)
    assert scheduler.last_epoch == 0 and optimizer.param_groups[0]["lr"] == NEW(0)


def test_keep_count_keeps_the_counter_and_the_new_schedule() -> None:
    _, state = first_half()
    model, optimizer, scheduler = resume(state, NEW, on_change="keep_count")
    assert scheduler.last_epoch == 10 and scheduler.lr_schedules == (NEW,)
    after = train(model, optimizer, scheduler, 10, 20)
    assert after == pytest.approx([NEW(k) for k in range(10, 20)], rel=1e-12)


def test_extending_the_stable_phase_has_no_jump_at_all() -> None:
    short = lrkit.warmup_stable_decay(0.1, 2, 6, 2, decay_shape="1-sqrt")
    longer = lrkit.warmup_stable_decay(0.1, 2, 16, 2, decay_shape="1-sqrt")
    model, optimizer, scheduler = build(short)
    before = train(model, optimizer, scheduler, 0, 6)
    state = checkpoint(model, optimizer, scheduler)
    model, optimizer, scheduler = resume(state, longer, on_change="continue")
    after = train(model, optimizer, scheduler, 6, 20)
    assert after[0] == before[-1] == 0.1
    assert scheduler.lr_schedules == (longer,)  # nothing to bend: the plan itself
    assert after == pytest.approx([longer(k) for k in range(6, 20)], rel=1e-12)


def test_continue_refuses_what_it_cannot_take_over() -> None:
    _, state = first_half()
    with pytest.raises(ValueError, match="needs a new schedule that ends after the resume point"):
        resume(state, lrkit.constant(0.05), on_change="continue")
    with pytest.raises(ValueError, match="a plain function has no config"):
        resume(state, lambda t: 0.05, on_change="continue")
    with pytest.raises(ValueError, match=r"Argument `on_change` .*'smooth'"):
        build(NEW, on_change="smooth")


# -- Lightning ----------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*does not have many workers")
@pytest.mark.filterwarnings("ignore:.*isinstance\\(treespec, LeafSpec\\)")
@pytest.mark.parametrize("policy", ["continue", "refuse"])
def test_lightning_resume_with_more_epochs(tmp_path: Path, policy: str) -> None:
    L = pytest.importorskip("lightning")

    class Regression(L.LightningModule):  # type: ignore[misc,name-defined]
        def __init__(self, schedule: lrkit.Schedule, **kwargs: Any) -> None:
            super().__init__()
            self.net = torch.nn.Linear(4, 1)
            self.schedule, self.kwargs = schedule, kwargs
            self.rates: list[float] = []

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            self.rates.append(self.optimizers().optimizer.param_groups[0]["lr"])
            x, y = batch
            return torch.nn.functional.mse_loss(self.net(x), y)

        def configure_optimizers(self) -> dict[str, Any]:
            optimizer = torch.optim.SGD(self.parameters(), lr=1.0, momentum=0.9)
            scheduler = LRScheduler(optimizer, self.schedule, **self.kwargs)
            return {
                "optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
            }

    def trainer(epochs: int) -> Any:
        return lightning_trainer(max_epochs=epochs)

    generator = torch.Generator().manual_seed(0)
    x = torch.randn(8 * STEPS_PER_EPOCH, 4, generator=generator)
    data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    loader = torch.utils.data.DataLoader(data, batch_size=8)

    first = Regression(OLD)
    run = trainer(2)
    run.fit(first, loader)
    path = tmp_path / "two-epochs.ckpt"
    run.save_checkpoint(path)

    second = Regression(NEW, on_change=policy)
    resumed = trainer(4)
    if policy == "refuse":
        with pytest.raises(ValueError, match=r"on_change='continue'"):
            resumed.fit(second, loader, ckpt_path=path)
        return
    resumed.fit(second, loader, ckpt_path=path)
    assert len(first.rates) == len(second.rates) == 2 * STEPS_PER_EPOCH
    bound = largest_step(NEW, 4 * STEPS_PER_EPOCH)
    assert abs(second.rates[0] - first.rates[-1]) <= bound
    assert abs(NEW(2 * STEPS_PER_EPOCH) - first.rates[-1]) > bound  # keep_count's jump
    optimizer = resumed.optimizers[0]
    assert optimizer.param_groups[0]["lr"] == NEW(NEW.duration)  # the last rate: NEW's end


def test_continue_takes_over_momentum_too() -> None:
    old_momentum = lrkit.linear(0.95, 10, end_lr=0.85)
    new_momentum = lrkit.linear(0.95, 20, end_lr=0.85)
    model, optimizer, scheduler = build(OLD, momentum=old_momentum)
    train(model, optimizer, scheduler, 0, 10)
    state = checkpoint(model, optimizer, scheduler)
    model, optimizer, scheduler = resume(state, NEW, momentum=new_momentum, on_change="continue")
    assert optimizer.param_groups[0]["momentum"] == pytest.approx(old_momentum(10), rel=1e-12)
    train(model, optimizer, scheduler, 10, 20)
    assert optimizer.param_groups[0]["momentum"] == new_momentum(20)
