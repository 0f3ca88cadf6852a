"""Connector pieces named in YAML: the built-in names, parsing entries, checks and building.

An entry is a bare name (`frame_stack`), a one-key mapping from the name to its kwargs
(`{frame_stack: {num_frames: 4}}`), or `{name: ..., kwarg: value}` (the command line's form for
a class path with kwargs); the name is a built-in or a user's class path "pkg.module:Class". Config validation calls `check_connectors` before torch is loaded, so this
module imports neither torch nor gymnasium; piece classes are imported only when named.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from typing import Any

from rlrun.errors import ConfigError

KINDS = ("env_to_module", "module_to_env", "learner")

# name -> "module:Class", imported only when a config names the piece.
BUILTINS: dict[str, dict[str, str]] = {
    "env_to_module": {
        "frame_stack": "rlrun.connectors.frame_stack:FrameStack",
        "prev_actions_prev_rewards": "rlrun.connectors.prev_actions:PrevActionsPrevRewards",
        "flatten_observations": "rlrun.connectors.flatten:FlattenObservations",
        "mean_std_filter": "rlrun.connectors.mean_std_filter:MeanStdFilter",
        "one_hot": "rlrun.connectors.one_hot:OneHotObservations",
    },
    "module_to_env": {},
    "learner": {},
}

# What an env-to-module piece must define besides __call__ (rlrun.connectors.connector.Connector).
CONNECTOR_METHODS = (
    "setup",
    "observation_space",
    "get_state",
    "set_state",
    "pop_delta",
    "merge_delta",
)

FORMS = (
    "a name (frame_stack), a class path (pkg.module:Class), a one-key mapping from either to "
    "its kwargs ({frame_stack: {num_frames: 4}}), or {name: pkg.module:Class, kwarg: value}; "
    "see docs/connectors.md"
)


def piece_key(kind: str, index: int) -> str:
    """The config key errors name: connectors.env_to_module[0]."""
    return f"connectors.{kind}[{index}]"


def check_connectors(section: Any) -> None:
    """Raise ConfigError for the first entry of the `connectors` section that cannot be built:
    malformed, an unknown name, a class path that does not import, a kwarg the piece does not
    take. Built-in pieces are also constructed, so bad kwarg values are caught here too."""
    if section is None:
        return
    if not isinstance(section, dict):
        raise ConfigError("connectors", section, "must be a mapping of piece lists.", FORMS)
    for kind in KINDS:
        for i, entry in enumerate(_entries(kind, section.get(kind))):
            name, kwargs = parse_entry(kind, i, entry)
            cls = resolve(kind, i, entry, name)
            if ":" in name:  # a user's class: its constructor may be costly, so only check kwargs
                check_kwargs(piece_key(kind, i), entry, cls, kwargs)
            else:
                _construct(kind, i, entry, cls, kwargs)


def build_pieces(kind: str, entries: Any) -> list[tuple[Any, Any]]:
    """(entry, piece) for each entry of one list: parsed, checked, and built as Class(**kwargs)."""
    built = []
    for i, entry in enumerate(_entries(kind, entries)):
        name, kwargs = parse_entry(kind, i, entry)
        cls = resolve(kind, i, entry, name)
        built.append((entry, _construct(kind, i, entry, cls, kwargs)))
    return built


def build_learner_pieces(specs: Any) -> list[Any]:
    """The `connectors.learner` pieces, each called as piece(module_id, data) -> data on one
    fragment's time-major columns before advantages are computed."""
    return [piece for _, piece in build_pieces("learner", specs)]


def parse_entry(kind: str, index: int, entry: Any) -> tuple[str, dict[str, Any]]:
    """(name, kwargs) of one entry, or ConfigError for a malformed one."""
    key = piece_key(kind, index)
    if isinstance(entry, str) and entry.strip():
        return entry.strip(), {}
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        # {name: pkg.module:Class, kwarg: value}: Hydra's command-line grammar allows no ":" in
        # a mapping key, so a class path with kwargs needs this form there.
        return parse_entry(
            kind, index, {entry["name"]: {k: v for k, v in entry.items() if k != "name"}}
        )
    if not isinstance(entry, dict) or len(entry) != 1:
        why = "is not a piece."
        if isinstance(entry, dict) and entry:
            why = (
                f"a mapping entry has one key, the piece's name, with the kwargs under it; this "
                f"one has {len(entry)} ({', '.join(map(str, entry))})."
            )
        raise ConfigError(key, entry, why, allowed=FORMS)
    ((name, kwargs),) = entry.items()
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(key, entry, "the key must be a piece name.", allowed=FORMS)
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise ConfigError(
            key,
            entry,
            f"the kwargs of '{name}' must be a mapping of names to values, e.g. "
            f"{{{name}: {{arg: value}}}}.",
        )
    return name.strip(), dict(kwargs)


def resolve(kind: str, index: int, entry: Any, name: str) -> type:
    """The piece class a name or class path stands for (imports it)."""
    key = piece_key(kind, index)
    builtins = BUILTINS[kind]
    if ":" not in name:
        if name not in builtins:
            raise ConfigError(key, entry, _unknown_name(kind, name))
        cls = _import(key, entry, builtins[name])
    else:
        cls = _import(key, entry, name)
    if not isinstance(cls, type):
        raise ConfigError(
            key, entry, f"'{name}' is a {type(cls).__name__}, not a class.", "pkg.module:Class"
        )
    _check_interface(kind, key, entry, cls)
    return cls


def check_kwargs(key: str, entry: Any, cls: type, kwargs: dict[str, Any]) -> None:
    """ConfigError for a kwarg the class's constructor does not take, or a required one missing."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):  # no introspectable signature: let the call decide
        return
    params = sig.parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    takes = f" It takes: {', '.join(names)}." if names else " It takes no kwargs."
    for arg in kwargs:
        if arg not in names:
            close = difflib.get_close_matches(arg, names, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(key, entry, f"{cls.__name__} has no kwarg '{arg}'.{hint}{takes}")
    try:
        sig.bind(**kwargs)
    except TypeError as e:
        raise ConfigError(key, entry, f"{cls.__name__}: {e}.{takes}") from None


# --- helpers --------------------------------------------------------------------------------


def _entries(kind: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ConfigError(f"connectors.{kind}", value, "must be a list of pieces.", FORMS)
    return list(value)


def _construct(kind: str, index: int, entry: Any, cls: type, kwargs: dict[str, Any]) -> Any:
    key = piece_key(kind, index)
    check_kwargs(key, entry, cls, kwargs)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as e:  # a piece refusing a kwarg's value
        raise ConfigError(key, entry, f"{cls.__name__}: {e}") from None


def _unknown_name(kind: str, name: str) -> str:
    names = list(BUILTINS[kind])
    own = "for your own class use pkg.module:Class"
    if not names:
        return f"{kind} has no built-in pieces; {own}."
    by_case = [n for n in names if n.lower() == name.lower()]
    close = by_case or difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"unknown {kind} piece '{name}'.{hint} Built-in pieces: {', '.join(names)}; {own}."


def _import(key: str, entry: Any, path: str) -> Any:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ConfigError(key, entry, "a class path needs both parts.", "pkg.module:Class")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigError(key, entry, f"cannot import module '{module_name}': {e}.") from None
    except Exception as e:  # the user's module itself failed while importing
        raise ConfigError(
            key, entry, f"importing '{module_name}' failed: {type(e).__name__}: {e}"
        ) from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            classes = sorted(
                n for n, v in vars(module).items() if isinstance(v, type) and not n.startswith("_")
            )
            close = difflib.get_close_matches(attr, classes, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(key, entry, f"module '{module_name}' has no '{attr}'.{hint}")
        obj = getattr(obj, part)
    return obj


def _check_interface(kind: str, key: str, entry: Any, cls: type) -> None:
    required = ("__call__", *CONNECTOR_METHODS) if kind == "env_to_module" else ("__call__",)
    missing = [m for m in required if not _defines(cls, m)]
    if missing:
        base = (
            "subclass rlrun.connectors.connector.Connector"
            if kind == "env_to_module"
            else "define __call__"
        )
        raise ConfigError(
            key,
            entry,
            f"{cls.__name__} is not a {kind} piece: it lacks {', '.join(missing)} ({base}; see "
            "docs/connectors.md).",
        )


def _defines(cls: type, method: str) -> bool:
    # `hasattr(cls, "__call__")` is true of every class (type defines it), so look in the MRO.
    return any(method in vars(c) for c in cls.__mro__ if c is not object)
