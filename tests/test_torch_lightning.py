"""lrkit.torch.LRScheduler as the scheduler of a Lightning module: `configure_optimizers`, a real
`Trainer.fit` on CPU, and resuming from a Lightning checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
L = pytest.importorskip("lightning")

import lrkit  # noqa: E402
from lightning_support import lightning_trainer  # noqa: E402
from lrkit.torch import LRScheduler  # noqa: E402

pytestmark = [
    pytest.mark.torch,
    pytest.mark.usefixtures("torch_one_thread"),
    pytest.mark.filterwarnings("ignore:.*does not have many workers"),
    pytest.mark.filterwarnings("ignore:.*isinstance\\(treespec, LeafSpec\\)"),
]

SCHEDULE = lrkit.warmup(lrkit.cosine(0.1, 20, end_lr=0.01), steps=5)
MOMENTUM = lrkit.linear(0.95, 25, end_lr=0.85)


class Regression(L.LightningModule):
    def __init__(self, interval: str = "step") -> None:
        super().__init__()
        self.net = torch.nn.Linear(4, 1)
        self.interval = interval
        self.seen: list[tuple[int, int, float, float]] = []

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        group = self.optimizers().optimizer.param_groups[0]
        self.seen.append((self.global_step, self.current_epoch, group["lr"], group["momentum"]))
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x), y)

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = torch.optim.SGD(self.parameters(), lr=1.0, momentum=0.9)
        if self.interval == "step":
            scheduler = LRScheduler(optimizer, SCHEDULE, momentum=MOMENTUM)
        else:  # Lightning's default: step() once per epoch, a schedule in epochs
            scheduler = LRScheduler(optimizer, SCHEDULE, unit="epoch")
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": self.interval},
        }


def same(values: list[float]) -> Any:
    """Equal to rounding (NumPy in the scheduler, `math` in a scalar call), on the curve's scale."""
    return pytest.approx(values, rel=1e-12, abs=1e-12 * max(abs(v) for v in values))


def loader() -> torch.utils.data.DataLoader:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(40, 4, generator=generator)
    dataset = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    return torch.utils.data.DataLoader(dataset, batch_size=8)  # 5 steps per epoch


def trainer(**kwargs: Any) -> L.Trainer:
    return lightning_trainer(**{"enable_checkpointing": True, **kwargs})


def test_fit_sets_the_schedule_at_every_step() -> None:
    model = Regression()
    trainer(max_steps=30, enable_checkpointing=False).fit(model, loader())
    steps = [s for s, _, _, _ in model.seen]
    assert steps == list(range(30))
    assert [lr for _, _, lr, _ in model.seen] == same([SCHEDULE(k) for k in steps])
    assert [m for _, _, _, m in model.seen] == same([MOMENTUM(k) for k in steps])


def test_fit_with_lightnings_epoch_interval() -> None:
    model = Regression(interval="epoch")
    trainer(max_epochs=4, enable_checkpointing=False).fit(model, loader())
    assert [lr for _, _, lr, _ in model.seen] == same([SCHEDULE(e) for _, e, _, _ in model.seen])
    assert {e for _, e, _, _ in model.seen} == {0, 1, 2, 3}


def test_resume_from_a_lightning_checkpoint(tmp_path: Path) -> None:
    first = Regression()
    run = trainer(max_steps=15, enable_checkpointing=False)
    run.fit(first, loader())
    checkpoint = tmp_path / "half.ckpt"
    run.save_checkpoint(checkpoint)

    second = Regression()
    trainer(max_steps=30, enable_checkpointing=False).fit(second, loader(), ckpt_path=checkpoint)
    seen = first.seen + second.seen
    assert [s for s, _, _, _ in seen] == list(range(30))
    assert [lr for _, _, lr, _ in seen] == same([SCHEDULE(k) for k in range(30)])
    assert [m for _, _, _, m in seen] == same([MOMENTUM(k) for k in range(30)])
