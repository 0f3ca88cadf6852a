"""IMPALAConfig (RLlib's builder, rlrun.algorithms.algorithm_config) and, on first access,
IMPALA as a Ray Tune Trainable (rlrun.tune): RLlib's `ray.rllib.algorithms.impala.impala` names."""

from __future__ import annotations

from typing import ClassVar

from rlrun.algorithms import rllib_names as N
from rlrun.algorithms.algorithm_config import AlgorithmConfig, trainable_getattr


class IMPALAConfig(AlgorithmConfig):
    algo_name: ClassVar[str | None] = "IMPALA"
    own_training: ClassVar[dict[str, str]] = N.IMPALA_TRAINING

    def _table(self, method: str) -> dict[str, str]:
        # RLlib sets the requests in flight in env_runners(); rlrun keeps them with the
        # algorithm that uses them.
        if method == "env_runners":
            return {**super()._table(method), **N.IMPALA_ENV_RUNNERS}
        return super()._table(method)


__getattr__ = trainable_getattr("IMPALA")
