"""The learner side of replay-based algorithms: one gradient step per replayed batch, and
target networks moved by Polyak averaging.

A module with target networks lists them in `target_pairs()` as (target, online) pairs; the
targets live in the module, so they are saved in checkpoints and travel with the weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.core.learner import TD_ERROR, Learner


class OffPolicyLearner(Learner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_target_update = 0  # env steps at the last target update
        # Per-sample TD errors go back only to a prioritized buffer, their one consumer.
        self.wants_td_errors = bool(self.config.replay.prioritized)

    def update_from_replay(
        self, batches: list[dict[str, np.ndarray]], env_steps_lifetime: int
    ) -> tuple[dict[str, float], list[np.ndarray | None]]:
        """One gradient step per replayed batch (off-policy algorithms). Returns the averaged
        metrics and, per batch, the per-sample |TD errors| for prioritized replay (or None)."""
        self.env_steps_lifetime = env_steps_lifetime
        lrs = self._set_learning_rates()
        collected: dict[str, list[torch.Tensor]] = {}
        td_errors: list[np.ndarray | None] = []
        self.module.train()
        trained = 0
        for b in batches:
            batch = {k: tree.to_torch(v, self.device) for k, v in b.items() if k != "indices"}
            loss, metrics = self.compute_loss_for_module(self.module_id, batch)
            td = metrics.pop(TD_ERROR, None)
            if td is not None and self.wants_td_errors:
                td_errors.append(td.detach().abs().cpu().numpy())
            else:
                td_errors.append(None)
            metrics.update(self._gradient_step(loss))
            trained += tree.lead_size(b[C.OBS])
            for k, v in metrics.items():
                collected.setdefault(k, []).append(v.detach())
        out = self._mean_metrics(collected, lrs)
        out["num_module_steps_trained"] = float(trained)
        out.update(self.after_update(out))
        return out, td_errors

    def update_from_replay_modules(
        self, batches: dict[str, list[dict[str, np.ndarray]]], env_steps_lifetime: int
    ) -> tuple[dict[str, dict[str, float]], dict[str, list[np.ndarray | None]]]:
        """`update_from_replay` keyed by module id, as the multi-agent learner answers it."""
        metrics, tds = self.update_from_replay(batches[self.module_id], env_steps_lifetime)
        return {self.module_id: metrics}, {self.module_id: tds}

    def after_gradient_step(self) -> None:
        freq = int(self.config.target_network_update_freq)
        if freq == 0 or self.env_steps_lifetime - self.last_target_update >= freq:
            self.update_targets(float(self.config.tau))
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
