"""BC under RLlib's names: `from rlrun.algorithms.bc import BCConfig, BC`.

BCConfig is the config builder; BC (loaded on first access) is a Ray Tune Trainable. Importing
the package imports neither torch nor Ray.
"""

from __future__ import annotations

from rlrun.algorithms.algorithm_config import trainable_getattr
from rlrun.algorithms.bc.bc import BCConfig

__all__ = ["BC", "BCConfig"]
__getattr__ = trainable_getattr("BC")
