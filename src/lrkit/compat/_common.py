"""Argument checks shared by the compatibility constructors, named as the peers name them."""

from __future__ import annotations

from typing import Any

from lrkit import _validate as v


def count(name: str, value: Any) -> int:
    """A whole number of steps ``>= 0`` (an ``int``, as the peers type their step counts)."""
    return v.count(name, value, 0)


def positive_count(name: str, value: Any) -> int:
    """A whole number of steps ``>= 1``."""
    return v.count(name, value, 1)


def rate(name: str, value: Any) -> float:
    """A learning rate or a factor: a finite number ``>= 0``."""
    return v.nonnegative(name, value)


def positive(name: str, value: Any) -> float:
    return v.positive(name, value)


def fraction(name: str, value: Any) -> float:
    """A number in ``[0, 1]``."""
    return v.in_range(name, value, 0.0, 1.0)


def boolean(name: str, value: Any) -> bool:
    return v.boolean(name, value)


def choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    return v.choice(name, value, options)


def decay_rate(name: str, value: Any, ceiling: float | None, ceiling_name: str) -> float:
    """A decay factor ``> 0``; a factor ``> 1`` (growth) needs a ceiling in lrkit."""
    out = v.positive(name, value)
    if out > 1 and ceiling is None:
        raise ValueError(
            f"Argument `{name}` > 1 makes the rate grow without bound, which lrkit schedules "
            f"do not do: give `{ceiling_name}` as a ceiling. Received: {name}={value!r}, "
            f"{ceiling_name}=None"
        )
    return out
