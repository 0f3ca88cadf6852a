"""Shape of a result dict: flattening to '/' keys, path look-ups, JSON-safe values.

Results are nested dicts (RLlib style). The loggers, the console and the stop criteria all need
the same three views of them, so they live here once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


def flatten(result: Mapping[str, Any], sep: str = "/") -> dict[str, Any]:
    """Flatten nested dicts into one level: `{"a": {"b": 1}}` -> `{"a/b": 1}`.

    Only mappings are descended into; any other value (a scalar, or a list) is kept as the leaf.
    An empty nested dict produces no key, as in Tune's `flatten_dict`.
    """
    flat: dict[str, Any] = {}
    _flatten_into(flat, result, "", sep)
    return flat


def _flatten_into(out: dict[str, Any], node: Mapping[str, Any], prefix: str, sep: str) -> None:
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten_into(out, value, name + sep, sep)
        else:
            out[name] = value


def get_metric(result: Mapping[str, Any], path: str, sep: str = "/") -> Any:
    """The value at `path` ("env_runners/episode_return_mean") in a nested or flat result.

    Returns None when any part of the path is absent. A flat key that contains the separator is
    found too, so callers need not know which form of the result they hold.
    """
    if path in result:
        return result[path]
    node: Any = result
    for part in path.split(sep):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def get_number(result: Mapping[str, Any], path: str, sep: str = "/") -> float | None:
    """Like `get_metric`, but a float, or None when absent, NaN or not a number.

    Early iterations report NaN/None for episode stats before any episode ends; stop criteria
    and the console must treat those as "not known yet" rather than compare against them.
    """
    return as_number(get_metric(result, path, sep))


def as_number(value: Any) -> float | None:
    """`value` as a float when it is a real number (numpy scalars included), else None.

    Booleans are not numbers here: a `done` flag must not be plotted or compared as a metric.
    """
    if isinstance(value, bool) or value is None:
        return None
    if not isinstance(value, int | float):
        # numpy / torch scalars: duck-typed so this module never imports either.
        item = getattr(value, "item", None)
        if item is None or getattr(value, "ndim", 0) != 0:
            return None
        try:
            value = item()
        except (TypeError, ValueError):
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
    number = float(value)
    return None if math.isnan(number) else number


def to_jsonable(value: Any) -> Any:
    """A copy of `value` that `json.dumps(..., allow_nan=False)` accepts.

    NaN and +/-inf become None (null) because bare NaN/Infinity tokens make a line invalid JSON
    for every strict reader (jq, JavaScript, pandas' default engine). numpy scalars/arrays become
    Python numbers/lists; anything else unknown becomes its str().
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        # numpy arrays and scalars both have tolist(); scalars give a Python number back.
        try:
            return to_jsonable(tolist())
        except (TypeError, ValueError):
            pass
    return str(value)
