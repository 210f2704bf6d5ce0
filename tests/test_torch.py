"""lrkit.torch.LRScheduler on real torch.optim optimizers.

References are written here as plain Python (``math``, ``if``), or are the schedule's own value
``schedule(t)`` when what is tested is the adapter's clock (which ``t`` each update gets).
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lrkit  # noqa: E402
from lrkit.torch import LOOKAHEAD, LRScheduler  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("torch_one_thread")]


def close(actual: list[float], expected: list[float]) -> None:
    """Equal to rounding. lrkit computes a step's values with NumPy; a reference with ``math``
    may differ in the last bit, and near a schedule's zero (1 + cos, say) such a bit is a
    larger part of the value, so the absolute tolerance is relative to the curve's scale."""
    scale = float(np.max(np.abs(expected)))
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12 * scale)


def sgd(lr: float = 1.0, groups: int = 1, **kwargs: float) -> torch.optim.SGD:
    params = [{"params": [torch.nn.Parameter(torch.zeros(2))]} for _ in range(groups)]
    return torch.optim.SGD(params, lr=lr, **kwargs)


def run(optimizer: torch.optim.Optimizer, scheduler: LRScheduler, steps: int, key: str = "lr"):
    """The value of ``key`` in each group at each of ``steps`` updates."""
    seen = []
    for _ in range(steps):
        seen.append([group[key] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return np.array(seen)


# -- a real training loop ------------------------------------------------------------------


def ref_warmup_cosine(t: float, peak: float, warm: int, decay: int, end: float) -> float:
    if t < warm:
        return peak * t / warm
    return end + (peak - end) * 0.5 * (1 + math.cos(math.pi * min(t - warm, decay) / decay))


def ref_momentum(t: float, up: int, down: int) -> float:
    if t < up:
        return 0.85 + 0.10 * 0.5 * (1 + math.cos(math.pi * t / up))
    return 0.95 - 0.10 * 0.5 * (1 + math.cos(math.pi * min(t - up, down) / down))


def test_training_loop_rate_and_momentum_at_every_update() -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor((digits.data - digits.data.mean(0)) / (digits.data.std(0) + 1e-6))
    x, y = x.float(), torch.tensor(digits.target)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.9)
    steps_per_epoch, epochs = math.ceil(len(x) / 64), 4
    total = steps_per_epoch * epochs
    lr = lrkit.warmup(lrkit.cosine(0.1, total - 20, end_lr=0.001), steps=20)
    up = 30
    momentum = lrkit.cosine(0.95, up, end_lr=0.85) >> lrkit.cosine(0.85, total - up, 0.95)
    scheduler = LRScheduler(optimizer, lr, momentum=momentum)

    rates, moms, losses = [], [], []
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for i in range(steps_per_epoch):
            batch = order[i * 64 : (i + 1) * 64]
            rates.append(optimizer.param_groups[0]["lr"])
            moms.append(optimizer.param_groups[0]["momentum"])
            optimizer.zero_grad()
            loss = loss_fn(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())

    t = range(total)
    close(rates, [ref_warmup_cosine(k, 0.1, 20, total - 20, 0.001) for k in t])
    close(rates, [lr(k) for k in t])
    close(moms, [ref_momentum(k, up, total - up) for k in t])
    close(scheduler.get_last_lr(), [lr(total)])
    accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    assert accuracy > 0.9


def test_adam_betas0_and_weight_decay_are_scheduled() -> None:
    params = [torch.nn.Parameter(torch.ones(3))]
    optimizer = torch.optim.AdamW(params, lr=1.0, betas=(0.9, 0.99), weight_decay=0.1)
    beta1 = lrkit.linear(0.95, 10, end_lr=0.85)
    decay = lrkit.cosine(0.1, 10, end_lr=0.01)
    scheduler = LRScheduler(optimizer, lrkit.constant(0.01), momentum=beta1, weight_decay=decay)
    seen = []
    for _ in range(15):
        group = optimizer.param_groups[0]
        seen.append((group["betas"][0], group["betas"][1], group["weight_decay"]))
        params[0].grad = torch.ones(3)
        optimizer.step()
        scheduler.step()
    b0, b1, wd = np.array(seen).T
    close(b0, [0.95 - 0.1 * min(k, 10) / 10 for k in range(15)])
    assert (b1 == 0.99).all()
    close(wd, [0.01 + 0.09 * 0.5 * (1 + math.cos(math.pi * min(k, 10) / 10)) for k in range(15)])


# -- time: steps, epochs, accumulation, look-ahead blocks ------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [
        lrkit.one_cycle_policy(max_lr=0.1, total_steps=3000),
        lrkit.warmup(lrkit.cosine(0.1, 2500), steps=500),
        lrkit.restarts(lrkit.linear(0.1, 300, end_lr=0.0), period=300, period_mul=1.5),
        lrkit.multistep(0.1, [700, 1500], gamma=0.5),
        lrkit.cyclic(0.01, 0.1, step_size_up=200, mode="triangular2"),
    ],
    ids=lambda s: s.name,
)
def test_every_step_is_the_schedule_across_lookahead_blocks(schedule: lrkit.Schedule) -> None:
    steps = 2 * LOOKAHEAD + 500
    optimizer = sgd()
    rates = run(optimizer, LRScheduler(optimizer, schedule), steps)[:, 0]
    close(rates, [schedule(k) for k in range(steps)])


def test_unit_epoch_with_steps_per_epoch_gives_fractional_epochs() -> None:
    schedule = lrkit.exponential_decay(start_lr=0.1, exp_decay=0.5)
    optimizer = sgd()
    scheduler = LRScheduler(optimizer, schedule, unit="epoch", steps_per_epoch=4)
    rates = run(optimizer, scheduler, 12)[:, 0]
    close(rates, [0.1 * math.exp(-0.5 * k / 4) for k in range(12)])
    assert scheduler.schedule_time == 3.0


def test_unit_epoch_stepped_once_per_epoch_with_a_seed_style_function() -> None:
    def schedule(epoch: int) -> float:  # the seed's "constant then exponential decay"
        return 0.001 if epoch < 3 else 0.001 * math.exp(-0.1 * epoch)

    optimizer = sgd()
    scheduler = LRScheduler(optimizer, schedule, unit="epoch")
    rates = run(optimizer, scheduler, 6)[:, 0]
    assert list(rates) == [schedule(k) for k in range(6)]
    assert scheduler.state_dict()["config"]["lr"] == [
        {
            "function": "<function "
            + (
                "test_unit_epoch_stepped_once_per_epoch_with_a_seed_style_function.<locals>.schedule>"
            )
        }
    ]


def test_accumulation_steps_count_optimizer_updates() -> None:
    optimizer = sgd()
    scheduler = LRScheduler(optimizer, lrkit.linear(0.1, 5, end_lr=0.0), accumulation_steps=4)
    rates = run(optimizer, scheduler, 24)[:, 0]  # step() every micro-batch
    close(rates, [0.1 * (1 - min(k // 4, 5) / 5) for k in range(24)])


def test_accumulation_with_epochs() -> None:
    optimizer = sgd()
    scheduler = LRScheduler(
        optimizer,
        lrkit.linear(0.1, 2, end_lr=0.0),
        unit="epoch",
        steps_per_epoch=3,
        accumulation_steps=2,
    )
    rates = run(optimizer, scheduler, 12)[:, 0]
    close(rates, [0.1 * (1 - min((k // 2) / 3, 2) / 2) for k in range(12)])


def test_past_the_end_holds_the_final_value_where_onecycle_raises() -> None:
    optimizer = sgd(momentum=0.9)
    native = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="Tried to step"):
        run(optimizer, native, 12)
    optimizer = sgd()
    rates = run(optimizer, LRScheduler(optimizer, lrkit.one_cycle_policy(0.1, 10)), 50)[:, 0]
    assert (rates[10:] == 0.1 / 25 / 1e4).all()


# -- parameter groups --------------------------------------------------------------------


def test_one_schedule_per_group() -> None:
    optimizer = sgd(groups=2)
    schedules = [lrkit.constant(0.3), lrkit.step(0.1, step_size=2, gamma=0.5)]
    rates = run(optimizer, LRScheduler(optimizer, schedules), 6)
    assert list(rates[:, 0]) == [0.3] * 6
    close(rates[:, 1], [0.1 * 0.5 ** (k // 2) for k in range(6)])


def test_relative_scales_each_groups_own_initial_rate() -> None:
    optimizer = torch.optim.SGD(
        [
            {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1},
            {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.004},
        ],
        lr=1.0,
    )
    factor = lrkit.cosine(1.0, 8)  # a multiplier, like LambdaLR's lambda
    rates = run(optimizer, LRScheduler(optimizer, factor, relative=True), 10)
    reference = [0.5 * (1 + math.cos(math.pi * min(k, 8) / 8)) for k in range(10)]
    close(rates[:, 0], [0.1 * f for f in reference])
    close(rates[:, 1], [0.004 * f for f in reference])


def test_relative_matches_lambdalr() -> None:
    factor = lrkit.warmup(lrkit.exponential(1.0, 0.9), steps=3)
    a, b = sgd(lr=0.2), sgd(lr=0.2)
    ours = run(a, LRScheduler(a, factor, relative=True), 20)[:, 0]
    native = torch.optim.lr_scheduler.LambdaLR(b, lambda k: min(k / 3, 0.9 ** (k - 3)))
    close(ours, run(b, native, 20)[:, 0])


def test_optional_hyperparameters_skip_groups_given_none() -> None:
    optimizer = torch.optim.SGD(
        [
            {"params": [torch.nn.Parameter(torch.zeros(1))], "weight_decay": 0.01},
            {"params": [torch.nn.Parameter(torch.zeros(1))], "weight_decay": 0.0},
        ],
        lr=0.1,
    )
    decay = lrkit.linear(0.01, 4, end_lr=0.0)
    scheduler = LRScheduler(optimizer, lrkit.constant(0.1), weight_decay=[decay, None])
    decays = run(optimizer, scheduler, 6, key="weight_decay")
    close(decays[:, 0], [0.01 * (1 - min(k, 4) / 4) for k in range(6)])
    assert (decays[:, 1] == 0.0).all()


def test_tensor_rate_stays_the_same_tensor() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=torch.tensor(0.5))
    tensor = optimizer.param_groups[0]["lr"]
    scheduler = LRScheduler(optimizer, lrkit.linear(0.1, 4, end_lr=0.0))
    run(optimizer, scheduler, 2)
    assert optimizer.param_groups[0]["lr"] is tensor
    assert tensor.item() == pytest.approx(0.05)
    assert isinstance(scheduler.get_last_lr()[0], torch.Tensor)


def test_inside_torch_sequentiallr() -> None:
    a, b = lrkit.linear(0.0, 5, end_lr=0.1), lrkit.cosine(0.1, 10)
    optimizer = sgd()
    first, second = LRScheduler(optimizer, a), LRScheduler(optimizer, b)
    sequential = torch.optim.lr_scheduler.SequentialLR(optimizer, [first, second], [5])
    rates = run(optimizer, sequential, 20)[:, 0]
    close(rates, [lrkit.join([a, b], [5])(k) for k in range(20)])


# -- checkpoints ---------------------------------------------------------------------------


def test_state_dict_is_plain_and_loads_with_weights_only() -> None:
    optimizer = sgd(momentum=0.9)
    schedule = lrkit.one_cycle_policy(0.1, 100)
    scheduler = LRScheduler(optimizer, schedule, momentum=lrkit.constant(0.9), relative=True)
    run(optimizer, scheduler, 7)
    buffer = io.BytesIO()
    torch.save(scheduler.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    assert state["last_epoch"] == 7
    assert state["config"]["lr"] == [schedule.to_config()]
    assert lrkit.from_config(state["config"]["lr"][0]) == schedule

    optimizer = sgd(momentum=0.9)
    resumed = LRScheduler(optimizer, schedule, momentum=lrkit.constant(0.9), relative=True)
    resumed.load_state_dict(state)
    close([optimizer.param_groups[0]["lr"]], [schedule(7)])
    assert resumed.get_last_lr() == scheduler.get_last_lr()


def test_load_state_dict_refuses_a_different_config() -> None:
    optimizer = sgd()
    state = LRScheduler(optimizer, lrkit.cosine(0.1, 100)).state_dict()
    other = LRScheduler(sgd(), lrkit.cosine(0.1, 200))
    with pytest.raises(ValueError, match=r"lr\[0\]: saved cosine\(start_lr=0.1, decay_steps=100\)"):
        other.load_state_dict(state)
    assert other.last_epoch == 0  # nothing restored
    with pytest.raises(ValueError, match="unit: saved 'step', given 'epoch'"):
        LRScheduler(sgd(), lrkit.cosine(0.1, 100), unit="epoch").load_state_dict(state)
    with pytest.raises(ValueError, match=r"base_lrs\[0\]: saved 1.0, given 0.5"):
        relative = LRScheduler(sgd(), lrkit.cosine(1.0, 100), relative=True).state_dict()
        LRScheduler(sgd(lr=0.5), lrkit.cosine(1.0, 100), relative=True).load_state_dict(relative)


def test_load_state_dict_non_strict_keeps_the_given_schedule() -> None:
    optimizer = sgd()
    scheduler = LRScheduler(optimizer, lrkit.cosine(0.1, 100))
    run(optimizer, scheduler, 10)
    longer = lrkit.cosine(0.1, 200)
    optimizer = sgd()
    extended = LRScheduler(optimizer, longer)
    extended.load_state_dict(scheduler.state_dict(), strict=False)
    assert extended.last_epoch == 10
    close([optimizer.param_groups[0]["lr"]], [longer(10)])


def test_load_state_dict_refuses_a_native_torch_state() -> None:
    optimizer = sgd()
    native = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3).state_dict()
    with pytest.raises(ValueError, match=r"must come from lrkit\.torch\.LRScheduler\.state_dict"):
        LRScheduler(sgd(), lrkit.constant(0.1)).load_state_dict(native)


# -- PyTorch conventions and argument checks ----------------------------------------------


def test_constructor_writes_the_first_rate_and_counts_from_zero() -> None:
    optimizer = sgd()
    scheduler = LRScheduler(optimizer, lrkit.linear(0.2, 10, end_lr=0.0))
    assert scheduler.last_epoch == 0
    assert optimizer.param_groups[0]["lr"] == 0.2
    assert optimizer.param_groups[0]["initial_lr"] == 1.0
    assert scheduler.get_last_lr() == [0.2]


def test_step_before_optimizer_step_warns_like_pytorch() -> None:
    optimizer = sgd()
    scheduler = LRScheduler(optimizer, lrkit.constant(0.1))
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()


def test_step_refuses_an_epoch_argument() -> None:
    optimizer = sgd()
    scheduler = LRScheduler(optimizer, lrkit.constant(0.1))
    with pytest.raises(TypeError, match="takes no argument"):
        scheduler.step(3)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"schedule": "cosine"}, TypeError, "Argument `schedule` must be an lrkit schedule"),
        ({"schedule": lambda epoch, lr: lr}, TypeError, r"function f\(epoch\) of one argument"),
        ({"schedule": [lrkit.constant(0.1)] * 2}, ValueError, "one item per parameter group"),
        ({"unit": "batch"}, ValueError, "Argument `unit` must be one of 'step', 'epoch'"),
        ({"steps_per_epoch": 10}, ValueError, "only used with unit='epoch'"),
        ({"unit": "epoch", "steps_per_epoch": 0}, ValueError, "steps_per_epoch=0"),
        ({"accumulation_steps": 0}, ValueError, "Received: accumulation_steps=0"),
        ({"accumulation_steps": 2.0}, TypeError, "must be an integer"),
        ({"relative": 1}, TypeError, "Argument `relative` must be True or False"),
        ({"momentum": [None, None]}, ValueError, "one item per parameter group"),
    ],
)
def test_arguments_are_checked(kwargs: dict, error: type, message: str) -> None:
    kwargs = {"schedule": lrkit.constant(0.1), **kwargs}
    with pytest.raises(error, match=message):
        LRScheduler(sgd(), **kwargs)


def test_hyperparameters_the_optimizer_lacks_are_refused() -> None:
    adagrad = torch.optim.Adagrad([torch.nn.Parameter(torch.zeros(1))])
    with pytest.raises(ValueError, match="needs an optimizer with a `momentum` or `betas`"):
        LRScheduler(adagrad, lrkit.constant(0.1), momentum=lrkit.constant(0.9))
    with pytest.raises(TypeError, match=r"Argument `optimizer` must be a torch\.optim\.Optimizer"):
        LRScheduler("sgd", lrkit.constant(0.1))  # type: ignore[arg-type]


def test_a_group_added_after_construction_is_reported() -> None:
    optimizer = sgd()
    scheduler = LRScheduler(optimizer, lrkit.constant(0.1))
    optimizer.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))]})
    optimizer.step()
    with pytest.raises(ValueError, match="has 2 parameter groups, but this scheduler was built"):
        scheduler.step()
