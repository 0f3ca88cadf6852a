"""Compose the run config from conf/ and the command line, and turn every failure into a ConfigError.

The overrides are parsed and rewritten first (rlrun.config.overrides); Hydra's and OmegaConf's
multi-line exceptions become one paragraph naming the key, the value and what is allowed
(rlrun.config.compose_errors). Nothing here imports torch or Ray.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from hydra.initialize import get_gh_backup, restore_gh_from_backup
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from rlrun.config.compose_errors import (
    failing_interpolation,
    first_line,
    translate,
    yaml_problem,
)
from rlrun.config.keys import check_unknown_keys, expected_type
from rlrun.config.overrides import open_free_form, parse_overrides, rewrite_env_overrides
from rlrun.config.paths import conf_dir
from rlrun.config.store import register_schemas
from rlrun.errors import ConfigError


def compose(overrides: list[str], config_dir: Path | None = None) -> DictConfig:
    """conf/config.yaml + `overrides`, checked against the schema and with interpolations resolved."""
    root = Path(config_dir) if config_dir is not None else conf_dir()
    parsed = parse_overrides(overrides)
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
        raise translate(e, final, root) from None
    except yaml.YAMLError as e:
        raise ConfigError(
            None, None, f"a config file is not valid YAML: {yaml_problem(e)}."
        ) from None
    finally:
        if backup is None:
            GlobalHydra.instance().clear()
        else:
            restore_gh_from_backup(backup)
    check_unknown_keys(cfg, final)
    resolve(cfg)
    return cfg


def resolve(cfg: DictConfig) -> None:
    """Resolve interpolations in place and require every `???` value to be set."""
    try:
        OmegaConf.resolve(cfg)
    except OmegaConfBaseException as e:
        key, raw = failing_interpolation(cfg)
        raise ConfigError(key, raw, f"cannot resolve interpolation: {first_line(e)}.") from None
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
            f"{path} is not a readable YAML config ({first_line(e)}); the file is corrupt."
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
        detail = str(e) if isinstance(e, ConfigError) else first_line(e)
        key = getattr(e, "full_key", None) or getattr(e, "key", None)
        where = f" at '{key}'" if key else ""
        raise CheckpointError(f"{path} does not match the config schema{where}: {detail}") from None
    OmegaConf.set_struct(cfg, True)
    return cfg
