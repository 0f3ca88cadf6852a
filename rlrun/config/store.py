"""Registers the dataclass schemas with Hydra's ConfigStore (once per process)."""

from __future__ import annotations

from hydra.core.config_store import ConfigStore

from rlrun.algorithms.registry import ALGORITHMS, load_attr
from rlrun.config.schema import RootConfig

_done = False


def register_schemas() -> None:
    global _done
    if _done:
        return
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=RootConfig)
    # Each algorithm's yaml starts from `<name>_schema`, so its defaults live in one dataclass.
    for name, (config_path, _) in ALGORITHMS.items():
        cs.store(group="algo", name=f"{name.lower()}_schema", node=load_attr(config_path))
    _done = True
