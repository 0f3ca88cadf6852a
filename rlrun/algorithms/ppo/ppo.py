"""PPOConfig (RLlib's builder, rlrun.algorithms.algorithm_config) and, on first access, PPO as
a Ray Tune Trainable (rlrun.tune): RLlib's `ray.rllib.algorithms.ppo.ppo` names."""

from __future__ import annotations

from typing import ClassVar

from rlrun.algorithms import rllib_names as N
from rlrun.algorithms.algorithm_config import AlgorithmConfig, trainable_getattr


class PPOConfig(AlgorithmConfig):
    algo_name: ClassVar[str | None] = "PPO"
    own_training: ClassVar[dict[str, str]] = N.PPO_TRAINING


__getattr__ = trainable_getattr("PPO")
