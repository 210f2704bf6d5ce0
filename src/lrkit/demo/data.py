"""Real training data, offline: Fashion-MNIST from its IDX files, or scikit-learn's digits.

Fashion-MNIST (Zalando Research, MIT licence) is 60,000 training and 10,000 test images of
clothing, 28x28 grey levels, 10 classes. Nothing is downloaded: :func:`load` looks for the four
IDX files (gzipped or not), in this order,

1. the directory given as ``data_dir`` (``lrkit demo --data DIR``), else ``$LRKIT_DATA``;
2. ``/usr/share/datasets/fashion-mnist/`` (Debian/Ubuntu package ``dataset-fashion-mnist``);
3. ``~/.keras/datasets/fashion-mnist/`` (where ``keras.datasets.fashion_mnist.load_data()``
   caches them).

A directory given explicitly is the only one searched. When the files are nowhere, :func:`load`
falls back to scikit-learn's bundled 8x8 digits (1,797 images, shipped inside scikit-learn) and
prints a note that says how to get Fashion-MNIST.

>>> from lrkit.demo.data import load
>>> data = load()                                             # doctest: +SKIP
>>> data.name, data.x_train.shape, data.x_test.shape          # doctest: +SKIP
('Fashion-MNIST', (60000, 784), (10000, 784))
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import numpy as np

__all__ = [
    "DEBIAN_DIR",
    "FASHION_MNIST_CLASSES",
    "FILES",
    "KERAS_DIR",
    "Dataset",
    "IdxError",
    "describe",
    "find_fashion_mnist",
    "holdout",
    "load",
    "load_digits",
    "load_fashion_mnist",
    "read_idx",
    "search_path",
]

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
KERAS_DIR = Path("~/.keras/datasets/fashion-mnist")
ENV_VAR = "LRKIT_DATA"

#: The four files, by role, as Zalando, Keras and Debian name them (``.gz`` optional).
FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
HOW_TO_GET = (
    "To train on Fashion-MNIST instead (60,000 real 28x28 images), install it offline with "
    "`apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or put the four "
    "*-idx?-ubyte(.gz) files in a directory and pass it as --data DIR or $LRKIT_DATA."
)

# IDX type codes (the third byte of the magic number) -> big-endian NumPy dtype.
_IDX_TYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IdxError(ValueError):
    """A file that is not a valid IDX file, or not the one expected."""


@dataclasses.dataclass(frozen=True, repr=False)
class Dataset:
    """A classification data set, ready to train on.

    ``x_*`` are float32 rows scaled to ``[0, 1]`` (one row per image, pixels flattened);
    ``y_*`` are int64 class indices. ``image_shape`` is the shape of one image, ``source``
    where it was read from.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    image_shape: tuple[int, int]
    source: str

    @property
    def features(self) -> int:
        """Inputs per example (784 for Fashion-MNIST)."""
        return int(self.x_train.shape[1])

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, train={len(self.x_train)}, test={len(self.x_test)}, "
            f"features={self.features}, classes={len(self.classes)}, source={self.source!r})"
        )


# -- IDX files ----------------------------------------------------------------------------


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """The array stored in an IDX file (gzipped when its name ends in ``.gz``).

    The IDX format (LeCun's, used by MNIST and Fashion-MNIST): two zero bytes, a type code
    (``0x08`` unsigned byte, ..., ``0x0E`` float64), the number of dimensions ``d``, then ``d``
    big-endian 32-bit sizes, then the data in C order. Raises :class:`IdxError` when the
    header is malformed or the data does not have the size the header announces.

    >>> import gzip, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny-idx1-ubyte.gz")
    >>> with gzip.open(path, "wb") as f:
    ...     _ = f.write(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(path)
    array([7, 8, 9], dtype=uint8)
    """
    path = Path(path)
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise IdxError(f"{path}: cannot read it: {e}") from None
    if len(raw) < 4:
        raise IdxError(f"{path}: not an IDX file: {len(raw)} bytes, shorter than a header")
    zero, type_code, ndim = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00" or type_code not in _IDX_TYPES:
        raise IdxError(
            f"{path}: not an IDX file: magic number 0x{raw[:4].hex()} "
            "(expected 0x0000TTDD: type TT in 08, 09, 0b, 0c, 0d, 0e; DD dimensions)"
        )
    if ndim == 0:
        raise IdxError(f"{path}: the IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxError(f"{path}: truncated IDX header: {ndim} dimensions need {header} bytes")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise IdxError(
            f"{path}: the header declares shape {shape} of {dtype.name} ({expected} bytes of data) "
            f"but the file holds {len(raw) - header} bytes of data"
        )
    data: np.ndarray = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


# -- Fashion-MNIST ------------------------------------------------------------------------


def search_path(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The directories :func:`find_fashion_mnist` searches, in order.

    An explicit ``data_dir`` (else ``$LRKIT_DATA``) is searched alone; otherwise the Debian
    directory and Keras' cache.
    """
    explicit = data_dir if data_dir is not None else os.environ.get(ENV_VAR) or None
    if explicit is not None:
        return [Path(explicit).expanduser()]
    return [DEBIAN_DIR, KERAS_DIR.expanduser()]


def _files_in(directory: Path) -> dict[str, Path] | None:
    """The four files in ``directory`` by role; None when none is there; an error when some are."""
    found: dict[str, Path] = {}
    for role, stem in FILES.items():
        for name in (stem + ".gz", stem):
            if (directory / name).is_file():
                found[role] = directory / name
                break
    if not found:
        return None
    missing = [FILES[role] + "[.gz]" for role in FILES if role not in found]
    if missing:
        raise FileNotFoundError(
            f"{directory} holds only part of Fashion-MNIST: missing {', '.join(missing)}"
        )
    return found


def find_fashion_mnist(data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The first directory of :func:`search_path` that holds the four Fashion-MNIST files.

    None when none does. Raises ``FileNotFoundError`` for a directory holding only some of
    them (a broken install should be fixed, not skipped), or for an explicit ``data_dir`` that
    is not a directory.
    """
    if data_dir is not None and not Path(data_dir).expanduser().is_dir():
        raise FileNotFoundError(f"Argument `data_dir` is not a directory. Received: {data_dir}")
    for directory in search_path(data_dir):
        if directory.is_dir() and _files_in(directory) is not None:
            return directory
    return None


def load_fashion_mnist(directory: str | os.PathLike[str]) -> Dataset:
    """Fashion-MNIST from the four IDX files in ``directory``, checked for consistency.

    Raises :class:`IdxError` when a file is not the array it should be (images
    ``(n, 28, 28)`` of bytes, labels ``(n,)`` in 0..9, as many labels as images), and
    ``FileNotFoundError`` when a file is missing.
    """
    directory = Path(directory).expanduser()
    files = _files_in(directory)
    if files is None:
        raise FileNotFoundError(f"no Fashion-MNIST IDX files in {directory}")
    arrays = {role: read_idx(path) for role, path in files.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        image_file, label_file = files[f"x_{split}"], files[f"y_{split}"]
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise IdxError(
                f"{image_file}: expected 28x28 byte images of shape (n, 28, 28), "
                f"got {images.dtype.name} of shape {images.shape}"
            )
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise IdxError(
                f"{label_file}: expected a vector of byte labels, "
                f"got {labels.dtype.name} of shape {labels.shape}"
            )
        if len(labels) != len(images):
            raise IdxError(
                f"{label_file} holds {len(labels)} labels for the {len(images)} images "
                f"of {image_file}"
            )
        if len(labels) and int(labels.max()) >= len(FASHION_MNIST_CLASSES):
            raise IdxError(f"{label_file}: labels must be in 0..9, found {int(labels.max())}")

    def x(role: str) -> np.ndarray:
        images = arrays[role]
        return images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)

    return Dataset(
        name="Fashion-MNIST",
        x_train=x("x_train"),
        y_train=arrays["y_train"].astype(np.int64),
        x_test=x("x_test"),
        y_test=arrays["y_test"].astype(np.int64),
        classes=FASHION_MNIST_CLASSES,
        image_shape=(28, 28),
        source=str(directory),
    )


def holdout(data: Dataset, size: int, seed: int) -> Dataset:
    """``data``'s training set split in two, shuffled by ``seed``: ``size`` images held out as
    the "test" part (a validation split: tuning never sees the real test images) and the rest
    to train on."""
    order = np.random.default_rng(seed).permutation(len(data.x_train))
    held, kept = order[:size], order[size:]
    return dataclasses.replace(
        data,
        x_train=data.x_train[kept],
        y_train=data.y_train[kept],
        x_test=data.x_train[held],
        y_test=data.y_train[held],
        source=data.source + f" (training set split {len(kept)}/{size}, seed {seed})",
    )


# -- the fallback -------------------------------------------------------------------------


def load_digits(test_size: int = 360, seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8x8 handwritten digits, split ``1437 / 360`` (shuffled by ``seed``).

    Real data that ships inside scikit-learn, for machines without Fashion-MNIST. Small (an
    epoch takes milliseconds), so fine for tests and a quick look, not for timing claims.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits  # type: ignore[import-untyped]
    except ImportError as e:
        raise ImportError(
            "Fashion-MNIST was not found and the fallback data needs scikit-learn "
            f"(pip install scikit-learn). {HOW_TO_GET}"
        ) from e
    digits = sklearn_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    test, train = order[:test_size], order[test_size:]
    return Dataset(
        name="scikit-learn digits",
        x_train=x[train],
        y_train=y[train],
        x_test=x[test],
        y_test=y[test],
        classes=tuple(str(d) for d in range(10)),
        image_shape=(8, 8),
        source="sklearn.datasets.load_digits",
    )


def load(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    fallback: bool = True,
    note: TextIO | None = None,
) -> Dataset:
    """Fashion-MNIST from the first place of :func:`search_path` that has it, else the digits.

    With ``fallback=False`` a missing Fashion-MNIST raises ``FileNotFoundError`` instead.
    The note printed on falling back goes to ``note`` (default: standard error).
    """
    directory = find_fashion_mnist(data_dir)
    if directory is not None:
        return load_fashion_mnist(directory)
    searched = ", ".join(str(d) for d in search_path(data_dir))
    if not fallback:
        raise FileNotFoundError(f"Fashion-MNIST not found (searched {searched}). {HOW_TO_GET}")
    print(
        f"note: Fashion-MNIST not found (searched {searched}); using scikit-learn's 8x8 digits "
        f"instead. {HOW_TO_GET}",
        file=note if note is not None else sys.stderr,
    )
    return load_digits()


def describe(dataset: Dataset) -> str:
    """One line: the data set, its sizes and where it came from."""
    return (
        f"{dataset.name}: {len(dataset.x_train):,} training and {len(dataset.x_test):,} test "
        f"images of {dataset.image_shape[0]}x{dataset.image_shape[1]}, "
        f"{len(dataset.classes)} classes (from {dataset.source})"
    )
