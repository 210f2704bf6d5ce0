"""Configs: a schedule as plain JSON types, and JSON/YAML files of them.

The config is the only saved form of a schedule: ``{"name": ..., <arguments>}``, nested for
composites. ``from_config(s.to_config()) == s`` for every schedule in the catalogue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lrkit._core import Schedule, from_config

if TYPE_CHECKING:
    from pathlib import Path

# json and pathlib are imported where used: `import lrkit` stays at NumPy's cost.

__all__ = ["dumps", "from_config", "load", "loads", "save"]


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
    """A schedule from JSON or YAML text (YAML is read with ``safe_load``: data only)."""
    import json

    if format == "json":
        data: Any = json.loads(text)
    elif format == "yaml":
        data = _yaml().safe_load(text)
    else:
        raise ValueError(f"Argument `format` must be 'json' or 'yaml'. Received: format={format!r}")
    return from_config(data)


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


def _yaml() -> Any:
    try:
        import yaml
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("YAML configs need PyYAML: pip install 'lrkit[yaml]'") from e
    return yaml
