"""Fuzzing every entry point that reads untrusted input, bounded and deterministic.

Each entry point gets :data:`N` inputs mutated from valid corpora (the registry's examples,
their configs, JSON and YAML) by a seeded generator, so a gate run sees the same inputs every
time. For each input: it is read or refused with a documented error type only (``SpecError``
for :func:`lrkit.parse`, ``ValueError``/``TypeError`` elsewhere, an exit status from the
CLI); it takes under :data:`MAX_SECONDS` of CPU time and :data:`MAX_BYTES` (the process'
peak resident size during the input above its size before it, and tracemalloc's peak on every
:data:`MEMORY_EVERY`-th input); and no code runs (inputs that try ``__import__``,
``!!python/...`` YAML tags and attribute access would set a sentinel).

A longer run, with other inputs (see docs/limits.md)::

    LRKIT_FUZZ_N=200000 LRKIT_FUZZ_SEED=$RANDOM pytest tests/test_fuzz.py -p no:cacheprovider
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import io
import json
import math
import os
import random
import re
import sys
import tempfile
import time
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

import lrkit
import lrkit.cli

# Five minutes of single-threaded work: make test runs it beside the main pytest.
pytestmark = pytest.mark.beside
N = int(os.environ.get("LRKIT_FUZZ_N", "10000"))
SEED = int(os.environ.get("LRKIT_FUZZ_SEED", "0"))
MAX_SECONDS = 2.0
MAX_BYTES = 100 * 2**20
#: Memory is traced (tracemalloc, which slows Python down about five times) on every
#: MEMORY_EVERY-th input; between them the process' peak memory bounds the rest.
MEMORY_EVERY = int(os.environ.get("LRKIT_FUZZ_MEMORY_EVERY", "10"))
TRACED_SLOWDOWN = 5
#: Tampered .keras files (about 10 ms to load or refuse each).
N_FILES = int(os.environ.get("LRKIT_FUZZ_FILES", str(N)))

# -- no code runs ---------------------------------------------------------------------------

#: Set by any input that manages to run code.
SENTINEL: list[str] = []
SENTINEL_FILE = Path(tempfile.gettempdir()) / f"lrkit-fuzz-sentinel-{os.getpid()}"


def boom(*args: Any) -> None:
    SENTINEL.append(repr(args))


sys.modules.setdefault("lrkit_fuzz_target", sys.modules[__name__])

PAYLOADS = [
    "__import__('lrkit_fuzz_target').boom()",
    "lrkit_fuzz_target.boom()",
    "().__class__.__base__.__subclasses__()",
    "cosine.__init__.__globals__",
    "!!python/object/apply:lrkit_fuzz_target.boom []",
    f"!!python/object/apply:os.system ['touch {SENTINEL_FILE}']",
    "!!python/name:lrkit_fuzz_target.boom",
    "!!python/object/new:lrkit_fuzz_target.boom []",
    f'{{"__reduce__": ["os.system", ["touch {SENTINEL_FILE}"]]}}',
    "eval('1')",
    "exec",
]

# -- corpora --------------------------------------------------------------------------------

TEXTS = [cls.example for _, cls in sorted(lrkit.REGISTRY.items())] + [
    "warmup(cosine(0.1, 90), steps=10) >> constant(0.001)",
    "cosine(0.1, 100) * 0.5 + 0.01",
    "join([linear(0.0, 5, end_lr=0.1), cosine(0.1, 10)], [5])",
]
CONFIGS = [lrkit.parse(text).to_config() for text in TEXTS]
JSON_TEXTS = [json.dumps(c) for c in CONFIGS] + [json.dumps(c, indent=2) for c in CONFIGS[:5]]


def _yaml_texts() -> list[str]:
    yaml = pytest.importorskip("yaml")
    block = [yaml.safe_dump(c, sort_keys=False) for c in CONFIGS]
    flow = [yaml.safe_dump(c, default_flow_style=True) for c in CONFIGS]
    return [*block, *flow, "a: &a {name: constant, start_lr: 0.1}\nname: sum\nb: *a\n"]


TOKENS = [
    *"()[]{},=*+-:'\"\\\n\t #&!|>%@`.",
    ">>", "&a ", "*a", "<<: *a", "---", "...", "? ", "- ", "%YAML 1.1\n", "!!binary ", "!!set ",
    "!!float ", "!!int ", "!!str ", "!!map ", "nan", "inf", "-inf", ".nan", ".inf", "1e308",
    "1e-320", "-1", "0", "2147483648", "9" * 400, "0x10", "1_000", "True", "None", "null", "~",
    "\x00", "\u00e9", "\u202e", "\ufeff", "name", "schedule", "schedules", "boundaries",
    *sorted(lrkit.REGISTRY), *PAYLOADS,
]  # fmt: skip
EXTREMES: list[Any] = [
    None, True, False, "", "x" * 500, -1, 0, 0.0, -0.0, 1, 1e308, -1e308, 1e-320, math.nan,
    math.inf, -math.inf, 2**31, 2**63, 10**400, 3_000_000_000, [], {}, [1] * 200, [[]],
    {"name": "x"}, {"name": None}, "cosine", "inf", *PAYLOADS[:3],
]  # fmt: skip
_NUMBER = re.compile(r"-?\d+(\.\d*)?(e-?\d+)?")


# -- mutations ------------------------------------------------------------------------------


def mutate_text(rng: random.Random, corpus: list[str]) -> str:
    """One of ``corpus``, with 1-4 random edits (an occasional one nests it deeply)."""
    text = rng.choice(corpus)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        i = rng.randint(0, len(text))
        if op <= 1:
            text = text[:i] + rng.choice(TOKENS) + text[i:]
        elif op == 2:
            text = text[:i] + text[i + rng.randint(1, 12) :]
        elif op == 3:
            j = min(len(text), i + rng.randint(1, 40))
            text = text[:j] + text[i:j] * rng.randint(1, 8) + text[j:]
        elif op == 4:
            numbers = list(_NUMBER.finditer(text))
            if numbers:
                m = rng.choice(numbers)
                text = text[: m.start()] + str(rng.choice(EXTREMES)) + text[m.end() :]
        elif op == 5:
            other = rng.choice(corpus)
            text = text[:i] + other[rng.randint(0, len(other)) :]
        else:
            depth = rng.choice([2, 10, 40, 200])
            opener, closer = rng.choice([("[", "]"), ("{a: ", "}"), ("scale(", ", 0.5)")])
            text = opener * depth + text + closer * depth
    return text


def _containers(value: Any) -> list[Any]:
    """The non-empty dicts and lists in ``value``, each once (a config may contain itself)."""
    out, seen, stack = [], set(), [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict | list) and node and id(node) not in seen:
            seen.add(id(node))
            out.append(node)
            stack.extend(node.values() if isinstance(node, dict) else node)
    return out


def mutate_config(rng: random.Random) -> Any:
    """One of the corpus' configs (a deep copy), with 1-4 random edits of its values, keys
    and names; some make it share parts or contain itself."""
    config: Any = copy.deepcopy(rng.choice(CONFIGS))
    for _ in range(rng.randint(1, 4)):
        containers = _containers(config)
        if not containers:
            break
        node = rng.choice(containers)
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        op = rng.randrange(6)
        if op <= 1:
            node[key] = copy.deepcopy(rng.choice(EXTREMES))
        elif op == 2 and isinstance(node, dict):
            del node[key]
        elif op == 2:
            node[key] = {"name": rng.choice(sorted(lrkit.REGISTRY)), "schedule": node[key]}
        elif op == 3 and isinstance(node, dict):
            node[rng.choice(["name", "schedule", "extra", 1, None, ""])] = rng.choice(EXTREMES)
        elif op == 3:
            node[key] = copy.deepcopy(rng.choice(CONFIGS))
        elif op == 4:
            shared = node[key]
            node[key] = [shared] * rng.randint(1, 50) if rng.random() < 0.5 else config
        elif isinstance(node, dict):
            node["name"] = rng.choice(sorted(lrkit.REGISTRY))
    return rng.choice([config, config, [config], {"name": "warmup", "schedule": config}])


def inputs(make: Callable[[random.Random], Any], salt: int) -> Iterator[Any]:
    rng = random.Random(SEED * 1_000_003 + salt)
    for _ in range(N):
        yield make(rng)


# -- the harness ----------------------------------------------------------------------------


def fuzz(
    entry: Callable[[Any], Any],
    items: Iterable[Any],
    allowed: tuple[type[BaseException], ...],
    kept: int = 3 * MAX_BYTES,
) -> tuple[int, float, int]:
    """Run ``entry`` on every item: only ``allowed`` errors escape, each within the time and
    memory bounds, and no code runs. Returns (inputs, slowest seconds, largest peak bytes).

    Time is this thread's CPU time: the bound is on the work an input causes, which a busy
    machine does not change. Memory: the process' peak resident size during each input above
    its size before it (C allocations included, which tracemalloc does not see), and
    tracemalloc's peak on every MEMORY_EVERY-th input; what the whole run keeps (caches,
    leaks) is bounded too, by ``kept``: loosely, since a process that has run TensorFlow does not
    return all it frees (300 MB over 10,000 inputs still catches a leak of 30 kB an input)."""
    failures: list[str] = []
    slowest, largest, count = 0.0, 0, 0
    rss_before = _rss_live()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for item in items:
            traced = count % MEMORY_EVERY == 0
            count += 1
            if traced:
                tracemalloc.start()
            resident = _rss_now()
            start = time.thread_time()
            try:
                entry(item)
            except allowed:
                pass
            except Exception as e:
                if len(failures) < 5:
                    failures.append(f"{type(e).__name__}: {str(e)[:200]} <- {_show(item)}")
            finally:
                elapsed = time.thread_time() - start
                peak = max(_peak_rss() - resident, 0)
                if traced:
                    peak = max(peak, tracemalloc.get_traced_memory()[1])
                if traced:
                    tracemalloc.stop()
            slowest, largest = max(slowest, elapsed), max(largest, peak)
            # An input traced for memory runs several times slower: its time counts for less.
            if elapsed > MAX_SECONDS * (TRACED_SLOWDOWN if traced else 1) or peak > MAX_BYTES:
                failures.append(f"{elapsed:.2f} s, {peak >> 20} MiB <- {_show(item)}")
    grown = _rss_live() - rss_before
    assert grown < kept, f"the process kept {grown >> 20} MiB more after the run"
    assert not failures, "\n".join(failures)
    assert not SENTINEL, SENTINEL
    assert not SENTINEL_FILE.exists()
    print(
        f"{count} inputs, slowest {slowest * 1000:.1f} ms, largest peak {largest / 2**20:.2f} "
        f"MiB, {grown / 2**20:.0f} MiB kept after the run"
    )
    return count, slowest, largest


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _rss_live() -> int:
    """The process' resident memory in bytes, after handing free heap memory back to the system
    (glibc keeps freed blocks, so that a big image buffer freed between live objects would
    otherwise count as kept)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return _status_kib("VmRSS") * 1024


def _rss_now() -> int:
    """The process' resident memory now, in bytes; and from now on, the peak counts from here
    (Linux: writing 5 to clear_refs resets the peak, VmHWM, to the current size), so that
    what the fuzzed inputs take is measured, not what earlier tests left as the peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:  # not allowed here: the peak counts from the process' start, a looser bound
        return _status_kib("VmHWM") * 1024
    return _status_kib("VmRSS") * 1024  # (a few tens of microseconds)


def _peak_rss() -> int:
    """The process' peak resident memory since :func:`_rss_now`, in bytes."""
    return _status_kib("VmHWM") * 1024


def _show(item: Any) -> str:
    return lrkit._validate.short(item, 300)


# -- the entry points -----------------------------------------------------------------------


def test_parse() -> None:
    count, _, _ = fuzz(lrkit.parse, inputs(lambda r: mutate_text(r, TEXTS), 1), (lrkit.SpecError,))
    assert count >= N


def test_from_config() -> None:
    count, _, _ = fuzz(lrkit.from_config, inputs(mutate_config, 2), (ValueError, TypeError))
    assert count >= N


def test_loads_json() -> None:
    def make(rng: random.Random) -> str:
        if rng.random() < 0.3:
            return json.dumps(mutate_config(rng), default=str, check_circular=False)[:100_000]
        return mutate_text(rng, JSON_TEXTS)

    def safe_make(rng: random.Random) -> str:
        try:
            return make(rng)
        except (ValueError, RecursionError):  # a config that contains itself: no JSON
            return mutate_text(rng, JSON_TEXTS)

    count, _, _ = fuzz(
        lambda t: lrkit.loads(t, "json"), inputs(safe_make, 3), (ValueError, TypeError)
    )
    assert count >= N


def test_loads_yaml() -> None:
    corpus = _yaml_texts()
    count, _, _ = fuzz(
        lambda t: lrkit.loads(t, "yaml"),
        inputs(lambda r: mutate_text(r, corpus), 4),
        (ValueError, TypeError),
    )
    assert count >= N


#: What the CLI fuzz draws for options: valid values, edges, garbage and huge numbers.
VALID_VALUES = ["3", "8", "20", "64", "100", "1000", "1e3"]
OPTION_VALUES = [
    "1", "0", "-1", "1e20", "10**15", "2147483648", "9" * 40, "nan", "inf", "x", "",
    "8x4.5", "1x1", "100x100", "0x5", "1e9x2",
]  # fmt: skip
TITLES = ["$x$", "$\\frac{", "$" * 30, "\\", "%s%d", "\u202e", "x" * 5000, "$\\sqrt{" * 40]


def test_cli_in_process(tmp_path: Path) -> None:
    """``lrkit convert``, ``show`` and ``plot`` on mutated text forms (as arguments), configs
    (on stdin, or in files) and option values: an exit status, never a traceback. Some
    texts are valid, so that the options and the output are fuzzed too. Plots (matplotlib,
    about 0.1 s each) are one input in twenty."""
    corpus = JSON_TEXTS + _yaml_texts()
    files = []
    for i, text in enumerate(corpus[:40]):
        path = tmp_path / f"config-{i}.{'json' if text.lstrip().startswith('{') else 'yaml'}"
        files.append(path)

    def spec(rng: random.Random) -> str:
        kind = rng.random()
        if kind < 0.15:  # a config file, mutated or not
            path = rng.choice(files)
            path.write_text(mutate_text(rng, corpus) if kind < 0.1 else rng.choice(corpus))
            return str(path)
        return rng.choice(TEXTS) if kind < 0.55 else mutate_text(rng, TEXTS)  # valid: options

    def options(rng: random.Random, names: list[str]) -> list[str]:
        out: list[str] = []
        for name in rng.sample(names, rng.randint(0, min(3, len(names)))):
            values = VALID_VALUES if rng.random() < 0.7 else OPTION_VALUES
            out += [name] if name in ("--log", "--no-phases") else [name, rng.choice(values)]
        return out

    def make(rng: random.Random) -> tuple[list[str], str]:
        kind = rng.random()
        if kind < 0.05:
            suffix = rng.choice([".svg", ".png", ".pdf", ".txt", ""])
            argv = ["plot", spec(rng), "-o", str(tmp_path / f"plot{suffix}")]
            argv += options(rng, ["--steps", "--epochs", "--steps-per-epoch", "--size", "--dpi"])
            if rng.random() < 0.5:
                argv += ["--title", rng.choice([*TITLES, mutate_text(rng, TEXTS)])]
            return argv + options(rng, ["--log", "--no-phases"]), ""
        if kind < 0.5:
            names = ["--steps", "--epochs", "--width", "--height", "--points", "--every", "--log"]
            argv = ["show", spec(rng), *options(rng, names)]
            if rng.random() < 0.2:
                argv += ["--format", rng.choice(["csv", "json", "table", "x"])]
            return argv, ""
        to = rng.choice(["spec", "json", "yaml", "python"])
        if rng.random() < 0.5:
            return ["convert", "--to", to, spec(rng)], ""
        return ["convert", "--to", to, "-"], mutate_text(rng, corpus)

    def run(item: tuple[list[str], str]) -> None:
        argv, stdin = item
        out, err = io.StringIO(), io.StringIO()
        before = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                status = lrkit.cli.main(argv)
        finally:
            sys.stdin = before
        assert status in (0, 2), (status, err.getvalue()[-300:])

    pytest.importorskip("matplotlib")
    for suffix in (".svg", ".png", ".pdf"):  # load matplotlib and its backends before measuring
        run((["plot", "cosine(0.1, 100)", "-o", str(tmp_path / f"warm{suffix}")], ""))
    count, _, _ = fuzz(run, inputs(make, 5), ())
    assert count >= N


# -- Keras: deserialization, and load_model of a tampered file -------------------------------


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, bytes]]:
    keras = pytest.importorskip("keras")
    import lrkit.keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    schedule = lrkit.keras.schedule(lrkit.cosine(0.1, 10))
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    path = tmp_path_factory.mktemp("keras") / "model.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        return keras, {name: z.read(name) for name in z.namelist()}


def _keras_config(rng: random.Random) -> Any:
    config = mutate_config(rng)
    outer: Any = {"schedule": config, "steps_per_epoch": rng.choice([None, 10, 0, -1, "x", 1e308])}
    if rng.random() < 0.2:
        outer = rng.choice([{}, [], None, {"schedule": config, "extra": 1}, config])
    return {
        "module": "lrkit.keras",
        "class_name": "KerasSchedule",
        "config": outer,
        "registered_name": "lrkit>KerasSchedule",
    }


@pytest.mark.keras
def test_keras_deserialization(keras_file: tuple[Any, dict[str, bytes]]) -> None:
    keras, _ = keras_file
    count, _, _ = fuzz(
        keras.saving.deserialize_keras_object, inputs(_keras_config, 6), (ValueError, TypeError)
    )
    assert count >= N


@pytest.mark.keras
def test_keras_load_model_of_a_tampered_file(
    keras_file: tuple[Any, dict[str, bytes]], tmp_path: Path
) -> None:
    keras, files = keras_file
    original = json.loads(files["config.json"])
    rng = random.Random(SEED * 1_000_003 + 7)

    def tampered(i: int) -> Path:
        config = copy.deepcopy(original)
        optimizer = config["compile_config"]["optimizer"]["config"]
        optimizer["learning_rate"] = _keras_config(rng)
        path = tmp_path / f"tampered-{i}.keras"
        text = json.dumps(config, default=str, check_circular=False)
        with zipfile.ZipFile(path, "w") as z:
            for name, data in files.items():
                z.writestr(name, text if name == "config.json" else data)
        return path

    def paths() -> Iterator[Path]:
        i = 0
        while i < N_FILES:
            try:
                yield tampered(i)
            except (ValueError, RecursionError):  # a config that contains itself: no JSON
                continue
            i += 1

    # Keras keeps something of each model it loads (measured: 72 MiB over 1,000 loads of the
    # untampered file, in its global state), within fuzz()'s bound on what a run keeps.
    count, _, _ = fuzz(keras.models.load_model, paths(), (ValueError, TypeError))
    assert count == N_FILES
