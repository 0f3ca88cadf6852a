"""RLlib's `normalize_actions` for PPO: the policy acts in [-1, 1], rescaled to the Box bounds.

RLlib's default (`normalize_actions: true`) has its Gaussian policies act in a normalized space:
each action is mapped from [-1, 1] to [low, high] and clipped there before the env sees it. rlrun's
PPO acts in the env's own units and clips. File mode keeps RLlib's meaning by adding this piece
to `connectors.module_to_env` with the env's bounds; rlrun's built-in last step then clips to the
bounds, as RLlib's `unsquash_action` does. The learner sees the module's own (normalized) action,
so log-probabilities stay exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PIECE = "rlrun.rllib_yaml.actions:NormalizeActions"


class NormalizeActions:
    """A module-to-env piece: actions in [-1, 1] -> [low, high] (per dimension)."""

    def __init__(self, low: Any, high: Any) -> None:
        self.low = np.asarray(low, dtype=np.float32)
        self.high = np.asarray(high, dtype=np.float32)
        if self.low.shape != self.high.shape or not np.all(self.high > self.low):
            raise ValueError(f"needs low < high of one shape, not {low} and {high}")

    def __call__(self, actions: np.ndarray) -> np.ndarray:
        return self.low + (np.asarray(actions) + 1.0) * 0.5 * (self.high - self.low)


def box_bounds(env_cfg: dict[str, Any]) -> tuple[list[Any], list[Any]] | None:
    """The (low, high) of the env's action space when RLlib would normalize it: a float Box
    with finite bounds other than [-1, 1]. None for any other space. Makes the env once."""
    import copy

    import gymnasium as gym

    from rlrun.env.make_env import make_single_env

    # A copy: an env may take its settings out of the dict it gets (RLlib's example envs pop
    # them), which must not change the experiment's env_config.
    env = make_single_env(copy.deepcopy(env_cfg))
    try:
        space = env.action_space
    finally:
        env.close()
    if not isinstance(space, gym.spaces.Box) or not np.issubdtype(space.dtype, np.floating):
        return None
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        return None
    if np.all(low == -1.0) and np.all(high == 1.0):
        return None  # rescaling would change nothing
    return low.tolist(), high.tolist()
