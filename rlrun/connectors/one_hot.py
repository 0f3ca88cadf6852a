"""One-hot encoding of Discrete observation leaves (the `one_hot` piece).

The model catalog one-hot-encodes Discrete observations itself, so this piece is no longer in
the default pipeline; it is for pieces after it that want vectors (e.g. a filter or a user's).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlrun.connectors.connector import (
    Connector,
    is_action_mask,
    map_obs_with_paths,
    map_space_with_paths,
    space_leaves,
)
from rlrun.core.tree import Tree


class OneHotObservations(Connector):
    """Every Discrete leaf (a bare Discrete observation, or one inside a Dict/Tuple) becomes a
    float32 one-hot Box [n]. `n`/`start` describe a bare Discrete observation for use outside a
    pipeline; `setup` reads them from the space instead."""

    def __init__(self, n: int | None = None, start: int = 0) -> None:
        # leaf path -> (identity matrix, start); "" is a bare Discrete observation.
        self._eyes: dict[str, tuple[np.ndarray, int]] = {}
        if n is not None:
            self._eyes[""] = (np.eye(int(n), dtype=np.float32), int(start))

    def setup(self, input_observation_space: gym.Space, action_space: gym.Space | None) -> None:
        super().setup(input_observation_space, action_space)
        self._eyes = {
            path: (np.eye(int(s.n), dtype=np.float32), int(s.start))
            for path, s in space_leaves(input_observation_space)
            if _encoded(path, s)
        }
        if not self._eyes:
            raise ValueError("it has no Discrete leaf to one-hot encode")

    def observation_space(self, space: gym.Space) -> gym.Space:
        def out(path: str, leaf: gym.Space) -> gym.Space:
            if not _encoded(path, leaf):
                return leaf
            return gym.spaces.Box(0.0, 1.0, (int(leaf.n),), np.float32)

        return map_space_with_paths(out, space)

    def __call__(
        self,
        obs: Tree,
        update: bool = True,
        starts: np.ndarray | None = None,
        actions: np.ndarray | None = None,
        rewards: np.ndarray | None = None,
    ) -> Tree:
        return map_obs_with_paths(self._encode, obs)

    def _encode(self, path: str, x: np.ndarray) -> np.ndarray:
        if path not in self._eyes:
            return x
        eye, start = self._eyes[path]
        return eye[np.asarray(x, np.int64).reshape(-1) - start]


def _encoded(path: str, space: gym.Space) -> bool:
    return isinstance(space, gym.spaces.Discrete) and not is_action_mask(path)
