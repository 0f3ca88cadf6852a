"""APPO under RLlib's names: `from rlrun.algorithms.appo import APPOConfig, APPO`.

APPOConfig is the config builder; APPO (loaded on first access) is a Ray Tune Trainable, for
`tune.Tuner(APPO, param_space=config)`. Importing the package imports neither torch nor Ray.
"""

from __future__ import annotations

from rlrun.algorithms.algorithm_config import trainable_getattr
from rlrun.algorithms.appo.appo import APPOConfig

__all__ = ["APPO", "APPOConfig"]
__getattr__ = trainable_getattr("APPO")
