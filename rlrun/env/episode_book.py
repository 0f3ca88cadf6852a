"""EpisodeBook: the one place an env runner keeps track of its sub-envs' episodes.

Sampling (`EnvRunner.sample`) and evaluation (`EnvRunner.sample_episodes`) step a NEXT_STEP-
autoreset vector env the same way, and both keep their episode books here: each sub-env's
running return and length, the episodes that finished (what the return statistics count), and,
when callbacks define episode hooks, the `Episode` objects those hooks see
(rlrun.callbacks.episode). The episode writer (`output=DIR`) cuts the same episodes, by the same
rule, from the Rollouts in the driver, so that it records remote runners' episodes too without
shipping per-step objects (rlrun.results.episode_writer).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlrun.callbacks.episode import EpisodeTracker


class EpisodeBook:
    def __init__(self, num_envs: int, tracker: EpisodeTracker | None = None) -> None:
        self.num_envs = num_envs
        self.tracker = tracker
        self.returns = np.zeros(num_envs, np.float64)  # of each sub-env's running episode
        self.lengths = np.zeros(num_envs, np.int64)
        # Finished episodes since the last `pop_finished()`.
        self._finished_returns: list[float] = []
        self._finished_lengths: list[int] = []

    def begin(self, raw_obs: Any, track: np.ndarray | None = None) -> None:
        """Fresh episodes in every sub-env (a reset of the vector env); with hooks, `track`
        says which sub-envs' episodes the hooks follow (evaluation quotas)."""
        self.returns[:] = 0.0
        self.lengths[:] = 0
        if self.tracker is not None:
            self.tracker.begin(raw_obs, track)

    def step(
        self,
        step: tuple[Any, Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]],
        valid: np.ndarray,
        starts: np.ndarray,
        failed: np.ndarray | None = None,
        counts: np.ndarray | None = None,
    ) -> np.ndarray:
        """Book one vector step: `step` is (raw obs, env actions, rewards, terminated,
        truncated, infos). `valid`: a real step of its episode (not the autoreset step);
        `starts`: rows whose observation begins a new episode (the hooks' on_episode_start);
        `failed`: sub-envs whose step raised and were recreated (their episode was cut off, not
        finished: it is not counted); `counts`: which finished episodes count (evaluation's
        quotas; default: all). Returns the sub-envs whose counted episode finished here."""
        raw_obs, env_actions, rewards, terminated, truncated, infos = step
        self.returns += rewards * valid
        self.lengths += valid
        done = terminated | truncated
        finished = done if failed is None else done & ~failed
        if counts is not None:
            finished = finished & counts
        if self.tracker is not None:
            # A done row that is not `finished` was cut off (a failure, or beyond a quota).
            kept = valid & (finished | ~done)
            self.tracker.step(
                raw_obs, env_actions, rewards, terminated, truncated, infos, kept, starts
            )
        if done.any():
            for i in np.flatnonzero(finished):
                self._finished_returns.append(float(self.returns[i]))
                self._finished_lengths.append(int(self.lengths[i]))
            self.returns[done] = 0.0
            self.lengths[done] = 0
        return finished

    def pop_finished(self) -> tuple[list[float], list[int]]:
        """Returns and lengths of the episodes finished since the last call."""
        out = self._finished_returns, self._finished_lengths
        self._finished_returns, self._finished_lengths = [], []
        return out
