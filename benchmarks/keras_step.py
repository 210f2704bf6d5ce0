"""What does a schedule cost per Keras train step? lrkit in-graph and per batch vs Keras' own.

One small model (an MLP 64-128-10 on scikit-learn's digits, batch 32) is trained with SGD and:

  constant   a constant rate (the baseline: ratio 1.0);
  constant2  the same again, on a second model: how far two identical runs differ here;
  keras      Keras' own ``CosineDecay``, evaluated in the train step;
  lrkit      ``lrkit.keras.schedule(lrkit.cosine(...))``, evaluated in the train step;
  callback   ``lrkit.keras.LearningRateScheduler(lrkit.cosine(...), unit="step")``, which sets
             the rate from Python before every batch.

Each configuration has its own model, whose train step is traced before timing. In every round
each model trains one timed epoch of ``--steps`` batches, in a rotating order; the time per step
is that epoch's time over its steps. The time is the process's CPU time (all its threads),
which other programs on a shared machine disturb far less than wall time (shown too). Rounds
are short and many; a configuration's time is its best round, and each ratio is best over
best, measured in the same run. Targets: lrkit in-graph within 1.03x of Keras' ``CosineDecay``;
the per-batch callback at most 1.06x the constant rate.

With the TensorFlow backend the script also times the schedules alone inside a compiled
``tf.while_loop`` (microseconds per evaluation), which is what in-graph scheduling adds.

    python benchmarks/keras_step.py [--rounds 60] [--steps 100] [--threads 1]
        [--backend tensorflow] [--out benchmarks/results/keras_step.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--steps", type=int, default=100, help="batches per timed epoch")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow/torch CPU threads")
    parser.add_argument("--backend", default="tensorflow", choices=["tensorflow", "jax", "torch"])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "keras_step.md")
    return parser.parse_args()


ARGS = parse_args()
os.environ["KERAS_BACKEND"] = ARGS.backend
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import lrkit  # noqa: E402
import lrkit.keras  # noqa: E402

PEAK, DECAY_STEPS, BATCH = 0.05, 100_000, 32


def set_threads(n: int) -> None:
    if ARGS.backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    elif ARGS.backend == "torch":
        import torch

        torch.set_num_threads(n)


def data(steps: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    n = steps * BATCH
    index = np.arange(n) % len(digits.target)  # the 1,797 digits, repeated to fill the epoch
    return (digits.data[index] / 16.0).astype("float32"), digits.target[index]


def model(learning_rate: Any) -> Any:
    keras.utils.set_random_seed(0)
    m = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    m.compile(keras.optimizers.SGD(learning_rate=learning_rate), "sparse_categorical_crossentropy")
    return m


COSINE = lrkit.cosine(start_lr=PEAK, decay_steps=DECAY_STEPS)


def keras_cosine() -> Any:
    return keras.optimizers.schedules.CosineDecay(PEAK, DECAY_STEPS)


def configuration(name: str) -> tuple[Any, list[Any]]:
    """The model (and callbacks) of one configuration."""
    if name in ("constant", "constant2"):
        return model(PEAK), []
    if name == "keras":
        return model(keras_cosine()), []
    if name == "lrkit":
        return model(lrkit.keras.schedule(COSINE)), []
    return model(PEAK), [lrkit.keras.LearningRateScheduler(COSINE, unit="step")]


NAMES = ["constant", "constant2", "keras", "lrkit", "callback"]


def timed_epoch(m: Any, callbacks: list[Any], x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Seconds per step of one epoch: the process's CPU time (all threads), and wall time."""
    cpu, wall = time.process_time(), time.perf_counter()
    m.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=callbacks)
    steps = len(x) // BATCH
    return (time.process_time() - cpu) / steps, (time.perf_counter() - wall) / steps


def check_same_rates(models: dict[str, Any]) -> None:
    """The schedules agree on the rate (float32) at the step each model has reached."""
    for name in ("keras", "lrkit"):
        optimizer = models[name].optimizer
        step = int(keras.ops.convert_to_numpy(optimizer.iterations.value))
        rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        if abs(rate - COSINE(step)) > 1e-6 * PEAK:
            raise RuntimeError(f"{name}: rate {rate} at step {step}, expected {COSINE(step)}")


def evaluation_cost(
    repeat: int = 31, passes: int = 4_000, per_pass: int = 16
) -> dict[str, tuple[float, float]]:
    """CPU microseconds per evaluation of each schedule alone, in a compiled TensorFlow loop:
    best and median of ``repeat`` runs of the loop, the loops in a rotating order.

    Each pass of a loop evaluates the schedule ``per_pass`` times, at different steps, so
    that the schedule's own ops, not the loop's bookkeeping, make up most of the time (with
    one evaluation a pass, the loop cost 2.5 times what either schedule adds, and the two
    schedules could not be told apart). Two loops per schedule: "counter" calls it as the
    optimizer does, with Keras variables of integers (one per evaluation) counted up at
    each pass (``assign_add``, in every loop, the constant one too); "tensor" calls it with
    plain tensors computed from the loop's index (which lrkit clamps at 0, since it cannot
    know their sign)."""
    import tensorflow as tf

    constant = keras.Variable(PEAK)
    schedules = {
        "constant": lambda step: tf.cast(constant.value, tf.float32),
        "keras": keras_cosine(),
        "lrkit": lrkit.keras.schedule(COSINE),
    }

    def compiled(schedule: Any, counters: list[Any] | None) -> Any:
        @tf.function
        def loop(n: Any) -> Any:
            def body(i: Any, total: Any) -> tuple[Any, Any]:
                for j in range(per_pass):
                    if counters is None:
                        total += schedule(i * per_pass + j)
                    else:
                        counters[j].assign_add(1)
                        total += schedule(counters[j])
                return i + 1, total

            start = (tf.constant(0, tf.int64), tf.constant(0.0))
            return tf.while_loop(lambda i, total: i < n, body, start)[1]

        return loop

    loops = {}
    for name, s in schedules.items():
        counters = [keras.Variable(j, dtype="int64", trainable=False) for j in range(per_pass)]
        loops[f"counter {name}"] = compiled(s, counters)
        loops[f"tensor {name}"] = compiled(s, None)
    count = tf.constant(passes, tf.int64)
    for loop in loops.values():
        loop(count)  # trace
    names = list(loops)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.process_time()
            loops[name](count)
            times[name].append((time.process_time() - start) / (passes * per_pass) * 1e6)
    return {name: (min(t), statistics.median(t)) for name, t in times.items()}


def optimized_ops() -> dict[str, list[str]]:
    """The ops each cosine computes after TensorFlow's graph optimizer (grappler, as
    ``tf.function`` runs it), called with a Keras counter and with a plain tensor: a count
    that does not depend on the machine's noise."""
    import tensorflow as tf
    from tensorflow.core.protobuf import config_pb2, meta_graph_pb2
    from tensorflow.python.grappler import tf_optimizer

    # Constants, the input and its variable's set-up are not work done per evaluation.
    skip = {"Const", "Placeholder", "Identity", "VarHandleOp", "NoOp", "AssignVariableOp"}
    out = {}
    for name, s in (("keras", keras_cosine()), ("lrkit", lrkit.keras.schedule(COSINE))):
        for how in ("counter", "tensor"):
            graph = tf.Graph()
            with graph.as_default():
                step = (
                    keras.Variable(0, dtype="int64", trainable=False)
                    if how == "counter"
                    else tf.compat.v1.placeholder(tf.int64, [], name="step")
                )
                tf.identity(s(step), name="rate")
                meta = tf.compat.v1.train.export_meta_graph(graph=graph)
            fetch = meta_graph_pb2.CollectionDef()
            fetch.node_list.value.append("rate")
            meta.collection_def["train_op"].CopyFrom(fetch)
            optimized = tf_optimizer.OptimizeGraph(config_pb2.ConfigProto(), meta)
            out[f"{how} {name}"] = [n.op for n in optimized.node if n.op not in skip]
    return out


def machine() -> list[str]:
    cpu = "unknown"
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = [f"Python {platform.python_version()}", f"Keras {keras.__version__}"]
    backend = ARGS.backend
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]
    versions.append(f"{module} {__import__(module).__version__}")
    versions.append(f"NumPy {np.__version__}")
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    return [
        f"- CPU: {cpu}; `nproc`: {os.cpu_count()}; load average at the start: {' '.join(load)}",
        f"- {', '.join(versions)}; Keras backend: {backend}; CPU threads: {ARGS.threads}",
    ]


def main() -> None:
    set_threads(ARGS.threads)
    x, y = data(ARGS.steps)
    head = machine()
    configs = {name: configuration(name) for name in NAMES}
    for m, callbacks in configs.values():
        timed_epoch(m, callbacks, x[: 4 * BATCH], y[: 4 * BATCH])  # trace, untimed
    cpu: dict[str, list[float]] = {name: [] for name in NAMES}
    wall: dict[str, list[float]] = {name: [] for name in NAMES}
    for r in range(ARGS.rounds):
        for name in NAMES[r % len(NAMES) :] + NAMES[: r % len(NAMES)]:
            m, callbacks = configs[name]
            cpu_time, wall_time = timed_epoch(m, callbacks, x, y)
            cpu[name].append(cpu_time)
            wall[name].append(wall_time)
    check_same_rates({name: m for name, (m, _) in configs.items()})
    best = {name: min(times) for name, times in cpu.items()}
    median_cpu = {name: statistics.median(times) for name, times in cpu.items()}
    best_wall = {name: min(times) for name, times in wall.items()}
    median_wall = {name: statistics.median(times) for name, times in wall.items()}

    labels = {
        "constant": "constant rate (baseline)",
        "constant2": "constant rate, a second model (the noise floor)",
        "keras": "Keras `CosineDecay`, in-graph",
        "lrkit": "lrkit `cosine`, in-graph (`lrkit.keras.schedule`)",
        "callback": 'lrkit `cosine`, per-batch callback (`unit="step"`)',
    }
    rows = [
        "| configuration | CPU ms per step (best) | ratio to constant | ratio to Keras' "
        "`CosineDecay` | wall ms per step (best / median) | wall ratio to constant (best) |",
        "|---|---|---|---|---|---|",
    ]
    for name in NAMES:
        rows.append(
            f"| {labels[name]} | {1000 * best[name]:.3f} | {best[name] / best['constant']:.3f} "
            f"| {best[name] / best['keras']:.3f} "
            f"| {1000 * best_wall[name]:.3f} / {1000 * median_wall[name]:.3f} "
            f"| {best_wall[name] / best_wall['constant']:.3f} |"
        )
    in_graph = best["lrkit"] / best["keras"]
    verdict = "met" if in_graph <= 1.03 else "NOT met"
    per_batch = best["callback"] / best["constant"]
    per_batch_median = median_cpu["callback"] / median_cpu["constant"]
    command = "python benchmarks/keras_step.py " + " ".join(sys.argv[1:])
    report = [
        "# Keras train-step time: lrkit against Keras' own schedule",
        "",
        f"Command: `{command.strip()}` (from the repository root, in the project's venv)",
        "",
        "Times are per train step, over a whole `fit` epoch (the fit loop included). The ratios "
        "use the process's CPU time, which other programs on a shared machine disturb far less "
        "than wall time; each configuration's best round is taken (rounds rotate the order).",
        "",
        *head,
        f"- Model: MLP 64-128-10 on scikit-learn's digits, SGD, batch {BATCH}; "
        f"{ARGS.steps} steps per timed epoch, {ARGS.rounds} rounds",
        "",
        *rows,
        "",
        f"Target: lrkit in-graph within 1.03x of Keras' `CosineDecay`: **{verdict}** "
        f"({in_graph:.3f}x in CPU time, best round against best round).",
        "",
        f"Target: the per-batch callback at most 1.06x the constant rate's step: "
        f"**{'met' if per_batch <= 1.06 else 'NOT met'}** ({per_batch:.3f}x in CPU time, best "
        f"round against best round; {per_batch_median:.3f}x median against median).",
        "",
    ]
    if ARGS.backend == "tensorflow":
        cost = evaluation_cost()
        ops = optimized_ops()
        added = {
            (how, name): tuple(
                cost[f"{how} {name}"][k] - cost[f"{how} constant"][k] for k in (0, 1)
            )
            for how in ("counter", "tensor")
            for name in ("keras", "lrkit")
        }
        ratio = added["counter", "lrkit"][1] / added["counter", "keras"][1]
        report += [
            "The schedules alone, in a compiled `tf.while_loop` of 4,000 passes, each "
            "evaluating the schedule at 16 different steps (CPU time; best and median of 31 "
            "runs in a rotating order; the loop with a constant rate is the baseline). "
            "*counter*: called as the optimizer calls it, with Keras variables of integers "
            "counted up each pass; *tensor*: with plain tensors computed from the loop's index, "
            "which lrkit clamps at 0 (it cannot know their sign):",
            "",
            "| called with | schedule | us per evaluation (best / median) "
            "| added over the constant (best / median) |",
            "|---|---|---|---|",
            *(
                f"| {how} | {name} | {cost[f'{how} {name}'][0]:.3f} / "
                f"{cost[f'{how} {name}'][1]:.3f} | "
                + (
                    "0 |"
                    if name == "constant"
                    else f"{added[how, name][0]:.3f} / {added[how, name][1]:.3f} |"
                )
                for how in ("counter", "tensor")
                for name in ("constant", "keras", "lrkit")
            ),
            "",
            f"Target: lrkit's cosine at most 1.0x Keras' `CosineDecay` per evaluation as the "
            f"optimizer calls it (added time, median over median): "
            f"**{'met' if ratio <= 1.0 else 'NOT met'}** ({ratio:.2f}x; best over best "
            f"{added['counter', 'lrkit'][0] / added['counter', 'keras'][0]:.2f}x; with a plain "
            f"tensor {added['tensor', 'lrkit'][1] / added['tensor', 'keras'][1]:.2f}x).",
            "",
            "The ops each computes after TensorFlow's graph optimizer (grappler), from a Keras "
            "counter and from a plain tensor:",
            "",
            "| called with | schedule | ops | what they are |",
            "|---|---|---:|---|",
            *(
                f"| {how} | {name} | {len(ops[f'{how} {name}'])} | "
                f"{', '.join(ops[f'{how} {name}'])} |"
                for how in ("counter", "tensor")
                for name in ("keras", "lrkit")
            ),
            "",
        ]
    report += [
        "The in-graph schedules add about a microsecond of scalar ops to a step of about a "
        "millisecond, below what this machine can resolve; the per-batch callback pays a Python "
        "call, a read of the optimizer's step counter and a variable assignment per batch "
        "(on TensorFlow one raw assignment op, not Keras' `assign`, which costs several times "
        "more).",
        "",
    ]
    text = "\n".join(report)
    print(text)
    ARGS.out.parent.mkdir(parents=True, exist_ok=True)
    ARGS.out.write_text(text)


if __name__ == "__main__":
    main()
