"""IMPALA's training step: sample, update, sync.

In one process (env_runner.num_env_runners=0) that is all: the runner waits for the learner.
With Ray runners, sampling is asynchronous: each runner keeps up to
`max_requests_in_flight_per_env_runner` sample calls queued, the driver takes fragments as they
arrive (rlrun.env.remote_env_runner_group.RemoteEnvRunnerGroup.sample_async) while the runners
go on sampling with the weights they have, and the learner's weights go out every
`broadcast_interval` updates. V-trace corrects for the lag; the result reports it
(`env_runners/mean_policy_lag`, `max_policy_lag`, `weights_seq_no`).
"""

from __future__ import annotations

from typing import Any

from rlrun.algorithms.algorithm import Algorithm
from rlrun.algorithms.impala.learner import IMPALALearner
from rlrun.env.rollout import Rollout


class IMPALA(Algorithm):
    learner_class = IMPALALearner
    default_module_class = "rlrun.algorithms.ppo.module:PPOModule"

    def __init__(self, config: Any) -> None:
        self._updates_since_broadcast = 0
        self.num_weight_broadcasts = 0
        super().__init__(config)

    def training_step(self) -> dict[str, Any]:
        with self.timer("env_runner_sampling_timer"):
            rollouts, sampled = self.sample_train_batch()
        with self.timer("learner_update_timer"):
            metrics = self.learner_group.update(rollouts, self.num_env_steps_sampled_lifetime)
        self._updates_since_broadcast += 1
        if self._updates_since_broadcast >= int(self.algo_config.broadcast_interval):
            with self.timer("synch_weights"):
                self.sync_weights()
        return {
            "learners": metrics,
            "num_env_steps_sampled": sampled,
            "num_weight_broadcasts": self.num_weight_broadcasts,
        }

    def sync_weights(self) -> None:
        super().sync_weights()
        self._updates_since_broadcast = 0
        self.num_weight_broadcasts += 1

    @property
    def asynchronous(self) -> bool:
        return int(self.config["env_runner"]["num_env_runners"]) > 0

    def sample_train_batch(self) -> tuple[list[Rollout], int]:
        """The fragments of one train batch: sampled in turn in one process, or taken as Ray
        runners deliver them (runners sampling on meanwhile)."""
        if not self.asynchronous:
            return super().sample_train_batch()
        frag = self.fragment_length()
        in_flight = int(self.algo_config.max_requests_in_flight_per_env_runner)
        rollouts: list[Rollout] = []
        rows = 0
        while rows < self.train_batch_size:
            new = self.env_runner_group.sample_async(frag, in_flight)
            if self.episode_writer is not None:
                self.episode_writer.write(new, self.iteration + 1)
            rollouts += new
            if self.is_multi_agent:
                rows += self.count_steps(new)
            else:
                rows += sum(r.num_steps * r.num_envs for r in new)
        env_steps = sum(r.env_steps for r in rollouts)
        self.num_env_steps_sampled_lifetime += env_steps
        return rollouts, env_steps
