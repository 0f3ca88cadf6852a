"""DQN under RLlib's names: `from rlrun.algorithms.dqn import DQNConfig, DQN`.

DQNConfig is the config builder; DQN (loaded on first access) is a Ray Tune Trainable, for
`tune.Tuner(DQN, param_space=config)`. Importing the package imports neither torch nor Ray.
"""

from __future__ import annotations

from rlrun.algorithms.algorithm_config import trainable_getattr
from rlrun.algorithms.dqn.dqn import DQNConfig

__all__ = ["DQN", "DQNConfig"]
__getattr__ = trainable_getattr("DQN")
