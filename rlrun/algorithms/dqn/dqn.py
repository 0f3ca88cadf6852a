"""DQNConfig (RLlib's builder, rlrun.algorithms.algorithm_config) and, on first access, DQN as
a Ray Tune Trainable (rlrun.tune): RLlib's `ray.rllib.algorithms.dqn.dqn` names."""

from __future__ import annotations

from typing import ClassVar

from rlrun.algorithms import rllib_names as N
from rlrun.algorithms.algorithm_config import AlgorithmConfig, trainable_getattr


class DQNConfig(AlgorithmConfig):
    algo_name: ClassVar[str | None] = "DQN"
    own_training: ClassVar[dict[str, str]] = N.DQN_TRAINING


__getattr__ = trainable_getattr("DQN")
