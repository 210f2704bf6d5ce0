"""The schedule model: an immutable value that is a pure function of time.

Every schedule is a frozen dataclass. Its fields are its whole state, so ``repr``, ``==``,
pickling and ``to_config()`` come from the fields alone; no schedule keeps a counter.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import threading
from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from lrkit import _display
from lrkit._ops import MATH, Array, NumpyOps, Ops, is_real_number, ops_for

#: catalogue name -> class, filled by ``Schedule.__init_subclass__``.
REGISTRY: dict[str, type[Schedule]] = {}

Config = dict[str, Any]

#: Array size above which NumPy evaluation goes chunk by chunk (see ``Schedule._chunked``).
_CHUNK = 1 << 14
#: Array size from which the chunks are shared between threads.
_THREADED = 1 << 20


def _threads_for(n: int) -> int:
    """Threads for an array of ``n`` values: the cores this process may use, at most one per
    half-million values; ``LRKIT_NUM_THREADS`` caps it (1 turns threading off)."""
    if n < _THREADED:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cap = os.environ.get("LRKIT_NUM_THREADS", "")
    limit = int(cap) if cap.isdigit() and int(cap) > 0 else (cores or 1)
    return max(1, min(limit, n // (1 << 19)))


@dataclasses.dataclass(frozen=True, repr=False)
class Schedule:
    """A learning-rate schedule: an immutable, pure function of time ``t >= 0``.

    ``schedule(k)`` is the rate for the k-th (0-based) epoch or update, in whatever unit the
    user counts. One call takes:

    - a Python or NumPy number and returns a Python ``float``;
    - a NumPy array of any shape and returns an array of that shape (integer input is
      computed in float64, float input keeps its dtype, so float32 in gives float32 out);
    - a JAX, PyTorch or TensorFlow tensor and returns a tensor of that library, traceable
      under ``jax.jit`` and ``tf.function``.

    Negative times are held at ``t = 0``. Past the end of its last phase a schedule holds its
    final value; it never raises.

    Schedules combine: ``a * 0.5`` scales, ``a + b`` adds, ``a * b`` multiplies, and
    ``a >> b`` runs ``b`` after ``a`` ends (``b``'s clock starts at 0 there).
    """

    name: ClassVar[str] = "schedule"

    def __init_subclass__(cls, name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if name is not None:
            if name in REGISTRY:
                raise RuntimeError(f"two schedules are registered as {name!r}")
            cls.name = name
            REGISTRY[name] = cls

    # -- evaluation --------------------------------------------------------------------

    def __call__(self, t: Any) -> Any:
        if is_real_number(t):
            return self._scalar(float(t))
        ops = ops_for(t)
        x = ops.asfloat(t)
        if not isinstance(ops, NumpyOps):
            return ops.result(self._f(ops.maximum(x, 0.0), ops))
        with np.errstate(all="ignore"):  # no warnings from branches that are not taken
            if ops.scalar or x.size <= _CHUNK:
                return ops.result(self._f(ops.maximum(x, 0.0), ops))
            return self._chunked(x, ops)

    def _scalar(self, t: float) -> float:
        if not math.isfinite(t):
            raise ValueError(f"A schedule takes a finite time `t`. Received: t={t!r}")
        try:
            return float(self._f(t if t > 0.0 else 0.0, MATH))
        except (ArithmeticError, ValueError):
            # An untaken branch overflowed or divided by zero in Python floats: redo it with
            # NumPy scalars, which give inf/nan there instead of raising.
            with np.errstate(all="ignore"):
                return float(self._f(np.float64(max(t, 0.0)), ops_for(0.0)))

    def _chunked(self, x: np.ndarray, ops: Ops) -> np.ndarray:
        """Evaluate a large array in cache-sized chunks: the formula's temporaries stay in
        cache, and a chunk that lies inside one phase of a composite computes that phase only.
        Very large arrays are split between threads (NumPy releases the GIL in its loops);
        every value is computed exactly as on one thread.
        """
        out = np.empty(x.shape, dtype=x.dtype)
        src, dst = x.reshape(-1), out.reshape(-1)

        def work(lo: int, hi: int) -> None:
            with np.errstate(all="ignore"):  # errstate is per thread
                for i in range(lo, hi, _CHUNK):
                    j = min(i + _CHUNK, hi)
                    dst[i:j] = self._f(np.maximum(src[i:j], 0.0), ops)

        n = src.size
        workers = _threads_for(n) if self._thread_safe() else 1
        if workers == 1:
            work(0, n)
            return out
        per = -(-n // workers // _CHUNK) * _CHUNK
        threads = [
            threading.Thread(target=work, args=(lo, min(lo + per, n))) for lo in range(0, n, per)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return out

    def _thread_safe(self) -> bool:
        """Pure lrkit formulas only: a wrapped user function is never called from a thread."""
        for value in self.params().values():
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, Schedule) and not item._thread_safe():
                    return False
        return True

    def evaluate(self, t: Array, ops: Ops) -> Array:
        """Evaluate on ``t`` (already float, ``>= 0``) with an explicit namespace (adapters)."""
        return self._f(t, ops)

    def _f(self, t: Array, ops: Ops) -> Array:
        """The formula, branch-free, on float time ``t >= 0``."""
        raise NotImplementedError

    @property
    def duration(self) -> float | None:
        """The time after which the value no longer changes; ``None`` if it never settles."""
        return None

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        """Times before ``until`` where one phase ends and the next begins (plots, tables)."""
        return ()

    # -- value semantics ---------------------------------------------------------------

    def _set(self, field: str, value: Any) -> None:
        object.__setattr__(self, field, value)

    def params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_config(self) -> Config:
        """Plain JSON types: ``{"name": ..., <arguments>}``, nested for composites."""
        return {"name": self.name, **{k: _to_plain(v) for k, v in self.params().items()}}

    @classmethod
    def from_config(cls, config: Config) -> Schedule:
        """Rebuild a schedule from :meth:`to_config` output."""
        schedule = from_config(config)
        if not isinstance(schedule, cls):
            raise TypeError(f"config describes a {schedule.name!r}, not a {cls.name!r}")
        return schedule

    def __repr__(self) -> str:
        return self.spec()

    def __str__(self) -> str:
        return self.spec()

    def spec(self) -> str:
        """The text form, ``name(arg=value, ...)``, omitting arguments left at their default."""
        args = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.default is not dataclasses.MISSING and _same(value, f.default):
                continue
            args.append(f"{f.name}={_spec_value(value)}")
        return f"{self.name}({', '.join(args)})"

    # -- composition sugar -------------------------------------------------------------

    def __mul__(self, other: Any) -> Schedule:
        from lrkit import compose

        if isinstance(other, Schedule):
            return compose.Product(self, other)
        return compose.Scale(self, other)

    __rmul__ = __mul__

    def __add__(self, other: Any) -> Schedule:
        from lrkit import compose, schedules

        if not isinstance(other, Schedule):
            other = schedules.Constant(other)
        return compose.Sum(self, other)

    __radd__ = __add__

    def __rshift__(self, other: Schedule) -> Schedule:
        from lrkit import compose

        return compose.sequence(self, other)

    # -- display (notebooks, plots): drawn by lrkit._display, which imports no lrkit module --

    def _repr_svg_(self) -> str:
        return _display.chart_of(self).svg()

    def _repr_html_(self) -> str:
        return _display.chart_of(self)._repr_html_()

    def plot(self, epochs: int | None = None, **options: Any) -> _display.Figure:
        """This schedule's chart as a new matplotlib ``Figure`` (made without ``pyplot``).

        Options as :func:`lrkit.plot.figure`: ``steps``, ``steps_per_epoch``, ``update``
        (``"step"`` or ``"epoch"``), ``log``, ``phases``, ``title``, ``size``, ``dpi``.
        """
        return _display.figure_of(self, epochs, **options)

    # -- end of display --


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _to_plain(value: Any) -> Any:
    if isinstance(value, Schedule):
        return value.to_config()
    if isinstance(value, tuple | list):
        return [_to_plain(v) for v in value]
    return value


def _spec_value(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_spec_value(v) for v in value) + "]"
    if isinstance(value, float) and value == math.inf:
        return "inf"
    return repr(value)


def _from_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return from_config(value)
    if isinstance(value, list | tuple):
        return tuple(_from_plain(v) for v in value)
    return value


def from_config(config: Config) -> Schedule:
    """Build the schedule that ``config`` (from :meth:`Schedule.to_config`) describes.

    >>> import lrkit
    >>> s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=90), steps=10)
    >>> lrkit.from_config(s.to_config()) == s
    True
    """
    if not isinstance(config, dict):
        raise TypeError(f"A schedule config must be a dict. Received: {config!r}")
    if "name" not in config:
        raise ValueError(f"A schedule config needs a `name` key. Received: {config!r}")
    name = config["name"]
    cls = REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"Unknown schedule name {name!r}. Known names: {', '.join(sorted(REGISTRY))}"
        )
    allowed = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in config.items() if k != "name"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise ValueError(
            f"Unknown argument(s) {', '.join(unknown)} for schedule {name!r}. "
            f"Its arguments are: {', '.join(sorted(allowed))}"
        )
    return cls(**{k: _from_plain(v) for k, v in kwargs.items()})


class Compound(Schedule):
    """A named schedule defined by the combinators: its formula is ``build()``'s."""

    def build(self) -> Schedule:
        raise NotImplementedError

    @cached_property
    def _built(self) -> Schedule:
        return self.build()

    def _f(self, t: Array, ops: Ops) -> Array:
        return self._built._f(t, ops)

    @property
    def duration(self) -> float | None:
        return self._built.duration

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        return self._built.breakpoints(until)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_built"}


@dataclasses.dataclass(frozen=True, repr=False)
class FunctionSchedule(Schedule):
    """A plain user function ``f(epoch) -> lr`` in the seed's style, accepted as a schedule.

    The adapters and the combinators wrap a bare function themselves, so
    ``lrkit.warmup(schedule_fn, steps=5)`` or ``LearningRateScheduler(schedule_fn)`` work as
    they are. It is **scalar-only**: it is called once per value with a Python number (an
    ``int`` when the time is whole, as Keras passes epochs). A NumPy array is evaluated element
    by element
    in a Python loop (slow, but plots work); JAX, PyTorch and TensorFlow tensors raise
    ``TypeError`` since a Python function cannot be traced. It has no config: rewrite it with
    catalogue schedules to save it, plot it in-graph, or use it on a tensor.

    >>> def schedule(epoch):
    ...     return 0.001 if epoch < 10 else 0.0001
    >>> s = FunctionSchedule(schedule)
    >>> s(9), s(10)
    (0.001, 0.0001)
    """

    fn: Callable[[Any], float]

    def __post_init__(self) -> None:
        if isinstance(self.fn, Schedule) or not callable(self.fn):
            raise TypeError(
                f"Argument `fn` must be a function of the epoch. Received: fn={self.fn!r}"
            )

    def _call(self, t: float) -> float:
        value = self.fn(int(t) if float(t).is_integer() else float(t))
        return float(value)

    def _f(self, t: Array, ops: Ops) -> Array:
        if ops.scalar:
            return np.float64(self._call(t))
        if isinstance(ops, NumpyOps):
            flat = np.asarray(t, dtype=np.float64).ravel()
            out = np.fromiter((self._call(v) for v in flat), dtype=np.float64, count=flat.size)
            return out.reshape(np.shape(t)).astype(np.asarray(t).dtype, copy=False)
        raise TypeError(
            f"{self!r} wraps a Python function, which cannot run on a tensor; "
            "build the schedule from lrkit's catalogue to use it in-graph"
        )

    def _thread_safe(self) -> bool:
        return False

    def to_config(self) -> Config:
        raise TypeError(
            f"{self!r} wraps a Python function and has no config; "
            "build the schedule from lrkit's catalogue to save it"
        )

    def spec(self) -> str:
        return f"<function {getattr(self.fn, '__qualname__', repr(self.fn))}>"


def as_schedule(x: Any) -> Schedule:
    """A schedule from a schedule, a plain function ``f(epoch)``, or a number (constant)."""
    if isinstance(x, Schedule):
        return x
    if callable(x):
        return FunctionSchedule(x)
    from lrkit.schedules import Constant

    return Constant(x)


def positional_arity(fn: Callable[..., Any]) -> int:
    """How many positional arguments ``fn`` accepts (``-1`` for ``*args``); from its signature."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return 1
    n = 0
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            return -1
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
    return n
