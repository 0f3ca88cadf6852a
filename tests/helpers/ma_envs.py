"""Tiny multi-agent envs for tests (RLlib's MultiAgentEnv protocol, no Ray needed)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from rlrun.env.multi_agent.example_envs import TurnBasedGuess


class MixedSpacesEnv:
    """Two agents, "left" and "right", whose observation spaces differ (Box(2,) and Box(3,));
    both act every step, each gets reward 1.0; the episode lasts 4 steps."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.possible_agents = ["left", "right"]
        self.observation_spaces = {
            "left": gym.spaces.Box(-1.0, 1.0, (2,), np.float32),
            "right": gym.spaces.Box(-1.0, 1.0, (3,), np.float32),
        }
        self.action_spaces = dict.fromkeys(self.possible_agents, gym.spaces.Discrete(2))
        self._t = 0

    def _obs(self) -> dict[str, np.ndarray]:
        return {a: np.zeros(s.shape, np.float32) for a, s in self.observation_spaces.items()}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._t = 0
        return self._obs(), {}

    def step(self, actions: dict[str, Any]):
        self._t += 1
        done = self._t >= 4
        flags = dict.fromkeys(self.possible_agents, done)
        return (
            self._obs(),
            dict.fromkeys(self.possible_agents, 1.0),
            {**flags, "__all__": done},
            {"__all__": False},
            {},
        )


class RecordingTurnBasedGuess(TurnBasedGuess):
    """TurnBasedGuess that sums, over its whole life, the rewards paid to agents that had
    already acted in the current episode (`paid_after_first_act`) and all rewards (`paid`)."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        self.paid = 0.0
        self.paid_after_first_act = 0.0
        self._acted: set[str] = set()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._acted = set()
        return super().reset(seed=seed, options=options)

    def step(self, actions: dict[str, Any]):
        self._acted |= set(actions)
        out = super().step(actions)
        for agent, r in out[1].items():
            self.paid += r
            if agent in self._acted:
                self.paid_after_first_act += r
        return out
