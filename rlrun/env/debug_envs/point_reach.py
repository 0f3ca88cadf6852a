"""PointReach: a 2-D reaching task with Box actions, a cheap continuous-control check for SAC
(benchmarks/sac_reach.py)."""

from __future__ import annotations

from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np


class PointReach(gym.Env):
    """A point in [-1, 1]^2 steered towards a goal: a cheap continuous-control task for SAC.

    Each episode draws the start and the goal uniformly in the square. obs = (position, goal),
    Box(-1, 1, (4,), float32); the action, Box(-1, 1, (2,)) and clipped to it, moves the point
    by `step_size` times itself (then the point is clipped to the square); reward = -distance
    to the goal after the move. Episodes are cut after `episode_len` (50) steps: a time limit,
    hence truncated, not terminated (nothing in the observation tells the time left).

    The far corner is at most about 20 steps away, so an oracle (move straight at the goal) sits
    on it for most of the episode: oracle about -5.4, random and a still point about -53.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    reward_threshold: ClassVar[float] = -10.0

    def __init__(self, step_size: float = 0.1, episode_len: int = 50) -> None:
        if not 0 < step_size <= 1 or episode_len < 1:
            raise ValueError(
                "PointReach: needs 0 < step_size <= 1 and episode_len >= 1; "
                f"got {step_size}, {episode_len}"
            )
        self.step_size = float(step_size)
        self.episode_len = int(episode_len)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self._pos = np.zeros(2)
        self._goal = np.zeros(2)
        self._steps = 0

    def _observe(self) -> np.ndarray:
        return np.concatenate([self._pos, self._goal]).astype(np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._pos = self.np_random.uniform(-1.0, 1.0, 2)
        self._goal = self.np_random.uniform(-1.0, 1.0, 2)
        self._steps = 0
        return self._observe(), {}

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        move = np.clip(np.asarray(action, np.float64).reshape(2), -1.0, 1.0) * self.step_size
        self._pos = np.clip(self._pos + move, -1.0, 1.0)
        self._steps += 1
        distance = float(np.linalg.norm(self._pos - self._goal))
        return self._observe(), -distance, False, self._steps >= self.episode_len, {}
