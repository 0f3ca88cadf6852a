"""Config sections as components receive them: typed, every key present, defaults from the schema.

A run's composed config always holds every key (Hydra checked it against the schema). Configs
built by hand, in tests or from Python, may hold a few. `typed` turns a section into its schema
dataclass (nested sections too: `algo.model` becomes a ModelConfig), filling what is missing
from the dataclass's defaults, so components read `cfg.key`, a typo is an AttributeError, and
no default is written twice. `complete` does the same as a plain dict, for the places that
stay plain: the root config an Algorithm shows and saves, and JSON-bound specs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from rlrun.errors import ConfigError

T = TypeVar("T")


def defaults(cls: type) -> dict[str, Any]:
    """The schema dataclass's defaults as a plain dict (nested sections too)."""
    return dataclasses.asdict(cls())


def complete(cls: type, section: Mapping[str, Any] | Any | None) -> dict[str, Any]:
    """`section` over the defaults of its schema dataclass `cls`, nested sections (algo.model)
    merged key by key: a config saved before a key existed still gets its default."""
    if dataclasses.is_dataclass(section) and not isinstance(section, type):
        section = dataclasses.asdict(section)
    return _merge(defaults(cls), dict(section or {}))


class UnknownKeyError(ConfigError, TypeError):
    """A key the section's schema does not have. Composed configs were checked by Hydra, so
    this means a dict built by hand, or a checkpoint's config.yaml from another rlrun version
    or edited: an exit-2 error naming the key (and a TypeError for code that builds dicts)."""


def typed(cls: type[T], section: Mapping[str, Any] | T | None, where: str | None = None) -> T:
    """`section` as an instance of its schema dataclass `cls` (an instance of `cls` is returned
    as it is). Keys the schema does not have are an UnknownKeyError naming them (as
    `where.key`; `where` defaults to the class name)."""
    if isinstance(section, cls):
        return section
    return _build(cls, complete(cls, section), where or cls.__name__)


def _build(cls: type[T], values: dict[str, Any], where: str) -> T:
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise UnknownKeyError(
            f"{where}.{unknown[0]}",
            values[unknown[0]],
            f"{cls.__name__} has no key(s) {unknown} (a config written by another rlrun "
            "version, or edited by hand?)",
            allowed=", ".join(sorted(fields)),
        )
    probe = cls()
    kwargs = {}
    for name, value in values.items():
        default = getattr(probe, name)
        if dataclasses.is_dataclass(default) and isinstance(value, Mapping):
            value = _build(type(default), dict(value), f"{where}.{name}")
        kwargs[name] = value
    return cls(**kwargs)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict) and base[key]:
            out[key] = _merge(base[key], dict(value))
        else:
            out[key] = value
    return out


def algo_section(section: Mapping[str, Any] | Any) -> Any:
    """The `algo` section typed by its own algorithm's schema (the registry's, by `name`)."""
    from rlrun.algorithms.registry import config_class

    if dataclasses.is_dataclass(section) and not isinstance(section, type):
        return section
    return typed(config_class(section["name"]), section, "algo")


@functools.cache
def root_sections() -> dict[str, type]:
    """The root config's sections by key (env, env_runner, ...), each with its schema
    dataclass, read off RootConfig; `algo`'s class depends on the algorithm (algo_section)."""
    from rlrun.config.schema import RootConfig

    root = RootConfig()
    return {
        f.name: type(getattr(root, f.name))
        for f in dataclasses.fields(root)
        if dataclasses.is_dataclass(getattr(root, f.name))
    }


def complete_config(config: Any) -> dict[str, Any]:
    """A whole config (a composed DictConfig or a plain dict) as a plain dict whose sections
    hold every key, defaults from the schema: what an Algorithm keeps as `config`."""
    from omegaconf import DictConfig, OmegaConf

    from rlrun.algorithms.registry import config_class

    if isinstance(config, DictConfig):
        config = OmegaConf.to_container(config, resolve=True)
    cfg = dict(config)
    out = {**cfg, **{k: complete(cls, cfg.get(k)) for k, cls in root_sections().items()}}
    out["algo"] = complete(config_class(cfg["algo"]["name"]), cfg["algo"])
    return out
