"""APPOConfig (RLlib's builder, rlrun.algorithms.algorithm_config) and, on first access, APPO
as a Ray Tune Trainable (rlrun.tune): RLlib's `ray.rllib.algorithms.appo.appo` names."""

from __future__ import annotations

from typing import ClassVar

from rlrun.algorithms import rllib_names as N
from rlrun.algorithms.algorithm_config import trainable_getattr
from rlrun.algorithms.impala.impala import IMPALAConfig


class APPOConfig(IMPALAConfig):
    algo_name: ClassVar[str | None] = "APPO"
    own_training: ClassVar[dict[str, str]] = N.APPO_TRAINING


__getattr__ = trainable_getattr("APPO")
