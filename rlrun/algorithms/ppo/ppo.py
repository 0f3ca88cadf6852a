"""PPOConfig (RLlib's builder, rlrun.algorithms.algorithm_config) and, on first access, PPO as
a Ray Tune Trainable (rlrun.tune): RLlib's `ray.rllib.algorithms.ppo.ppo` names."""

from __future__ import annotations

from typing import Any, ClassVar

from rlrun.algorithms import rllib_names as N
from rlrun.algorithms.algorithm_config import AlgorithmConfig


class PPOConfig(AlgorithmConfig):
    algo_name: ClassVar[str | None] = "PPO"
    own_training: ClassVar[dict[str, str]] = N.PPO_TRAINING


def __getattr__(name: str) -> Any:
    if name == "PPO":
        from rlrun.algorithms.algorithm_config import trainable

        return trainable("PPO")
    raise AttributeError(name)
