"""The `flatten_observations` piece: any observation tree -> one float32 vector per sub-env."""

from __future__ import annotations

from collections import OrderedDict

import gymnasium as gym
import numpy as np

from rlrun.connectors.connector import ACTION_MASK_KEY, Connector, is_action_mask, space_leaves
from rlrun.core import columns as C
from rlrun.core.tree import Tree, flatten_with_paths


class FlattenObservations(Connector):
    """Flattens a Dict/Tuple (or Discrete, MultiDiscrete, MultiBinary, Box) observation into one
    float32 Box vector: Discrete and MultiDiscrete leaves one-hot, MultiBinary and Box leaves
    flattened as floats, concatenated in leaf order (Dict keys in the space's order).

    An action mask is not flattened (the model needs it as it is): with one, the output is a
    Dict {"obs": the vector, "action_mask": the mask}.
    """

    def __init__(self) -> None:
        self._parts: list[tuple[str, gym.Space]] = []  # the flattened leaves, in order
        self._mask: tuple[str, gym.Space] | None = None  # (path, space) of an action mask

    def setup(self, input_observation_space: gym.Space, action_space: gym.Space | None) -> None:
        super().setup(input_observation_space, action_space)
        leaves = space_leaves(input_observation_space)
        masks = [(p, s) for p, s in leaves if is_action_mask(p)]
        if len(masks) > 1:
            raise ValueError(f"it has {len(masks)} action masks ({', '.join(p for p, _ in masks)})")
        self._mask = masks[0] if masks else None
        self._parts = [(p, s) for p, s in leaves if not is_action_mask(p)]
        if not self._parts:
            raise ValueError("it holds nothing to flatten besides the action mask")
        for p, s in self._parts:
            _bounds(p, s)  # raises for a leaf that cannot be flattened

    def observation_space(self, space: gym.Space) -> gym.Space:
        leaves = [(p, s) for p, s in space_leaves(space) if not is_action_mask(p)]
        bounds = [_bounds(p, s) for p, s in leaves]
        low = np.concatenate([lo for lo, _ in bounds]).astype(np.float32)
        high = np.concatenate([hi for _, hi in bounds]).astype(np.float32)
        flat = gym.spaces.Box(low, high, dtype=np.float32)
        masks = [s for p, s in space_leaves(space) if is_action_mask(p)]
        if not masks:
            return flat
        return gym.spaces.Dict(OrderedDict([(C.OBS, flat), (ACTION_MASK_KEY, masks[0])]))

    def __call__(
        self,
        obs: Tree,
        update: bool = True,
        starts: np.ndarray | None = None,
        actions: np.ndarray | None = None,
        rewards: np.ndarray | None = None,
    ) -> Tree:
        if not self._parts:
            raise RuntimeError("FlattenObservations.setup() must be called before the first batch")
        by_path = dict(flatten_with_paths(obs))
        flat = np.concatenate([_encode(s, np.asarray(by_path[p])) for p, s in self._parts], axis=1)
        if self._mask is None:
            return flat
        return {C.OBS: flat, ACTION_MASK_KEY: by_path[self._mask[0]]}


def _encode(space: gym.Space, x: np.ndarray) -> np.ndarray:
    """[N, size] float32 for one leaf batch."""
    n = x.shape[0]
    if isinstance(space, gym.spaces.Discrete):
        return np.eye(int(space.n), dtype=np.float32)[x.astype(np.int64).reshape(n) - space.start]
    if isinstance(space, gym.spaces.MultiDiscrete):
        idx = x.astype(np.int64).reshape(n, -1) - space.start.reshape(1, -1)
        nvec = space.nvec.ravel()
        return np.concatenate(
            [np.eye(int(m), dtype=np.float32)[idx[:, j]] for j, m in enumerate(nvec)], axis=1
        )
    return x.reshape(n, -1).astype(np.float32)


def _bounds(path: str, space: gym.Space) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of a leaf's flattened encoding."""
    if isinstance(space, gym.spaces.Discrete):
        size = int(space.n)
    elif isinstance(space, gym.spaces.MultiDiscrete):
        size = int(np.sum(space.nvec))
    elif isinstance(space, gym.spaces.MultiBinary):
        size = int(np.prod(space.shape))
    elif isinstance(space, gym.spaces.Box):
        return space.low.ravel().astype(np.float64), space.high.ravel().astype(np.float64)
    else:
        raise ValueError(f"its leaf '{path or 'obs'}' ({space}) cannot be flattened")
    return np.zeros(size), np.ones(size)
