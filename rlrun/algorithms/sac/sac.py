"""SACConfig (RLlib's builder, rlrun.algorithms.algorithm_config) and, on first access, SAC as
a Ray Tune Trainable (rlrun.tune): RLlib's `ray.rllib.algorithms.sac.sac` names."""

from __future__ import annotations

from typing import ClassVar

from rlrun.algorithms import rllib_names as N
from rlrun.algorithms.algorithm_config import AlgorithmConfig, trainable_getattr


class SACConfig(AlgorithmConfig):
    algo_name: ClassVar[str | None] = "SAC"
    own_training: ClassVar[dict[str, str]] = N.SAC_TRAINING


__getattr__ = trainable_getattr("SAC")
