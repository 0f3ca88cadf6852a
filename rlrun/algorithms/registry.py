"""Algorithm names -> where their schema and class live. Nothing here imports torch."""

from __future__ import annotations

import importlib
from typing import Any

# name -> (config dataclass, Algorithm class), as "module:attr" so they load lazily.
ALGORITHMS: dict[str, tuple[str, str]] = {
    "PPO": ("rlrun.algorithms.ppo.config:PPOSchema", "rlrun.algorithms.ppo.algorithm:PPO"),
    "DQN": ("rlrun.algorithms.dqn.config:DQNSchema", "rlrun.algorithms.dqn.algorithm:DQN"),
    "SAC": ("rlrun.algorithms.sac.config:SACSchema", "rlrun.algorithms.sac.algorithm:SAC"),
    "BC": ("rlrun.algorithms.bc.config:BCSchema", "rlrun.algorithms.bc.algorithm:BC"),
    "MARWIL": (
        "rlrun.algorithms.marwil.config:MARWILSchema",
        "rlrun.algorithms.marwil.algorithm:MARWIL",
    ),
    "IMPALA": (
        "rlrun.algorithms.impala.config:IMPALASchema",
        "rlrun.algorithms.impala.algorithm:IMPALA",
    ),
    "APPO": ("rlrun.algorithms.appo.config:APPOSchema", "rlrun.algorithms.appo.algorithm:APPO"),
    "CQL": ("rlrun.algorithms.cql.config:CQLSchema", "rlrun.algorithms.cql.algorithm:CQL"),
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


def algorithm_class_for(config: Any) -> type:
    """The Algorithm a config runs: `algo.algorithm_class` (a subclass of the algorithm's
    class with its own `training_step`, from YAML or the CLI) or the registry's class."""
    base = algorithm_class(config["algo"]["name"])
    path = config["algo"].get("algorithm_class")
    if not path:
        return base
    return _subclass("algo.algorithm_class", path, base)


def _subclass(key: str, path: str, base: type) -> type:
    from rlrun.callbacks.hooks import load_attr_path
    from rlrun.errors import ConfigError

    cls = load_attr_path(key, path, f"pkg.module:Class, a subclass of {base.__name__}")
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(
            key, path, f"must name a subclass of {base.__module__}:{base.__name__}, the class "
            "it replaces, so everything else it needs is there",
        )  # fmt: skip
    return cls
