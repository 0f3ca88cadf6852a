"""Rollout: a time-major fragment of experience from one EnvRunner's vector env.

Columns have shape [T, N, ...] (T steps of N sub-envs). Episodes run across fragment and
iteration boundaries: an episode is the run of steps of one sub-env between two `done` flags.
Keeping the time axis (rather than a flat list of transitions) is what lets recurrent modules
(state carried along T, reset where an episode ends) and GAE work on the same structure, and a
multi-agent runner produces one Rollout per module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlrun.core import columns as C
from rlrun.core import tree


@dataclass
class Rollout:
    # OBS, ACTIONS, REWARDS, TERMINATEDS, TRUNCATEDS, MASK, ACTION_DIST_INPUTS; for
    # recurrent modules STATE_IN (the state each row's forward pass started from); VF_PREDS
    # where the module's acting forward returned values. OBS (and STATE_IN) are trees: a
    # Dict/Tuple observation is a dict/tuple of [T, N, ...] arrays.
    data: dict[str, Any]
    bootstrap_obs: Any  # [N, ...] tree: the observation after the last step, to value the tail
    # Recurrent modules: the state after the last step (what bootstrap_obs is valued from).
    bootstrap_state: Any = None
    module_id: str = C.DEFAULT_MODULE_ID  # the module whose experience this is
    episode_returns: list[float] = field(default_factory=list)  # episodes finished in this fragment
    episode_lengths: list[int] = field(default_factory=list)
    # What the runner's stateful connectors (the mean-std filter) learned while sampling it.
    connector_delta: dict[str, np.ndarray] = field(default_factory=dict)
    sub_env_failures: list[str] = field(default_factory=list)  # tracebacks of recreated sub-envs
    runner_index: int = 0  # which runner sampled it: 0 in the driver, 1..N remote
    fresh: bool = False  # its first row starts new episodes in every sub-env (a (re)started runner)
    # The version of the weights it was sampled with: each weight sync counts one, so the
    # driver's count minus this is how many updates stale the fragment is (IMPALA's policy lag).
    weights_seq_no: int = 0
    # What callbacks logged in the runner while sampling it (rlrun.callbacks.metrics_logger).
    custom_metrics: dict[str, Any] = field(default_factory=dict)
    # Multi-agent runners (rlrun.env.multi_agent.env_runner): one Rollout per module, whose
    # columns are agents' streams (`columns`: each one's stable index, for replay buffers); the
    # sample's own Rollout holds only them and the episode bookkeeping below.
    modules: list[Rollout] | None = None
    columns: np.ndarray | None = None
    num_env_steps: int | None = None  # env steps, where they differ from the rows that count
    agent_episode_returns: dict[str, list[float]] = field(default_factory=dict)
    module_episode_returns: dict[str, list[float]] = field(default_factory=dict)
    agent_steps: dict[str, int] = field(default_factory=dict)  # per agent id, this fragment
    module_steps: dict[str, int] = field(default_factory=dict)  # per module id, this fragment

    @property
    def num_steps(self) -> int:
        return int(self.data[C.REWARDS].shape[0])

    @property
    def num_envs(self) -> int:
        return int(self.data[C.REWARDS].shape[1])

    @property
    def env_steps(self) -> int:
        """Real env steps: autoreset steps don't count."""
        if self.num_env_steps is not None:
            return self.num_env_steps
        return int(self.data[C.VALID].sum())

    def module_parts(self) -> list[Rollout]:
        """The per-module Rollouts that learners take: itself for a single-agent fragment."""
        return [self] if self.modules is None else list(self.modules)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.data[key]

    def split(self, n: int) -> list[Rollout]:
        """Up to `n` rollouts, each with a share of the sub-envs (the columns), so each part
        keeps whole time lines for GAE. For data-parallel learners."""
        parts = []
        for idx in np.array_split(np.arange(self.num_envs), n):
            if len(idx):
                data = {k: tree.index(v, (slice(None), idx)) for k, v in self.data.items()}
                boot_state = self.bootstrap_state
                parts.append(
                    Rollout(
                        data,
                        bootstrap_obs=tree.index(self.bootstrap_obs, idx),
                        bootstrap_state=None if boot_state is None else tree.index(boot_state, idx),
                        module_id=self.module_id,
                        columns=None if self.columns is None else self.columns[idx],
                    )
                )
        return parts


def shard_rollouts(rollouts: list[Rollout], n: int) -> list[list[Rollout]]:
    """Deal rollouts out to `n` learners in equal shares: whole rollouts when they divide
    evenly (no copies), else every rollout split by columns."""
    if n == 1:
        return [rollouts]
    shapes = {(r.num_steps, r.num_envs) for r in rollouts}
    if len(rollouts) % n == 0 and len(shapes) == 1:
        return [rollouts[i::n] for i in range(n)]
    shards: list[list[Rollout]] = [[] for _ in range(n)]
    for ro in rollouts:
        for k, part in enumerate(ro.split(n)):
            shards[k].append(part)
    return shards
