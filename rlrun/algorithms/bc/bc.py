"""BCConfig (RLlib's builder, rlrun.algorithms.algorithm_config) and, on first access, BC as
a Ray Tune Trainable (rlrun.tune): RLlib's `ray.rllib.algorithms.bc.bc` names."""

from __future__ import annotations

from typing import ClassVar

from rlrun.algorithms import rllib_names as N
from rlrun.algorithms.algorithm_config import AlgorithmConfig, trainable_getattr


class BCConfig(AlgorithmConfig):
    algo_name: ClassVar[str | None] = "BC"
    own_training: ClassVar[dict[str, str]] = N.MARWIL_TRAINING


__getattr__ = trainable_getattr("BC")
