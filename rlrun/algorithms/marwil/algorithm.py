"""MARWIL's (and BC's) training step: take a batch of the recorded data, update, sync.

The data (`offline_data.input_`) is read once, at the first training step, and checked against
the spaces the module sees: a checkpoint restored to evaluate or to act needs no data
(`rlrun train` checks up front that the paths exist). Nothing is sampled: `num_env_steps_sampled_lifetime` stays 0; the
runners only hold the weights for evaluation (`evaluation.interval`), and lr schedules count
the recorded steps trained on.
"""

from __future__ import annotations

from typing import Any

from rlrun.algorithms.algorithm import Algorithm
from rlrun.algorithms.marwil.learner import MARWILLearner
from rlrun.algorithms.offline_steps import OfflineSteps
from rlrun.core import columns as C
from rlrun.core.multi_rl_module import MultiRLModuleSpec
from rlrun.core.rl_module import RLModuleSpec
from rlrun.errors import ConfigError
from rlrun.offline import load_episodes
from rlrun.offline.sampler import OfflineSampler


class MARWIL(OfflineSteps, Algorithm):
    learner_class = MARWILLearner
    # PPO's module: a policy head and a value head (BC leaves the value head untrained).
    default_module_class = "rlrun.algorithms.ppo.module:PPOModule"

    def __init__(self, config: Any) -> None:
        self._sampler: OfflineSampler | None = None
        super().__init__(config)

    def _module_spec(self) -> RLModuleSpec | MultiRLModuleSpec:
        spec = super()._module_spec()
        if isinstance(spec, MultiRLModuleSpec):
            raise ConfigError(
                "env.id", self.config["env"]["id"], f"is a multi-agent env; "
                f"{self.algo_config.name} learns from single-agent episodes only",
            )  # fmt: skip
        return spec

    @property
    def offline_sampler(self) -> OfflineSampler:
        """The recorded episodes, read on first use."""
        if self._sampler is None:
            offline = self.config["offline_data"]
            spec = self.module_spec
            episodes = load_episodes(offline, spec.observation_space, spec.action_space)
            self._sampler = OfflineSampler(episodes, offline["shuffle"], self.seed)
        return self._sampler

    def training_step(self) -> dict[str, Any]:
        updates: list[dict[str, dict[str, float]]] = []
        trained = 0
        for _ in range(int(self.config["offline_data"]["dataset_num_iters_per_learner"])):
            with self.timer("offline_sampling_timer"):
                rollouts = self.offline_sampler.sample(self.train_batch_size)
            with self.timer("learner_update_timer"):
                # Schedules count the steps trained on before this update.
                steps_so_far = self.num_env_steps_trained_lifetime + trained
                updates.append(self.learner_group.update(rollouts, steps_so_far))
            trained += sum(int(ro[C.MASK].sum()) for ro in rollouts)
        with self.timer("synch_weights"):
            self.sync_weights()
        return {"learners": _mean_per_module(updates), **self.trained(trained)}


def _mean_per_module(updates: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """The iteration's learner metrics: each update's averaged; steps trained summed."""
    out: dict[str, dict[str, float]] = {}
    for mid in updates[0]:
        parts = [u[mid] for u in updates]
        out[mid] = {k: sum(p[k] for p in parts) / len(parts) for k in parts[0]}
        out[mid]["num_module_steps_trained"] = sum(p["num_module_steps_trained"] for p in parts)
    return out
