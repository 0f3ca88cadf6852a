"""Rollout: a time-major fragment of experience from one EnvRunner's vector env.

Columns have shape [T, N, ...] (T steps of N sub-envs). Episodes run across fragment and
iteration boundaries: an episode is the run of steps of one sub-env between two `done` flags.
Keeping the time axis (rather than a flat list of transitions) is what lets recurrent modules
(state carried along T, reset where an episode ends) and GAE work on the same structure, and a
multi-agent runner produces one Rollout per module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rlrun.core import columns as C


@dataclass
class Rollout:
    data: dict[
        str, np.ndarray
    ]  # OBS, ACTIONS, REWARDS, TERMINATEDS, TRUNCATEDS, VALID, ACTION_DIST_INPUTS
    bootstrap_obs: np.ndarray  # [N, ...]: the observation after the last step, to value the tail
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def num_steps(self) -> int:
        return int(self.data[C.REWARDS].shape[0])

    @property
    def num_envs(self) -> int:
        return int(self.data[C.REWARDS].shape[1])

    @property
    def env_steps(self) -> int:
        """Real env steps: autoreset steps don't count."""
        return int(self.data[C.VALID].sum())

    def __getitem__(self, key: str) -> np.ndarray:
        return self.data[key]
