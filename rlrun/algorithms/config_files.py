"""The builder's settings as nested sections and experiment YAML, and back: helpers of
rlrun.algorithms.algorithm_config (to_dict, to_yaml, from_yaml, update_from_dict)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rlrun.errors import ConfigError


def put(tree: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `dotted` ("algo.model.fcnet_hiddens") in nested dicts, creating the parents."""
    *parents, leaf = dotted.split(".")
    node = tree
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def is_section(key: str, keys: dict[str, Any]) -> bool:
    """A group of settings (a schema dataclass, or `algo`), rather than one value."""
    tp = keys.get(key)
    return key == "algo" or (isinstance(tp, type) and dataclasses.is_dataclass(tp))


def flatten(prefix: str, section: Mapping[str, Any], keys: dict[str, Any]) -> list[tuple[str, Any]]:
    """A nested section as (dotted key, value) pairs, down to the schema's leaves: free-form
    mappings (env.env_config) and values of unknown keys stay whole (compose names the latter)."""
    out: list[tuple[str, Any]] = []
    for name, value in section.items():
        key = f"{prefix}.{name}"
        if isinstance(value, Mapping) and is_section(key, keys):
            out += flatten(key, value, keys)
        else:
            out.append((key, value))
    return out


def has_search_space(value: Any) -> bool:
    """A Ray Tune search space (tune.grid_search, tune.uniform, ...) anywhere in the value,
    recognized without importing Ray."""
    if isinstance(value, Mapping):
        return set(value) == {"grid_search"} or any(has_search_space(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_search_space(v) for v in value)
    return type(value).__module__.startswith("ray.tune")


def experiment_yaml(
    builder: str, algo: str, groups: dict[str, str], values: dict[str, Any], path: Any
) -> str:
    """An experiment file as conf/experiment/ holds them: the group overrides, then the keys."""
    import yaml

    from rlrun.config.overrides import GENERIC_ENV
    from rlrun.config.paths import has_option

    for key, value in values.items():
        if has_search_space(value) or "__main__:" in str(value):
            raise ConfigError(key, value, "cannot go into a YAML file: a Tune search space, or "
                              "code in the script being run (__main__), which `rlrun train` "
                              "cannot import; move it into a module")  # fmt: skip
    defaults = [f"override /algo: {algo.lower()}"]
    nested: dict[str, Any] = {}
    for group, option in groups.items():
        generic = group == "env" and not has_option("env", option)
        defaults.append(f"override /{group}: {GENERIC_ENV if generic else option}")
        if generic:  # as the CLI's env=<id without a yaml> does
            nested["env"] = {"id": option}
    for key, value in values.items():
        put(nested, key, value)
    text = _header(builder, path) + "defaults:\n" + "".join(f"  - {d}\n" for d in defaults)
    if nested:
        text += "\n" + yaml.safe_dump(nested, sort_keys=False, default_flow_style=None, width=100)
    return text


def read_experiment_yaml(path: str | Path) -> tuple[str | None, dict[str, str], dict[str, Any]]:
    """(algorithm, group choices, the rest) of an experiment file."""
    import yaml

    from rlrun.config.overrides import GENERIC_ENV

    data = yaml.safe_load(Path(path).expanduser().read_text()) or {}
    groups: dict[str, str] = {}
    for entry in data.pop("defaults", None) or []:
        if isinstance(entry, Mapping):
            groups.update({k.removeprefix("override ").strip("/"): v for k, v in entry.items()})
        elif entry != "_self_":
            raise ConfigError(
                None, None, f"{path}: defaults entry {entry!r} is not a group override"
            )
    algo = groups.pop("algo", None) or (data.get("algo") or {}).get("name")
    if groups.get("env") == GENERIC_ENV and "id" in (data.get("env") or {}):
        groups["env"] = data["env"].pop("id")
    return algo, groups, data


def _header(builder: str, path: Any) -> str:
    where = Path(path).expanduser().resolve() if path is not None else None
    if where is not None and where.parent.name == "experiment":
        run = f"rlrun train hydra.searchpath=[file://{where.parent.parent}] experiment={where.stem}"
    else:
        run = "rlrun train hydra.searchpath=[file://DIR] experiment=NAME  (the file: DIR/experiment/NAME.yaml)"
    return (
        f"# @package _global_\n# Written by {builder}.to_yaml(). In conf/experiment/NAME.yaml it "
        f"runs as `rlrun train experiment=NAME`; elsewhere:\n#   {run}\n"
    )
