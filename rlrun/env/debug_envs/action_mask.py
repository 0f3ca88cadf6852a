"""ActionMaskEnv: Discrete actions of which a random subset is legal on each step, for action
masking."""

from __future__ import annotations

from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np


class ActionMaskEnv(gym.Env):
    """Discrete(n) actions of which a random subset (at least one) is legal on each step.

    Observation (RLlib's keys): {"action_mask": Box(0, 1, (n,), int8), "observations": one-hot
    of a target action, Box(0, 1, (n,), float32)}; with `pettingzoo_names=True` the second key
    is "observation", as PettingZoo names it. A legal action earns 1.0 if no legal action is
    closer to the target (|a - target|), else 0.1; an illegal one earns `illegal_reward` and ends
    the episode. The target and mask are redrawn every step; episodes last `episode_len` steps.

    Logits that fall off with the distance from the target, masked, pick the closest legal
    action, so a masked agent learns it from the one-hot alone. With the defaults: oracle 10,
    masked random about 5.7, unmasked random about -9.6. `info["illegal_actions"]` counts this
    episode's illegal actions.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    reward_threshold: ClassVar[float] = 9.0

    def __init__(
        self,
        num_actions: int = 5,
        episode_len: int = 10,
        p_legal: float = 0.5,
        illegal_reward: float = -10.0,
        pettingzoo_names: bool = False,
    ) -> None:
        if num_actions < 2 or episode_len < 1 or not 0 < p_legal <= 1:
            raise ValueError(
                "ActionMaskEnv: needs num_actions >= 2, episode_len >= 1 and 0 < p_legal <= 1; "
                f"got {num_actions}, {episode_len}, {p_legal}"
            )
        self.num_actions = int(num_actions)
        self.episode_len = int(episode_len)
        self.p_legal = float(p_legal)
        self.illegal_reward = float(illegal_reward)
        self.obs_key = "observation" if pettingzoo_names else "observations"
        n = self.num_actions
        self.observation_space = gym.spaces.Dict(
            {
                "action_mask": gym.spaces.Box(0, 1, (n,), np.int8),
                self.obs_key: gym.spaces.Box(0.0, 1.0, (n,), np.float32),
            }
        )
        self.action_space = gym.spaces.Discrete(n)
        self._mask = np.ones(n, bool)
        self._target = 0
        self._steps = 0
        self._illegal = 0

    def _draw(self) -> dict[str, np.ndarray]:
        """A new target and mask; the observation that shows them."""
        n = self.num_actions
        self._target = int(self.np_random.integers(n))
        self._mask = self.np_random.random(n) < self.p_legal
        if not self._mask.any():
            self._mask[self.np_random.integers(n)] = True
        one_hot = np.zeros(n, np.float32)
        one_hot[self._target] = 1.0
        return {"action_mask": self._mask.astype(np.int8), self.obs_key: one_hot}

    def best_actions(self) -> np.ndarray:
        """The legal actions closest to the target now: what an oracle plays."""
        legal = np.flatnonzero(self._mask)
        dist = np.abs(legal - self._target)
        return legal[dist == dist.min()]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        self._steps = 0
        self._illegal = 0
        return self._draw(), {"illegal_actions": 0}

    def step(
        self, action: Any
    ) -> tuple[dict[str, np.ndarray], SupportsFloat, bool, bool, dict[str, Any]]:
        a = int(action)
        self._steps += 1
        if not self._mask[a]:
            self._illegal += 1
            return (
                self._draw(),
                self.illegal_reward,
                True,
                False,
                {"illegal_actions": self._illegal},
            )
        reward = 1.0 if a in self.best_actions() else 0.1
        # A fixed horizon is part of the task (not a time limit), hence terminated.
        done = self._steps >= self.episode_len
        return self._draw(), reward, done, False, {"illegal_actions": self._illegal}
