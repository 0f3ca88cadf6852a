"""Algorithm names -> where their schema and class live. Nothing here imports torch."""

from __future__ import annotations

import importlib
from typing import Any

# name -> (config dataclass, Algorithm class), as "module:attr" so they load lazily.
ALGORITHMS: dict[str, tuple[str, str]] = {
    "PPO": ("rlrun.algorithms.ppo.config:PPOSchema", "rlrun.algorithms.ppo.algorithm:PPO"),
    "DQN": ("rlrun.algorithms.dqn.config:DQNSchema", "rlrun.algorithms.dqn.algorithm:DQN"),
    "SAC": ("rlrun.algorithms.sac.config:SACSchema", "rlrun.algorithms.sac.algorithm:SAC"),
}


def load_attr(path: str) -> Any:
    """Import "pkg.module:attr" (or "pkg.module.attr")."""
    module_name, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def algorithm_class(name: str) -> type:
    return load_attr(ALGORITHMS[name.upper()][1])


def config_class(name: str) -> type:
    return load_attr(ALGORITHMS[name.upper()][0])
