"""The demo's model and training loop in plain PyTorch (:class:`lrkit.torch.LRScheduler`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lrkit import Schedule
from lrkit.demo.recipes import HIDDEN, MOMENTUM
from lrkit.demo.runs import Progress, status

if TYPE_CHECKING:
    from lrkit.demo.data import Dataset

__all__ = ["train_torch"]


def train_torch(
    data: Dataset,
    schedule: Schedule,
    epochs: int,
    seed: int,
    update: str,
    batch_size: int,
    progress: Progress | None,
) -> list[float]:
    import torch

    from lrkit.torch import LRScheduler

    torch.manual_seed(seed)
    hidden, output = (
        torch.nn.Linear(data.features, HIDDEN),
        torch.nn.Linear(HIDDEN, len(data.classes)),
    )
    model = torch.nn.Sequential(hidden, torch.nn.ReLU(), output)
    for layer in (hidden, output):  # Keras' initialisation, so both frameworks start alike
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    x_train, y_train = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    x_test, y_test = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    n = len(x_train)
    steps = math.ceil(n / batch_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=float(schedule(0)), momentum=MOMENTUM)
    per_step = update == "step"
    scheduler = LRScheduler(
        optimizer, schedule, unit="epoch", steps_per_epoch=steps if per_step else None
    )
    generator = torch.Generator().manual_seed(seed)
    loss_fn = torch.nn.CrossEntropyLoss()
    accuracy: list[float] = []
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(n, generator=generator)
        for batch in range(steps):
            index = order[batch * batch_size : (batch + 1) * batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x_train[index]), y_train[index]).backward()
            optimizer.step()
            if per_step:
                scheduler.step()
            if progress is not None and batch % 50 == 49:
                last = accuracy[-1] if accuracy else None
                progress.update(
                    (epoch + (batch + 1) / steps) / epochs, status(epoch + 1, epochs, last)
                )
        if not per_step:
            scheduler.step()
        model.eval()
        with torch.no_grad():
            correct = (model(x_test).argmax(dim=1) == y_test).sum().item()
        accuracy.append(correct / len(x_test))
        if progress is not None:
            progress.update((epoch + 1) / epochs, status(epoch + 1, epochs, accuracy[-1]))
    return accuracy
