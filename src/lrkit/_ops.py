"""Array namespaces: one formula, many array libraries.

A schedule writes its formula once against an ``Ops`` object: Python operators (``+ - * / **``
and comparisons) for arithmetic, and the few functions below for the rest. ``namespace(t)``
picks the namespace from the *type* of ``t`` (the einops way) and imports a framework only when
the input already belongs to it, so ``import lrkit`` never imports a framework.

A namespace is built once per (array library, dtype) and is immutable: the same object serves
every call, from any thread.
"""

from __future__ import annotations

import functools
import math
import sys
from typing import Any, ClassVar

import numpy as np

Array = Any  # a float, a NumPy array or a framework tensor: the formulas do not care which.


class Ops:
    """The operations a schedule formula may use, for one array library and one dtype.

    Subclasses wrap NumPy, JAX, PyTorch, TensorFlow or ``keras.ops``. Everything else is
    written with Python operators, which all of these libraries overload.
    """

    #: True for a single Python number: combinators may then pick the active branch in Python
    #: instead of evaluating every branch (a pure speed-up; the value is the same).
    scalar: ClassVar[bool] = False
    #: The functions a formula may call, bound from the library's namespace (``library()``).
    FUNCTIONS: ClassVar[tuple[str, ...]] = (
        "exp", "expm1", "log", "cos", "sqrt", "tanh", "floor", "ceil"
    )  # fmt: skip
    dtype: Any

    def __init__(self, dtype: Any = None) -> None:
        object.__setattr__(self, "dtype", dtype)
        library = self.library()
        if library is not None:
            for name in self.FUNCTIONS:
                object.__setattr__(self, name, getattr(library, name))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable (one per library and dtype)")

    @classmethod
    @functools.cache
    def of(cls, dtype: Any) -> Ops:
        """The one namespace of this library for ``dtype``."""
        return cls(dtype)

    @staticmethod
    def library() -> Any:
        """The module whose functions (``exp``, ``cos``, ...) this namespace uses, or ``None``
        when the class defines them itself."""
        return None

    @staticmethod
    def to_float(t: Any) -> Array:
        """``t`` as a floating-point array or tensor of this library."""
        raise NotImplementedError

    def result(self, y: Array) -> Any:
        return y

    def full_like(self, x: Array, value: float) -> Array:
        return x * 0.0 + value

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        raise NotImplementedError

    def minimum(self, a: Array, b: Array | float) -> Array:
        raise NotImplementedError

    def maximum(self, a: Array, b: Array | float) -> Array:
        raise NotImplementedError

    def clip(self, x: Array, lo: float, hi: float) -> Array:
        return self.minimum(self.maximum(x, lo), hi)

    def span(self, t: Array) -> tuple[float, float] | None:
        """``(min, max)`` of the finite values of ``t`` when it has concrete values (NumPy),
        else ``None`` (traced, or no finite value)."""
        return None

    def floor_div(self, a: Array, b: float) -> Array:
        """The whole ``k`` with ``k b <= a < (k + 1) b``, the products rounded in ``a``'s dtype.

        So a multiple ``k b`` as the dtype stores it (a staircase's own output) divides back
        to ``k``, although its exact quotient may be a hair below ``k``; and every library
        agrees, although XLA (JAX, Keras/TF when compiled) computes ``a / b`` as
        ``a * (1 / b)``. ``floor(a / b)`` is within one of ``k``; two corrections settle it.
        """
        q = self.floor(a / b)
        q = self.where((q + 1.0) * b <= a, q + 1.0, q)
        return self.where(q * b > a, q - 1.0, q)

    def ceil_div(self, a: Array, b: float) -> Array:
        """The whole ``k`` with ``(k - 1) b < a <= k b``, the products rounded likewise."""
        return -self.floor_div(-a, b)

    def np_dtype(self, t: Array) -> Any:
        """``t``'s dtype as NumPy names it (float64 for Python numbers)."""
        return np.float64

    def eps(self, t: Array) -> float:
        """The machine epsilon of ``t``'s dtype."""
        return float(np.finfo(self.np_dtype(t)).eps)

    def power(self, c: float, x: Array) -> Array:
        """``c ** x`` for a Python float ``c``, as if ``c`` were exact in ``x``'s dtype.

        Array libraries raise ``c`` rounded to the dtype: in float32 that is off by up to
        ``|x| * 3e-8`` relative (``0.99999 ** 12345``: 1.5e-4). So a ``c`` the dtype does not
        hold exactly is raised as ``exp(x log c)``, ``log c`` taken in float64: off by about
        ``|x log c| * 1e-7``, which stays small wherever the result is not vanishingly small.
        A ``c`` it holds (0.5, 2, any float64) is raised as it is, exactly as the peers do.
        """
        if self._holds(c, x):
            return c**x
        return self.exp(x * math.log(c))

    def powm1(self, c: float, x: Array) -> Array:
        """``c ** x - 1``, as :meth:`power` (``expm1`` where it takes the logarithm, so a ``c``
        near 1 loses nothing to cancellation; exact at whole ``x`` for ``c = 2``)."""
        if self._holds(c, x):
            return c**x - 1.0
        return self.expm1(x * math.log(c))

    def _holds(self, c: float, x: Array) -> bool:
        # A subnormal base counts as not held: TensorFlow flushes it to zero.
        dtype = self.np_dtype(x)
        return c <= 0.0 or (float(np.asarray(c, dtype=dtype)) == c and c >= np.finfo(dtype).tiny)

    exp: Any
    expm1: Any
    log: Any
    cos: Any
    sqrt: Any
    tanh: Any
    floor: Any
    ceil: Any


class NumpyOps(Ops):
    """NumPy arrays. Integer input is computed in float64; float input keeps its dtype."""

    exp = staticmethod(np.exp)
    expm1 = staticmethod(np.expm1)
    log = staticmethod(np.log)
    cos = staticmethod(np.cos)
    sqrt = staticmethod(np.sqrt)
    tanh = staticmethod(np.tanh)
    floor = staticmethod(np.floor)
    ceil = staticmethod(np.ceil)

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        # np.where promotes Python-float branches to float64; keep the input's dtype.
        out: Array = np.where(cond, a, b)
        return out.astype(self.dtype, copy=False)

    def minimum(self, a: Array, b: Array | float) -> Array:
        return np.minimum(a, b)

    def maximum(self, a: Array, b: Array | float) -> Array:
        return np.maximum(a, b)

    @staticmethod
    def to_float(t: Any) -> Array:
        t = np.asarray(t)
        if t.dtype.kind in "iu":
            t = t.astype(np.float64)
        if t.dtype.kind == "f":
            return t
        raise TypeError(
            f"A schedule takes a real-valued time `t`. Received: t with dtype {t.dtype}"
        )

    def full_like(self, x: Array, value: float) -> Array:
        return np.full_like(x, value)

    def clip(self, x: Array, lo: float, hi: float) -> Array:
        return np.clip(x, lo, hi)

    def span(self, t: Array) -> tuple[float, float] | None:
        # Of the finite values only: a NaN or inf time must not change how the others are
        # computed (each element is independent of the rest). One pass when all are finite.
        t = np.asarray(t)
        if not t.size:
            return None
        lo, hi = float(t.min()), float(t.max())
        if math.isfinite(lo) and math.isfinite(hi):
            return lo, hi
        finite = t[np.isfinite(t)]
        return (float(finite.min()), float(finite.max())) if finite.size else None

    def np_dtype(self, t: Array) -> Any:
        return getattr(t, "dtype", np.float64)


class ScalarOps(NumpyOps):
    """A single number: computed as a float64 NumPy scalar, returned as a Python ``float``."""

    scalar = True

    @staticmethod
    def to_float(t: Any) -> Array:
        return np.float64(t)

    def result(self, y: Array) -> Any:
        return float(y)

    def full_like(self, x: Array, value: float) -> Array:
        return np.float64(value)

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        return a if cond else b

    def minimum(self, a: Array, b: Array | float) -> Array:
        return np.minimum(a, b)

    def maximum(self, a: Array, b: Array | float) -> Array:
        return np.maximum(a, b)

    def clip(self, x: Array, lo: float, hi: float) -> Array:
        return np.minimum(np.maximum(x, lo), hi)


class MathOps(Ops):
    """A single Python ``float``, with the ``math`` module: the fast path for one value.

    Both branches of ``where`` are computed, so a formula must keep its untaken branches
    finite; if one still overflows or divides by zero, the caller falls back to
    :class:`ScalarOps` (NumPy scalars), which returns ``inf``/``nan`` there instead of raising.
    """

    scalar = True
    exp = staticmethod(math.exp)
    expm1 = staticmethod(math.expm1)
    log = staticmethod(math.log)
    cos = staticmethod(math.cos)
    sqrt = staticmethod(math.sqrt)
    tanh = staticmethod(math.tanh)

    @staticmethod
    def floor(x: float) -> float:
        return float(math.floor(x))

    @staticmethod
    def ceil(x: float) -> float:
        return float(math.ceil(x))

    @staticmethod
    def to_float(t: Any) -> Array:
        return float(t)

    def result(self, y: Array) -> Any:
        return float(y)

    def full_like(self, x: Array, value: float) -> Array:
        return float(value)

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        return a if cond else b

    def minimum(self, a: Array, b: Array | float) -> Array:
        return a if a < b else b

    def maximum(self, a: Array, b: Array | float) -> Array:
        return a if a > b else b

    def clip(self, x: Array, lo: float, hi: float) -> Array:
        return lo if x < lo else hi if x > hi else x


class JaxOps(Ops):
    """JAX arrays and tracers (works under ``jax.jit`` and ``jax.vmap``)."""

    np: Any

    @staticmethod
    def library() -> Any:
        import jax.numpy as jnp

        return jnp

    def __init__(self, dtype: Any = None) -> None:
        super().__init__(dtype)
        object.__setattr__(self, "np", self.library())

    @staticmethod
    def to_float(t: Any) -> Array:
        import jax.numpy as jnp

        t = jnp.asarray(t)
        if jnp.issubdtype(t.dtype, jnp.floating):
            return t
        # float64 when jax_enable_x64 is on, float32 otherwise; never overflows for int64 steps.
        return t.astype(jnp.result_type(float))

    def full_like(self, x: Array, value: float) -> Array:
        return self.np.full_like(x, value)

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        return self.np.where(cond, a, b)

    def minimum(self, a: Array, b: Array | float) -> Array:
        return self.np.minimum(a, b)

    def maximum(self, a: Array, b: Array | float) -> Array:
        return self.np.maximum(a, b)

    def clip(self, x: Array, lo: float, hi: float) -> Array:
        return self.np.clip(x, lo, hi)

    def np_dtype(self, t: Array) -> Any:
        return np.dtype(t.dtype)


class TorchOps(Ops):
    """PyTorch tensors: float tensors keep their dtype, integer ones use the default dtype."""

    torch: Any

    @staticmethod
    def library() -> Any:
        import torch

        return torch

    def __init__(self, dtype: Any = None) -> None:
        super().__init__(dtype)
        object.__setattr__(self, "torch", self.library())

    @staticmethod
    def to_float(t: Any) -> Array:
        import torch

        return t if t.is_floating_point() else t.to(torch.get_default_dtype())

    def full_like(self, x: Array, value: float) -> Array:
        return self.torch.full_like(x, value)

    def _tensor(self, v: Array, like: Array) -> Array:
        if isinstance(v, self.torch.Tensor):
            return v
        return self.torch.full_like(like, float(v), dtype=self.dtype)

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        return self.torch.where(cond, self._tensor(a, cond), self._tensor(b, cond))

    def minimum(self, a: Array, b: Array | float) -> Array:
        if isinstance(b, self.torch.Tensor):
            return self.torch.minimum(a, b)
        return self.torch.clamp(a, max=b)

    def maximum(self, a: Array, b: Array | float) -> Array:
        if isinstance(b, self.torch.Tensor):
            return self.torch.maximum(a, b)
        return self.torch.clamp(a, min=b)

    def clip(self, x: Array, lo: float, hi: float) -> Array:
        return self.torch.clamp(x, lo, hi)

    def np_dtype(self, t: Array) -> Any:
        # bfloat16 has no NumPy twin; float16 is its nearest for rounding and epsilon.
        return {self.torch.float64: np.float64, self.torch.float32: np.float32}.get(
            self.dtype, np.float16
        )


class TensorFlowOps(Ops):
    """TensorFlow tensors and variables (works under ``tf.function``)."""

    tf: Any

    @staticmethod
    def library() -> Any:
        import tensorflow as tf

        return tf.math

    def __init__(self, dtype: Any = None) -> None:
        import tensorflow as tf

        super().__init__(dtype)
        object.__setattr__(self, "tf", tf)

    @staticmethod
    def to_float(t: Any) -> Array:
        import tensorflow as tf

        t = tf.convert_to_tensor(t)
        return t if t.dtype.is_floating else tf.cast(t, tf.float32)

    def _const(self, v: Array | float) -> Array:
        # tf.cast(0.1, tf.float64) would round 0.1 through float32 first.
        if isinstance(v, float | int):
            return self.tf.constant(v, dtype=self.dtype)
        return self.tf.cast(v, self.dtype)

    def full_like(self, x: Array, value: float) -> Array:
        return self.tf.fill(self.tf.shape(x), self._const(value))

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        tf = self.tf
        zeros = tf.zeros_like(cond, dtype=self.dtype)
        return tf.where(cond, zeros + a, zeros + b)

    def minimum(self, a: Array, b: Array | float) -> Array:
        return self.tf.minimum(a, self._const(b))

    def maximum(self, a: Array, b: Array | float) -> Array:
        return self.tf.maximum(a, self._const(b))

    def np_dtype(self, t: Array) -> Any:
        return self.dtype.as_numpy_dtype


_SCALAR = ScalarOps(np.float64)
MATH = MathOps(float)


def namespace(t: Any) -> tuple[Ops, Array]:
    """The namespace for ``t``, judged by its type, and ``t`` as floats of that library.

    Never imports a framework that ``t`` does not already belong to.
    """
    if isinstance(t, bool | np.bool_):
        raise TypeError(f"A schedule takes a real-valued time `t`. Received: t={t!r}")
    if isinstance(t, int | float | np.integer | np.floating):
        return _SCALAR, np.float64(t)
    cls = _library_of(t)
    x = cls.to_float(t)
    return cls.of(x.dtype), x


def _library_of(t: Any) -> type[Ops]:
    if isinstance(t, np.ndarray):
        return NumpyOps
    root = type(t).__module__.partition(".")[0]
    if root in ("jax", "jaxlib") and "jax" in sys.modules:
        return JaxOps
    if root == "torch" and "torch" in sys.modules:
        return TorchOps
    if root in ("tensorflow", "tf_keras") and "tensorflow" in sys.modules:
        return TensorFlowOps
    if isinstance(t, list | tuple):
        return NumpyOps
    raise TypeError(
        "A schedule takes a number, a NumPy array, or a JAX, PyTorch or TensorFlow tensor. "
        f"Received: t of type {type(t).__qualname__}"
    )


def is_real_number(x: Any) -> bool:
    """True for an int or float (Python or NumPy), not a bool."""
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(
        x, bool | np.bool_
    )


PI = math.pi
