"""Distributed runs and gradient accumulation: every replica uses the same rate at every update,
the rate of a one-process run with the same global batch, and an update made of k micro-batches
counts once.

tests/_distributed_worker.py runs the training in real processes: PyTorch DDP over 2 gloo
processes, Keras ``MirroredStrategy`` over 2 logical CPU devices, JAX ``pmap`` and ``jit`` with
``NamedSharding`` over 2 host devices (through optax). Rates are read on each replica: Keras'
from what each replica's copy of a probe weight received, JAX's from each device's shard of the
optimizer state, PyTorch's from each rank's optimizer.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lrkit

WORKER = Path(__file__).with_name("_distributed_worker.py")
SRC = str(Path(lrkit.__file__).parents[1])
UPDATES = 12  # as in the worker


def environment(**extra: str) -> dict[str, str]:
    path = os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 600) -> None:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    assert process.returncode == 0, output[-4000:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- PyTorch DDP -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ddp(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("torch")
    tmp = tmp_path_factory.mktemp("ddp")
    env = environment(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
    runs = {"rank0": ["0", "2"], "rank1": ["1", "2"], "single": ["0", "1"]}
    processes = [start(["torch", *a, str(tmp / f"{name}.json")], env) for name, a in runs.items()]
    for process in processes:
        finish(process)
    return {name: json.loads((tmp / f"{name}.json").read_text()) for name in runs}


@pytest.mark.processes
@pytest.mark.torch
@pytest.mark.parametrize("accumulation", [1, 2])
def test_ddp_ranks_use_the_rates_of_one_process(ddp: dict[str, Any], accumulation: int) -> None:
    key = f"accumulation={accumulation}"
    rank0, rank1 = ddp["rank0"][key], ddp["rank1"][key]
    reference = ddp["single"]["accumulation=1"]  # one process, the whole global batch
    assert len(rank0["used"]) == UPDATES
    assert rank0["used"] == rank1["used"] == reference["used"]
    assert rank0["held"] == rank1["held"]
    assert rank0["weights"] == rank1["weights"], "DDP replicas must stay identical"
    for ours, theirs in zip(rank0["weights"], reference["weights"], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.processes
@pytest.mark.torch
@pytest.mark.parametrize("accumulation", [2, 4])
def test_torch_accumulation_counts_each_update_once(ddp: dict[str, Any], accumulation: int) -> None:
    run = ddp["single"][f"accumulation={accumulation}"]
    reference = ddp["single"]["accumulation=1"]
    assert run["used"] == reference["used"]
    # The scheduler steps every micro-batch; the rate changes only between updates.
    held = np.reshape(run["held"], (UPDATES, accumulation))
    assert (held == np.reshape(reference["used"], (UPDATES, 1))).all()
    for ours, theirs in zip(run["weights"], reference["weights"], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.torch
@pytest.mark.usefixtures("torch_one_thread")
def test_torch_accumulation_loop_does_not_warn_but_a_missing_update_does() -> None:
    import torch

    from lrkit.torch import LRScheduler

    def loop(accumulation: int, update: bool) -> list[float]:
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
        s = lrkit.linear(0.1, 4, end_lr=0.0)
        scheduler = LRScheduler(optimizer, s, accumulation_steps=accumulation)
        rates = []
        for micro in range(4 * accumulation):
            rates.append(optimizer.param_groups[0]["lr"])
            model(torch.ones(1, 2)).sum().backward()
            if update and (micro + 1) % accumulation == 0:
                optimizer.step()
                optimizer.zero_grad()
            scheduler.step()  # every micro-batch, as the docs allow with accumulation_steps
        return rates

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a correct accumulation loop must not warn
        rates = loop(4, update=True)
    assert rates == [0.1 * (1 - u / 4) for u in range(4) for _ in range(4)]
    with pytest.warns(UserWarning, match=r"before `optimizer.step\(\)`"):
        loop(4, update=False)  # no update by the 4th micro-batch: the user forgot it


# -- Keras MirroredStrategy ------------------------------------------------------------


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("keras")
    pytest.importorskip("tensorflow")
    out = tmp_path_factory.mktemp("mirrored") / "out.json"
    finish(start(["keras", str(out)], environment(KERAS_BACKEND="tensorflow")))
    return dict(json.loads(out.read_text()))


KERAS_RUNS = [
    "callback_epoch",
    "callback_batch",
    "callback_step",
    "plateau",
    "in_graph",
    "in_graph_epochs",
]


@pytest.mark.processes
@pytest.mark.keras
@pytest.mark.parametrize("name", KERAS_RUNS)
def test_mirrored_replicas_use_the_rates_of_one_device(mirrored: dict[str, Any], name: str) -> None:
    run, single = mirrored[name]["mirrored"], mirrored[name]["single"]
    assert run["iterations"] == single["iterations"] == 20
    assert all(len(rates) == 2 for rates in run["used"]), "one rate per replica"
    assert all(a == b for a, b in run["used"]), "the replicas used different rates"
    assert [a for a, _ in run["used"]] == [r for (r,) in single["used"]]
    assert all(a == b for a, b in run["held"])
    assert run["history"] == single["history"]
    assert len({rates[0] for rates in run["used"]}) > 3, "the rate must change"


@pytest.mark.processes
@pytest.mark.keras
def test_mirrored_plateau_reduced_the_rate(mirrored: dict[str, Any]) -> None:
    plateau = mirrored["plateau"]["mirrored"]["history"]
    plain = mirrored["callback_epoch"]["mirrored"]["history"]
    assert plateau[:3] == plain[:3]  # patience 2 on a loss that never improves
    assert plateau[3] == pytest.approx(plain[3] * 0.5, rel=1e-6)


@pytest.mark.processes
@pytest.mark.keras
@pytest.mark.parametrize("name", ["in_graph", "callback_step"])
def test_keras_gradient_accumulation_counts_each_update_once(
    mirrored: dict[str, Any], name: str
) -> None:
    # gradient_accumulation_steps=2, batches of 4, against batches of 8: the same updates.
    run = mirrored["accumulation"][name]
    reference = [r for (r,) in mirrored[name]["single"]["used"]]
    assert run["iterations"] == 20  # Keras' public count: updates, not micro-batches
    used = [r for (r,) in run["used"]]
    assert used[1::2] == reference  # the update is applied on every 2nd micro-batch
    assert used[0::2] == [0.0] * 20  # the 1st only accumulates: the probe weight stays 0


@pytest.mark.processes
@pytest.mark.keras
def test_keras_schedule_without_accumulation_steps_counts_micro_batches(
    mirrored: dict[str, Any],
) -> None:
    # Keras calls a schedule with its raw counter: update u of 2 micro-batches is call 2u + 1.
    # This is why lrkit.keras.schedule takes accumulation_steps.
    run = [r for (r,) in mirrored["accumulation"]["in_graph_micro_batches"]["used"]]
    reference = [r for (r,) in mirrored["in_graph"]["single"]["used"]]
    assert run[1::2][:10] == reference[1::2]
    assert run[1::2] != reference


@pytest.mark.keras
def test_keras_schedule_accumulation_steps_saves_and_is_checked() -> None:
    pytest.importorskip("keras")
    import lrkit.keras as lk

    s = lk.schedule(lrkit.cosine(0.1, 10), steps_per_epoch=5, accumulation_steps=4)
    restored = lk.KerasSchedule.from_config(s.get_config())
    assert restored == s and restored.accumulation_steps == 4
    assert repr(s).endswith("steps_per_epoch=5, accumulation_steps=4)")
    assert restored != lk.schedule(lrkit.cosine(0.1, 10), steps_per_epoch=5)
    # Micro-batch 4 * 10 + 3 is in update 10, epoch 2: cos(pi * 2 / 10) of the way.
    expected = 0.05 * (1 + np.cos(np.pi * 2 / 10))
    np.testing.assert_allclose(float(s(43)), expected, rtol=1e-6)
    old = {"schedule": lrkit.cosine(0.1, 10).to_config(), "steps_per_epoch": None}
    assert lk.KerasSchedule.from_config(old).accumulation_steps == 1  # saved before the key
    with pytest.raises(ValueError, match="accumulation_steps=0"):
        lk.schedule(lrkit.cosine(0.1, 10), accumulation_steps=0)


# -- JAX over 2 host devices -----------------------------------------------------------


@pytest.fixture(scope="module")
def two_devices(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("jax")
    pytest.importorskip("optax")
    out = tmp_path_factory.mktemp("jax") / "out.json"
    env = environment(XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    finish(start(["jax", str(out)], env))
    return dict(json.loads(out.read_text()))


@pytest.mark.processes
@pytest.mark.jax
@pytest.mark.parametrize("name", ["pmap", "sharded"])
def test_jax_devices_use_the_rates_of_one_device(two_devices: dict[str, Any], name: str) -> None:
    run, single = two_devices[name], two_devices["single"]
    assert len(run["used"]) == UPDATES
    assert all(len(rates) == 2 and rates[0] == rates[1] for rates in run["used"])
    assert [rates[0] for rates in run["used"]] == single["used"]
    assert len(set(single["used"])) > 3
    for ours, theirs in zip(run["weights"], single["weights"], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    if name == "pmap":
        assert run["replica_weights_equal"]
    else:
        assert len(run["devices"]) == 2


@pytest.mark.processes
@pytest.mark.jax
def test_optax_multisteps_counts_each_update_once(two_devices: dict[str, Any]) -> None:
    run, single = two_devices["multisteps"], two_devices["single"]  # 4 micro-batches of 4
    assert run["used"] == single["used"]
    for ours, theirs in zip(run["weights"], single["weights"], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
