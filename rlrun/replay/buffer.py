"""A numpy replay buffer of transitions for off-policy learners (DQN, SAC).

Transitions are kept per "column", one column per sub-env stream, each its own ring in time
order. That makes n-step returns a look at the next slots of the same column instead of a
search for episode boundaries in interleaved data, and it is why the buffer takes Rollouts
(time-major, with autoreset rows) rather than loose transitions.

Layout: every array is [num_columns, slots_per_column, ...] (slots = capacity // num_columns);
a transition's flat index is column * slots_per_column + slot, the index space of the sum tree
and of `update_priorities`. Within a column, slot head-1 holds the newest transition and the
ring runs forward from the oldest to it, so a window that starts on any stored slot and moves
forward reaches the newest before it could wrap into old data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.env.rollout import Rollout
from rlrun.replay.sum_tree import SumTree, last_write_wins


class ReplayBuffer:
    """Uniform or prioritized (P(i) ∝ p_i^alpha) replay with n-step targets."""

    def __init__(
        self,
        capacity: int,
        num_columns: int,
        obs_shape: tuple[int, ...] | None = None,
        obs_dtype: np.dtype | type = np.float32,
        action_shape: tuple[int, ...] = (),
        action_dtype: np.dtype | type = np.int64,
        prioritized: bool = False,
        alpha: float = 0.6,
        eps: float = 1e-6,
        seed: int | None = None,
        obs_space: Any = None,
    ) -> None:
        """Observations are laid out from `obs_space` (a tree for Dict/Tuple spaces, each leaf
        in its own dtype: images stay uint8), or as one `obs_shape` array of `obs_dtype`."""
        if num_columns < 1:
            raise ValueError(f"ReplayBuffer needs num_columns >= 1, got {num_columns}")
        slots = int(capacity) // int(num_columns)
        if slots < 1:
            raise ValueError(
                f"replay.capacity={capacity} is smaller than the number of sub-env streams "
                f"({num_columns}): every stream needs at least one slot"
            )
        self.num_columns, self.slots_per_column = int(num_columns), slots
        self.action_shape = tuple(action_shape)
        self.prioritized, self.alpha, self.eps = bool(prioritized), float(alpha), float(eps)
        cols = self.num_columns
        if obs_space is not None:
            obs_arrays = tree.alloc(obs_space, (cols, slots), fill=0)
        else:
            obs_arrays = np.zeros((cols, slots, *tuple(obs_shape or ())), obs_dtype)
        # Each observation leaf is stored flat under its path ("obs", "obs/camera", ...), which
        # is also its name in the npz state; `_obs_keys` puts the tree back together.
        self._obs_keys = _key_tree(obs_arrays, "obs")
        self.obs_shape = {k: v.shape[2:] for k, v in tree.flatten_with_paths(obs_arrays, "obs")}
        self._data: dict[str, np.ndarray] = {}
        for prefix in ("obs", "next_obs"):
            for path, leaf in tree.flatten_with_paths(obs_arrays, prefix):
                self._data[path] = leaf if prefix == "obs" else leaf.copy()
        self._data.update({
            "actions": np.zeros((cols, slots, *self.action_shape), action_dtype),
            "rewards": np.zeros((cols, slots), np.float32),
            "terminateds": np.zeros((cols, slots), bool),
            "truncateds": np.zeros((cols, slots), bool),
        })  # fmt: skip
        # Flat views (no copies) for gathers by flat index; set_state writes in place to keep them.
        self._flat = {k: v.reshape(cols * slots, *v.shape[2:]) for k, v in self._data.items()}
        self._heads = np.zeros(cols, np.int64)  # next slot to write, per column
        self._sizes = np.zeros(cols, np.int64)
        self._max_priority = 1.0
        # Raw priorities (|td| + eps) beside the tree's p^alpha: a checkpoint stays valid if
        # alpha changes between runs.
        self._priorities = np.zeros(cols * slots, np.float64)
        self._tree = SumTree(cols * slots) if self.prioritized else None
        self._rng = np.random.default_rng(seed)

    @property
    def capacity(self) -> int:
        return self.num_columns * self.slots_per_column

    def __len__(self) -> int:
        return int(self._sizes.sum())

    def add(
        self,
        rollout: Rollout,
        column_offset: int = 0,
        fresh: bool = False,
        columns: np.ndarray | None = None,
    ) -> int:
        """Append the VALID rows of each sub-env n to column `column_offset + n`, or to
        `column_offset + columns[n]` (multi-agent streams; no column twice in one call).

        A row's next observation is the next row's OBS (an autoreset row's OBS is the finished
        episode's final observation), or `bootstrap_obs` after the last row. `fresh=True`: the
        rollout starts new episodes (a restarted runner), so each column's newest transition is
        marked truncated and no n-step window runs from the old stream into the new one.
        Returns the number of transitions added.
        """
        obs = rollout.data[C.OBS]
        n_envs = rollout.num_envs
        rel = np.arange(n_envs) if columns is None else np.asarray(columns, np.int64)
        if n_envs and (
            column_offset + rel.min() < 0 or column_offset + rel.max() >= self.num_columns
        ):
            raise ValueError(
                f"columns {column_offset + rel.min()}..{column_offset + rel.max()} are outside "
                f"the buffer's {self.num_columns} columns"
            )
        shapes = {k: v.shape[2:] for k, v in tree.flatten_with_paths(obs, "obs")}
        if shapes != self.obs_shape:
            raise ValueError(f"rollout obs shapes {shapes} != buffer's {self.obs_shape}")
        next_obs = tree.map_structure(
            lambda o, b: np.concatenate([o[1:], b[None]], axis=0), obs, rollout.bootstrap_obs
        )
        valid = np.asarray(rollout.data[C.VALID], bool)
        src = {
            **dict(tree.flatten_with_paths(obs, "obs")),
            **dict(tree.flatten_with_paths(next_obs, "next_obs")),
            "actions": rollout.data[C.ACTIONS],
            "rewards": rollout.data[C.REWARDS],
            "terminateds": rollout.data[C.TERMINATEDS],
            "truncateds": rollout.data[C.TRUNCATEDS],
        }
        slots_per_col = self.slots_per_column
        cols = column_offset + rel
        if fresh:
            started = cols[self._sizes[cols] > 0]
            self._data["truncateds"][started, (self._heads[started] - 1) % slots_per_col] = True
        # All columns in one scatter: the valid row of rank r in column c (r-th of that column,
        # in time order) goes to slot head_c + r, as appends one by one would put it. Rows that
        # a longer-than-the-ring rollout would overwrite within this call are skipped.
        counts = valid.sum(axis=0)
        rank = np.cumsum(valid, axis=0) - 1
        t, n = np.nonzero(valid & (rank >= (counts - slots_per_col)[None, :]))
        col = column_offset + rel[n]
        slots = (self._heads[col] + rank[t, n]) % slots_per_col
        for key, arr in src.items():
            self._data[key][col, slots] = arr[t, n]
        self._heads[cols] = (self._heads[cols] + counts) % slots_per_col
        self._sizes[cols] = np.minimum(slots_per_col, self._sizes[cols] + counts)
        if self.prioritized and t.size:
            self._set_priorities(col * slots_per_col + slots, self._max_priority)
        return int(counts.sum())

    def sample(
        self, batch_size: int, n_step: int = 1, gamma: float = 0.99, beta: float = 0.4
    ) -> dict[str, np.ndarray]:
        """`batch_size` transitions with n-step targets.

        The window from transition t takes t, t+1, ... of the same column and stops after the
        first terminated or truncated one, after the column's newest one (what follows has not
        arrived yet: bootstrap there), or after `n_step`. "rewards" is sum_k gamma^k r_{t+k},
        "next_obs" the last used transition's next_obs, "terminateds" whether that one
        terminated (then no bootstrap), "discounts" gamma ** steps used (the bootstrap's factor).
        """
        if len(self) == 0:
            raise ValueError("sample() from an empty ReplayBuffer")
        if n_step < 1:
            raise ValueError(f"n_step must be >= 1, got {n_step}")
        idx, weights = self._draw(int(batch_size), float(beta))
        slots_per_col = self.slots_per_column
        col, slot = np.divmod(idx, slots_per_col)
        newest = (self._heads[col] - 1) % slots_per_col
        flat = self._flat
        rew, term, trunc = flat["rewards"], flat["terminateds"], flat["truncateds"]
        base = idx - slot
        ret = rew[idx].astype(np.float64)
        last = idx.copy()
        steps = np.ones(idx.shape, np.int64)
        cur_slot = slot.copy()
        active = ~(term[idx] | trunc[idx] | (slot == newest))
        for k in range(1, n_step):
            cur_slot += 1
            cur_slot[cur_slot == slots_per_col] = 0
            cur = base + cur_slot
            ret += (gamma**k) * (rew[cur] * active)
            np.copyto(last, cur, where=active)
            steps += active
            if k + 1 < n_step:  # the last step's stop flags would decide nothing
                active &= ~(term[cur] | trunc[cur] | (cur_slot == newest))
        return {
            "obs": tree.map_structure(lambda k: flat[k][idx], self._obs_keys),
            "actions": flat["actions"][idx],
            "rewards": ret.astype(np.float32),
            "next_obs": tree.map_structure(lambda k: flat["next_" + k][last], self._obs_keys),
            "terminateds": term[last].copy(),
            "discounts": (float(gamma) ** steps).astype(np.float32),
            "weights": weights,
            "indices": idx,
        }

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """p = |td| + eps for the sampled `indices` (a no-op for a uniform buffer).

        An index whose slot was overwritten since it was sampled gets the old transition's
        priority; it is replayed (and corrected) soon enough that tracking it isn't worth it.
        """
        if not self.prioritized:
            return
        idx = np.asarray(indices, np.int64).ravel()
        col, slot = np.divmod(idx, self.slots_per_column)
        # An empty slot given a priority would be sampled: catch indices from elsewhere.
        if idx.size and (
            idx.min() < 0 or idx.max() >= self.capacity or np.any(slot >= self._sizes[col])
        ):
            raise IndexError("update_priorities got indices of slots that hold no transition")
        pri = np.abs(np.asarray(td_errors, np.float64)).ravel() + self.eps
        if pri.size:
            self._max_priority = max(self._max_priority, float(pri.max()))
        self._set_priorities(idx, pri)

    def _set_priorities(self, indices: np.ndarray, priorities: np.ndarray | float) -> None:
        assert self._tree is not None
        idx, pri = last_write_wins(indices, np.asarray(priorities, np.float64))
        self._priorities[idx] = pri
        self._tree.update(idx, self._leaf(pri))

    def _leaf(self, priorities: np.ndarray) -> np.ndarray:
        # p^alpha, but an empty slot stays 0 even for alpha = 0 (where 0**0 would be 1).
        return np.where(priorities > 0, priorities**self.alpha, 0.0)

    def _draw(self, batch_size: int, beta: float) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices and importance weights (N * P(i))^-beta / max_j (N * P(j))^-beta."""
        if self._tree is not None:
            idx = self._tree.find_prefix(self._rng.random(batch_size) * self._tree.total)
            # N and the total cancel in the ratio: (P(i) / P_min)^-beta = (p_i / p_min)^-beta.
            weights = (self._tree[idx] / self._tree.min) ** -beta
            return idx, weights.astype(np.float32)
        # Uniform over stored transitions: column c holds slots 0..size_c-1 (full rings hold all).
        u = self._rng.integers(0, len(self), batch_size)
        ends = np.cumsum(self._sizes)
        col = np.searchsorted(ends, u, side="right")
        slot = u - (ends[col] - self._sizes[col])
        return col * self.slots_per_column + slot, np.ones(batch_size, np.float32)

    def get_state(self) -> dict[str, np.ndarray]:
        """Every array (views, not copies: write or copy them before the next add) plus the
        ring heads, sizes, max priority, raw priorities and the RNG state (as JSON text)."""
        state = dict(self._data)
        state["heads"] = self._heads.copy()
        state["sizes"] = self._sizes.copy()
        state["max_priority"] = np.array(self._max_priority)
        if self.prioritized:  # a uniform buffer's are all 0: loading them would starve sampling
            state["priorities"] = self._priorities.copy()
        state["rng_state"] = np.array(json.dumps(self._rng.bit_generator.state))
        return state

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore `get_state()`'s output; ValueError (before changing anything) when it was
        saved by a buffer of another shape."""
        expected = {k: v.shape for k, v in self._data.items()}
        expected.update(heads=(self.num_columns,), sizes=(self.num_columns,))
        for key, shape in expected.items():
            if key not in state:
                raise ValueError(f"replay buffer state lacks '{key}'")
            got = np.shape(state[key])
            if got != shape:
                raise ValueError(
                    f"replay buffer state '{key}' has shape {got}, this buffer expects {shape} "
                    f"(capacity {self.capacity} = {self.num_columns} columns x "
                    f"{self.slots_per_column} slots, obs {self.obs_shape}, "
                    f"actions {self.action_shape}): was replay.capacity, the number of env "
                    "runners/envs or the env changed?"
                )
        heads, sizes = np.asarray(state["heads"], np.int64), np.asarray(state["sizes"], np.int64)
        if heads.min() < 0 or heads.max() >= self.slots_per_column or sizes.min() < 0:
            raise ValueError("replay buffer state has ring heads out of range")
        if sizes.max() > self.slots_per_column:
            raise ValueError("replay buffer state has column sizes above slots_per_column")
        if "priorities" in state and np.shape(state["priorities"]) != (self.capacity,):
            raise ValueError(
                f"replay buffer state 'priorities' has shape {np.shape(state['priorities'])}, "
                f"expected ({self.capacity},)"
            )
        for key in self._data:
            self._data[key][...] = state[key]  # in place: the flat views stay valid
        self._heads[:], self._sizes[:] = heads, sizes
        self._max_priority = float(state.get("max_priority", 1.0))
        stored = np.arange(self.slots_per_column)[None, :] < sizes[:, None]
        if "priorities" in state:
            self._priorities[:] = np.where(stored.ravel(), state["priorities"], 0.0)
        else:  # saved by a uniform buffer: every stored transition starts at the max priority
            self._priorities[:] = np.where(stored.ravel(), self._max_priority, 0.0)
        if self._tree is not None:
            self._tree.set_state(self._leaf(self._priorities))
        if "rng_state" in state:
            self._rng.bit_generator.state = json.loads(str(state["rng_state"]))

    def save(self, path: str | Path) -> None:
        # Through a file object so numpy writes exactly `path` (it appends .npz to bare names).
        with open(path, "wb") as f:
            np.savez(f, **self.get_state())

    def load(self, path: str | Path) -> None:
        with np.load(path, allow_pickle=False) as npz:
            self.set_state({k: npz[k] for k in npz.files})


def _key_tree(arrays: Any, prefix: str) -> Any:
    """The tree of `arrays` with each leaf replaced by its flat storage key."""
    keys = iter(path for path, _ in tree.flatten_with_paths(arrays, prefix))
    return tree.map_structure(lambda _: next(keys), arrays)
