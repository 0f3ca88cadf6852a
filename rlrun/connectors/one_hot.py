"""One-hot encoding of Discrete observations, so the MLP sees a vector (FrozenLake, Taxi, ...)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlrun.connectors.connector import Connector


class OneHotObservations(Connector):
    def __init__(self, n: int, start: int = 0) -> None:
        self.n = n
        self.start = start
        self._eye = np.eye(n, dtype=np.float32)

    def __call__(self, obs: np.ndarray, update: bool = True) -> np.ndarray:
        return self._eye[np.asarray(obs, np.int64).reshape(-1) - self.start]

    def observation_space(self, space: gym.Space) -> gym.Space:
        return gym.spaces.Box(0.0, 1.0, (self.n,), np.float32)
