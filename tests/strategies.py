"""Hypothesis strategies: random *valid* schedules of every registered class, derived from the
declarations of their arguments (:mod:`lrkit._params`), so a new schedule is drawn without
writing a strategy for it.

``CATALOGUE`` maps each registered name to a strategy of instances, so a test over
``lrkit.REGISTRY`` can check that no entry is left out.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import strategies as st

import lrkit
from lrkit._params import Param, declared

rates = st.floats(0.0, 10.0, allow_nan=False, allow_infinity=False)
lengths = st.one_of(st.integers(1, 1000), st.floats(0.5, 1000.0))
nonneg_lengths = st.one_of(st.integers(0, 1000), st.just(0.0), st.floats(0.5, 1000.0))


def increasing(min_size: int = 1, max_size: int = 5) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(1, 2000), min_size=min_size, max_size=max_size, unique=True).map(
        sorted
    )


def _bounded(p: Param, lo: float, hi: float) -> st.SearchStrategy[float]:
    """Floats in the declared interval, kept to a realistic magnitude ``[lo, hi]``."""
    if p.lo is not None:
        lo = max(lo, p.lo + (1e-3 if p.lo_open else 0.0))
        hi = max(hi, lo + 10.0) if p.hi is None and hi <= lo else hi
    if p.hi is not None:
        hi = min(hi, p.hi - (1e-3 if p.hi_open else 0.0))
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _number(p: Param) -> st.SearchStrategy[Any]:
    if p.typical is not None:
        return st.floats(*p.typical)
    if p.role == "rate":
        return rates
    if p.role == "length":
        lo = p.lo or 0.0
        return st.one_of(st.integers(max(1, int(lo)), 1000), st.floats(max(0.5, lo), 1000.0))
    if p.role == "time":
        return nonneg_lengths
    if p.role == "factor":
        return _bounded(p, 0.0, 1.0)
    if p.lo is not None and p.hi is None:
        return _bounded(p, p.lo, p.lo + 10.0)
    return _bounded(p, -100.0, 100.0)


def value(p: Param, children: st.SearchStrategy[lrkit.Schedule]) -> st.SearchStrategy[Any]:
    """Values that satisfy the declaration ``p`` (relations are checked by construction)."""
    if p.kind == "number":
        out = _number(p)
    elif p.kind == "flag":
        out = st.booleans()
    elif p.kind == "choice":
        out = st.sampled_from(p.choices)
    elif p.kind == "numbers" and p.increasing:
        out = increasing(p.min_len, 4)
    elif p.kind == "numbers":
        out = st.lists(_number(p), min_size=p.min_len, max_size=4)
    elif p.kind == "schedule":
        out = children
    else:
        out = st.lists(children, min_size=max(p.min_len, 1), max_size=4)
    return st.none() | out if p.optional else out


@st.composite
def instances(
    draw: st.DrawFn, cls: type[lrkit.Schedule], children: st.SearchStrategy[lrkit.Schedule]
) -> lrkit.Schedule:
    """An instance of ``cls`` with every argument drawn from its declaration (or left at its
    default). Draws that break a relation (``min_lr <= max_lr``) are drawn again."""
    fields = [(f, declared(f)) for f in dataclasses.fields(cls)]
    for _ in range(25):
        kwargs = {}
        for f, p in fields:
            if p is None or (f.default is not dataclasses.MISSING and draw(st.booleans())):
                continue
            kwargs[f.name] = draw(value(p, children))
        try:
            return cls(**kwargs)
        except ValueError:
            continue
    from hypothesis import reject

    reject()


def takes_schedules(cls: type[lrkit.Schedule]) -> bool:
    return any(
        (p := declared(f)) is not None and p.kind in ("schedule", "schedules")
        for f in dataclasses.fields(cls)
    )


LEAVES = tuple(name for name, cls in lrkit.REGISTRY.items() if not takes_schedules(cls))
_nothing: st.SearchStrategy[lrkit.Schedule] = st.nothing()
_leaves = st.one_of(*(instances(lrkit.REGISTRY[n], _nothing) for n in LEAVES))


def composites(children: st.SearchStrategy[lrkit.Schedule]) -> st.SearchStrategy[lrkit.Schedule]:
    return st.one_of(
        *(instances(cls, children) for cls in lrkit.REGISTRY.values() if takes_schedules(cls))
    )


CATALOGUE: dict[str, st.SearchStrategy[lrkit.Schedule]] = {
    name: instances(cls, _leaves if takes_schedules(cls) else _nothing)
    for name, cls in lrkit.REGISTRY.items()
}

#: Any schedule: a leaf, or composites nested up to a few levels.
schedules = st.recursive(_leaves, composites, max_leaves=6)
