"""Value helpers shared by the converter: grid-aware transforms, schema types, key names."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from typing import Any

from rlrun.config.keys import schema_keys
from rlrun.rllib_yaml.parse import Grid, file_error


def translate_metric(key: str) -> str:
    """An old result key -> its name in rlrun's (RLlib's new) results; others are kept as given.

    episode_reward_mean and sampler_results/episode_reward_mean became
    env_runners/episode_return_mean, the same under evaluation/.
    """
    prefix = "evaluation/" if key.startswith("evaluation/") else ""
    rest = key[len(prefix) :]
    for old in ("sampler_results/", "env_runners/"):
        if rest.startswith(old):
            rest = rest[len(old) :]
            break
    if not rest.startswith("episode_"):
        return key
    return f"{prefix}env_runners/{rest.replace('episode_reward_', 'episode_return_')}"


def env_id(value: str) -> str:
    """RLlib's env string -> rlrun's env.id: `pkg.module.Class` becomes `pkg.module:Class`.

    A Gymnasium id has no dots before its `-vN` version (or a namespace with '/'), so a dotted
    string without either is taken for a class path, as RLlib does when it is not registered.
    """
    if ":" in value or "/" in value or "." not in value or re.search(r"-v\d+$", value):
        return value
    module, _, cls = value.rpartition(".")
    return f"{module}:{cls}"


def each(value: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply a one-value transform to a value, or to each value of a grid_search."""
    if isinstance(value, Grid):
        return Grid(tuple(fn(v) for v in value.values))
    return fn(value)


def as_schema_type(key: str, value: Any) -> Any:
    """1e6 reads as a float; an integer key gets the integer (OmegaConf would refuse 1e6)."""
    tp = schema_keys().get(key)
    union = typing.get_origin(tp) in (typing.Union, types.UnionType)
    ints = tp is int or (union and int in typing.get_args(tp))
    if ints and isinstance(value, float) and value.is_integer():
        return int(value)
    if tp == list[int] and isinstance(value, list):
        return [int(v) if isinstance(v, float) and v.is_integer() else v for v in value]
    return value


def no_nested_grid(value: Any, place: str, source: str) -> None:
    if not isinstance(value, Grid) and contains_grid(value):
        raise file_error(
            place, source, show(value), "a grid_search inside a list or nested mapping is "
            "not supported; put it on the whole value.",
        )  # fmt: skip


def contains_grid(value: Any) -> bool:
    if isinstance(value, Grid):
        return True
    if isinstance(value, dict):
        return any(contains_grid(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_grid(v) for v in value)
    return False


def show(value: Any) -> Any:
    return {"grid_search": list(value.values)} if isinstance(value, Grid) else value
