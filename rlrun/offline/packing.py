"""Episodes -> time-major Rollouts, laid out exactly as a NEXT_STEP-autoresetting vector env's
sampled fragments are (rlrun/env/env_runner.py `sample()`, rlrun/connectors/learner/gae.py).

Each column holds whole episodes back to back. After an episode's L rows (the last one
terminated or truncated) comes its autoreset row: the final observation, reward 0, neither
flag, `mask` False, so the row before it bootstraps a truncated episode from the final
observation and nothing propagates across the episode end. Columns are padded at the end with
masked rows that repeat the column's final observation (a harmless network input), and each
column's `bootstrap_obs` is that observation too.
"""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np

from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.core.episode import Episode
from rlrun.env.rollout import Rollout


def episodes_to_rollouts(episodes: list[Episode], num_columns: int) -> list[Rollout]:
    """The episodes in one Rollout of at most `num_columns` columns (fewer when there are
    fewer episodes; none for no episodes). Each episode goes to the column with the fewest rows
    so far (ties: the lowest index), so columns come out about equally long and each column
    keeps its episodes in their given order. Module id: `episode.module_id` when all episodes
    agree on one, else the default module."""
    episodes = [ep for ep in episodes if len(ep)]  # a step-less episode has no row
    if not episodes:
        return []
    if num_columns < 1:
        raise ValueError(f"num_columns must be >= 1, got {num_columns}")
    n = min(int(num_columns), len(episodes))
    columns = _assign(episodes, n)
    T = max(sum(len(ep) + 1 for ep in col) for col in columns)
    first = episodes[0]
    obs = tree.map_structure(lambda x: np.zeros((T, n, *x.shape[1:]), x.dtype), first.observations)
    actions = np.zeros((T, n, *first.actions.shape[1:]), first.actions.dtype)
    rewards = np.zeros((T, n), np.float32)
    terminateds = np.zeros((T, n), bool)
    truncateds = np.zeros((T, n), bool)
    mask = np.zeros((T, n), bool)
    for j, col in enumerate(columns):
        t = 0
        for ep in col:
            L = len(ep)
            # L steps and the autoreset row, which shows the final observation.
            tree.assign(obs, (slice(t, t + L + 1), j), ep.observations)
            actions[t : t + L, j] = ep.actions
            rewards[t : t + L, j] = ep.rewards
            terminateds[t + L - 1, j] = ep.is_terminated
            truncateds[t + L - 1, j] = ep.is_truncated
            mask[t : t + L, j] = True
            t += L + 1
        # Padding repeats the final observation; the bootstrap observation is that one too.
        final = tree.index(col[-1].observations, -1)
        tree.assign(obs, (slice(t, T), j), final)
    bootstrap = tree.map_structure(lambda x: x[T - 1].copy(), obs)
    module_ids = {ep.module_id for ep in episodes}
    module_id = module_ids.pop() if len(module_ids) == 1 else None
    data: dict[str, Any] = {
        C.OBS: obs,
        C.ACTIONS: actions,
        C.REWARDS: rewards,
        C.TERMINATEDS: terminateds,
        C.TRUNCATEDS: truncateds,
        C.MASK: mask,
    }
    return [
        Rollout(
            data,
            bootstrap_obs=bootstrap,
            module_id=module_id or C.DEFAULT_MODULE_ID,
            episode_returns=[ep.get_return() for ep in episodes],
            episode_lengths=[len(ep) for ep in episodes],
            fresh=True,
        )
    ]


def _assign(episodes: list[Episode], n: int) -> list[list[Episode]]:
    """Episodes dealt to `n` columns, each to the shortest column so far."""
    heap = [(0, j) for j in range(n)]
    columns: list[list[Episode]] = [[] for _ in range(n)]
    for ep in episodes:
        rows, j = heapq.heappop(heap)
        columns[j].append(ep)
        heapq.heappush(heap, (rows + len(ep) + 1, j))
    return columns
