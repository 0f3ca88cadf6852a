"""Running mean/std observation normalization (RLlib's MeanStdFilter), leaf by leaf."""

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
from rlrun.core.tree import Tree, flatten_with_paths

STATS = ("count", "mean", "m2")


class MeanStdFilter(Connector):
    """Normalizes the float Box leaves of an observation by running statistics, then clips to
    +-`clip`. Integer leaves (images, Discrete, MultiBinary) and action masks pass untouched.

    Statistics use Chan et al.'s parallel update, so two filters' states can be merged exactly
    (what remote runners need to agree on one normalization). Besides its full statistics the
    filter keeps those of the observations seen since the last `pop_delta()`: a remote runner
    ships only that delta, the driver merges every runner's delta into its own filter and
    broadcasts the result, so each observation is counted once.

    State keys are "count", "mean", "m2" for a bare Box observation and "<leaf path>/mean" etc.
    for a tree. `shape` builds a one-leaf filter without `setup` (for use outside a pipeline);
    `setup` replaces it with one set of statistics per float leaf of the space.
    """

    def __init__(
        self, shape: tuple[int, ...] | None = None, clip: float = 10.0, eps: float = 1e-8
    ) -> None:
        if not clip > 0:
            raise ValueError(f"clip must be > 0, got {clip}")
        self.clip = float(clip)
        self.eps = eps
        # Per filtered leaf path ("" for a bare array): statistics, and the batches seen since
        # the last pop_delta().
        self._stats: dict[str, dict[str, np.ndarray]] = {}
        self._delta: dict[str, list[np.ndarray]] = {}
        self._ready = shape is not None  # which leaves to filter is known
        if shape is not None:
            self._add_leaf("", tuple(shape))

    def setup(self, input_observation_space: gym.Space, action_space: gym.Space | None) -> None:
        super().setup(input_observation_space, action_space)
        self._stats, self._delta, self._ready = {}, {}, True
        for path, space in space_leaves(input_observation_space):
            if _filtered(path, space):
                self._add_leaf(path, tuple(space.shape))

    def observation_space(self, space: gym.Space) -> gym.Space:
        def out(path: str, leaf: gym.Space) -> gym.Space:
            if not _filtered(path, leaf):
                return leaf
            return gym.spaces.Box(-self.clip, self.clip, leaf.shape, np.float32)

        return map_space_with_paths(out, space)

    def __call__(
        self,
        obs: Tree,
        update: bool = True,
        starts: np.ndarray | None = None,
        actions: np.ndarray | None = None,
        rewards: np.ndarray | None = None,
    ) -> Tree:
        if not self._ready:  # used without setup: filter every float leaf of the first batch
            self._ready = True
            for path, x in flatten_with_paths(obs):
                if np.issubdtype(np.asarray(x).dtype, np.floating) and not is_action_mask(path):
                    self._add_leaf(path, tuple(np.shape(x)[1:]))
        if update:
            self.update(obs)
        return map_obs_with_paths(self._normalize, obs)

    def _normalize(self, path: str, x: np.ndarray) -> np.ndarray:
        stats = self._stats.get(path)
        if stats is None:
            return x
        std = np.sqrt(stats["m2"] / max(float(stats["count"]), 1.0)) + self.eps
        return np.clip((x - stats["mean"]) / std, -self.clip, self.clip).astype(np.float32)

    def update(self, batch: Tree) -> None:
        """Learn from a batch of observations (the leading axis is the batch)."""
        for path, x in flatten_with_paths(batch):
            if path in self._stats:
                x = np.asarray(x, np.float64)
                n = x.shape[0]
                self.merge(n, x.mean(axis=0), x.var(axis=0) * n, path)
                self._delta[path].append(x)

    def merge(self, n: float, mean: np.ndarray, m2: np.ndarray, path: str = "") -> None:
        """Fold the statistics of `n` observations of one leaf into the filter's."""
        if n <= 0:
            return
        s = self._stats[path]
        total = s["count"] + n
        delta = mean - s["mean"]
        s["mean"] = s["mean"] + delta * (n / total)
        s["m2"] = s["m2"] + m2 + delta**2 * (s["count"] * n / total)
        s["count"] = np.asarray(total, np.float64)

    # The statistics of a bare-array observation (the one-leaf filter), by their old names.
    @property
    def count(self) -> np.ndarray:
        return self._stats[""]["count"]

    @property
    def mean(self) -> np.ndarray:
        return self._stats[""]["mean"]

    @property
    def m2(self) -> np.ndarray:
        return self._stats[""]["m2"]

    def pop_delta(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for path, batches in self._delta.items():
            if not batches:
                continue
            # One pass over the stacked batches is exact and cheaper than merging batch by batch.
            seen = np.concatenate(batches)
            n = seen.shape[0]
            out[_key(path, "count")] = np.asarray(float(n))
            out[_key(path, "mean")] = seen.mean(axis=0)
            out[_key(path, "m2")] = seen.var(axis=0) * n
        self._delta = {path: [] for path in self._stats}
        return out

    def merge_delta(self, delta: dict[str, np.ndarray]) -> None:
        for path in self._stats:
            if _key(path, "count") in delta:
                n, mean, m2 = (np.asarray(delta[_key(path, s)]) for s in STATS)
                self.merge(float(n), mean, m2, path)

    def get_state(self) -> dict[str, np.ndarray]:
        return {_key(p, k): v.copy() for p, stats in self._stats.items() for k, v in stats.items()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self._delta = {path: [] for path in self._stats}
        for path, stats in self._stats.items():
            if _key(path, "count") not in state:
                continue  # an empty state (a fresh run), or a leaf the state does not know
            stats["count"] = np.array(state[_key(path, "count")], np.float64).reshape(())
            stats["mean"] = np.array(state[_key(path, "mean")], np.float64)
            stats["m2"] = np.array(state[_key(path, "m2")], np.float64)

    def _add_leaf(self, path: str, shape: tuple[int, ...]) -> None:
        self._stats[path] = {
            "count": np.zeros((), np.float64),
            "mean": np.zeros(shape, np.float64),
            "m2": np.zeros(shape, np.float64),
        }
        self._delta[path] = []


def _filtered(path: str, space: gym.Space) -> bool:
    """Float Box leaves only: integer boxes are images or counts, masks must stay 0/1."""
    return (
        isinstance(space, gym.spaces.Box)
        and np.issubdtype(space.dtype, np.floating)
        and not is_action_mask(path)
    )


def _key(path: str, stat: str) -> str:
    return f"{path}/{stat}" if path else stat
