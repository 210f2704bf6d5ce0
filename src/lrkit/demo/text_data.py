"""Text every machine with Python has: a fixed list of the standard library's own source files.

The corpus of ``lrkit demo --task text`` and ``benchmarks/text.py``, read as bytes (a byte-level
language model needs no tokenizer, and its loss in bits per byte is comparable across
tokenizations). Nothing is downloaded: the files are read from the running interpreter's
standard library (``sysconfig.get_paths()["stdlib"]``). They differ a little between Python
versions, so :class:`Corpus` records the version and a hash of the file list and contents.

Whole files are held out: :data:`VALID_FILES` choose peak rates, :data:`TEST_FILES` report
the results; neither is ever trained on.

>>> from lrkit.demo.text_data import load_corpus
>>> corpus = load_corpus()
>>> corpus.train.dtype, len(corpus.train) > 1_000_000, len(corpus.valid) > 50_000
(dtype('uint8'), True, True)
"""

from __future__ import annotations

import dataclasses
import hashlib
import platform
import sysconfig
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "TEST_FILES",
    "TRAIN_FILES",
    "VALID_FILES",
    "Corpus",
    "describe_corpus",
    "load_corpus",
]

#: Trained on (about 1.8 MB on Python 3.11). Modules present in every Python since 3.8 and
#: still plain files (not packages) in 3.13.
TRAIN_FILES = (
    "abc.py",
    "argparse.py",
    "ast.py",
    "base64.py",
    "calendar.py",
    "codecs.py",
    "configparser.py",
    "contextlib.py",
    "copy.py",
    "dataclasses.py",
    "datetime.py",
    "difflib.py",
    "enum.py",
    "fractions.py",
    "functools.py",
    "gettext.py",
    "inspect.py",
    "ipaddress.py",
    "json/decoder.py",
    "json/encoder.py",
    "logging/__init__.py",
    "numbers.py",
    "operator.py",
    "optparse.py",
    "pickle.py",
    "platform.py",
    "random.py",
    "selectors.py",
    "shutil.py",
    "socket.py",
    "statistics.py",
    "string.py",
    "subprocess.py",
    "tarfile.py",
    "tempfile.py",
    "threading.py",
    "tokenize.py",
    "traceback.py",
    "typing.py",
    "uuid.py",
)
#: Held out to choose each schedule's peak rate (about 70 KB).
VALID_FILES = ("heapq.py", "queue.py", "shlex.py", "textwrap.py")
#: Held out to report the results (about 80 KB).
TEST_FILES = ("bisect.py", "csv.py", "fnmatch.py", "glob.py", "pprint.py", "weakref.py")


@dataclasses.dataclass(frozen=True)
class Corpus:
    """The three splits as byte arrays, and what they were read from."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    directory: str
    python: str
    files: dict[str, tuple[str, ...]]
    sha256: str  # of the file names and contents, in order

    def to_json(self) -> dict[str, object]:
        return {
            "directory": self.directory,
            "python": self.python,
            "files": {k: list(v) for k, v in self.files.items()},
            "bytes": {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)},
            "sha256": self.sha256,
        }


def load_corpus(
    directory: str | Path | None = None,
    *,
    train: Sequence[str] = TRAIN_FILES,
    valid: Sequence[str] = VALID_FILES,
    test: Sequence[str] = TEST_FILES,
) -> Corpus:
    """Read the splits from ``directory`` (default: this interpreter's standard library).

    A listed file that this Python lacks is skipped (the hash and the file list say which were
    read); a split left with no file is an error.
    """
    root = Path(directory if directory is not None else sysconfig.get_paths()["stdlib"])
    digest = hashlib.sha256()
    arrays: dict[str, np.ndarray] = {}
    found: dict[str, tuple[str, ...]] = {}
    for split, names in (("train", train), ("valid", valid), ("test", test)):
        chunks, kept = [], []
        for name in names:
            path = root / name
            if not path.is_file():
                continue
            data = path.read_bytes()
            digest.update(name.encode() + b"\0" + data + b"\0")
            chunks.append(data)
            kept.append(name)
        if not kept:
            raise FileNotFoundError(f"none of the {split} files {list(names)} is in {root}")
        arrays[split] = np.frombuffer(b"\n".join(chunks), dtype=np.uint8)
        found[split] = tuple(kept)
    return Corpus(
        arrays["train"],
        arrays["valid"],
        arrays["test"],
        str(root),
        platform.python_version(),
        found,
        digest.hexdigest(),
    )


def describe_corpus(corpus: Corpus) -> str:
    """One line: the corpus, its sizes and where it came from."""
    return (
        f"Python {corpus.python}'s standard library source, bytes: {len(corpus.train):,} "
        f"training ({len(corpus.files['train'])} files), {len(corpus.valid):,} validation "
        f"({', '.join(corpus.files['valid'])}), {len(corpus.test):,} test "
        f"({', '.join(corpus.files['test'])}); sha256 {corpus.sha256[:12]}"
    )
