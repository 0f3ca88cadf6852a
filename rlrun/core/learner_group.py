"""LearnerGroup: the learner(s) an Algorithm updates.

Today one local learner in the driver; data-parallel remote learners plug in behind the same
calls (update, get/set weights and state).
"""

from __future__ import annotations

from typing import Any

import torch

from rlrun.core.learner import Learner
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.rollout import Rollout


class LearnerGroup:
    def __init__(
        self,
        learner_cls: type[Learner],
        algo_cfg: dict[str, Any],
        learner_cfg: dict[str, Any],
        module_spec: RLModuleSpec,
    ) -> None:
        self.local_learner = learner_cls(algo_cfg, learner_cfg, module_spec)

    def update(self, rollouts: list[Rollout], env_steps_lifetime: int) -> dict[str, float]:
        return self.local_learner.update(rollouts, env_steps_lifetime)

    def get_weights(self) -> dict[str, torch.Tensor]:
        return self.local_learner.get_weights()

    def get_state(self) -> dict[str, Any]:
        return self.local_learner.get_state()

    def set_state(self, state: dict[str, Any]) -> None:
        self.local_learner.set_state(state)
