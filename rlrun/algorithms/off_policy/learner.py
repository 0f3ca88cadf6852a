"""The learner side of replay-based algorithms: target networks, moved by Polyak averaging.

A module with target networks lists them in `target_pairs()` as (target, online) pairs; the
targets live in the module, so they are saved in checkpoints and travel with the weights.
"""

from __future__ import annotations

from typing import Any

import torch

from rlrun.core.learner import Learner


class OffPolicyLearner(Learner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_target_update = 0  # env steps at the last target update
        self.wants_td_errors = bool(self.config["replay"]["prioritized"])

    def after_gradient_step(self) -> None:
        freq = int(self.config.get("target_network_update_freq", 0))
        if freq == 0 or self.env_steps_lifetime - self.last_target_update >= freq:
            self.update_targets(float(self.config.get("tau", 1.0)))
            self.last_target_update = self.env_steps_lifetime

    @torch.no_grad()
    def update_targets(self, tau: float) -> None:
        """target <- target + tau * (online - target) for every pair; tau=1 copies."""
        for target, online in self.module.target_pairs():  # type: ignore[attr-defined]
            t = [p for p in target.parameters()]
            o = [p for p in online.parameters()]
            if tau >= 1.0:
                torch._foreach_copy_(t, o)
            else:
                torch._foreach_lerp_(t, o, tau)

    def get_extra_state(self) -> dict[str, Any]:
        return {"last_target_update": self.last_target_update}

    def set_extra_state(self, extra: dict[str, Any]) -> None:
        self.last_target_update = int(extra.get("last_target_update", 0))
