"""Reading an RLlib tuned-example file: YAML -> {experiment name: spec}, `grid_search` marked.

The file is user input, so every way it can be wrong (missing, not YAML, not a mapping, an
experiment without `run`) is a ConfigError that names the file and the experiment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rlrun.errors import ConfigError

FORMAT_HINT = (
    "an RLlib tuned-example file maps experiment names to {run: PPO, env: CartPole-v1, "
    "stop: {...}, config: {...}}"
)


@dataclass(frozen=True)
class Grid:
    """A `{grid_search: [...]}` value: one trial per element, as Tune would run it."""

    values: tuple[Any, ...]


def marked_old_stack(path: str) -> bool:
    """RLlib marked its files for the old API stack with a `# @OldAPIStack` comment."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return any(
        line.lstrip().startswith("#") and "@OldAPIStack" in line for line in text.splitlines()
    )


def where(file: str, experiment: str) -> str:
    """How messages name an experiment."""
    return f"{file}, experiment '{experiment}'"


def file_error(
    place: str, key: str, value: Any, message: str, allowed: str | None = None
) -> ConfigError:
    """A ConfigError about a key of the RLlib file, prefixed with where it is."""
    return ConfigError(None, None, f"{place}: {ConfigError(key, value, message)}", allowed=allowed)


def load_experiments(path: str) -> dict[str, dict[str, Any]]:
    """The experiments of an RLlib YAML file, checked for shape; grid_search values become Grid."""
    file = Path(path).expanduser()
    if not path.strip():
        raise ConfigError("file", path, "needs a path.", allowed="the path of an RLlib YAML file")
    if not file.exists():
        raise ConfigError("file", path, "no such file.", allowed="the path of an RLlib YAML file")
    if not file.is_file():
        raise ConfigError("file", path, "is not a file.", allowed="the path of an RLlib YAML file")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError("file", path, f"cannot be read ({e}).") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        raise ConfigError("file", path, f"is not valid YAML: {_yaml_problem(e)}.") from None
    if data is None:
        raise ConfigError("file", path, f"is empty; {FORMAT_HINT}.")
    if not isinstance(data, dict):
        raise ConfigError(
            "file", path, f"holds a {_kind(data)}, not a mapping of experiments; {FORMAT_HINT}."
        )
    if not data:
        raise ConfigError("file", path, f"holds no experiments; {FORMAT_HINT}.")
    experiments: dict[str, dict[str, Any]] = {}
    for name, spec in data.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(
                "file", path, f"experiment names must be non-empty strings, not {name!r}."
            )
        place = where(path, name)
        if not isinstance(spec, dict):
            raise ConfigError(
                None, None, f"{place}: is a {_kind(spec)}, not a mapping; {FORMAT_HINT}."
            )
        if "run" not in spec:
            raise ConfigError(
                None,
                None,
                f"{place}: has no 'run' key naming the algorithm (e.g. run: PPO); {FORMAT_HINT}.",
            )
        experiments[name] = _mark_grids(spec, place, name)
    return experiments


def _mark_grids(value: Any, place: str, path: str) -> Any:
    if isinstance(value, dict):
        if "grid_search" in value:
            values = value["grid_search"]
            if len(value) != 1 or not isinstance(values, list) or not values:
                raise file_error(
                    place,
                    path,
                    value,
                    "a grid_search must be the only key of its mapping and hold a non-empty list.",
                    allowed="{grid_search: [value, value, ...]}",
                )
            return Grid(tuple(values))
        return {k: _mark_grids(v, place, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_grids(v, place, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _yaml_problem(e: yaml.YAMLError) -> str:
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads `1e-4` as a number (YAML 1.2, as OmegaConf does; PyYAML's YAML 1.1
    reads it as a string) and refuses a key given twice instead of silently keeping the last."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *anchor`, merged by construct_mapping
        key = loader.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
        if isinstance(key, list | dict):
            continue  # unhashable: the default constructor reports it
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"the key '{key}' appears twice in one mapping",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:float"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
