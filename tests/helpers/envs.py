"""Tiny deterministic environments for tests (used as `env.id=tests.helpers.envs:FixedLengthEnv`).

Observations carry their own bookkeeping so a test can read what happened from a rollout:
FixedLengthEnv's obs is [steps taken in this episode, episode index], BoxActionEnv's obs is
[steps taken in this episode, the (clipped) action the env last received].
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class FixedLengthEnv(gym.Env):
    """Episodes last exactly `length` steps (or cycle through `lengths`), reward 1 per step.

    The episode ends by termination, or by truncation when `truncate=True`.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        length: int = 5,
        lengths: list[int] | None = None,
        truncate: bool = False,
        num_actions: int = 2,
    ) -> None:
        self.lengths = [int(x) for x in (lengths or [length])]
        self.truncate = bool(truncate)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(num_actions)
        self._episode = -1
        self._t = 0

    @property
    def current_length(self) -> int:
        return self.lengths[self._episode % len(self.lengths)]

    def _obs(self) -> np.ndarray:
        return np.array([self._t, self._episode], np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._episode += 1
        self._t = 0
        return self._obs(), {}

    def step(self, action: Any):
        assert self.action_space.contains(action), action
        self._t += 1
        done = self._t >= self.current_length
        terminated = done and not self.truncate
        truncated = done and self.truncate
        return self._obs(), 1.0, terminated, truncated, {}


class BoxActionEnv(gym.Env):
    """A Box(-1, 1, (1,)) action env of fixed `length`; obs shows the action it received."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, length: int = 4, low: float = -1.0, high: float = 1.0) -> None:
        self.length = int(length)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = gym.spaces.Box(low, high, (1,), np.float32)
        self._t = 0
        self._last = 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._t = 0
        self._last = 0.0
        return np.array([0.0, 0.0], np.float32), {}

    def step(self, action: Any):
        a = np.asarray(action, np.float32).reshape(1)
        # The env must only ever see actions inside its bounds.
        assert self.action_space.contains(a), a
        self._t += 1
        self._last = float(a[0])
        obs = np.array([self._t, self._last], np.float32)
        return obs, 1.0, self._t >= self.length, False, {}


class TextObsEnv(gym.Env):
    """An observation space no encoder takes (Text): the catalog must refuse it up front."""

    observation_space = gym.spaces.Text(8)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return "hello", {}

    def step(self, action):
        return "hello", 0.0, True, False, {}


class HangingEnv(gym.Env):
    """CartPole-like episodes of 10 steps whose `step()` hangs (sleeps for an hour) from the
    `hang_at`-th step of the instance on: a simulator that stopped answering."""

    def __init__(self, hang_at: int = 1000) -> None:
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.hang_at = int(hang_at)
        self._steps = 0
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self._steps += 1
        if self._steps >= self.hang_at:
            import time

            time.sleep(3600)
        self._t += 1
        return np.zeros(2, np.float32), 1.0, self._t >= 10, False, {}
