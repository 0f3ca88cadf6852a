"""The plain config a run trains with: the composed one, or with `resume` the checkpoint's config
plus the command line's single-key overrides; a drawn seed when none was set."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from rlrun.errors import ConfigError

# Config groups pick whole sections; a checkpoint's config already has its sections.
CONFIG_GROUPS = ("algo", "env", "env_runner", "learner", "experiment")


def resolve_config(cfg: DictConfig, overrides: list[str]) -> dict[str, Any]:
    """The plain config a run uses; with `resume`, the checkpoint's config plus the overrides."""
    if not cfg.get("resume"):
        out: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    else:
        from rlrun.config.compose import load_config_file

        base = load_config_file(Path(cfg.resume) / "config.yaml")
        for ov in overrides:
            key = ov.lstrip("+~").split("=", 1)[0]
            if key == "resume":
                continue
            if key in CONFIG_GROUPS:
                raise ConfigError(
                    key,
                    ov.split("=", 1)[-1],
                    "cannot change a config group when resuming: the checkpoint fixes the algorithm, "
                    "env and runners. Override single keys instead (e.g. stop.iterations=50, or "
                    "env_runner.num_env_runners=2 to go on in Ray actors)",
                )
            # compose() already parsed and type-checked the value against the schema.
            OmegaConf.update(base, key, OmegaConf.select(cfg, key), merge=False)
        base.resume = cfg.resume
        out = OmegaConf.to_container(base, resolve=True)  # type: ignore[assignment]
    if out.get("seed") is None:
        out["seed"] = random.randrange(2**31)  # recorded in params.json so the run can be repeated
    return out
