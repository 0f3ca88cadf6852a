"""Hydra's and OmegaConf's failures, translated into one-paragraph ConfigErrors.

Hydra and OmegaConf report problems as multi-line exceptions that mention their own internals; the
user gets one paragraph that names the key, the value and what is allowed instead.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml
from hydra.errors import MissingConfigException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    OmegaConfBaseException,
    ValidationError,
)

from rlrun.config.keys import algorithm_of, expected_type, unknown_key_error
from rlrun.config.paths import EXPERIMENT_GROUP, group_options
from rlrun.errors import ConfigError


def translate(e: Exception, overrides: list[str], root: Path) -> ConfigError:
    """Map one Hydra/OmegaConf exception to a one-paragraph ConfigError."""
    text = str(e)
    if isinstance(e, MissingConfigException):
        return _missing_option(e, overrides, root)
    if "Ambiguous value for argument" in text:
        m = re.search(r"argument '([^']*)'", text)
        return sweep_error(m.group(1) if m else "")
    cause = _innermost_omegaconf(e)
    context = _context(text)
    # A yaml file (an experiment) holds the bad value, rather than the command line.
    where = f"{root / context}.yaml" if context and context != "config" else ""
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)):
        full_key = str(getattr(cause, "full_key", "") or "")
        obj = getattr(cause, "object_type", None)
        value = _override_value(overrides, full_key)
        if obj is dict and not where:
            parent = full_key.rpartition(".")[0]
            return ConfigError(
                full_key,
                value,
                f"'{parent}' is a free-form mapping: add new keys with a '+', e.g. "
                f"+{full_key}={value if value is not None else '...'}, or set it whole: {parent}={{a:1}}.",
            )
        if value is None and not where:
            # A missing parent node (algo.replay under PPO): name the override that reached it.
            nested = [o for o in overrides if o.lstrip("+").startswith(f"{full_key}.")]
            if nested:
                full_key, _, value = nested[-1].lstrip("+").partition("=")
        # The node the key was looked up in: for algo.* its type names the run's algorithm.
        algo = algorithm_of(obj) if full_key.startswith("algo.") and obj is not None else None
        err = unknown_key_error(full_key, value, algo=algo)
        return ConfigError(None, None, f"{where}: {err.detail}") if where else err
    if isinstance(cause, ValidationError):
        full_key = str(getattr(cause, "full_key", "") or "")
        key = full_key.split("[", 1)[0]
        value = None if where else _override_value(overrides, key)
        if value is None:
            value = getattr(cause, "value", None)
        what = expected_type(full_key)
        msg = f"wrong type: {first_line(cause)}."
        if where:
            return ConfigError(None, None, f"{where}: {ConfigError(key, value, msg)}", allowed=what)
        return ConfigError(key, value, msg, allowed=what)
    detail = first_line(cause) if cause is not None else first_line(e)
    return ConfigError(
        None, None, f"invalid configuration{f' in {where}' if where else ''}: {detail}."
    )


def _missing_option(e: MissingConfigException, overrides: list[str], root: Path) -> ConfigError:
    missing = str(getattr(e, "missing_cfg_file", "") or "")
    group, _, option = missing.rpartition("/")
    if not group:
        return ConfigError(None, None, f"config '{missing}' was not found in {root}.")
    options = group_options(group, root)
    # The user's override, when there is one; otherwise a yaml's defaults list asked for it.
    key = next(
        (o.split("=", 1)[0] for o in overrides if o.lstrip("+").split("=", 1)[0] == group), group
    )
    what = "experiment" if group == EXPERIMENT_GROUP else f"'{group}' option"
    msg = f"unknown {what} '{option}'."
    close = difflib.get_close_matches(option, options, n=1, cutoff=0.5)
    if close:
        msg += f" Did you mean '{close[0]}'?"
    if not any(o.lstrip("+").split("=", 1)[0] == group for o in overrides):
        # Hydra reports it against the root config even when an experiment's defaults list asked.
        experiment = _override_value(overrides, EXPERIMENT_GROUP)
        source = (
            f"{root / EXPERIMENT_GROUP / str(experiment)}.yaml"
            if experiment
            else f"{root}/config.yaml"
        )
        msg += f" It is chosen by the defaults list in {source}."
    if group == "env":
        allowed = f"{', '.join(options)}, or any Gymnasium id / pkg.module:Class"
    else:
        allowed = ", ".join(options) if options else f"none: {root / group} has no yaml files"
    return ConfigError(key, option, msg, allowed=allowed)


def sweep_error(override: str) -> ConfigError:
    key, _, value = override.partition("=")
    return ConfigError(
        key.lstrip("+") or None,
        value,
        "comma-separated values mean a sweep: add -m to run one trial per value "
        f"(rlrun train -m {override}). For a list write {key}=[{value}]; for a string with a "
        f"comma quote it: {key}='{value}'.",
    )


def _innermost_omegaconf(e: BaseException) -> OmegaConfBaseException | None:
    """The OmegaConf error that names the key: deepest along `raise ... from`, else the context.

    Hydra chains override failures with `from` but re-raises yaml merge failures inside `except`,
    so the latter are only reachable through __context__.
    """
    for attr in ("__cause__", "__context__"):
        found = None
        cur: BaseException | None = e
        while cur is not None:
            if isinstance(cur, OmegaConfBaseException) and getattr(cur, "full_key", None):
                found = cur
            cur = getattr(cur, attr)
        if found is not None:
            return found
    return e if isinstance(e, OmegaConfBaseException) else None


def _context(text: str) -> str:
    """Which yaml Hydra was composing ('experiment/foo'), when its message says so."""
    m = re.search(r"In '([^']+)'", text) or re.search(r"Error merging '([^']+)'", text)
    return m.group(1) if m else ""


def _override_value(overrides: list[str], key: str) -> Any:
    for text in reversed(overrides):
        k, sep, v = text.partition("=")
        if sep and k.lstrip("+") == key:
            return v
    return None


def failing_interpolation(cfg: Any, prefix: str = "") -> tuple[str | None, Any]:
    """The first key whose interpolation does not resolve (OmegaConf.resolve does not say which)."""
    from omegaconf import ListConfig

    keys = cfg.keys() if isinstance(cfg, DictConfig) else range(len(cfg))
    for key in keys:
        full = (
            f"{prefix}.{key}"
            if isinstance(cfg, DictConfig) and prefix
            else (str(key) if isinstance(cfg, DictConfig) else f"{prefix}[{key}]")
        )
        node = cfg._get_node(key)
        if OmegaConf.is_interpolation(cfg, key):
            try:
                cfg[key]
            except OmegaConfBaseException:
                return full, node._value()
        elif (
            isinstance(node, (DictConfig, ListConfig))
            and not node._is_missing()
            and not node._is_none()
        ):
            found = failing_interpolation(node, full)
            if found[0] is not None:
                return found
    return None, None


def yaml_problem(e: yaml.YAMLError) -> str:
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    if mark is not None:
        return f"{mark.name}, line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return problem


def first_line(e: BaseException) -> str:
    # OmegaConf appends "full_key: ...\n object_type=..." lines meant for developers; keep the sentence.
    msg = getattr(e, "msg", None) or str(e)
    return str(msg).strip().splitlines()[0].rstrip(".") if str(msg).strip() else type(e).__name__
