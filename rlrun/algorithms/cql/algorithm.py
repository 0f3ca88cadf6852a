"""CQL's algorithm: SAC's, learning from recorded data only.

The replay buffer is filled once, at the first training step, with every transition of
`offline_data.input_` (rlrun.offline: the episodes in the standard time-major format, so the
buffer's n-step windows stop at episode ends as they do online): a checkpoint restored to
evaluate or to act needs no data (`rlrun train` checks up front that the paths exist). Each
iteration replays `offline_data.dataset_num_iters_per_learner` batches from it, exactly as the
online training step does, and sends the weights to the runners, which only evaluate
(`evaluation.interval`).
Nothing is sampled: `num_env_steps_sampled_lifetime` stays 0, and schedules (lr, replay beta)
and `target_network_update_freq` count the transitions trained on instead.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from rlrun.algorithms.cql.learner import CQLLearner, require_box_actions
from rlrun.algorithms.offline_steps import OfflineSteps
from rlrun.algorithms.sac.algorithm import SAC
from rlrun.core.episode import Episode
from rlrun.core.rl_module import RLModuleSpec
from rlrun.errors import ConfigError
from rlrun.replay.buffer import ReplayBuffer

# Columns the data is dealt into: n-step windows never cross them, and any count holds it all.
DATA_COLUMNS = 8


class CQL(OfflineSteps, SAC):
    learner_class = CQLLearner

    def _single_module_spec(self, obs_space: Any, act_space: Any, model: dict) -> RLModuleSpec:
        require_box_actions(act_space)  # before any runner or learner starts
        return super()._single_module_spec(obs_space, act_space, model)

    def _make_replays(self, num_columns: int) -> dict[str, ReplayBuffer]:
        """None yet: the data is read at the first training step."""
        if self.is_multi_agent:
            raise ConfigError(
                "algo.name", "CQL", "learns single-agent data; this env is a multi-agent one"
            )
        return {}

    def _data_replay(self, module_id: str) -> ReplayBuffer:
        """A buffer that holds exactly the recorded data (`replay.capacity` is not used)."""
        from rlrun.offline import episodes_to_rollouts, load_episodes

        spec = self.module_specs[module_id]
        episodes = load_episodes(
            self.config["offline_data"], spec.observation_space, spec.action_space
        )
        episodes = [_in_module_units(ep, spec.action_space) for ep in episodes]
        rollouts = episodes_to_rollouts(episodes, DATA_COLUMNS)
        columns = rollouts[0].num_envs
        rows = sum(np.asarray(ro.data["mask"], bool).sum(axis=0) for ro in rollouts)
        buffer = self._make_replay(module_id, columns, columns * int(np.max(rows)))
        for ro in rollouts:
            buffer.add(ro)
        return buffer

    def training_step(self) -> dict[str, Any]:
        if not self.replays:
            with self.timer("offline_sampling_timer"):
                self.replays = {m: self._data_replay(m) for m in self.trainable_module_ids}
        updates = int(self.config["offline_data"]["dataset_num_iters_per_learner"])
        with self.timer("learner_update_timer"):
            learners = self.replay_and_update(
                dict.fromkeys(self.replays, updates), self.num_env_steps_trained_lifetime
            )
        trained = int(sum(m["num_module_steps_trained"] for m in learners.values()))
        self.sync_weights()
        return {
            "learners": learners,
            **self.trained(trained),
            "replay": {"size": len(self.replay), "capacity": self.replay.capacity},
        }


def _in_module_units(episode: Episode, action_space: Any) -> Episode:
    """Recorded Box actions are what the env received (rescaled to its bounds); SAC's critics
    and squashed policy work in (-1, 1) units: the inverse of the runner's rescaling."""
    low, high = action_space.low.astype(np.float32), action_space.high.astype(np.float32)
    scaled = 2.0 * (episode.actions - low) / (high - low) - 1.0
    return dataclasses.replace(episode, actions=np.clip(scaled, -1.0, 1.0).astype(np.float32))
