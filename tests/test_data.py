"""lrkit.demo.data: the IDX reader on files written here, the Fashion-MNIST search, the fallback."""

from __future__ import annotations

import gzip
import io
import struct
from pathlib import Path

import numpy as np
import pytest

from lrkit.demo import data as lrdata
from lrkit.demo.data import (
    FILES,
    IdxError,
    find_fashion_mnist,
    holdout,
    load,
    load_digits,
    load_fashion_mnist,
    read_idx,
    search_path,
)

TYPE_CODES = {">u1": 0x08, ">i1": 0x09, ">i2": 0x0B, ">i4": 0x0C, ">f4": 0x0D, ">f8": 0x0E}


def idx_bytes(array: np.ndarray, dtype: str = ">u1") -> bytes:
    """An IDX file built from the format's definition: 0, 0, type, ndim, sizes, data."""
    header = bytes([0, 0, TYPE_CODES[dtype], array.ndim])
    header += b"".join(struct.pack(">I", n) for n in array.shape)
    return header + np.asarray(array, dtype=dtype).tobytes()


def write(path: Path, payload: bytes) -> Path:
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)
    return path


def fake_fashion_mnist(directory: Path, n_train: int = 6, n_test: int = 4, gz: bool = True) -> None:
    """Four small IDX files with Fashion-MNIST's names and layout."""
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28)),
        "y_train": np.arange(n_train) % 10,
        "x_test": rng.integers(0, 256, (n_test, 28, 28)),
        "y_test": (np.arange(n_test) * 3) % 10,
    }
    for role, array in arrays.items():
        write(directory / (FILES[role] + suffix), idx_bytes(array))


# -- read_idx -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
def test_read_idx_bytes_gzipped_or_not(tmp_path: Path, name: str) -> None:
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    got = read_idx(write(tmp_path / name, idx_bytes(images)))
    assert got.dtype == np.uint8 and got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, images)


@pytest.mark.parametrize("dtype", [">i1", ">i2", ">i4", ">f4", ">f8"])
def test_read_idx_every_type_big_endian(tmp_path: Path, dtype: str) -> None:
    values = np.array([[-3, 0, 7], [100, -100, 1]])
    got = read_idx(write(tmp_path / "x.idx", idx_bytes(values, dtype)))
    assert got.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(got, values)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "shorter than a header"),
        (b"\x00\x00", "shorter than a header"),
        (b"\x1f\x8b\x08\x00" + bytes(20), "magic number 0x1f8b0800"),  # gzip data, not named .gz
        (bytes([0, 1, 8, 1, 0, 0, 0, 1, 5]), "magic number 0x00010801"),
        (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]), "magic number 0x00000701"),
        (bytes([0, 0, 8, 0]), "0 dimensions"),
        (bytes([0, 0, 8, 3, 0, 0, 0, 2]), "truncated IDX header"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2]), "holds 2 bytes of data"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3, 4]), "holds 4 bytes of data"),
        (bytes([0, 0, 0x0C, 1, 0, 0, 0, 2]) + bytes(7), "(8 bytes of data)"),
    ],
)
def test_read_idx_rejects_bad_files(tmp_path: Path, payload: bytes, message: str) -> None:
    path = write(tmp_path / "bad-idx1-ubyte", payload)
    with pytest.raises(IdxError, match=str(path)) as info:
        read_idx(path)
    assert message in str(info.value)


def test_read_idx_reports_a_file_that_is_not_gzip(tmp_path: Path) -> None:
    path = tmp_path / "x-idx1-ubyte.gz"
    path.write_bytes(idx_bytes(np.arange(3)))  # raw IDX under a .gz name
    with pytest.raises(IdxError, match="cannot read it"):
        read_idx(path)


def test_read_idx_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IdxError, match="cannot read it"):
        read_idx(tmp_path / "absent-idx1-ubyte")


# -- Fashion-MNIST files --------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_load_fashion_mnist_from_idx_files(tmp_path: Path, gz: bool) -> None:
    fake_fashion_mnist(tmp_path, gz=gz)
    raw = read_idx(next(tmp_path.glob("train-images*")))
    d = load_fashion_mnist(tmp_path)
    assert d.name == "Fashion-MNIST" and d.features == 784 and len(d.classes) == 10
    assert d.x_train.shape == (6, 784) and d.x_test.shape == (4, 784)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    np.testing.assert_allclose(d.x_train, raw.reshape(6, 784) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(d.y_train, [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(d.y_test, [0, 3, 6, 9])


def test_load_fashion_mnist_checks_the_arrays(tmp_path: Path) -> None:
    fake_fashion_mnist(tmp_path)
    labels = tmp_path / (FILES["y_test"] + ".gz")
    write(labels, idx_bytes(np.array([1, 2, 3])))  # 3 labels for 4 images
    with pytest.raises(IdxError, match="holds 3 labels for the 4 images"):
        load_fashion_mnist(tmp_path)
    write(labels, idx_bytes(np.array([1, 2, 3, 10])))
    with pytest.raises(IdxError, match=r"labels must be in 0\.\.9, found 10"):
        load_fashion_mnist(tmp_path)
    write(labels, idx_bytes(np.array([[1, 2], [3, 4]])))
    with pytest.raises(IdxError, match="vector of byte labels"):
        load_fashion_mnist(tmp_path)
    fake_fashion_mnist(tmp_path)
    write(tmp_path / (FILES["x_train"] + ".gz"), idx_bytes(np.zeros((6, 28, 27))))
    with pytest.raises(IdxError, match=r"of shape \(6, 28, 27\)"):
        load_fashion_mnist(tmp_path)
    write(tmp_path / (FILES["x_train"] + ".gz"), idx_bytes(np.zeros((6, 28, 28)), ">f4"))
    with pytest.raises(IdxError, match="float32"):
        load_fashion_mnist(tmp_path)


def test_a_partial_directory_is_an_error_naming_what_is_missing(tmp_path: Path) -> None:
    fake_fashion_mnist(tmp_path)
    (tmp_path / (FILES["y_test"] + ".gz")).unlink()
    with pytest.raises(FileNotFoundError, match="missing t10k-labels-idx1-ubyte"):
        find_fashion_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="missing t10k-labels-idx1-ubyte"):
        load(tmp_path)


# -- where it looks -----------------------------------------------------------------------


@pytest.fixture
def no_installed_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Hide the Debian directory, Keras' cache and $LRKIT_DATA; the fake home directory."""
    monkeypatch.setattr(lrdata, "DEBIAN_DIR", tmp_path / "debian-absent")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LRKIT_DATA", raising=False)
    return tmp_path / "home"


def test_search_order(no_installed_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = no_installed_data
    assert search_path() == [lrdata.DEBIAN_DIR, home / ".keras/datasets/fashion-mnist"]
    monkeypatch.setenv("LRKIT_DATA", "/from/env")
    assert search_path() == [Path("/from/env")]
    assert search_path("/given") == [Path("/given")]


def test_finds_keras_cache_when_debian_has_nothing(no_installed_data: Path) -> None:
    keras_dir = no_installed_data / ".keras/datasets/fashion-mnist"
    assert find_fashion_mnist() is None
    fake_fashion_mnist(keras_dir)
    assert find_fashion_mnist() == keras_dir
    assert load().source == str(keras_dir)


def test_debian_directory_comes_before_keras_cache(
    no_installed_data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_fashion_mnist(no_installed_data / ".keras/datasets/fashion-mnist")
    fake_fashion_mnist(tmp_path / "debian")
    monkeypatch.setattr(lrdata, "DEBIAN_DIR", tmp_path / "debian")
    assert find_fashion_mnist() == tmp_path / "debian"


def test_environment_variable_and_explicit_directory(
    no_installed_data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_fashion_mnist(tmp_path / "env", n_train=7)
    fake_fashion_mnist(tmp_path / "given", n_train=8)
    monkeypatch.setenv("LRKIT_DATA", str(tmp_path / "env"))
    assert len(load().x_train) == 7
    assert len(load(tmp_path / "given").x_train) == 8


def test_an_explicit_directory_is_searched_alone(tmp_path: Path) -> None:
    # Even where Fashion-MNIST is installed, an empty --data directory means "not found".
    (tmp_path / "empty").mkdir()
    assert find_fashion_mnist(tmp_path / "empty") is None
    with pytest.raises(FileNotFoundError, match="not a directory"):
        find_fashion_mnist(tmp_path / "absent")


def test_fallback_to_digits_says_how_to_get_fashion_mnist(tmp_path: Path) -> None:
    note = io.StringIO()
    d = load(tmp_path, note=note)
    assert d.name == "scikit-learn digits"
    assert "apt-get install dataset-fashion-mnist" in note.getvalue()
    assert str(tmp_path) in note.getvalue()
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load(tmp_path, fallback=False)


def test_digits() -> None:
    d = load_digits()
    assert (len(d.x_train), len(d.x_test), d.features, d.image_shape) == (1437, 360, 64, (8, 8))
    assert d.x_train.dtype == np.float32 and d.x_train.min() >= 0.0 and d.x_train.max() == 1.0
    # a split of the 1,797 images: every class keeps its count
    from sklearn.datasets import load_digits as sklearn_digits

    target = sklearn_digits().target
    np.testing.assert_array_equal(
        np.bincount(np.concatenate([d.y_train, d.y_test])), np.bincount(target)
    )


def test_holdout_splits_the_training_set_only() -> None:
    d = load_digits()
    v = holdout(d, 300, seed=5)
    assert (len(v.x_train), len(v.x_test)) == (len(d.x_train) - 300, 300)

    # every training image lands in exactly one part, with its label, and nothing else does
    def pairs(x: np.ndarray, y: np.ndarray) -> list[tuple[bytes, int]]:
        return sorted((row.tobytes(), int(label)) for row, label in zip(x, y, strict=True))

    both = pairs(np.concatenate([v.x_train, v.x_test]), np.concatenate([v.y_train, v.y_test]))
    assert both == pairs(d.x_train, d.y_train)
    np.testing.assert_array_equal(holdout(d, 300, seed=5).y_test, v.y_test)  # the seed decides
    assert not np.array_equal(holdout(d, 300, seed=6).y_test, v.y_test)


# -- the real files -----------------------------------------------------------------------


@pytest.mark.skipif(
    find_fashion_mnist() is None, reason="Fashion-MNIST is not installed (dataset-fashion-mnist)"
)
def test_real_fashion_mnist() -> None:
    d = load(fallback=False)
    assert d.x_train.shape == (60_000, 784) and d.x_test.shape == (10_000, 784)
    assert d.x_train.min() == 0.0 and d.x_train.max() == 1.0
    # Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
    np.testing.assert_array_equal(np.bincount(d.y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(d.y_test), [1000] * 10)
    assert d.classes[9] == "Ankle boot"
