"""IMPALA under RLlib's names: `from rlrun.algorithms.impala import IMPALAConfig, IMPALA`.

IMPALAConfig is the config builder; IMPALA (loaded on first access) is a Ray Tune Trainable, for
`tune.Tuner(IMPALA, param_space=config)`. Importing the package imports neither torch nor Ray.
"""

from __future__ import annotations

from rlrun.algorithms.algorithm_config import trainable_getattr
from rlrun.algorithms.impala.impala import IMPALAConfig

__all__ = ["IMPALA", "IMPALAConfig"]
__getattr__ = trainable_getattr("IMPALA")
