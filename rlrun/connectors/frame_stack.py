"""The `frame_stack` piece: each sub-env's last k observations, stacked (DeepMind-style)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlrun.connectors.connector import (
    Connector,
    episode_starts,
    is_action_mask,
    map_obs_with_paths,
    map_space_with_paths,
    space_leaves,
)
from rlrun.core.tree import Tree, lead_size


class FrameStack(Connector):
    """Stacks the last `num_frames` observations of each sub-env, oldest first.

    An image (a rank-3 Box, HWC) is stacked on its channel axis: [H, W, k*C]; any other Box
    gets a new leading axis: [k, ...]. The dtype is kept (uint8 images stay uint8). In a
    Dict/Tuple observation every Box leaf is stacked except an action mask; other leaves pass
    through. At an episode start the history is filled with copies of the first observation.
    The history is per-episode state: not saved, rebuilt when episodes restart.
    """

    def __init__(self, num_frames: int = 4) -> None:
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f"num_frames must be an integer >= 1, got {num_frames!r}")
        self.num_frames = num_frames
        self._leaves: dict[str, gym.spaces.Box] = {}  # the stacked leaves, by path
        self._history: dict[str, np.ndarray] = {}  # path -> [N, k, *leaf shape]
        self._num_envs: int | None = None

    def setup(self, input_observation_space: gym.Space, action_space: gym.Space | None) -> None:
        super().setup(input_observation_space, action_space)
        self._leaves = {p: s for p, s in space_leaves(input_observation_space) if _stacked(p, s)}
        if not self._leaves:
            raise ValueError(
                "it has no Box leaf to stack (for Discrete observations put one_hot or "
                "flatten_observations before frame_stack)"
            )
        self._history, self._num_envs = {}, None

    def observation_space(self, space: gym.Space) -> gym.Space:
        k = self.num_frames

        def out(path: str, leaf: gym.Space) -> gym.Space:
            if not _stacked(path, leaf):
                return leaf
            if _is_image(leaf):
                low = np.concatenate([leaf.low] * k, axis=-1)
                high = np.concatenate([leaf.high] * k, axis=-1)
            else:
                low, high = np.stack([leaf.low] * k), np.stack([leaf.high] * k)
            return gym.spaces.Box(low, high, dtype=leaf.dtype)

        return map_space_with_paths(out, space)

    def __call__(
        self,
        obs: Tree,
        update: bool = True,
        starts: np.ndarray | None = None,
        actions: np.ndarray | None = None,
        rewards: np.ndarray | None = None,
    ) -> Tree:
        if not self._leaves:
            raise RuntimeError("FrameStack.setup() must be called before the first batch")
        n = lead_size(obs)
        fresh = self._num_envs != n  # first call, or a new number of sub-envs: start over
        if fresh:
            self._num_envs = n
            self._history = {
                p: np.zeros((n, self.num_frames, *s.shape), s.dtype)
                for p, s in self._leaves.items()
            }
        restart = episode_starts(starts, n, fresh)
        return map_obs_with_paths(lambda p, x: self._push(p, x, restart), obs)

    def _push(self, path: str, x: np.ndarray, restart: np.ndarray) -> np.ndarray:
        history = self._history.get(path)
        if history is None:
            return x
        history[:, :-1] = history[:, 1:]  # numpy buffers overlapping copies
        history[:, -1] = x
        if restart.any():
            history[restart] = np.asarray(x)[restart][:, None]
        if _is_image(self._leaves[path]):
            n, k, h, w, c = history.shape
            return history.transpose(0, 2, 3, 1, 4).reshape(n, h, w, k * c)
        return history.copy()  # the caller may keep it; the history changes in place


def _stacked(path: str, space: gym.Space) -> bool:
    return isinstance(space, gym.spaces.Box) and not is_action_mask(path)


def _is_image(space: gym.Space) -> bool:
    return len(space.shape) == 3
