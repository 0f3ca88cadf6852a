"""CQL under RLlib's names: `from rlrun.algorithms.cql import CQLConfig, CQL`.

CQLConfig is the config builder; CQL (loaded on first access) is a Ray Tune Trainable, for
`tune.Tuner(CQL, param_space=config)`. Importing the package imports neither torch nor Ray.
"""

from __future__ import annotations

from rlrun.algorithms.algorithm_config import trainable_getattr
from rlrun.algorithms.cql.cql import CQLConfig

__all__ = ["CQL", "CQLConfig"]
__getattr__ = trainable_getattr("CQL")
