"""Argument checks shared by every constructor.

Messages follow Keras: name the argument, state the rule, echo the value, e.g.
``Argument `decay` must be >= 0. Received: decay=-0.1``. Each check returns the value
normalised to a plain Python type, so configs hold only JSON types.
"""

from __future__ import annotations

import itertools
import math
import reprlib
from collections.abc import Iterable
from typing import Any

from lrkit._ops import is_real_number


class _Bounded(reprlib.Repr):
    """``repr`` that looks at a bounded part of a value: a few levels, a few items per level.

    An error message echoes what it got, and a value from a config may be a structure of
    shared parts (YAML aliases) whose full ``repr`` is exponentially long; this one's cost is
    bounded whatever the value."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxtuple = self.maxlist = self.maxdict = self.maxset = self.maxfrozenset = 6
        self.maxdeque = self.maxarray = 6
        self.maxstring = self.maxother = 80
        self.maxlong = 40

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # str() of a huge int is slow, and refused past 4300 digits
            return f"<an int of {x.bit_length()} bits>"
        return super().repr_int(x, level)


_BOUNDED = _Bounded()


def short(value: Any, limit: int = 200) -> str:
    """``repr(value)``, bounded: nested and long parts elided, cut to ``limit`` characters.

    Every message that echoes a user's value uses this, so a message is short and cheap to
    make for any input."""
    try:
        text = _BOUNDED.repr(value)
    except Exception:  # a user object whose __repr__ fails: name its type instead
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[: limit - 15] + f"... ({len(text)} chars)"


def fail(name: str, rule: str, value: Any) -> ValueError:
    return ValueError(f"Argument `{name}` must be {rule}. Received: {name}={short(value)}")


#: Whole numbers from here on are stored as floats: JAX without x64 (and other int32
#: defaults) cannot take a Python int constant this large, and every formula computes in
#: floats anyway. Smaller ints stay ints, for a tidy ``repr`` and config.
INT32_LIMIT = 2**31


def number(name: str, value: Any) -> float:
    """A finite real number (int or float, not bool/str/None).

    Ints below :data:`INT32_LIMIT` in size stay ints; larger ones become floats, so a formula
    never hands an array library an integer constant that its integer type cannot hold."""
    if not is_real_number(value):
        raise TypeError(
            f"Argument `{name}` must be a real number. Received: {name}={short(value)} "
            f"of type {type(value).__name__}"
        )
    out: float
    try:
        if isinstance(value, int) or _is_np_int(value):
            whole = int(value)
            out = whole if -INT32_LIMIT < whole < INT32_LIMIT else float(whole)
        else:
            out = float(value)
    except OverflowError:  # an int too large for any float
        raise fail(name, "finite", value) from None
    if not math.isfinite(out):
        raise fail(name, "finite", value)
    return out


def _is_np_int(value: Any) -> bool:
    import numpy as np

    return isinstance(value, np.integer)


def nonnegative(name: str, value: Any) -> float:
    out = number(name, value)
    if out < 0:
        raise fail(name, ">= 0", value)
    return out


def positive(name: str, value: Any) -> float:
    out = number(name, value)
    if out <= 0:
        raise fail(name, "> 0", value)
    return out


def in_range(name: str, value: Any, lo: float, hi: float, *, lo_open: bool = False) -> float:
    """A number in ``[lo, hi]`` (or ``(lo, hi]`` with ``lo_open``)."""
    out = number(name, value)
    if out > hi or out < lo or (lo_open and out == lo):
        raise fail(name, f"in {'(' if lo_open else '['}{lo}, {hi}]", value)
    return out


def choice(name: str, value: Any, choices: Iterable[str]) -> str:
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise ValueError(
            f"Argument `{name}` must be one of {', '.join(map(repr, options))}. "
            f"Received: {name}={short(value)}"
        )
    return value


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"Argument `{name}` must be True or False. Received: {name}={short(value)}")
    return value


def sequence(name: str, value: Any, *, min_len: int = 1) -> tuple[Any, ...]:
    """A list or tuple (not a string, not a mapping) with at least ``min_len`` items."""
    if isinstance(value, str | bytes | dict) or not isinstance(value, list | tuple):
        raise TypeError(
            f"Argument `{name}` must be a list or tuple. Received: {name}={short(value)} "
            f"of type {type(value).__name__}"
        )
    if len(value) < min_len:
        raise fail(name, f"a list of at least {min_len} item(s)", value)
    return tuple(value)


def numbers(
    name: str, value: Any, *, min_len: int = 1, increasing: bool = False
) -> tuple[float, ...]:
    """A list of finite numbers, each >= 0; strictly increasing when asked."""
    items = sequence(name, value, min_len=min_len)
    out = tuple(nonnegative(f"{name}[{i}]", v) for i, v in enumerate(items))
    if increasing and any(b <= a for a, b in itertools.pairwise(out)):
        raise fail(name, "strictly increasing", value)
    return out


def not_greater(name_lo: str, lo: float, name_hi: str, hi: float) -> None:
    if lo > hi:
        raise ValueError(
            f"Argument `{name_lo}` must be <= `{name_hi}`. "
            f"Received: {name_lo}={short(lo)}, {name_hi}={short(hi)}"
        )


def count(name: str, value: Any, minimum: int = 0) -> int:
    """A whole number ``>= minimum``: ``TypeError`` for anything but an int (``2.0`` included:
    the peers type their counts as ints), ``ValueError`` below ``minimum``. Every adapter and
    compatibility constructor checks its counts with this one function."""
    import numpy as np

    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(
            f"Argument `{name}` must be an integer. Received: {name}={value!r} "
            f"of type {type(value).__name__}"
        )
    if value < minimum:
        raise fail(name, f"an integer >= {minimum}", value)
    return int(value)
