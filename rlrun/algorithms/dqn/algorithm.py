"""DQN's algorithm: the shared off-policy training step; only the module's extras are its own."""

from __future__ import annotations

from typing import Any

from rlrun.algorithms.dqn.learner import DQNLearner
from rlrun.algorithms.off_policy.algorithm import OffPolicyAlgorithm


class DQN(OffPolicyAlgorithm):
    learner_class = DQNLearner
    default_module_class = "rlrun.algorithms.dqn.module:DQNModule"

    def module_model_config(self, algo_cfg: Any = None) -> dict[str, Any]:
        cfg = self.algo_config if algo_cfg is None else algo_cfg
        extras = {k: getattr(cfg, k) for k in ("dueling", "num_atoms", "v_min", "v_max")}
        return {**super().module_model_config(cfg), **extras}
