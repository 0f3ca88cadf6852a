"""Episode objects for episode hooks, built beside the EnvRunner's time-major arrays.

The runner writes `[T, N]` columns and keeps no per-episode objects; when (and only when) a
callback defines an episode hook, an EpisodeTracker follows each sub-env and hands the hooks an
`Episode` (rlrun.core.episode, the one episode type, in its running form): one sub-env's
current episode, with the raw env observations (before connectors), the actions as the env
received them, rewards and infos, plus a `custom_data` dict that lives as long as the episode,
across fragments. `Episode` is importable from here, where callbacks have always found it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rlrun.core import tree
from rlrun.core.episode import Episode

__all__ = ["Episode", "EpisodeTracker"]


# Calls every callback's hook `name` with the episode and its sub-env index.
HookCaller = Callable[[str, Episode, int], None]


class EpisodeTracker:
    """Follows the sub-envs of a NEXT_STEP-autoreset vector env and calls episode hooks.

    In that mode the step after an episode ends is a reset: its row is not a step of any
    episode, its observation is the first one of the next episode.
    """

    def __init__(self, num_envs: int, call: HookCaller) -> None:
        self.num_envs = num_envs
        self.call = call
        self.episodes: list[Episode | None] = [None] * num_envs

    def begin(self, obs: np.ndarray, track: np.ndarray | None = None) -> None:
        """Fresh episodes in every sub-env (or those in `track`): a reset of the vector env."""
        self.episodes = [None] * self.num_envs
        for i in range(self.num_envs):
            if track is None or track[i]:
                self._start(i, _row(obs, i), {})

    def step(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        infos: dict[str, Any],
        valid: np.ndarray,
        reset: np.ndarray,
    ) -> None:
        """One vector step. `valid`: a real step of sub-env i's episode; `reset`: row i
        starts a new episode. A row that is neither (a sub-env that failed and was recreated)
        cuts its episode off without on_episode_end: it did not end, it was lost."""
        for i in range(self.num_envs):
            ep = self.episodes[i]
            if valid[i]:
                if ep is None:  # a sub-env that is not followed (evaluation beyond its quota)
                    continue
                term, trunc = bool(terminated[i]), bool(truncated[i])
                ep.add_step(
                    _row(obs, i), _item(actions[i]), float(rewards[i]), term, trunc,
                    _sub_info(infos, i),
                )  # fmt: skip
                self.call("on_episode_step", ep, i)
                if term or trunc:
                    self.call("on_episode_end", ep, i)
                    self.episodes[i] = None
            elif reset[i]:
                self._start(i, _row(obs, i), _sub_info(infos, i))
            else:
                self.episodes[i] = None

    def _start(self, i: int, obs: Any, info: dict[str, Any]) -> None:
        ep = self.episodes[i] = Episode(observations=[obs], infos=[info], env_index=i)
        self.call("on_episode_start", ep, i)


def _row(obs: Any, i: int) -> Any:
    """Sub-env i's observation, copied (a tree for Dict/Tuple observations)."""
    return tree.map_structure(lambda x: np.array(x[i]), obs)


def _item(action: Any) -> Any:
    """A Discrete action as a Python int; a Box action as its own array."""
    a = np.asarray(action)
    return a.item() if a.ndim == 0 else a.copy()


def _sub_info(infos: dict[str, Any], i: int) -> dict[str, Any]:
    """Sub-env i's part of a vector env's info dict (`key`, with its `_key` mask)."""
    if not infos:
        return {}
    out = {}
    for key, value in infos.items():
        if key.startswith("_"):
            continue
        mask = infos.get("_" + key)
        if mask is None or mask[i]:
            out[key] = _sub_info(value, i) if isinstance(value, dict) else value[i]
    return out
