"""CQLConfig (RLlib's builder, rlrun.algorithms.algorithm_config) and, on first access, CQL as
a Ray Tune Trainable (rlrun.tune): RLlib's `ray.rllib.algorithms.cql.cql` names."""

from __future__ import annotations

from typing import ClassVar

from rlrun.algorithms import rllib_names as N
from rlrun.algorithms.algorithm_config import AlgorithmConfig, trainable_getattr


class CQLConfig(AlgorithmConfig):
    algo_name: ClassVar[str | None] = "CQL"
    own_training: ClassVar[dict[str, str]] = N.CQL_TRAINING


__getattr__ = trainable_getattr("CQL")
