"""MARWIL under RLlib's names: `from rlrun.algorithms.marwil import MARWILConfig, MARWIL`.

MARWILConfig is the config builder; MARWIL (loaded on first access) is a Ray Tune Trainable. Importing
the package imports neither torch nor Ray.
"""

from __future__ import annotations

from rlrun.algorithms.algorithm_config import trainable_getattr
from rlrun.algorithms.marwil.marwil import MARWILConfig

__all__ = ["MARWIL", "MARWILConfig"]
__getattr__ = trainable_getattr("MARWIL")
