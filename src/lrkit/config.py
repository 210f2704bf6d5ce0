"""Configs: a schedule as plain JSON types, and JSON/YAML files of them.

The config is the only saved form of a schedule: ``{"name": ..., <arguments>}``, nested for
composites. ``from_config(s.to_config()) == s`` for every schedule in the catalogue.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from lrkit._core import (
    MAX_CONFIG_DEPTH,
    MAX_CONFIG_SIZE,
    ConfigError,
    Schedule,
    _short,
    from_config,
)

if TYPE_CHECKING:
    from pathlib import Path

#: Longest config text :func:`loads` reads, in characters (a realistic one is under
#: 10,000; PyYAML reads about 200,000 a second).
MAX_CONFIG_TEXT = 100_000

# json and pathlib are imported where used: `import lrkit` stays at NumPy's cost.

__all__ = ["ConfigError", "dumps", "from_config", "load", "loads", "save"]


def dumps(schedule: Schedule, format: str = "json") -> str:
    """The config of ``schedule`` as JSON (default) or YAML text."""
    import json

    config = schedule.to_config()
    if format == "json":
        return json.dumps(config, indent=2, allow_nan=False) + "\n"
    if format == "yaml":
        return str(_yaml().safe_dump(config, sort_keys=False))
    raise ValueError(f"Argument `format` must be 'json' or 'yaml'. Received: format={format!r}")


def loads(text: str, format: str = "json") -> Schedule:
    """A schedule from JSON or YAML text (YAML is read with ``safe_load``: data only).

    Raises :class:`~lrkit.ConfigError` (a ``ValueError``) for text that is not JSON or YAML,
    too deep, or not a schedule's config, or ``TypeError``; nothing else (see
    :func:`~lrkit.from_config` for the limits on size and depth)."""
    import json

    if format not in ("json", "yaml"):
        raise ValueError(f"Argument `format` must be 'json' or 'yaml'. Received: format={format!r}")
    if not isinstance(text, str | bytes):
        raise TypeError(
            f"Argument `text` must be a str. Received: text of type {type(text).__name__}"
        )
    _check_flow_depth(text[:MAX_CONFIG_TEXT])
    if len(text) > MAX_CONFIG_TEXT:
        raise ConfigError(
            f"A config text may be {MAX_CONFIG_TEXT} characters long at most. "
            f"Received: {len(text)} characters"
        )
    yaml = _yaml() if format == "yaml" else None
    errors: tuple[type[BaseException], ...] = (ValueError, RecursionError, ArithmeticError)
    if yaml is not None:
        errors = (*errors, yaml.YAMLError)
    try:
        data: Any = json.loads(text) if yaml is None else yaml.load(text, Loader=_loader(yaml))
    except ConfigError:
        raise
    except errors as e:
        # Parsers raise their own classes (and RecursionError on deep nesting): one type here.
        raise ConfigError(f"The text is not valid {format.upper()}: {_first_line(e)}") from None
    return from_config(data)


def _first_line(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "it is nested too deeply"
    lines = str(error).strip().splitlines()
    return _short(lines[0], 300)[1:-1] if lines else type(error).__name__


def _format_of(path: Path) -> str:
    return "yaml" if path.suffix.lower() in (".yaml", ".yml") else "json"


def save(schedule: Schedule, path: str | Path) -> None:
    """Write the config of ``schedule`` to a ``.json`` or ``.yaml``/``.yml`` file."""
    from pathlib import Path

    p = Path(path)
    p.write_text(dumps(schedule, _format_of(p)), encoding="utf-8")


def load(path: str | Path) -> Schedule:
    """Read a schedule from a ``.json`` or ``.yaml``/``.yml`` file written by :func:`save`."""
    from pathlib import Path

    p = Path(path)
    return loads(p.read_text(encoding="utf-8"), _format_of(p))


def _check_flow_depth(text: str | bytes) -> None:
    """Refuse text whose brackets nest deeper than a config may, before a parser reads it:
    PyYAML's scanner looks ahead through nested flow collections in time quadratic in their
    depth, and JSON's recurses. (Brackets inside quoted strings count too; a real config has
    no deep run of them.)"""
    import numpy as np

    raw = text.encode("utf-8", "replace") if isinstance(text, str) else text
    codes = np.frombuffer(raw, dtype=np.uint8)
    steps = np.isin(codes, _OPENING).astype(np.int8) - np.isin(codes, _CLOSING).astype(np.int8)
    if steps.size and int(np.cumsum(steps, dtype=np.int64).max()) > MAX_CONFIG_DEPTH:
        raise ConfigError(
            f"The text is nested too deeply for a config: its brackets nest more than "
            f"{MAX_CONFIG_DEPTH} levels"
        )


_OPENING, _CLOSING = list(b"[{"), list(b"]}")


@functools.cache
def _loader(yaml: Any) -> Any:
    """PyYAML's ``SafeLoader`` (data only), refusing more nesting or more values than a
    config may have while it composes (before its recursion gets deep, or a long text is
    all read)."""

    class Loader(yaml.SafeLoader):  # type: ignore[misc, name-defined]
        depth = 0
        nodes = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.depth += 1
            self.nodes += 1
            try:
                if self.depth > MAX_CONFIG_DEPTH:
                    raise ConfigError(
                        f"The text is nested too deeply for a config: more than "
                        f"{MAX_CONFIG_DEPTH} levels"
                    )
                if self.nodes > MAX_CONFIG_SIZE:
                    raise ConfigError(
                        f"A config may hold {MAX_CONFIG_SIZE} values at most. "
                        "Received: a YAML text with more"
                    )
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return Loader


def _yaml() -> Any:
    try:
        import yaml
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("YAML configs need PyYAML: pip install 'lrkit[yaml]'") from e
    return yaml
