"""PPO under RLlib's names: `from rlrun.algorithms.ppo import PPOConfig, PPO`.

PPOConfig is the config builder; PPO (loaded on first access) is a Ray Tune Trainable, for
`tune.Tuner(PPO, param_space=config)`. Importing the package imports neither torch nor Ray.
"""

from __future__ import annotations

from rlrun.algorithms.algorithm_config import trainable_getattr
from rlrun.algorithms.ppo.ppo import PPOConfig

__all__ = ["PPO", "PPOConfig"]
__getattr__ = trainable_getattr("PPO")
