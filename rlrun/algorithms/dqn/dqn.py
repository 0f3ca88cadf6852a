"""DQNConfig (RLlib's builder, rlrun.algorithms.algorithm_config) and, on first access, DQN as
a Ray Tune Trainable (rlrun.tune): RLlib's `ray.rllib.algorithms.dqn.dqn` names."""

from __future__ import annotations

from typing import Any, ClassVar

from rlrun.algorithms import rllib_names as N
from rlrun.algorithms.algorithm_config import AlgorithmConfig


class DQNConfig(AlgorithmConfig):
    algo_name: ClassVar[str | None] = "DQN"
    own_training: ClassVar[dict[str, str]] = N.DQN_TRAINING


def __getattr__(name: str) -> Any:
    if name == "DQN":
        from rlrun.algorithms.algorithm_config import trainable

        return trainable("DQN")
    raise AttributeError(name)
