"""PPO's training step: sample, update, sync."""

from __future__ import annotations

from typing import Any

from rlrun.algorithms.algorithm import Algorithm
from rlrun.algorithms.ppo.learner import PPOLearner


class PPO(Algorithm):
    learner_class = PPOLearner
    default_module_class = "rlrun.algorithms.ppo.module:PPOModule"

    def training_step(self) -> dict[str, Any]:
        with self.timer("env_runner_sampling_timer"):
            rollouts, sampled = self.sample_train_batch()
        with self.timer("learner_update_timer"):
            metrics = self.learner_group.update(rollouts, self.num_env_steps_sampled_lifetime)
        with self.timer("synch_weights"):
            self.sync_weights()
        return {"learners": metrics, "num_env_steps_sampled": sampled}
