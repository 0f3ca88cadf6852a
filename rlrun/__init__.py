"""rlrun: a fast, YAML-driven reinforcement-learning experiment runner.

Importing the package is cheap (no torch, no Ray): the CLI's help and config errors rely on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from rlrun.algorithms.algorithm import Algorithm
    from rlrun.core.rl_module import RLModule

__all__ = ["Algorithm", "RLModule", "__version__", "build"]


def build(config: Any = None) -> Algorithm:
    """Build an algorithm from a composed config, a plain dict, or a list of CLI-style overrides.

    >>> algo = rlrun.build(["experiment=cartpole_ppo"])
    >>> result = algo.train()
    """
    from omegaconf import DictConfig

    from rlrun.algorithms.registry import algorithm_class_for
    from rlrun.config.compose import compose
    from rlrun.config.validate import check_env_id, validate

    if config is None or isinstance(config, list | tuple | str):
        overrides = [config] if isinstance(config, str) else list(config or [])
        config = compose(overrides)
    if isinstance(config, dict):
        from omegaconf import OmegaConf

        config = OmegaConf.create(config)
    assert isinstance(config, DictConfig)
    validate(config)
    check_env_id(config)
    return algorithm_class_for(config)(config)


def __getattr__(name: str) -> Any:
    # Lazy so that `import rlrun` stays torch-free.
    if name == "Algorithm":
        from rlrun.algorithms.algorithm import Algorithm

        return Algorithm
    if name == "RLModule":
        from rlrun.core.rl_module import RLModule

        return RLModule
    raise AttributeError(name)
