"""Cutting time-major Rollouts into finished episodes, in the driver (`output=DIR`).

An episode is a run of valid rows of one (runner, sub-env) column ending in a terminated or
truncated row; the row after it is the NEXT_STEP autoreset row (valid=False), whose observation is
the episode's final one (the fragment's `bootstrap_obs` when the episode ends on its last row).
Episodes that run past a fragment are kept open per (runner, sub-env) until a later fragment
finishes them. They come out as rlrun.core.episode.Episode in its finished (numpy) form, the form
the offline readers return. An episode cut off by a failure (a recreated sub-env, a restarted
runner) is not returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.core.episode import Episode
from rlrun.env.rollout import Rollout


@dataclass
class _Open:
    """The steps of an episode still running when its fragment ended."""

    obs: list[np.ndarray] = field(default_factory=list)
    actions: list[np.ndarray] = field(default_factory=list)
    rewards: list[np.ndarray] = field(default_factory=list)

    def extend(self, ro: Rollout, rows: slice, j: int) -> None:
        # Copies: a view would keep the whole [T, N] fragment alive for one sub-env's steps.
        self.obs.append(tree.map_structure(lambda x: x[rows, j].copy(), ro[C.OBS]))
        self.actions.append(ro[C.ACTIONS][rows, j].copy())
        self.rewards.append(ro[C.REWARDS][rows, j].copy())

    def finish(
        self, key: tuple[str, int, int], final_obs: np.ndarray, terminated: bool, truncated: bool
    ) -> Episode:
        return Episode(
            observations=tree.concat([*self.obs, tree.map_structure(lambda x: x[None], final_obs)]),
            actions=np.concatenate(self.actions),
            rewards=np.concatenate(self.rewards),
            is_terminated=bool(terminated),
            is_truncated=bool(truncated),
            env_index=key[2],
            runner_index=key[1],
            module_id=key[0],
        )


class EpisodeCutter:
    """Cuts Rollouts into finished episodes, keeping unfinished ones between calls."""

    def __init__(self) -> None:
        # (module id, runner, column): a column is a sub-env, or an agent's stream in one.
        self._open: dict[tuple[str, int, int], _Open] = {}

    @property
    def num_open(self) -> int:
        return len(self._open)

    def add(self, ro: Rollout) -> list[Episode]:
        """The episodes `ro` finishes, in the order its runner counted them (by step, then
        sub-env), so they line up with `ro.episode_returns`."""
        if ro.fresh:
            # A (re)started runner: what its predecessor left open will never finish.
            for key in [k for k in self._open if k[1] == ro.runner_index]:
                del self._open[key]
        # Multi-agent module parts front-pad shorter streams with masked rows: those do not
        # end the episode the stream carried over from the last fragment.
        padded = ro.columns is not None
        valid = ro[C.VALID]
        done = ro[C.TERMINATEDS] | ro[C.TRUNCATEDS]
        # A recreated sub-env's step is dropped (invalid) but flagged truncated; the episode
        # before it was cut off, not finished (rlrun.env.recreate).
        failed = ~valid & done
        T = ro.num_steps
        finished: list[tuple[int, int, Episode]] = []
        for j in range(ro.num_envs):
            column = j if ro.columns is None else int(ro.columns[j])
            key = (ro.module_id, ro.runner_index, column)
            current = self._open.pop(key, None)
            for k, (start, end) in enumerate(_valid_runs(valid[:, j])):
                if start > 0 and not (padded and k == 0):
                    current = None  # an invalid row came first: the open episode ended there
                for s, e in _split_at(start, end, np.flatnonzero(done[start : end + 1, j]) + start):
                    current = current or _Open()
                    current.extend(ro, slice(s, e + 1), j)
                    if not done[e, j]:
                        continue  # the fragment ended mid-episode
                    if e + 1 < T and failed[e + 1, j]:
                        current = None
                        continue
                    final = (
                        tree.index(ro[C.OBS], (e + 1, j))
                        if e + 1 < T
                        else tree.index(ro.bootstrap_obs, j)
                    )
                    episode = current.finish(
                        key, final, ro[C.TERMINATEDS][e, j], ro[C.TRUNCATEDS][e, j]
                    )
                    finished.append((e, j, episode))
                    current = None
            if current is not None and valid[T - 1, j]:
                self._open[key] = current
        finished.sort(key=lambda f: (f[0], f[1]))
        return [ep for _, _, ep in finished]


def _valid_runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) row of each run of True in a column."""
    edges = np.diff(np.concatenate([[0], valid.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _split_at(start: int, end: int, dones: np.ndarray) -> list[tuple[int, int]]:
    """Rows start..end cut after each done row (with NEXT_STEP autoreset a done row ends its
    run, so this is one piece, but a vector env that resets in the same step would not)."""
    pieces, s = [], start
    for d in dones.tolist():
        pieces.append((s, d))
        s = d + 1
    if s <= end:
        pieces.append((s, end))
    return pieces
