"""Hypothesis strategies: random *valid* schedules of every catalogue entry and composite.

``CATALOGUE`` maps each registered name to a strategy of instances, so a test over
``lrkit.REGISTRY`` can check that no entry is left out.
"""

from __future__ import annotations

from hypothesis import strategies as st

import lrkit

rates = st.floats(0.0, 10.0, allow_nan=False, allow_infinity=False)
positive_rates = st.floats(1e-6, 10.0)
lengths = st.one_of(st.integers(1, 1000), st.floats(0.5, 1000.0))
nonneg_lengths = st.one_of(st.integers(0, 1000), st.just(0.0), st.floats(0.5, 1000.0))
unit = st.floats(0.0, 1.0)


def increasing(min_size: int = 1, max_size: int = 5) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(1, 2000), min_size=min_size, max_size=max_size, unique=True).map(
        sorted
    )


@st.composite
def _one_cycle(draw: st.DrawFn) -> lrkit.Schedule:
    lo, hi = sorted((draw(rates), draw(rates)))
    return lrkit.one_cycle(
        start_lr=draw(rates),
        min_lr=lo,
        max_lr=hi,
        rampup_epochs=draw(st.integers(0, 50)),
        sustain_epochs=draw(st.integers(0, 50)),
        exp_decay=draw(unit),
    )


@st.composite
def _piecewise(draw: st.DrawFn) -> lrkit.Schedule:
    bounds = draw(increasing(0))
    values = draw(st.lists(rates, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    return lrkit.piecewise_constant(bounds, values, closed=draw(st.sampled_from(["left", "right"])))


@st.composite
def _exponential(draw: st.DrawFn) -> lrkit.Schedule:
    rate = draw(st.floats(1e-3, 3.0))
    end = draw(rates) if rate > 1 else draw(st.none() | rates)
    return lrkit.exponential(
        draw(rates), rate, draw(lengths), staircase=draw(st.booleans()), end_lr=end
    )


@st.composite
def _tanh(draw: st.DrawFn) -> lrkit.Schedule:
    lo, hi = sorted((draw(rates), draw(rates)))
    lower = draw(st.floats(-10, 0))
    return lrkit.tanh_decay(hi, draw(lengths), lo, lower, lower + draw(st.floats(0.5, 15)))


@st.composite
def _cosine_restarts(draw: st.DrawFn) -> lrkit.Schedule:
    lo, hi = sorted((draw(rates), draw(rates)))
    return lrkit.cosine_restarts(
        hi, draw(lengths), draw(st.floats(1.0, 3.0)), draw(unit), end_lr=lo
    )


@st.composite
def _cyclic(draw: st.DrawFn) -> lrkit.Schedule:
    lo, hi = sorted((draw(rates), draw(rates)))
    return lrkit.cyclic(
        lo,
        hi,
        draw(lengths),
        draw(st.none() | lengths),
        draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
        draw(st.floats(0.5, 1.0)),
    )


@st.composite
def _onecycle(draw: st.DrawFn) -> lrkit.Schedule:
    three = draw(st.booleans())
    return lrkit.onecycle(
        draw(rates),
        draw(st.integers(10, 5000)),
        pct_start=draw(st.floats(0.05, 0.45 if three else 0.95)),
        div_factor=draw(st.floats(1.0, 100.0)),
        final_div_factor=draw(st.floats(1.0, 1e5)),
        anneal=draw(st.sampled_from(["cos", "linear"])),
        three_phase=three,
    )


@st.composite
def _wsd(draw: st.DrawFn) -> lrkit.Schedule:
    lo, hi = sorted((draw(rates), draw(rates)))
    return lrkit.warmup_stable_decay(
        hi,
        draw(nonneg_lengths),
        draw(nonneg_lengths),
        draw(lengths),
        draw(st.sampled_from(["linear", "cosine", "1-sqrt"])),
        end_lr=lo,
        warmup_start_lr=draw(rates),
    )


def _leaf() -> st.SearchStrategy[lrkit.Schedule]:
    return st.one_of(*(CATALOGUE[name] for name in LEAVES))


@st.composite
def _join(draw: st.DrawFn, children: st.SearchStrategy[lrkit.Schedule]) -> lrkit.Schedule:
    phases = draw(st.lists(children, min_size=2, max_size=4))
    return lrkit.Join(phases, draw(increasing(len(phases) - 1, len(phases) - 1)))


@st.composite
def _warmup(draw: st.DrawFn, children: st.SearchStrategy[lrkit.Schedule]) -> lrkit.Schedule:
    shape = draw(st.sampled_from(["linear", "cosine", "exponential"]))
    inner = draw(children)
    if shape == "exponential":
        inner = inner + draw(st.floats(1e-4, 1.0))  # exponential warmup needs a target > 0
    start = draw(positive_rates if shape == "exponential" else rates)
    return lrkit.warmup(inner, draw(nonneg_lengths), shape, start)


@st.composite
def _clip(draw: st.DrawFn, children: st.SearchStrategy[lrkit.Schedule]) -> lrkit.Schedule:
    lo, hi = sorted((draw(rates), draw(rates)))
    which = draw(st.sampled_from(["min", "max", "both"]))
    return lrkit.clip(
        draw(children), lo if which != "max" else None, hi if which != "min" else None
    )


def composites(children: st.SearchStrategy[lrkit.Schedule]) -> st.SearchStrategy[lrkit.Schedule]:
    return st.one_of(
        _join(children),
        _warmup(children),
        st.builds(lrkit.restarts, children, lengths, st.floats(1.0, 3.0), unit),
        st.builds(lrkit.scale, children, st.floats(0.0, 10.0)),
        st.builds(lrkit.Sum, children, children),
        st.builds(lrkit.Product, children, children),
        _clip(children),
        st.builds(lrkit.shift, children, st.floats(-100.0, 100.0)),
        st.builds(lrkit.staircase, children, lengths),
        st.builds(lrkit.stretch, children, st.floats(0.01, 100.0)),
    )


CATALOGUE: dict[str, st.SearchStrategy[lrkit.Schedule]] = {
    "constant": st.builds(lrkit.constant, rates),
    "time_based_decay": st.builds(lrkit.time_based_decay, rates, st.floats(0.0, 10.0)),
    "exponential_decay": st.builds(lrkit.exponential_decay, rates, st.floats(0.0, 10.0)),
    "constant_then_exponential_decay": st.builds(
        lrkit.constant_then_exponential_decay,
        rates,
        nonneg_lengths,
        st.floats(0.0, 10.0),
        st.booleans(),
    ),
    "one_cycle": _one_cycle(),
    "step": st.builds(lrkit.step, rates, lengths, unit),
    "multistep": st.builds(lrkit.multistep, rates, increasing(), st.floats(0.0, 2.0)),
    "piecewise_constant": _piecewise(),
    "linear": st.builds(lrkit.linear, rates, rates, lengths),
    "linear_to_zero": st.builds(lrkit.linear_to_zero, rates, lengths),
    "polynomial": st.builds(
        lrkit.polynomial, rates, rates, lengths, st.floats(0.1, 5.0), st.booleans()
    ),
    "inverse_time": st.builds(
        lrkit.inverse_time, rates, st.floats(0.0, 10.0), lengths, st.booleans()
    ),
    "exponential": _exponential(),
    "cosine": st.builds(lrkit.cosine, rates, lengths, rates, st.floats(0.1, 5.0)),
    "one_minus_sqrt": st.builds(lrkit.one_minus_sqrt, rates, lengths, rates),
    "tanh_decay": _tanh(),
    "inverse_sqrt": st.builds(lrkit.inverse_sqrt, rates, lengths),
    "noam": st.builds(lrkit.noam, st.integers(1, 4096), st.integers(1, 10_000), positive_rates),
    "cosine_restarts": _cosine_restarts(),
    "cyclic": _cyclic(),
    "onecycle": _onecycle(),
    "warmup_stable_decay": _wsd(),
}
LEAVES = tuple(CATALOGUE)

_leaves = _leaf()
CATALOGUE.update(
    {
        "join": _join(_leaves),
        "warmup": _warmup(_leaves),
        "restarts": st.builds(lrkit.restarts, _leaves, lengths, st.floats(1.0, 3.0), unit),
        "scale": st.builds(lrkit.scale, _leaves, st.floats(0.0, 10.0)),
        "sum": st.builds(lrkit.Sum, _leaves, _leaves),
        "product": st.builds(lrkit.Product, _leaves, _leaves),
        "clip": _clip(_leaves),
        "shift": st.builds(lrkit.shift, _leaves, st.floats(-100.0, 100.0)),
        "staircase": st.builds(lrkit.staircase, _leaves, lengths),
        "stretch": st.builds(lrkit.stretch, _leaves, st.floats(0.01, 100.0)),
    }
)

#: Any schedule: a leaf, or composites nested up to a few levels.
schedules = st.recursive(_leaves, composites, max_leaves=6)
