"""SAC's algorithm: the shared off-policy training step; only the module's extras are its own."""

from __future__ import annotations

from typing import Any

from rlrun.algorithms.off_policy.algorithm import OffPolicyAlgorithm
from rlrun.algorithms.sac.learner import SACLearner


class SAC(OffPolicyAlgorithm):
    learner_class = SACLearner
    default_module_class = "rlrun.algorithms.sac.module:SACModule"

    def module_model_config(self, algo_cfg: Any = None) -> dict[str, Any]:
        cfg = self.algo_config if algo_cfg is None else algo_cfg
        extras = {k: getattr(cfg, k) for k in ("initial_alpha", "twin_q")}
        return {**super().module_model_config(cfg), **extras}
