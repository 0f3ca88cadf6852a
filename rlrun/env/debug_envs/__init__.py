"""Small environments for tests, benchmarks and tuned examples.

Use them as `env.id=rlrun.env.debug_envs:ClassName`, with `env.env_config` as constructor
kwargs; nothing is registered globally. They live in the package (not in tests/) so that Ray
workers, which import them in fresh processes, find them wherever rlrun is installed.

- BurnCPUEnv, FaultyEnv: a real Gymnasium env made slow or failing, for benchmarks and
  fault-tolerance tests.
- StatelessCartPole, DictCartPole, ActionMaskEnv, TinyImageEnv: each exercises one model feature
  (memory, Dict observations, action masking, a CNN). Each is pure numpy, seeded through
  `reset(seed=...)`, and has a `reward_threshold` class attribute that `reward_threshold()` in
  rlrun.env.make_env reads: an oracle policy reaches it and a random one stays clearly below.
- PointReach: a 2-D reaching task with Box actions, a cheap continuous-control check for SAC
  (benchmarks/sac_reach.py), held to the same contract.
"""

from rlrun.env.debug_envs.action_mask import ActionMaskEnv
from rlrun.env.debug_envs.cartpole_views import DictCartPole, StatelessCartPole
from rlrun.env.debug_envs.point_reach import PointReach
from rlrun.env.debug_envs.tiny_image import TinyImageEnv
from rlrun.env.debug_envs.wrappers import FAIL_MODES, BurnCPUEnv, FaultyEnv

__all__ = [
    "FAIL_MODES",
    "ActionMaskEnv",
    "BurnCPUEnv",
    "DictCartPole",
    "FaultyEnv",
    "PointReach",
    "StatelessCartPole",
    "TinyImageEnv",
]
