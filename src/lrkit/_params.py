r"""Parameters declared once: what a schedule's argument is, its constraint, default and doc.

A schedule's fields are declared with the functions below::

    start_lr: float = rate(r"$\eta_0$, the rate at $t = 0$.")
    decay_steps: float = length("$T$, how long the decay lasts.")
    end_lr: float = rate(r"$\eta_1$, reached at $T$ and held after.", default=0.0)

From that one declaration come: the check at construction and its message
(:meth:`Param.check`), the ``Args`` section of the class docstring (:func:`args_section`),
the config's missing- and unknown-key errors (:func:`lrkit._core.from_config`) and, in
``tests/strategies.py``, the random valid values the property tests draw. Relations between
arguments (``min_lr <= max_lr``) are checked by the schedule's own ``_check``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

from lrkit import _validate as v

MISSING: Any = dataclasses.MISSING


@dataclasses.dataclass(frozen=True)
class Param:
    """One argument's declaration.

    ``kind`` is what the value is: ``"number"``, ``"flag"``, ``"choice"``, ``"numbers"`` (a
    list), ``"schedule"`` or ``"schedules"``. ``role`` says what a number means (``"rate"``,
    ``"length"`` of time, ``"time"``, ``"factor"``, ``"real"``): the docs show it and the test
    strategies draw realistic values for it.
    """

    kind: str
    doc: str
    role: str = "real"
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False
    increasing: bool = False
    min_len: int = 1
    #: Where values usually lie (the test strategies draw there); not a constraint.
    typical: tuple[float, float] | None = None

    def rule(self) -> str:
        """The constraint in words, as the docs and the error messages say it."""
        if self.kind == "flag":
            return "True or False"
        if self.kind == "choice":
            return "one of " + ", ".join(map(repr, self.choices))
        if self.kind == "schedule":
            return "a schedule or a function f(epoch)"
        if self.kind == "schedules":
            return f"a list of at least {self.min_len} schedule(s)"
        bound = _interval(self)
        if self.kind == "numbers":
            order = "strictly increasing " if self.increasing else ""
            return f"a {order}list of numbers {bound}".rstrip()
        return f"a number {bound}".rstrip()

    def check(self, name: str, value: Any) -> Any:
        """``value`` checked and normalised to plain Python types (schedule kinds excepted)."""
        if value is None and self.optional:
            return None
        if self.kind == "flag":
            return v.boolean(name, value)
        if self.kind == "choice":
            return v.choice(name, value, self.choices)
        if self.kind == "numbers":
            items = v.sequence(name, value, min_len=self.min_len)
            out = tuple(self._number(f"{name}[{i}]", x) for i, x in enumerate(items))
            if self.increasing and any(b <= a for a, b in itertools.pairwise(out)):
                raise v.fail(name, "strictly increasing", value)
            return out
        if self.kind == "number":
            return self._number(name, value)
        return value  # schedules: coerced by the model (lrkit._core)

    def _number(self, name: str, value: Any) -> float:
        out = v.number(name, value)
        lo, hi = self.lo, self.hi
        if (lo is not None and (out < lo or (self.lo_open and out == lo))) or (
            hi is not None and (out > hi or (self.hi_open and out == hi))
        ):
            raise v.fail(name, _interval(self), value)
        return out


def _interval(p: Param) -> str:
    """``>= 0``, ``> 0``, ``in [0, 1]``, ``in (0, 1]``, or ``""`` (any finite number)."""
    if p.lo is not None and p.hi is not None:
        lo, hi = float(p.lo), float(p.hi)  # as _validate.in_range writes them: [0.0, 1.0]
        return f"in {'(' if p.lo_open else '['}{lo}, {hi}{')' if p.hi_open else ']'}"
    if p.lo is not None:
        return f"{'>' if p.lo_open else '>='} {_num(p.lo)}"
    if p.hi is not None:
        return f"{'<' if p.hi_open else '<='} {_num(p.hi)}"
    return ""


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and math.isfinite(x) else repr(x)


def _field(p: Param, default: Any, kw_only: bool) -> Any:
    if kw_only:
        return dataclasses.field(default=default, metadata={"param": p}, kw_only=True)
    return dataclasses.field(default=default, metadata={"param": p})


def declared(field: dataclasses.Field[Any]) -> Param | None:
    """The declaration of a dataclass field, if it was declared with this module."""
    p = field.metadata.get("param")
    return p if isinstance(p, Param) else None


# -- the declarations ----------------------------------------------------------------------


def rate(doc: str, default: Any = MISSING, *, optional: bool = False, kw_only: bool = False) -> Any:
    """A learning rate (or a factor of one): a number ``>= 0``."""
    return _field(Param("number", doc, "rate", lo=0.0, optional=optional), default, kw_only)


def length(
    doc: str,
    default: Any = MISSING,
    *,
    optional: bool = False,
    lo: float = 0.0,
    kw_only: bool = False,
) -> Any:
    """A length of time: a number ``> 0`` (or ``>= lo`` when ``lo`` is given above 0)."""
    p = Param("number", doc, "length", lo=lo, lo_open=lo == 0.0, optional=optional)
    return _field(p, default, kw_only)


def time(doc: str, default: Any = MISSING, *, kw_only: bool = False) -> Any:
    """A point or stretch of time that may be 0: a number ``>= 0``."""
    return _field(Param("number", doc, "time", lo=0.0), default, kw_only)


def real(
    doc: str,
    default: Any = MISSING,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    role: str = "real",
    kw_only: bool = False,
    typical: tuple[float, float] | None = None,
) -> Any:
    """A finite number, optionally bounded."""
    p = Param("number", doc, role, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open, typical=typical)
    return _field(p, default, kw_only)


def factor(doc: str, default: Any = MISSING, *, lo_open: bool = False) -> Any:
    """A multiplier in ``[0, 1]`` (``(0, 1]`` with ``lo_open``)."""
    return _field(Param("number", doc, "factor", lo=0.0, hi=1.0, lo_open=lo_open), default, False)


def flag(doc: str, default: Any = MISSING, *, kw_only: bool = False) -> Any:
    """True or False."""
    return _field(Param("flag", doc), default, kw_only)


def choice(doc: str, options: tuple[str, ...], default: Any = MISSING) -> Any:
    """One of a few strings."""
    return _field(Param("choice", doc, choices=options), default, False)


def times(doc: str, *, min_len: int = 1, increasing: bool = True) -> Any:
    """A list of times ``>= 0`` (strictly increasing by default)."""
    p = Param("numbers", doc, "time", lo=0.0, increasing=increasing, min_len=min_len)
    return _field(p, MISSING, False)


def rates(doc: str, *, min_len: int = 1) -> Any:
    """A list of rates ``>= 0``."""
    return _field(Param("numbers", doc, "rate", lo=0.0, min_len=min_len), MISSING, False)


def schedule(doc: str) -> Any:
    """A schedule (a plain function ``f(epoch)`` is wrapped as one)."""
    return _field(Param("schedule", doc), MISSING, False)


def schedules(doc: str, *, min_len: int = 1) -> Any:
    return _field(Param("schedules", doc, min_len=min_len), MISSING, False)


# -- documentation -------------------------------------------------------------------------


def args_section(fields: tuple[dataclasses.Field[Any], ...]) -> str:
    """The Google-style ``Args:`` section for these fields, from their declarations."""
    lines = ["Args:"]
    for f in fields:
        p = declared(f)
        if p is None:
            continue
        default = ""
        if f.default is not MISSING:
            default = f" Default: ``{f.default!r}``."
        none = " ``None`` for none." if p.optional else ""
        lines.append(f"    {f.name}: {p.rule()}. {p.doc}{none}{default}")
    return "\n".join(lines)
