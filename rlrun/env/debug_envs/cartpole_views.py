"""StatelessCartPole and DictCartPole: CartPole-v1 with its observation re-shaped, for models
with memory and for Dict observations."""

from __future__ import annotations

from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleEnv


class _CartPoleView(gym.Env):
    """CartPole-v1's dynamics, reward and 500-step limit, with the observation re-shaped by
    `_observe`. It holds a CartPoleEnv rather than wrapping it so that `env.unwrapped` is this
    env and its observation space is the one the agent sees."""

    metadata: ClassVar[dict[str, Any]] = CartPoleEnv.metadata
    max_episode_steps = 500

    def __init__(self, render_mode: str | None = None) -> None:
        self._cartpole = CartPoleEnv(render_mode=render_mode)
        self.render_mode = render_mode
        self.action_space = self._cartpole.action_space
        self._steps = 0

    def _observe(self, state: np.ndarray) -> Any:
        raise NotImplementedError

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        state, info = self._cartpole.reset(seed=seed, options=options)
        self._steps = 0
        return self._observe(state), info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        state, reward, terminated, _, info = self._cartpole.step(action)
        self._steps += 1
        truncated = self._steps >= self.max_episode_steps
        return self._observe(state), reward, terminated, truncated, info

    def render(self) -> Any:
        return self._cartpole.render()

    def close(self) -> None:
        self._cartpole.close()


class StatelessCartPole(_CartPoleView):
    """CartPole-v1 without the velocities: obs = [x, theta], Box(2) float32.

    Velocities must be inferred from successive observations, so only a model with memory (or
    stacked observations) solves it. A finite-difference oracle scores 500, the best memoryless
    linear policy about 50, random about 23.
    """

    reward_threshold: ClassVar[float] = 150.0

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(render_mode)
        full = self._cartpole.observation_space
        self.observation_space = gym.spaces.Box(
            full.low[[0, 2]], full.high[[0, 2]], dtype=np.float32
        )

    def _observe(self, state: np.ndarray) -> np.ndarray:
        return np.asarray(state, np.float32)[[0, 2]]


class DictCartPole(_CartPoleView):
    """CartPole-v1 with a Dict observation {"cart": [x, x_dot], "pole": [theta, theta_dot]}:
    the same information as CartPole-v1, so it learns like CartPole through a Dict encoder."""

    reward_threshold: ClassVar[float] = 475.0

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(render_mode)
        low, high = self._cartpole.observation_space.low, self._cartpole.observation_space.high
        self.observation_space = gym.spaces.Dict(
            {
                "cart": gym.spaces.Box(low[:2], high[:2], dtype=np.float32),
                "pole": gym.spaces.Box(low[2:], high[2:], dtype=np.float32),
            }
        )

    def _observe(self, state: np.ndarray) -> dict[str, np.ndarray]:
        state = np.asarray(state, np.float32)
        return {"cart": state[:2].copy(), "pole": state[2:].copy()}
