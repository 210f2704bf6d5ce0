"""lrkit.torch.find_lr on a real small network (digits, BatchNorm, dropout, real torch.optim):
the sweep it ran, where it stopped, and that everything is put back, bit for bit."""

from __future__ import annotations

import copy
import math
import random
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lrkit  # noqa: E402
import lrkit.torch  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("torch_one_thread")]


@pytest.fixture(scope="module")
def digits() -> tuple[Any, Any]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return torch.tensor(d.data / 16, dtype=torch.float32), torch.tensor(d.target)


def loader_of(digits: tuple[Any, Any], batch_size: int = 64) -> Any:
    dataset = torch.utils.data.TensorDataset(*digits)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)


def make(optimizer: str = "sgd") -> tuple[Any, Any, Any]:
    """A model with BatchNorm and dropout, an optimizer with state, a scheduler on it."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 32),
        torch.nn.BatchNorm1d(32),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(32, 10),
    )
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = lrkit.torch.LRScheduler(opt, lrkit.cosine(0.05, 100))
    return model, opt, scheduler


def train(model: Any, opt: Any, scheduler: Any, loader: Any, steps: int) -> list[float]:
    losses = []
    model.train()
    loss_fn = torch.nn.CrossEntropyLoss()
    for _, (x, y) in zip(range(steps), loader, strict=False):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def snapshot(model: Any, opt: Any) -> dict[str, Any]:
    return {
        "model": copy.deepcopy(model.state_dict()),
        "params": [p.detach().clone() for p in model.parameters()],
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "modes": [m.training for m in model.modules()],
        "optimizer": copy.deepcopy(opt.state_dict()),
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }


def same(a: Any, b: Any) -> bool:
    """Equal bit for bit: tensors by torch.equal (and dtype), containers element-wise."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return bool(a == b) or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


class LossAt:
    """CrossEntropyLoss that, from call ``at`` on, returns ``value`` or raises ``error``."""

    def __init__(self, at: int, value: float | None = None, error: BaseException | None = None):
        self.at, self.value, self.error, self.calls = at, value, error, 0
        self.rates: list[float] = []
        self.inner = torch.nn.CrossEntropyLoss()

    def __call__(self, out: Any, y: Any) -> Any:
        self.calls += 1
        random.random()  # a user's loss may draw from the global generators: they are restored
        np.random.random()
        loss = self.inner(out, y)
        if self.calls > self.at:
            if self.error is not None:
                raise self.error
            return loss * 0 + self.value
        return loss


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
@pytest.mark.parametrize(
    "case", ["completed", "diverged", "nan", "keyboard-interrupt", "error", "eval-mode"]
)
def test_everything_is_restored_bit_for_bit(digits: Any, optimizer: str, case: str) -> None:
    loader = loader_of(digits)
    model, opt, scheduler = make(optimizer)
    train(model, opt, scheduler, loader, 3)  # slots, step counts, a scheduled rate, grads
    if case == "eval-mode":
        model.eval()
    random.seed(1)
    np.random.seed(2)
    before = snapshot(model, opt)
    loss_fn: Any = LossAt(10**9)
    kwargs: dict[str, Any] = {"start_lr": 1e-4, "end_lr": 1.0, "num_steps": 30}
    if case == "diverged":
        kwargs.update(end_lr=1e4, num_steps=200)
    if case == "nan":
        loss_fn = LossAt(12, value=math.nan)
    if case == "keyboard-interrupt":
        loss_fn = LossAt(7, error=KeyboardInterrupt())
    if case == "error":
        loss_fn = LossAt(7, error=RuntimeError("user's loss failed"))

    if case in ("keyboard-interrupt", "error"):
        with pytest.raises(type(loss_fn.error)):
            lrkit.torch.find_lr(model, opt, loss_fn, loader, verbose=False, **kwargs)
    else:
        result = lrkit.torch.find_lr(model, opt, loss_fn, loader, verbose=False, **kwargs)
        expected = {"diverged": "diverged", "nan": "non-finite"}.get(case, "completed")
        assert result.reason == expected

    after = snapshot(model, opt)
    for key in before:
        assert same(before[key], after[key]), key
    # The very tensors the optimizer steps are the model's, as before.
    assert [p for g in opt.param_groups for p in g["params"]] == list(model.parameters())


def test_training_after_the_test_is_the_training_without_it(digits: Any) -> None:
    """The strongest form of "restored": the next 20 updates (dropout masks drawn from the
    global RNG, the loader's shuffle, momentum, the scheduler) are the same, bit for bit."""
    runs = []
    for run_test in (False, True):
        model, opt, scheduler = make("sgd")
        loader = loader_of(digits)
        train(model, opt, scheduler, loader, 3)
        if run_test:
            lrkit.torch.find_lr(
                model, opt, torch.nn.CrossEntropyLoss(), loader, num_steps=40, verbose=False
            )
        losses = train(model, opt, scheduler, loader, 20)
        runs.append((losses, [p.detach().clone() for p in model.parameters()]))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1], strict=True))


@pytest.mark.parametrize("mode", ["exponential", "linear"])
def test_rates_are_the_closed_form_and_are_the_ones_used(digits: Any, mode: str) -> None:
    model, opt, _ = make("sgd")
    seen: list[float] = []

    def loss_fn(out: Any, y: Any) -> Any:
        seen.append(opt.param_groups[0]["lr"])  # the rate this update will use
        return torch.nn.functional.cross_entropy(out, y)

    start, end, n = 1e-5, 0.5, 50
    result = lrkit.torch.find_lr(
        model,
        opt,
        loss_fn,
        loader_of(digits),
        start_lr=start,
        end_lr=end,
        num_steps=n,
        mode=mode,
        diverge_threshold=1e9,
        verbose=False,
    )
    if mode == "exponential":
        closed = [start * (end / start) ** (k / (n - 1)) for k in range(n)]
    else:
        closed = [start + (end - start) * k / (n - 1) for k in range(n)]
    assert list(result.rates) == closed
    assert seen == closed
    assert closed[-1] == pytest.approx(end, rel=1e-12)


def test_it_stops_within_one_step_of_the_rule(digits: Any) -> None:
    model, opt, _ = make("sgd")
    result = lrkit.torch.find_lr(
        model,
        opt,
        torch.nn.CrossEntropyLoss(),
        loader_of(digits),
        start_lr=1e-3,
        end_lr=1e3,
        num_steps=300,
        verbose=False,
    )
    assert result.reason == "diverged"
    # The rule, from the recorded raw losses, written independently.
    beta, average, best, stop = 0.98, 0.0, math.inf, None
    for k, loss in enumerate(result.losses):
        average = beta * average + (1 - beta) * loss
        s = average / (1 - beta ** (k + 1))
        assert s == pytest.approx(result.smoothed[k], rel=1e-12)
        best = min(best, s)
        if s > 4 * best:
            stop = k
            break
    assert stop is not None
    assert abs(len(result.rates) - (stop + 1)) <= 1
    assert result.stopped_at == len(result.rates) - 1


def test_gradient_accumulation_one_update_per_step(digits: Any) -> None:
    model, opt, _ = make("sgd")
    updates = []
    opt.register_step_post_hook(lambda *_: updates.append(1))
    calls = LossAt(10**9)
    result = lrkit.torch.find_lr(
        model, opt, calls, loader_of(digits), num_steps=20, accumulation_steps=3, verbose=False
    )
    assert len(result.rates) == 20
    assert calls.calls == 60 and len(updates) == 20
    assert result.accumulation_steps == 3


def test_validation_loss_is_recorded(digits: Any) -> None:
    model, opt, _ = make("sgd")
    val = loader_of((digits[0][:200], digits[1][:200]), batch_size=100)
    result = lrkit.torch.find_lr(
        model,
        opt,
        torch.nn.CrossEntropyLoss(),
        loader_of(digits),
        val_loader=val,
        num_steps=15,
        start_lr=1e-4,
        end_lr=1e-3,
        verbose=False,
    )
    assert result.monitor == "validation"
    assert model.training  # put back after the evaluation passes


def test_a_lightning_module_works_as_the_model(digits: Any) -> None:
    pl = pytest.importorskip("lightning.pytorch")

    class Classifier(pl.LightningModule):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)
            )

        def forward(self, x: Any) -> Any:
            return self.net(x)

        def configure_optimizers(self) -> Any:
            return torch.optim.Adam(self.parameters(), lr=1e-3)

    torch.manual_seed(0)
    module = Classifier()
    opt = module.configure_optimizers()
    before = copy.deepcopy(module.state_dict())
    result = lrkit.torch.find_lr(
        module,
        opt,
        torch.nn.functional.cross_entropy,
        loader_of(digits),
        num_steps=60,
        verbose=False,
    )
    assert len(result.rates) > 20
    assert same(before, module.state_dict()) and not opt.state


def test_bad_input_names_the_argument(digits: Any) -> None:
    model, opt, _ = make("sgd")
    loss = torch.nn.CrossEntropyLoss()
    loader = loader_of(digits)
    with pytest.raises(ValueError, match=r"`end_lr` must be > start_lr.*end_lr=0.001"):
        lrkit.torch.find_lr(model, opt, loss, loader, start_lr=0.01, end_lr=0.001)
    with pytest.raises(ValueError, match=r"`num_steps` must be >= 10.*num_steps=5"):
        lrkit.torch.find_lr(model, opt, loss, loader, num_steps=5)
    with pytest.raises(ValueError, match=r"`loader` has no batches"):
        lrkit.torch.find_lr(model, opt, loss, [], num_steps=10)
    with pytest.raises(ValueError, match=r"`loader` has no batches"):
        lrkit.torch.find_lr(model, opt, loss, iter([]), num_steps=10)
    with pytest.raises(TypeError, match=r"`optimizer` must be a torch.optim.Optimizer"):
        lrkit.torch.find_lr(model, "sgd", loss, loader)  # type: ignore[arg-type]
    before = snapshot(model, opt)
    with pytest.raises(ValueError, match=r"loss of the first step is not finite \(loss=nan\)"):
        lrkit.torch.find_lr(model, opt, LossAt(0, value=math.nan), loader, verbose=False)
    after = snapshot(model, opt)
    assert all(same(before[k], after[k]) for k in before)
