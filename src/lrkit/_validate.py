"""Argument checks shared by every constructor.

Messages follow Keras: name the argument, state the rule, echo the value, e.g.
``Argument `decay` must be >= 0. Received: decay=-0.1``. Each check returns the value
normalised to a plain Python type, so configs hold only JSON types.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

from lrkit._ops import is_real_number


def fail(name: str, rule: str, value: Any) -> ValueError:
    return ValueError(f"Argument `{name}` must be {rule}. Received: {name}={value!r}")


def number(name: str, value: Any) -> float:
    """A finite real number (int or float, not bool/str/None); ints stay ints."""
    if not is_real_number(value):
        raise TypeError(
            f"Argument `{name}` must be a real number. Received: {name}={value!r} "
            f"of type {type(value).__name__}"
        )
    out: float = int(value) if isinstance(value, int) or _is_np_int(value) else float(value)
    try:
        finite = math.isfinite(out)
    except OverflowError:  # an int too large for any float
        finite = False
    if not finite:
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
            f"Received: {name}={value!r}"
        )
    return value


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"Argument `{name}` must be True or False. Received: {name}={value!r}")
    return value


def sequence(name: str, value: Any, *, min_len: int = 1) -> tuple[Any, ...]:
    """A list or tuple (not a string, not a mapping) with at least ``min_len`` items."""
    if isinstance(value, str | bytes | dict) or not isinstance(value, list | tuple):
        raise TypeError(
            f"Argument `{name}` must be a list or tuple. Received: {name}={value!r} "
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
            f"Received: {name_lo}={lo!r}, {name_hi}={hi!r}"
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
