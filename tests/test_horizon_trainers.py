"""The horizon guard where a framework runs the loop: lrkit.torch.LRScheduler reads the run's
length from Lightning's Trainer (``estimated_stepping_batches``, ``max_epochs``) and from the
Hugging Face Trainer (``state.max_steps``, ``num_train_epochs``) at its first step, with no
``total_steps=`` given; it warns on the wrong set-ups and says nothing on the right ones."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest

import lrkit

torch = pytest.importorskip("torch")

from lightning_support import lightning_trainer  # noqa: E402
from lrkit.torch import LRScheduler  # noqa: E402

pytestmark = [
    pytest.mark.torch,
    pytest.mark.usefixtures("torch_one_thread"),
    pytest.mark.filterwarnings("ignore:.*does not have many workers"),
    pytest.mark.filterwarnings("ignore:.*isinstance\\(treespec, LeafSpec\\)"),
]

BATCHES, EPOCHS = 10, 6  # 60 updates


def data() -> Any:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(BATCHES * 4, 4, generator=generator)
    return torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))


def horizon_warnings(run: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [str(w.message) for w in caught if issubclass(w.category, lrkit.HorizonWarning)]


# -- Lightning ---------------------------------------------------------------------------


def lightning_fit(schedule: lrkit.Schedule, interval: str = "step", **kwargs: Any) -> None:
    L = pytest.importorskip("lightning")

    class Module(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(4, 1)

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            x, y = batch
            return torch.nn.functional.mse_loss(self.net(x), y)

        def configure_optimizers(self) -> dict[str, Any]:
            optimizer = torch.optim.SGD(self.parameters(), lr=1.0)
            scheduler = LRScheduler(optimizer, schedule, **kwargs)
            return {
                "optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": interval},
            }

    trainer = lightning_trainer(max_epochs=EPOCHS)
    loader = torch.utils.data.DataLoader(data(), batch_size=4)
    trainer.fit(Module(), loader)


@pytest.mark.parametrize(
    ("schedule", "interval", "kwargs", "expected"),
    [
        # an epoch schedule read in steps: ends after 6 of 60 updates
        (lrkit.cosine(0.1, EPOCHS), "step", {}, "ends at 6 steps but training runs 60 updates"),
        # a steps schedule stepped per epoch: 60 epochs of a 6-epoch run
        (lrkit.cosine(0.1, 60), "epoch", {"unit": "epoch"}, "ends at 60 epochs"),
        # 10x longer than the run
        (lrkit.cosine(0.1, 600), "step", {}, "ends at 600 steps but training runs 60 updates"),
        # a schedule of the run's 60 updates, stepped once per epoch (Lightning's default)
        (
            lrkit.cosine(0.1, 60),
            "epoch",
            {},
            'ends at 60 steps.*give its config "interval": "step"',
        ),
    ],
)
def test_lightning_wrong_set_ups_warn_once(
    schedule: lrkit.Schedule, interval: str, kwargs: dict[str, Any], expected: str
) -> None:
    said = horizon_warnings(lambda: lightning_fit(schedule, interval, **kwargs))
    assert len(said) == 1 and re.search(expected, said[0]), said


@pytest.mark.parametrize(
    ("schedule", "interval", "kwargs"),
    [
        (lrkit.cosine(0.1, 60), "step", {}),
        (lrkit.warmup(lrkit.cosine(0.1, 50), steps=10), "step", {}),
        (lrkit.cosine(0.1, EPOCHS), "epoch", {"unit": "epoch"}),
        (lrkit.cosine(0.1, EPOCHS), "step", {"unit": "epoch", "steps_per_epoch": BATCHES}),
        (lrkit.constant(0.1), "step", {}),
    ],
)
def test_lightning_right_set_ups_say_nothing(
    schedule: lrkit.Schedule, interval: str, kwargs: dict[str, Any]
) -> None:
    assert horizon_warnings(lambda: lightning_fit(schedule, interval, **kwargs)) == []


# -- the Hugging Face Trainer ------------------------------------------------------------


def hf_train(schedule: lrkit.Schedule, tmp_path: Path, **kwargs: Any) -> None:
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("accelerate")

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(4, 1)

        def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"loss": torch.nn.functional.mse_loss(self.net(x), labels)}

    class Rows(torch.utils.data.Dataset):  # type: ignore[type-arg]
        def __init__(self) -> None:
            self.rows = data()

        def __len__(self) -> int:
            return len(self.rows)

        def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
            x, y = self.rows[i]
            return {"x": x, "labels": y}

    model = Model()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = LRScheduler(optimizer, schedule, **kwargs)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_train_epochs=EPOCHS,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = transformers.Trainer(
        model=model, args=args, train_dataset=Rows(), optimizers=(optimizer, scheduler)
    )
    trainer.train()
    assert trainer.state.global_step == BATCHES * EPOCHS


def test_hugging_face_trainer_wrong_set_up_warns_once(tmp_path: Path) -> None:
    said = horizon_warnings(lambda: hf_train(lrkit.cosine(0.1, EPOCHS), tmp_path))
    assert len(said) == 1, said
    assert "ends at 6 steps but training runs 60 updates (6 epochs)" in said[0]
    assert "did you mean an epoch schedule?" in said[0]


@pytest.mark.parametrize(
    ("schedule", "kwargs"),
    [
        (lrkit.cosine(0.1, BATCHES * EPOCHS), {}),
        (lrkit.cosine(0.1, EPOCHS), {"unit": "epoch", "steps_per_epoch": BATCHES}),
        (lrkit.warmup_stable_decay(0.1, 6, 42, 12), {}),
    ],
)
def test_hugging_face_trainer_right_set_ups_say_nothing(
    schedule: lrkit.Schedule, kwargs: dict[str, Any], tmp_path: Path
) -> None:
    assert horizon_warnings(lambda: hf_train(schedule, tmp_path, **kwargs)) == []
