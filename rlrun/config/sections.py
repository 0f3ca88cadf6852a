"""Config sections as components read them: every key present, each default from the schema.

A run's composed config always holds every key (Hydra checked it against the schema). Configs
built by hand, in tests or from Python, may hold a few; `complete` fills the rest from the
section's dataclass, so components read `cfg["key"]` and no default is written twice. Keys the
schema does not know (the driver's private `_callbacks`, `_connectors`) pass through.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


def defaults(cls: type) -> dict[str, Any]:
    """The schema dataclass's defaults as a plain dict (nested sections too)."""
    return dataclasses.asdict(cls())


def complete(cls: type, section: Mapping[str, Any] | None) -> dict[str, Any]:
    """`section` over the defaults of its schema dataclass `cls`, nested sections (algo.model)
    merged key by key: a config saved before a key existed still gets its default."""
    return _merge(defaults(cls), dict(section or {}))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict) and base[key]:
            out[key] = _merge(base[key], dict(value))
        else:
            out[key] = value
    return out
