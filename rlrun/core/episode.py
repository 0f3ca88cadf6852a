"""Episode: one sub-env's episode, the one type for every part of rlrun that handles episodes.

It has two forms, as RLlib's SingleAgentEpisode does. While the episode runs (the episode hooks'
view, built by rlrun.callbacks.episode.EpisodeTracker) its columns are lists that `add_step`
appends to; a finished episode's columns are numpy arrays (`to_numpy()`), which is the form the
episode writer cuts from Rollouts (rlrun.results.episode_writer) and the offline readers return
(rlrun.offline). Either way `observations` holds one row more than the steps: the final one.
The hooks' episodes hold the raw env observations and the actions the env received; the
writer's hold what the module saw and sampled (it converts actions to the env's when writing).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlrun.core import tree


@dataclass(kw_only=True, eq=False, repr=False)
class Episode:
    """`len(episode)` is the number of steps taken; `get_return()` the sum of their rewards."""

    # Lists while running; once numpy, [L + 1, ...] arrays (a tree for Dict/Tuple
    # observations), [L, ...] actions and [L] float32 rewards.
    observations: Any = field(default_factory=list)
    actions: Any = field(default_factory=list)
    rewards: Any = field(default_factory=list)
    infos: list[dict[str, Any]] = field(default_factory=list)  # kept by the hooks' view only
    is_terminated: bool = False
    is_truncated: bool = False
    # The sub-env (a multi-agent run's writer: the agent's stream, sub-env * agents + agent).
    env_index: int = 0
    runner_index: int = 0
    module_id: str | None = None  # multi-agent runs: the module that acted
    id_: str = field(default_factory=lambda: uuid.uuid4().hex)
    custom_data: dict[str, Any] = field(default_factory=dict)  # the user's, for its lifetime

    def __post_init__(self) -> None:
        # Kept up to date by add_step, so per-step hooks do not re-sum the whole episode.
        self._return = float(np.sum(self.rewards, dtype=np.float64)) if len(self.rewards) else 0.0

    @property
    def is_done(self) -> bool:
        return self.is_terminated or self.is_truncated

    @property
    def is_numpy(self) -> bool:
        """Whether the columns are arrays (finished) rather than lists (running)."""
        return isinstance(self.rewards, np.ndarray)

    def __len__(self) -> int:
        return len(self.rewards)

    def get_return(self) -> float:
        """The sum of rewards so far."""
        return self._return

    def get_observations(self, index: int | None = None) -> Any:
        return self._get(self.observations, index)

    def get_actions(self, index: int | None = None) -> Any:
        return self._get(self.actions, index)

    def get_rewards(self, index: int | None = None) -> Any:
        return self._get(self.rewards, index)

    def get_infos(self, index: int | None = None) -> Any:
        return self.infos if index is None else self.infos[index]

    def _get(self, column: Any, index: int | None) -> Any:
        if index is None:
            return column
        return tree.index(column, index) if self.is_numpy else column[index]

    def add_step(
        self,
        observation: Any,
        action: Any,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
    ) -> None:
        if self.is_numpy:
            raise RuntimeError(f"{self!r} is finished (numpy): it takes no more steps")
        self.observations.append(observation)
        self.actions.append(action)
        self.rewards.append(reward)
        self.infos.append(info)
        self._return += reward
        self.is_terminated = terminated
        self.is_truncated = truncated

    def to_numpy(self) -> Episode:
        """The finished form, in place: observations, actions and rewards as arrays (as the
        episode writer records them). Returns the episode itself."""
        if self.is_numpy:
            return self
        self.observations = tree.stack(self.observations)
        self.actions = (
            np.stack([np.asarray(a) for a in self.actions]) if self.actions else np.zeros(0)
        )
        self.rewards = np.asarray(self.rewards, np.float32)
        return self

    def __repr__(self) -> str:
        state = (
            "terminated" if self.is_terminated else "truncated" if self.is_truncated else "running"
        )
        return (
            f"Episode(id_={self.id_[:8]}, env_index={self.env_index}, len={len(self)}, "
            f"return={self._return:g}, {state})"
        )
