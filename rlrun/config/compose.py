"""Compose the run config from conf/ and the command line, and turn every failure into a ConfigError.

Hydra and OmegaConf report problems as multi-line exceptions that mention their own internals; the
user gets one paragraph that names the key, the value and what is allowed instead.
Nothing here imports torch or Ray.
"""

from __future__ import annotations

import difflib
import re
import typing
from pathlib import Path
from typing import Any

import yaml
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import OverrideType
from hydra.errors import (
    HydraException,
    MissingConfigException,
    OverrideParseException,
)
from hydra.initialize import get_gh_backup, restore_gh_from_backup
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    OmegaConfBaseException,
    ValidationError,
)

from rlrun.config.keys import (
    algorithm_of,
    check_unknown_keys,
    expected_type,
    schema_keys,
    unknown_key_error,
)
from rlrun.config.paths import EXPERIMENT_GROUP, conf_dir, group_options, has_option
from rlrun.config.store import register_schemas
from rlrun.errors import ConfigError

# The env group's catch-all: `env=<id without a yaml>` composes this with env.id=<id>.
GENERIC_ENV = "gym"

_SYNTAX = "Overrides look like key=value, +key=value (add), group=option or key=[1,2]."


def compose(overrides: list[str], config_dir: Path | None = None) -> DictConfig:
    """conf/config.yaml + `overrides`, checked against the schema and with interpolations resolved."""
    root = Path(config_dir) if config_dir is not None else conf_dir()
    parsed = _parse(overrides)
    final = open_free_form(rewrite_env_overrides(overrides, root, parsed))
    register_schemas()
    # A caller may be inside a Hydra app (or a test left Hydra initialized): compose beside it and
    # put its state back afterwards, rather than failing with "GlobalHydra is already initialized".
    backup = get_gh_backup()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(
            version_base=None, config_dir=str(root.resolve()), job_name="rlrun"
        ):
            cfg = hydra_compose(config_name="config", overrides=final)
    except (HydraException, OmegaConfBaseException) as e:
        raise _translate(e, final, root) from None
    except yaml.YAMLError as e:
        raise ConfigError(
            None, None, f"a config file is not valid YAML: {_yaml_problem(e)}."
        ) from None
    finally:
        if backup is None:
            GlobalHydra.instance().clear()
        else:
            restore_gh_from_backup(backup)
    check_unknown_keys(cfg, final)
    resolve(cfg)
    return cfg


def rewrite_env_overrides(
    overrides: list[str],
    root: Path | None = None,
    parsed: list[Any] | None = None,
    sweeps: bool = False,
) -> list[str]:
    """`env=X` with no conf/env/X.yaml becomes `env=gym env.id=X`, in place, so order is kept.

    Later overrides of env.id still win, exactly as if the user had typed the two halves.
    With `sweeps` (a multirun), `env=A,B` becomes `env=gym env.id=A,B` alike.
    """
    root = root or conf_dir()
    parsed = parsed if parsed is not None else _parse(overrides)
    out: list[str] = []
    for text, ov in zip(overrides, parsed, strict=True):
        if ov.key_or_group != "env" or ov.package is not None or ov.type != OverrideType.CHANGE:
            out.append(text)
            continue
        if ov.is_sweep_override():
            if not sweeps:
                raise _sweep_error(text)
            out += _rewrite_env_sweep(text, list(ov.sweep_string_iterator()), root)
            continue
        value = ov.value()
        if not isinstance(value, str):
            out.append(text)
            continue
        if value == "":
            raise ConfigError(
                "env",
                "",
                "needs an environment.",
                allowed=f"{', '.join(group_options('env', root))} or any Gymnasium id or pkg.module:Class",
            )
        if value == GENERIC_ENV and not any(o.split("=", 1)[0] == "env.id" for o in overrides):
            # gym.yaml's `id: ???` cannot say so itself: a `???` merged over the schema's default
            # id keeps the default, so `env=gym` alone would silently train on CartPole.
            raise ConfigError(
                "env", value, "is the generic env and needs an id: env=<Gymnasium id> does both."
            )
        if has_option("env", value, root):
            out.append(text)
        else:
            out += [f"env={GENERIC_ENV}", f"env.id={_quote(value)}"]
    return out


def _rewrite_env_sweep(text: str, values: list[str], root: Path) -> list[str]:
    have_yaml = [has_option("env", v, root) for v in values]
    if all(have_yaml):
        return [text]
    if not any(have_yaml):
        return [f"env={GENERIC_ENV}", f"env.id={','.join(_quote(v) for v in values)}"]
    raise ConfigError(
        "env",
        ",".join(values),
        "mixes envs with a conf/env yaml "
        f"({', '.join(v for v, y in zip(values, have_yaml, strict=True) if y)}) and without one; "
        "a sweep can switch yamls (env=A,B) or Gymnasium ids (env.id=A,B with env=gym), not both. "
        "Run one sweep per kind.",
    )


def open_free_form(overrides: list[str]) -> list[str]:
    """Setting inside a free-form mapping (env.env_config, ray.runtime_env, ...) may add keys.

    Hydra's struct mode would demand `+` for a new key and `=` for an existing one, and rejects
    `env.env_config={a:1}` outright; `++` (set or add) does what the user means in every case.
    """
    free = [k for k, tp in schema_keys().items() if tp is dict or typing.get_origin(tp) is dict]
    out = []
    for text in overrides:
        key = text.split("=", 1)[0]
        if not key.startswith(("+", "~")) and any(
            key == f or key.startswith(f"{f}.") for f in free
        ):
            text = f"++{text}"
        out.append(text)
    return out


def resolve(cfg: DictConfig) -> None:
    """Resolve interpolations in place and require every `???` value to be set."""
    try:
        OmegaConf.resolve(cfg)
    except OmegaConfBaseException as e:
        key, raw = _failing_interpolation(cfg)
        raise ConfigError(key, raw, f"cannot resolve interpolation: {_first_line(e)}.") from None
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        key = missing[0]
        what = expected_type(key)
        raise ConfigError(
            key,
            "???",
            "is required but not set.",
            allowed=f"{what}; set it with {key}=..." if what else f"set it with {key}=...",
        )


def load_config_file(path: str | Path) -> DictConfig:
    """Load a saved, resolved config.yaml (e.g. from a checkpoint) and check it against the schema."""
    from rlrun.algorithms.registry import ALGORITHMS, config_class
    from rlrun.config.schema import RootConfig
    from rlrun.errors import CheckpointError

    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(
            f"{path} does not exist: a saved run config (config.yaml) is expected there."
        )
    try:
        raw = OmegaConf.load(path)
    except Exception as e:  # yaml.YAMLError, UnicodeDecodeError, OSError: all mean "unreadable"
        raise CheckpointError(
            f"{path} is not a readable YAML config ({_first_line(e)}); the file is corrupt."
        ) from None
    if not isinstance(raw, DictConfig) or not isinstance(raw.get("algo"), DictConfig):
        raise CheckpointError(f"{path} is not an rlrun config: it has no 'algo' section.")
    name = raw.algo.get("name")
    if not isinstance(name, str) or name.upper() not in ALGORITHMS:
        raise CheckpointError(
            f"{path} names algorithm {name!r}, which this rlrun does not know "
            f"(known: {', '.join(ALGORITHMS)})."
        )
    # Configs saved before remote runners existed carry env_runner.type (always "local").
    if isinstance(raw.get("env_runner"), DictConfig) and raw.env_runner.get("type") == "local":
        del raw.env_runner["type"]
    schema = OmegaConf.structured(RootConfig)
    schema.algo = OmegaConf.structured(config_class(name))
    try:
        cfg = OmegaConf.merge(schema, raw)
        assert isinstance(cfg, DictConfig)
        check_unknown_keys(cfg)
        resolve(cfg)
    except (OmegaConfBaseException, ConfigError) as e:
        detail = str(e) if isinstance(e, ConfigError) else _first_line(e)
        key = getattr(e, "full_key", None) or getattr(e, "key", None)
        where = f" at '{key}'" if key else ""
        raise CheckpointError(f"{path} does not match the config schema{where}: {detail}") from None
    OmegaConf.set_struct(cfg, True)
    return cfg


# --- translating Hydra / OmegaConf failures ------------------------------------------------------


def _parse(overrides: list[str]) -> list[Any]:
    """Parse each override alone so a syntax error names the one that is wrong."""
    parser = OverridesParser.create()
    parsed = []
    for text in overrides:
        if text.startswith("~"):
            # Deleting a schema key would only fail later, far from its cause.
            raise ConfigError(
                None,
                None,
                f"'{text}': deleting keys is not supported; set the key to null instead "
                f"({text[1:].split('=', 1)[0]}=null).",
            )
        if "=" not in text:
            raise ConfigError(None, None, f"'{text}' is not an override: it has no '='. {_SYNTAX}")
        try:
            parsed.append(parser.parse_override(text))
        except (OverrideParseException, HydraException) as e:
            reason = _first_line(e).removeprefix(f"Error parsing override '{text}'").strip() or str(
                e
            )
            raise ConfigError(
                None,
                None,
                f"cannot parse override '{text}' ({reason.splitlines()[0]}). {_SYNTAX} "
                "Quote values with spaces or special characters: key='a b'.",
            ) from None
    return parsed


def _translate(e: Exception, overrides: list[str], root: Path) -> ConfigError:
    """Map one Hydra/OmegaConf exception to a one-paragraph ConfigError."""
    text = str(e)
    if isinstance(e, MissingConfigException):
        return _missing_option(e, overrides, root)
    if "Ambiguous value for argument" in text:
        m = re.search(r"argument '([^']*)'", text)
        return _sweep_error(m.group(1) if m else "")
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
        msg = f"wrong type: {_first_line(cause)}."
        if where:
            return ConfigError(None, None, f"{where}: {ConfigError(key, value, msg)}", allowed=what)
        return ConfigError(key, value, msg, allowed=what)
    detail = _first_line(cause) if cause is not None else _first_line(e)
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


def _sweep_error(override: str) -> ConfigError:
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


def _failing_interpolation(cfg: Any, prefix: str = "") -> tuple[str | None, Any]:
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
            found = _failing_interpolation(node, full)
            if found[0] is not None:
                return found
    return None, None


def _yaml_problem(e: yaml.YAMLError) -> str:
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    if mark is not None:
        return f"{mark.name}, line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return problem


def _first_line(e: BaseException) -> str:
    # OmegaConf appends "full_key: ...\n object_type=..." lines meant for developers; keep the sentence.
    msg = getattr(e, "msg", None) or str(e)
    return str(msg).strip().splitlines()[0].rstrip(".") if str(msg).strip() else type(e).__name__


def _quote(value: str) -> str:
    """Quote an env id for Hydra's override grammar unless it is plainly safe."""
    if re.fullmatch(r"[\w./:\-@]+", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
