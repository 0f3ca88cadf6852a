"""The set of valid config keys, read from the dataclass schemas, and "did you mean" suggestions.

Used to turn a typo'd key into a message that names the closest valid key and its neighbours.
Only dataclasses are walked here, so this stays cheap: no Hydra, no torch.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from functools import cache
from typing import Any

from rlrun.algorithms.registry import ALGORITHMS, load_attr
from rlrun.config.schema import RootConfig
from rlrun.errors import ConfigError


@cache
def schema_keys() -> dict[str, Any]:
    """Every dotted key of the schema -> its declared type; `algo.*` is the union of all algorithms."""
    keys: dict[str, Any] = {}
    _walk(RootConfig, "", keys)
    for config_path, _ in ALGORITHMS.values():
        _walk(load_attr(config_path), "algo.", keys)
    return keys


@cache
def algorithm_keys(name: str) -> dict[str, Any]:
    """The dotted `algo.*` keys of one algorithm (by its registry name, e.g. "SAC")."""
    keys: dict[str, Any] = {}
    _walk(load_attr(ALGORITHMS[name.upper()][0]), "algo.", keys)
    return keys


def algorithm_of(config_cls: Any) -> str | None:
    """The registry name of the algorithm whose schema is `config_cls`, if any."""
    for name, (config_path, _) in ALGORITHMS.items():
        if load_attr(config_path) is config_cls:
            return name
    return None


def _walk(cls: type, prefix: str, out: dict[str, Any]) -> None:
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        out[prefix + f.name] = tp
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            _walk(tp, f"{prefix}{f.name}.", out)


def _keys(algo: str | None) -> dict[str, Any]:
    """The valid keys: with `algo`, `algo.*` holds only that algorithm's keys."""
    if algo is None:
        return schema_keys()
    return {
        **{k: v for k, v in schema_keys().items() if not k.startswith("algo.")},
        **algorithm_keys(algo),
    }


def children(parent: str, algo: str | None = None) -> list[str]:
    """Valid key names directly under `parent` ('' for the top level)."""
    prefix = f"{parent}." if parent else ""
    return [
        k[len(prefix) :]
        for k in _keys(algo)
        if k.startswith(prefix) and "." not in k[len(prefix) :]
    ]


def suggest(full_key: str, algo: str | None = None) -> str | None:
    """The valid key the user most likely meant, or None when nothing is close."""
    parent, _, leaf = full_key.rpartition(".")
    best, best_score = None, 0.6
    for key in _keys(algo):
        key_parent, _, key_leaf = key.rpartition(".")
        score = difflib.SequenceMatcher(None, leaf, key_leaf).ratio()
        # A near miss under the same parent (algo.lrr -> algo.lr) beats a similar name elsewhere,
        # but the right name under the wrong parent (lr -> algo.lr) is still a strong hint.
        if key_parent != parent:
            score -= 0.05
        if score > best_score:
            best, best_score = key, score
    return best


def unknown_key_error(
    full_key: str, value: Any, *, added: bool = False, algo: str | None = None
) -> ConfigError:
    """A ConfigError for a key that is not in the schema, with the closest key and its siblings.
    `algo` is the run's algorithm (e.g. "PPO"): a key of another algorithm says whose it is."""
    parent = full_key.rpartition(".")[0]
    shown = f"+{full_key}" if added else full_key
    if algo is not None and full_key.startswith("algo."):
        owners = [name for name in ALGORITHMS if full_key in algorithm_keys(name)]
        if owners:
            choices = " or ".join(f"algo={name.lower()}" for name in owners)
            return ConfigError(
                shown,
                value,
                f"'{full_key}' is a setting of {', '.join(owners)}, and this run's algorithm is "
                f"{algo} (algo={algo.lower()}): choose {choices}, or drop the key.",
            )
    parts = [
        f"unknown key '{full_key}'" + (" (a '+' cannot add keys to the schema)." if added else ".")
    ]
    hint = suggest(full_key, algo)
    if hint is not None:
        parts.append(f"Did you mean '{hint}'?")
    # For a made-up parent (foo.bar) list what exists at the nearest real level instead.
    siblings = children(parent, algo)
    while not siblings and parent:
        parent = parent.rpartition(".")[0]
        siblings = children(parent, algo)
    if siblings:
        where = f"under '{parent}'" if parent else "at the top level"
        parts.append(f"Valid keys {where}: {', '.join(siblings)}.")
    return ConfigError(shown, value, " ".join(parts))


def check_unknown_keys(cfg: Any, user_overrides: list[str] | None = None) -> None:
    """Reject keys that are not declared by the dataclass behind their node.

    Hydra's `+key=value` and plain yaml merges can add keys to structured nodes; the code that reads
    the config would silently ignore them, so a typo would go unnoticed. Free-form dicts
    (env.env_config, algo.model.custom) are not dataclasses and are left alone.
    """
    from omegaconf import DictConfig, OmegaConf

    added = {
        o.split("=", 1)[0].lstrip("+"): o.split("=", 1)[1]
        for o in (user_overrides or [])
        if o.startswith("+") and "=" in o
    }

    algo_node = cfg._get_node("algo") if "algo" in cfg else None
    algo = algorithm_of(OmegaConf.get_type(algo_node)) if algo_node is not None else None

    def visit(node: DictConfig, prefix: str) -> None:
        cls = OmegaConf.get_type(node)
        declared = (
            {f.name for f in dataclasses.fields(cls)}
            if isinstance(cls, type) and dataclasses.is_dataclass(cls)
            else None
        )
        for key in node:
            full = f"{prefix}{key}"
            if declared is not None and key not in declared:
                # Name the override that added it when there is one (+foo.bar=1 adds 'foo').
                for added_key, added_value in added.items():
                    if added_key == full or added_key.startswith(f"{full}."):
                        raise unknown_key_error(added_key, added_value, added=True, algo=algo)
                raw = node._get_node(key)
                raise unknown_key_error(full, raw._value() if raw is not None else None, algo=algo)
            child = node._get_node(key)
            if isinstance(child, DictConfig) and not child._is_missing() and not child._is_none():
                visit(child, f"{full}.")

    visit(cfg, "")


def describe_type(tp: Any) -> str:
    """A reader's description of a schema type: 'a number', 'a list of integers', '... or null'."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = " or ".join(describe_type(a) for a in args)
        return f"{inner} or null" if len(args) < len(typing.get_args(tp)) else inner
    if origin in (list, tuple) or tp in (list, tuple):
        args = typing.get_args(tp)
        return f"a list of {_plural(args[0])}, e.g. [64,64]" if args else "a list, e.g. [1,2]"
    if origin is dict or tp is dict:
        return "a mapping, e.g. {a:1,b:x}"
    if tp is Any:
        return "any value"
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return f"a group of settings ({tp.__name__}); set its keys one by one"
    return _SIMPLE.get(tp, getattr(tp, "__name__", str(tp)))


_SIMPLE: dict[Any, str] = {
    float: "a number (float)",
    int: "an integer",
    bool: "true or false",
    str: "a string",
}


def _plural(tp: Any) -> str:
    return {int: "integers", float: "numbers", str: "strings", bool: "booleans"}.get(
        tp, describe_type(tp)
    )


def expected_type(full_key: str) -> str | None:
    """Describe the declared type of a dotted key (list indices like `[0]` are stripped)."""
    key = full_key.split("[", 1)[0]
    tp = schema_keys().get(key)
    return None if tp is None else describe_type(tp)
