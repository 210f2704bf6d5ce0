"""The schedule model: an immutable value that is a pure function of time.

Every schedule is a frozen dataclass. Its fields are its whole state, so ``repr``, ``==``,
pickling and ``to_config()`` come from the fields alone; no schedule keeps a counter.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math
import os
import threading
import warnings
from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from lrkit import _compile, _display, _validate
from lrkit._ops import MATH, Array, NumpyOps, Ops, is_real_number, namespace
from lrkit._params import Param, args_section, declared

#: catalogue name -> class, filled by ``Schedule.__init_subclass__``.
REGISTRY: dict[str, type[Schedule]] = {}
#: deprecated name -> current name; configs and text forms that use one still load.
ALIASES: dict[str, str] = {}

Config = dict[str, Any]

#: Array size above which NumPy evaluation goes chunk by chunk (see ``Schedule._chunked``).
_CHUNK = 1 << 14
#: The namespace of integer times: computed in float64.
_FLOAT64 = NumpyOps.of(np.dtype(np.float64))
#: Array size from which the chunks are shared between threads.
_THREADED = 1 << 20
#: The largest float64: no schedule may have a rate beyond it (see ``Schedule._peak``).
_FLOAT_MAX = float(np.finfo(np.float64).max)
#: Scalar calls of one schedule after which its formula is compiled. Compiling costs about
#: as much as a few hundred calls of the generic path, so a schedule called a few times (a
#: combinator's check, a table) never pays for it, and a training loop soon gains.
_COMPILE_AFTER = 64


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
    #: A text form of a typical instance: the docs gallery draws it and the framework tests
    #: run it, so a new schedule is covered everywhere by giving this one line.
    example: ClassVar[str] = ""
    #: How Python code names the class, when not ``lrkit.<name>`` (``lrkit.join`` is a function).
    python_name: ClassVar[str] = ""

    def __init_subclass__(
        cls, name: str | None = None, aliases: tuple[str, ...] = (), **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if name is not None:
            for key in (name, *aliases):
                if key in REGISTRY or key in ALIASES:
                    raise RuntimeError(f"two schedules are registered as {key!r}")
            cls.name = name
            REGISTRY[name] = cls
            ALIASES.update(dict.fromkeys(aliases, name))
        cls.__doc__ = _with_args(cls)

    def __post_init__(self) -> None:
        """Check and normalise every declared argument, then the relations between them."""
        for f in dataclasses.fields(self):
            p = declared(f)
            if p is not None:
                object.__setattr__(self, f.name, _checked(p, f.name, getattr(self, f.name)))
        self._check()
        self._check_built()
        if not self._peak <= _FLOAT_MAX:
            raise ValueError(
                f"The arguments of {_short(self, 300)} give rates beyond the largest float "
                f"({_FLOAT_MAX:.3g}) at some time: make the factors or rates smaller."
            )

    def _check_built(self) -> None:
        """Build what the schedule needs before it can be evaluated (a :class:`Compound`
        builds its definition here, so every problem surfaces at construction)."""

    def _check(self) -> None:
        """Relations between arguments (``min_lr <= max_lr``); each argument alone is checked
        from its declaration before this runs."""

    # -- evaluation --------------------------------------------------------------------

    def __call__(self, t: Any) -> Any:
        kind = type(t)  # exact types first: the per-update call of a training loop
        if kind is float or kind is int:
            return self._scalar_fn(t)
        if is_real_number(t):
            return self._scalar_fn(float(t))
        if isinstance(t, np.ndarray) and t.dtype.kind in "iu" and t.size > _CHUNK:
            # Steps: converted to float64 chunk by chunk, in the threads, and all finite.
            return self._chunked(t, _FLOAT64)
        ops, x = namespace(t)
        if not isinstance(ops, NumpyOps):
            return ops.result(self._formula._f(ops.maximum(x, 0.0), ops))
        with np.errstate(all="ignore"):  # no warnings from branches that are not taken
            if ops.scalar:
                return ops.result(self._formula._f(ops.maximum(x, 0.0), ops))
            out = (
                self._formula._f(ops.maximum(x, 0.0), ops)
                if x.size <= _CHUNK
                else self._chunked(x, ops)
            )
            return ops.result(self._where_not_finite(x, out, ops))

    def _where_not_finite(self, x: np.ndarray, out: np.ndarray, ops: Ops) -> np.ndarray:
        """``out`` with the rates of the times in ``x`` that are not finite put right, in one
        pass when there are none. A NaN time gives NaN in every schedule (a constant
        included), so it cannot pass unnoticed. An infinite time gives the formula's value
        at infinity (the schedule's limit, or NaN where it has none), computed on its own:
        the shortcuts taken for the finite times around it (the phases or cycles that they
        reach) do not hold there. A time of -inf was held at 0, as every negative time."""
        finite = np.isfinite(x)
        if finite.all():
            return out
        with np.errstate(all="ignore"):
            limit = self._formula._f(np.full(1, np.inf, dtype=out.dtype), ops)[0]
        out = np.where(x == np.inf, limit, out)
        return np.where(np.isnan(x), np.nan, out).astype(out.dtype, copy=False)

    @cached_property
    def _scalar_fn(self) -> Callable[[float], float]:
        """``schedule(t)`` for one Python float or int: after the first few calls, the formula
        compiled to a small Python function (:mod:`lrkit._compile`: the same values bit for
        bit), else :meth:`_scalar`. Cached: the value is immutable."""
        if not self._compilable:
            return self._scalar
        calls = 0

        def first_calls(t: float) -> float:
            nonlocal calls
            calls += 1
            if calls == _COMPILE_AFTER:  # from the next call on, the compiled function
                self.__dict__["_scalar_fn"] = self._compiled or self._scalar
            return self._scalar(t)

        return first_calls

    @cached_property
    def _compiled(self) -> Callable[[float], float] | None:
        """The formula compiled for one number, or ``None`` where it cannot be."""
        if not self._compilable:
            return None
        return _compile.scalar_function(self._f, self._numpy_scalar)

    @cached_property
    def _compilable(self) -> bool:
        """Only lrkit's own classes are compiled (and traced): a subclass written elsewhere,
        or a wrapped user function, keeps the generic path."""
        if not type(self).__module__.startswith("lrkit."):
            return False
        for value in self.params().values():
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, Schedule) and not item._compilable:
                    return False
        return True

    def _scalar(self, number: float) -> float:
        """The generic path for one float or int: the formula on :data:`~lrkit._ops.MATH`."""
        try:
            t = float(number)
        except OverflowError:  # an int beyond any float
            t = math.inf
        if not math.isfinite(t):
            return _compile.not_finite(number)
        try:
            return float(self._formula._f(t if t > 0.0 else 0.0, MATH))
        except (ArithmeticError, ValueError):
            return self._numpy_scalar(t)

    def _numpy_scalar(self, t: float) -> float:
        # An untaken branch overflowed or divided by zero in Python floats: redo it with
        # NumPy scalars, which give inf/nan there instead of raising.
        with np.errstate(all="ignore"):
            return float(self._formula._f(np.float64(max(t, 0.0)), namespace(0.0)[0]))

    def _chunked(self, x: np.ndarray, ops: Ops) -> np.ndarray:
        """Evaluate a large array in cache-sized chunks: the formula's temporaries stay in
        cache, and a chunk that lies inside one phase of a composite computes that phase only.
        Very large arrays are split between threads (NumPy releases the GIL in its loops);
        every value is computed exactly as on one thread.
        """
        out = np.empty(x.shape, dtype=x.dtype if x.dtype.kind == "f" else np.float64)
        src, dst = x.reshape(-1), out.reshape(-1)
        formula = self._formula

        def work(lo: int, hi: int) -> None:
            with np.errstate(all="ignore"):  # errstate is per thread
                for i in range(lo, hi, _CHUNK):
                    j = min(i + _CHUNK, hi)
                    dst[i:j] = formula._f(np.maximum(src[i:j], 0.0), ops)

        n = src.size
        workers = _threads_for(n) if self._thread_safe else 1
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

    @cached_property
    def _thread_safe(self) -> bool:
        """Pure lrkit formulas only: a wrapped user function is never called from a thread.
        (Cached: the value is immutable, and a large call should not walk the tree again.)"""
        for value in self.params().values():
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, Schedule) and not item._thread_safe:
                    return False
        return True

    @cached_property
    def _peak(self) -> float:
        """An upper bound of the schedule's values over all time, from its arguments alone.

        A leaf formula moves between its rates (a cosine from ``start_lr`` to ``end_lr``), so
        the default is the largest rate-like argument and the peaks of the schedules inside;
        a formula that can exceed its rates (a product, a growing ``gamma``) says so itself.
        :meth:`__post_init__` refuses arguments whose peak is not a finite float: no
        accepted schedule reaches ``inf`` (or ``nan`` from ``inf - inf``) at any time."""
        peak = 0.0
        for f in dataclasses.fields(self):
            p = declared(f)
            value = getattr(self, f.name)
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, Schedule):
                    peak = max(peak, item._peak)
                elif p is not None and p.role == "rate" and item is not None:
                    peak = max(peak, abs(float(item)))
        return peak

    def evaluate(self, t: Array, ops: Ops) -> Array:
        """Evaluate on ``t`` (already float, ``>= 0``) with an explicit namespace (adapters)."""
        return self._formula._f(t, ops)

    @cached_property
    def _formula(self) -> Schedule:
        """This schedule as its formulas compute it: every time and length a float.

        Arguments keep the type they were given (``cosine(0.1, 100)`` prints and saves 100),
        but a Python int inside a formula is an integer constant to an array library: JAX
        without x64 cannot take one of 2**31 or more, and ``rampup + sustain`` can pass that
        from two smaller ones. So formulas run on this twin, whose times and lengths (and
        those of every schedule inside) are floats; it is equal to ``self`` and built once."""
        changes = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            p = declared(f)
            new = _formula_value(value, p.role if p is not None else "")
            if new is not value:
                changes[f.name] = new
        if not changes:
            return self
        twin = copy.copy(self)  # the fields only (see __getstate__), no check to rerun
        for name, value in changes.items():
            object.__setattr__(twin, name, value)
        return twin

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

    def __getstate__(self) -> dict[str, Any]:
        # Only the fields: cached properties are derived, and rebuilt after unpickling.
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)

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

    # The operators build combinators, which live in a layer above this one: they reach them
    # through the registry (filled when lrkit is imported), never by importing upwards.

    def __mul__(self, other: Any) -> Schedule:
        if isinstance(other, Schedule):
            return REGISTRY["product"](self, other)  # type: ignore[call-arg]
        return REGISTRY["scale"](self, other)  # type: ignore[call-arg]

    __rmul__ = __mul__

    def __add__(self, other: Any) -> Schedule:
        if not isinstance(other, Schedule):
            other = REGISTRY["constant"](other)  # type: ignore[call-arg]
        return REGISTRY["sum"](self, other)  # type: ignore[call-arg]

    __radd__ = __add__

    def __rshift__(self, other: Schedule) -> Schedule:
        return REGISTRY["join"].sequence(self, other)  # type: ignore[attr-defined, no-any-return]

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


def _formula_value(value: Any, role: str) -> Any:
    """``value`` as a formula uses it: a schedule's formula twin, whole times as floats."""
    if isinstance(value, Schedule):
        return value._formula
    if isinstance(value, tuple):
        items = tuple(_formula_value(v, role) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if role in ("length", "time") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


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
        return _build(value)
    if isinstance(value, list | tuple):
        return tuple(_from_plain(v) for v in value)
    return value


def lookup(name: Any) -> type[Schedule]:
    """The class registered as ``name`` (a deprecated name warns and gives its successor)."""
    cls = REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None and isinstance(name, str) and name in ALIASES:
        warnings.warn(
            f"Schedule name {name!r} is deprecated; it is now {ALIASES[name]!r} "
            "(same arguments, same values). Configs and text forms with the old name still load.",
            DeprecationWarning,
            stacklevel=3,
        )
        cls = REGISTRY[ALIASES[name]]
    if cls is None:
        raise ValueError(
            f"Unknown schedule name {_short(name)}. Known names: {', '.join(sorted(REGISTRY))}"
        )
    return cls


#: Most values a config may hold, counting every visit: a part that a YAML alias shares is
#: counted each time it is used, as if written out (a realistic config holds under 200).
MAX_CONFIG_SIZE = 10_000
#: Deepest nesting of dicts and lists in a config (a text form at ``spec.MAX_DEPTH`` needs
#: at most twice that).
MAX_CONFIG_DEPTH = 64


class ConfigError(ValueError):
    """A config that :func:`from_config` (or :func:`lrkit.loads`) cannot read: not JSON or YAML,
    too large or too deep, an unknown name or argument, a missing argument.

    A bad *value* of a known argument raises the schedule's own ``ValueError`` or
    ``TypeError``, as the constructor does."""


def from_config(config: Config) -> Schedule:
    """Build the schedule that ``config`` (from :meth:`Schedule.to_config`) describes.

    A missing or unknown argument is named, with what the schedule takes. The config is
    measured before anything is built: at most :data:`MAX_CONFIG_SIZE` values (shared parts
    counted at each use) and :data:`MAX_CONFIG_DEPTH` levels, so any input is read or refused
    in time proportional to those limits. Raises :class:`ConfigError` (a ``ValueError``) or
    ``TypeError``, nothing else.

    >>> import lrkit
    >>> s = lrkit.warmup(lrkit.cosine(start_lr=0.1, decay_steps=90), steps=10)
    >>> lrkit.from_config(s.to_config()) == s
    True
    """
    _measure(config)
    try:
        return _build(config)
    except ArithmeticError as e:  # a safety net: no formula should overflow while building
        raise ConfigError(f"The config describes a schedule that overflows: {e}") from None


def _measure(config: Any) -> None:
    """Refuse a config with more than ``MAX_CONFIG_SIZE`` values or ``MAX_CONFIG_DEPTH``
    levels. Iterative, and it stops at the first value over budget: a structure that shares
    parts (or contains itself) costs at most the budget to look at."""
    stack: list[tuple[Any, int]] = [(config, 1)]
    size = 0
    while stack:
        value, depth = stack.pop()
        size += 1
        if isinstance(value, dict | list | tuple):
            if depth > MAX_CONFIG_DEPTH:
                raise ConfigError(
                    f"A config may nest dicts and lists {MAX_CONFIG_DEPTH} levels deep at most "
                    "(is it a structure that contains itself?)"
                )
            size += len(value)  # the keys, and a tally before the items are looked at
            if size > MAX_CONFIG_SIZE:
                break
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
        if size > MAX_CONFIG_SIZE:
            break
    if size > MAX_CONFIG_SIZE:
        raise ConfigError(
            f"A config may hold {MAX_CONFIG_SIZE} values at most, counting a part that is "
            "shared (a YAML alias) at each use"
        )


def _build(config: Config) -> Schedule:
    if not isinstance(config, dict):
        raise TypeError(f"A schedule config must be a dict. Received: {_short(config)}")
    if "name" not in config:
        raise ConfigError(f"A schedule config needs a `name` key. Received: {_short(config)}")
    try:
        cls = lookup(config["name"])
    except ValueError as e:
        raise ConfigError(str(e)) from None
    name = cls.name
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in config.items() if k != "name"}
    unknown = sorted(set(kwargs) - set(fields), key=str)
    if unknown:
        listed = ", ".join(map(_short, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
        raise ConfigError(
            f"Unknown argument(s) {listed} for schedule {name!r}. "
            f"Its arguments are: {', '.join(fields)}"
        )
    missing = [
        k
        for k, f in fields.items()
        if k not in kwargs and f.default is dataclasses.MISSING and f.init
    ]
    if missing:
        raise ConfigError(
            f"Schedule {name!r} needs argument(s) {', '.join(missing)}: "
            + "; ".join(f"{k} ({_rule(fields[k])})" for k in missing)
        )
    return cls(**{k: _from_plain(v) for k, v in kwargs.items()})


def _rule(f: dataclasses.Field[Any]) -> str:
    p = declared(f)
    return "see its docs" if p is None else p.rule()


#: ``repr``, bounded in length and in the work it takes (messages echo what they got).
_short = _validate.short


def _checked(p: Param, name: str, value: Any) -> Any:
    if p.kind == "schedule":
        return as_phase(name, value)
    if p.kind == "schedules":
        items = _validate.sequence(name, value, min_len=p.min_len)
        return tuple(as_phase(f"{name}[{i}]", s) for i, s in enumerate(items))
    return p.check(name, value)


def _with_args(cls: type) -> str | None:
    """The class docstring with an ``Args:`` section made from its declarations, placed
    before its examples (a hand-written ``Args:`` would be a second copy: there is none)."""
    doc: str | None = cls.__dict__.get("__doc__")
    if not doc:
        return doc
    fields = tuple(_declared_fields(cls))
    if not fields:
        return doc
    text = inspect.cleandoc(doc)
    args = args_section(fields)
    head, sep, tail = text.partition("\nExamples:")
    return f"{head.rstrip()}\n\n{args}\n{sep}{tail}" if sep else f"{text}\n\n{args}\n"


def _declared_fields(cls: type) -> list[dataclasses.Field[Any]]:
    """Declared fields in definition order (inherited first), before ``@dataclass`` runs."""
    out: dict[str, dataclasses.Field[Any]] = {}
    for klass in reversed(cls.__mro__):
        for name in inspect.get_annotations(klass):
            value = klass.__dict__.get(name)
            if isinstance(value, dataclasses.Field) and declared(value) is not None:
                out.pop(name, None)
                out[name] = value
                value.name = name
    return list(out.values())


class Compound(Schedule):
    """A named schedule defined by the combinators: its formula is ``build()``'s.

    It is built at construction, so arguments that pass their own checks but give a part
    that cannot exist (a 1cycle whose end rate overflows) are refused there, in the user's
    terms: the message names this schedule and its arguments, then the part's problem."""

    def build(self) -> Schedule:
        raise NotImplementedError

    def _check_built(self) -> None:
        try:
            self._built  # noqa: B018 - built (and cached) now, for the errors
        except (ValueError, TypeError, ArithmeticError) as e:
            raise type(e)(
                f"The arguments of {_short(self, 300)} give a schedule that cannot be built: {e}"
            ) from None

    @cached_property
    def _built(self) -> Schedule:
        return self.build()

    @cached_property
    def _peak(self) -> float:
        return self._built._peak

    def _f(self, t: Array, ops: Ops) -> Array:
        return self._built._f(t, ops)

    @cached_property
    def _compilable(self) -> bool:
        # A compound written elsewhere is compiled through what its build() returns.
        return type(self)._f is Compound._f and self._built._compilable

    @property
    def duration(self) -> float | None:
        return self._built.duration

    def breakpoints(self, until: float = math.inf) -> tuple[float, ...]:
        return self._built.breakpoints(until)


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
        # A user's function is checked as a catalogue schedule is: every adapter then refuses
        # NaN, inf, negative rates and non-numbers alike (Keras' own callback checks too).
        out = float(value) if is_real_number(value) or _is_scalar_array(value) else None
        if out is None or not math.isfinite(out) or out < 0:
            raise ValueError(
                f"The function {getattr(self.fn, '__qualname__', _short(self.fn))} returned "
                f"{_short(value)} at t={float(t)!r}; "
                "a schedule must return a finite number >= 0."
            )
        return out

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

    @cached_property
    def _thread_safe(self) -> bool:
        return False

    @cached_property
    def _compilable(self) -> bool:
        return False

    def to_config(self) -> Config:
        raise TypeError(
            f"{self!r} wraps a Python function and has no config; "
            "build the schedule from lrkit's catalogue to save it"
        )

    def spec(self) -> str:
        return f"<function {getattr(self.fn, '__qualname__', repr(self.fn))}>"


def _is_scalar_array(value: Any) -> bool:
    """A 0-d NumPy array or a one-element tensor of a real dtype (``float()`` reads it)."""
    shape = getattr(value, "shape", None)
    dtype = str(getattr(value, "dtype", ""))
    return shape is not None and tuple(shape) == () and ("float" in dtype or "int" in dtype)


def as_schedule(x: Any) -> Schedule:
    """A schedule from a schedule, a plain function ``f(epoch)``, or a number (constant)."""
    if isinstance(x, Schedule):
        return x
    if callable(x):
        return FunctionSchedule(x)
    return REGISTRY["constant"](x)  # type: ignore[call-arg]


def as_phase(name: str, value: Any) -> Schedule:
    """A schedule, or a plain function ``f(epoch)`` wrapped as one (scalar-only, no config)."""
    if isinstance(value, Schedule):
        return value
    if callable(value) and not isinstance(value, type):
        return FunctionSchedule(value)
    raise TypeError(
        f"Argument `{name}` must be an lrkit schedule or a function of the epoch. "
        f"Received: {name}={_short(value)} of type {type(value).__name__}"
    )


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
