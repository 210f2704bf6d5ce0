"""The long fuzz run, coverage-guided: atheris (libFuzzer) on lrkit's input entry points.

``make test`` runs the seeded, bounded fuzzing of ``tests/test_fuzz.py``; this is the run for
hours, which finds inputs that generator would not. Each finding is a crash file: turn it
into an explicit test. With the ``fuzz`` extra (``pip install -e '.[fuzz]'``)::

    python tests/fuzz_atheris.py parse -max_total_time=3600
    python tests/fuzz_atheris.py yaml -max_total_time=3600 -rss_limit_mb=2048

Targets: ``parse``, ``json``, ``yaml``, ``config`` (JSON text read by ``json`` then given to
``from_config``), ``cli`` (``lrkit convert`` on the text). The seed corpus is the registry's
examples and their configs. The checks are those of ``tests/test_fuzz.py``: only the
documented errors, at most 2 s of CPU time per input, and no code runs.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports():
    import lrkit
    import lrkit.cli

MAX_SECONDS = 2.0


def _cli(text: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        status = lrkit.cli.main(["convert", "--to", "json", text])
    if status not in (0, 2):
        raise RuntimeError(f"lrkit convert exited with {status}")


TARGETS: dict[str, tuple[Callable[[str], Any], tuple[type[BaseException], ...]]] = {
    "parse": (lrkit.parse, (lrkit.SpecError,)),
    "json": (lambda t: lrkit.loads(t, "json"), (ValueError, TypeError)),
    "yaml": (lambda t: lrkit.loads(t, "yaml"), (ValueError, TypeError)),
    "config": (lambda t: lrkit.from_config(json.loads(t)), (ValueError, TypeError)),
    "cli": (_cli, ()),
}


def _seeds(target: str) -> Path:
    """A corpus directory holding the registry's examples in the target's form."""
    folder = Path(tempfile.mkdtemp(prefix=f"lrkit-fuzz-{target}-"))
    for i, cls in enumerate(lrkit.REGISTRY.values()):
        s = lrkit.parse(cls.example)
        text = {"json": lrkit.dumps(s), "config": lrkit.dumps(s), "yaml": lrkit.dumps(s, "yaml")}
        (folder / f"{i}").write_text(text.get(target, cls.example), encoding="utf-8")
    return folder


def main() -> None:
    target = sys.argv.pop(1) if len(sys.argv) > 1 and sys.argv[1] in TARGETS else "parse"
    entry, allowed = TARGETS[target]

    def one(data: bytes) -> None:
        text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data))
        start = time.thread_time()
        with contextlib.suppress(*allowed):
            entry(text)
        elapsed = time.thread_time() - start
        if elapsed > MAX_SECONDS:
            raise RuntimeError(f"{elapsed:.1f} s of CPU time for {text[:200]!r}")

    if not any(not a.startswith("-") for a in sys.argv[1:]):
        sys.argv.append(str(_seeds(target)))
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
