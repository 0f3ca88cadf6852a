"""SAC under RLlib's names: `from rlrun.algorithms.sac import SACConfig, SAC`.

SACConfig is the config builder; SAC (loaded on first access) is a Ray Tune Trainable, for
`tune.Tuner(SAC, param_space=config)`. Importing the package imports neither torch nor Ray.
"""

from __future__ import annotations

from rlrun.algorithms.algorithm_config import trainable_getattr
from rlrun.algorithms.sac.sac import SACConfig

__all__ = ["SAC", "SACConfig"]
__getattr__ = trainable_getattr("SAC")
