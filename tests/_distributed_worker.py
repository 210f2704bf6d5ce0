"""Distributed and accumulated training runs for tests/test_distributed.py.

    python tests/_distributed_worker.py torch RANK WORLD OUT.json   # MASTER_ADDR/PORT set
    python tests/_distributed_worker.py keras OUT.json
    python tests/_distributed_worker.py jax OUT.json    # XLA_FLAGS=...device_count=2

Each writes, per run, the rates every replica used (or held) at every update and the final
weights, as JSON; the test compares replicas with each other and with a one-process run of the
same global batch. Data are generated; every run sees the same global batches.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

UPDATES = 12
GLOBAL_BATCH = 16


def data(n: int = UPDATES * GLOBAL_BATCH) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(0)
    x = rng.rand(n, 4).astype("float32")
    y = (x @ rng.rand(4, 3) + 0.1 * rng.rand(n, 3)).astype("float32")
    return x, y


# -- PyTorch: DDP over gloo ------------------------------------------------------------


def torch_main(rank: int, world: int, out: Path) -> None:
    import torch
    import torch.distributed as dist

    import lrkit
    from lrkit.torch import LRScheduler

    torch.set_num_threads(1)
    if world > 1:
        # A peer that dies must fail this rank soon, not after the default 30 minutes.
        timeout = datetime.timedelta(seconds=120)
        dist.init_process_group("gloo", rank=rank, world_size=world, timeout=timeout)
    s = lrkit.warmup(lrkit.cosine(0.2, UPDATES - 3, end_lr=0.01), steps=3)
    x, y = (torch.from_numpy(a) for a in data())
    results = {}
    for accumulation in (1, 2, 4):
        if world > 1 and accumulation == 4:
            continue  # the one-process reference of 2 x 2 micro-batches per update
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        net: Any = model
        if world > 1:
            net = torch.nn.parallel.DistributedDataParallel(model)
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.9)
        # Stepped after every micro-batch, as its docs allow; counts updates all the same.
        scheduler = LRScheduler(optimizer, s, accumulation_steps=accumulation)
        share = GLOBAL_BATCH // world  # this rank's rows of each global batch
        micro = share // accumulation
        used, held = [], []
        for u in range(UPDATES):
            rows = u * GLOBAL_BATCH + rank * share
            for m in range(accumulation):
                lo = rows + m * micro
                held.append(optimizer.param_groups[0]["lr"])
                loss = torch.nn.functional.mse_loss(net(x[lo : lo + micro]), y[lo : lo + micro])
                last = m == accumulation - 1
                if world > 1 and not last:
                    with net.no_sync():  # no all-reduce until the update's last micro-batch
                        (loss / accumulation).backward()
                else:
                    (loss / accumulation).backward()
                if last:
                    used.append(optimizer.param_groups[0]["lr"])
                    optimizer.step()
                    optimizer.zero_grad()
                scheduler.step()
        weights = [p.detach().flatten().tolist() for p in model.parameters()]
        results[f"accumulation={accumulation}"] = {"used": used, "held": held, "weights": weights}
    if world > 1:
        dist.destroy_process_group()
    out.write_text(json.dumps(results))


# -- Keras: MirroredStrategy over 2 logical CPUs ---------------------------------------


def keras_main(out: Path) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    import keras

    import lrkit
    import lrkit.keras as lk

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2

    # The probe of test_keras_backends.py: one weight, reset to 0 before each batch, whose
    # gradient under MAE is exactly -1 (targets far above), so after a batch it holds the rate
    # that batch's update used; on every replica, read from each replica's own copy.
    steps_per_epoch, epochs, batch = 5, 4, 8
    x = np.ones((steps_per_epoch * batch, 1), "float32")
    y = np.full((steps_per_epoch * batch, 1), 1e6, "float32")
    in_epochs = lrkit.warmup(lrkit.cosine(0.1, epochs - 1, end_lr=0.001), steps=1)
    in_updates = lrkit.warmup(lrkit.cosine(0.1, 15, end_lr=0.001), steps=5)

    def replicas(v: Any) -> list[float]:
        inner = v.value if isinstance(v, keras.Variable) else v
        if isinstance(inner, tf.distribute.DistributedValues):
            return [float(np.asarray(r).item()) for r in strategy.experimental_local_results(inner)]
        return [float(np.asarray(inner).item())]

    class Probe(keras.callbacks.Callback):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.used: list[list[float]] = []  # per update, per replica
            self.held: list[list[float]] = []

        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            optimizer = self.model.optimizer
            rate = optimizer._learning_rate  # the variable, or the in-graph schedule
            if isinstance(rate, keras.Variable):
                self.held.append(replicas(rate))
            self.model.layers[-1].kernel.assign(np.zeros((1, 1), "float32"))

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self.used.append(replicas(self.model.layers[-1].kernel))

    def run(name: str, mirrored: bool, accumulation: int = 1) -> dict[str, Any]:
        callbacks: list[Any] = []
        rate: Any = 0.5
        if name == "callback_epoch":
            callbacks.append(lk.LearningRateScheduler(in_epochs))
        elif name == "callback_batch":
            callbacks.append(lk.LearningRateScheduler(in_epochs, per_batch=True))
        elif name == "callback_step":
            callbacks.append(lk.LearningRateScheduler(in_updates, unit="step"))
        elif name == "plateau":
            # The loss never improves (the weight is reset): the factor halves every 2 epochs.
            callbacks.append(lk.ReduceOnPlateau(in_epochs, monitor="loss", factor=0.5, patience=2))
        elif name == "in_graph":
            rate = lk.schedule(in_updates, accumulation_steps=accumulation)
        elif name == "in_graph_micro_batches":
            rate = lk.schedule(in_updates)
        else:
            assert name == "in_graph_epochs"
            rate = lk.schedule(in_epochs, steps_per_epoch=steps_per_epoch)
        with strategy.scope() if mirrored else contextlib.nullcontext():
            model = keras.Sequential(
                [
                    keras.Input((1,)),
                    keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros"),
                ]
            )
            optimizer = keras.optimizers.SGD(
                learning_rate=rate,
                gradient_accumulation_steps=accumulation if accumulation > 1 else None,
            )
            model.compile(optimizer, loss="mae")
        probe = Probe()
        history = model.fit(
            x,
            y,
            batch_size=batch // accumulation,  # the same data per update
            epochs=epochs,
            shuffle=False,
            verbose=0,
            callbacks=[*callbacks, probe],
        )
        return {
            "used": probe.used,
            "held": probe.held,
            "history": history.history.get("learning_rate"),
            "iterations": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
        }

    results: dict[str, Any] = {}
    for name in ("callback_epoch", "callback_batch", "callback_step", "plateau", "in_graph"):
        results[name] = {"mirrored": run(name, True), "single": run(name, False)}
    results["in_graph_epochs"] = {
        "mirrored": run("in_graph_epochs", True),
        "single": run("in_graph_epochs", False),
    }
    # Gradient accumulation: 2 micro-batches of 4 per update against 1 batch of 8. (Keras'
    # accumulation does not run under MirroredStrategy: its all-reduce sits inside a cond.)
    results["accumulation"] = {
        "in_graph": run("in_graph", False, accumulation=2),
        "callback_step": run("callback_step", False, accumulation=2),
        # Without accumulation_steps the schedule counts micro-batches (Keras' raw counter).
        "in_graph_micro_batches": run("in_graph_micro_batches", False, accumulation=2),
    }
    out.write_text(json.dumps(results))


# -- JAX: pmap and jit with NamedSharding over 2 host devices, through optax -----------


def jax_main(out: Path) -> None:
    import jax
    import jax.numpy as jnp
    import optax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    import lrkit

    devices = jax.devices()
    assert len(devices) == 2, devices
    s = lrkit.warmup(lrkit.cosine(0.2, UPDATES - 3, end_lr=0.01), steps=3)
    x_all, y_all = data()

    def init() -> dict[str, Any]:
        rng = np.random.RandomState(1)
        return {"w": jnp.asarray(rng.randn(4, 3) * 0.1, "float32"), "b": jnp.zeros(3)}

    def loss(params: Any, x: Any, y: Any) -> Any:
        return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)

    def optimizer(k: int = 1) -> Any:
        inner = optax.inject_hyperparams(optax.sgd)(learning_rate=s, momentum=0.9)
        return inner if k == 1 else optax.MultiSteps(inner, every_k_schedule=k)

    def rate_of(state: Any) -> Any:
        inner = state.inner_opt_state if isinstance(state, optax.MultiStepsState) else state
        return inner.hyperparams["learning_rate"]

    def batches(micro: int = 1) -> Any:
        for u in range(UPDATES):
            x = x_all[u * GLOBAL_BATCH : (u + 1) * GLOBAL_BATCH]
            y = y_all[u * GLOBAL_BATCH : (u + 1) * GLOBAL_BATCH]
            yield from zip(np.split(x, micro), np.split(y, micro), strict=True)

    def weights(params: Any) -> list[list[float]]:
        return [np.asarray(params[k]).flatten().tolist() for k in ("w", "b")]

    results: dict[str, Any] = {}

    # One device, the whole global batch per update: the reference.
    def single(k: int) -> dict[str, Any]:
        tx = optimizer(k)

        @jax.jit
        def step(params: Any, state: Any, x: Any, y: Any) -> Any:
            grads = jax.grad(loss)(params, x, y)
            updates, state = tx.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        params = init()
        state = tx.init(params)
        used = []
        for x, y in batches(k):
            params, state = step(params, state, x, y)
            used.append(float(rate_of(state)))  # the rate of the update just made (or pending)
        # MultiSteps: the inner rate is the one of the last real update, once per k calls.
        return {"used": used[k - 1 :: k], "weights": weights(params)}

    results["single"] = single(1)
    results["multisteps"] = single(4)  # 4 micro-batches of 4 per update

    # pmap: each device takes half of every global batch; gradients averaged with pmean.
    tx = optimizer()

    def pstep(params: Any, state: Any, x: Any, y: Any) -> Any:
        grads = jax.lax.pmean(jax.grad(loss)(params, x, y), "devices")
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    pstep_c = jax.pmap(pstep, axis_name="devices")
    params = jax.tree.map(lambda a: jnp.stack([a, a]), init())  # one copy per device
    state = jax.pmap(tx.init)(params)
    used = []
    for x, y in batches():
        params, state = pstep_c(params, state, x.reshape(2, -1, 4), y.reshape(2, -1, 3))
        shards = rate_of(state).addressable_shards
        used.append([float(np.asarray(shard.data).item()) for shard in shards])  # per device
    replicas_equal = all(
        np.array_equal(np.asarray(params[k][0]), np.asarray(params[k][1])) for k in ("w", "b")
    )
    results["pmap"] = {
        "used": used,
        "weights": weights(jax.tree.map(lambda a: a[0], params)),
        "replica_weights_equal": replicas_equal,
    }

    # jit with NamedSharding: the batch split over a 2-device mesh, parameters replicated.
    mesh = Mesh(np.array(devices), ("data",))
    split = NamedSharding(mesh, PartitionSpec("data"))
    replicated = NamedSharding(mesh, PartitionSpec())
    tx = optimizer()

    @jax.jit
    def sstep(params: Any, state: Any, x: Any, y: Any) -> Any:
        grads = jax.grad(loss)(params, x, y)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    params = jax.device_put(init(), replicated)
    state = jax.device_put(tx.init(params), replicated)
    used = []
    for x, y in batches():
        params, state = sstep(params, state, jax.device_put(x, split), jax.device_put(y, split))
        rate = rate_of(state)
        shards = rate.addressable_shards  # one per device holding the (replicated) rate
        used.append([float(np.asarray(shard.data).item()) for shard in shards])
    results["sharded"] = {
        "used": used,
        "weights": weights(params),
        "devices": sorted(str(d) for d in rate.sharding.device_set),
    }
    out.write_text(json.dumps(results))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "torch":
        torch_main(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
    elif command == "keras":
        keras_main(Path(sys.argv[2]))
    else:
        assert command == "jax"
        jax_main(Path(sys.argv[2]))
