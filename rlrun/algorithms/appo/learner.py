"""APPO's loss, read top to bottom: PPO's clipped surrogate (Schulman et al. 2017,
https://arxiv.org/abs/1707.06347, eq. 7) on V-trace advantages (Espeholt et al. 2018,
https://arxiv.org/abs/1802.01561, section 4), as RLlib's APPO.

The probability ratio is taken against a target network's policy, a copy of the module that
moves towards it (by `tau`) every `target_network_update_freq` updates: the surrogate keeps
each update near a policy that changes slowly, whatever the staleness of the behaviour policy
that sampled the data (which V-trace corrects for). The target network lives in the learner,
not in the module: runners never need it. A checkpoint holds the module only; a restored
learner starts its target from the restored module.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from rlrun.algorithms.impala.learner import IMPALALearner, forward_lines
from rlrun.algorithms.ppo.surrogate import adapted_kl_coeff, clipped_surrogate
from rlrun.core import columns as C
from rlrun.core.learner import TensorDict
from rlrun.core.masked import masked_mean


class APPOLearner(IMPALALearner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kl_coeff = float(self.config.kl_coeff)
        self.target_module = copy.deepcopy(self.module).requires_grad_(False)
        self._updates_since_target = 0
        self.num_target_updates = 0

    def compute_loss_for_module(
        self, module_id: str, batch: TensorDict
    ) -> tuple[torch.Tensor, TensorDict]:
        cfg = self.config
        mask = batch[C.MASK]  # False: autoreset rows, each line's bootstrap row, padding
        out = forward_lines(self.module, batch)
        dist = self.module.action_dist_cls(out[C.ACTION_DIST_INPUTS])
        logp = dist.logp(batch[C.ACTIONS])
        values = out[C.VF_PREDS]
        with torch.no_grad():
            target_dist = self.module.action_dist_cls(
                forward_lines(self.target_module, batch)[C.ACTION_DIST_INPUTS]
            )
            target_logp = target_dist.logp(batch[C.ACTIONS])

        # V-trace (section 4.1) with the target network as the policy being evaluated.
        vs, advantages = self.vtrace(batch, target_logp, values.detach())

        # Eq. (7): the clipped surrogate on r = pi(a|s) / pi_target(a|s).
        ratio = (logp - target_logp).exp()
        policy_loss, clip_fraction = clipped_surrogate(ratio, advantages, cfg.clip_param, mask)

        vf_loss = 0.5 * masked_mean((values - vs).pow(2), mask)
        entropy = masked_mean(dist.entropy(), mask)
        entropy_coeff = self.entropy_schedule.value(self.env_steps_lifetime)
        # Section 4 of the PPO paper: KL(pi_target || pi), a penalty whose coefficient adapts.
        kl = masked_mean(target_dist.kl(dist), mask)
        total = policy_loss + cfg.vf_loss_coeff * vf_loss - entropy_coeff * entropy
        if cfg.use_kl_loss:
            total = total + self.kl_coeff * kl

        return total, {
            "total_loss": total.detach(),
            "policy_loss": policy_loss.detach(),
            "vf_loss": vf_loss.detach(),
            "entropy": entropy.detach(),
            "mean_kl_loss": kl.detach(),
            "clip_fraction": clip_fraction,
            "mean_vtrace_target": masked_mean(vs, mask),
        }

    def after_update(self, metrics: dict[str, float]) -> dict[str, float]:
        """After each batch's update: move the target network when due, adapt the KL
        coefficient (as PPO's)."""
        self._updates_since_target += 1
        if self._updates_since_target >= int(self.config.target_network_update_freq):
            self.update_target_network()
        if self.config.use_kl_loss:
            self.kl_coeff = adapted_kl_coeff(
                self.kl_coeff, metrics["mean_kl_loss"], self.config.kl_target
            )
        return {
            **super().after_update(metrics),
            "curr_kl_coeff": self.kl_coeff,
            "num_target_updates": float(self.num_target_updates),
        }

    def update_target_network(self) -> None:
        """target <- tau * current + (1 - tau) * target."""
        tau = float(self.config.tau)
        with torch.no_grad():
            current = self.module.state_dict()
            for name, target in self.target_module.state_dict().items():
                if target.is_floating_point():
                    target.lerp_(current[name], tau)
                else:
                    target.copy_(current[name])
        self._updates_since_target = 0
        self.num_target_updates += 1

    def join_process_group(self, world_size: int) -> None:
        super().join_process_group(world_size)
        self.target_module.load_state_dict(self.module.state_dict())  # rank 0's weights

    def get_extra_state(self) -> dict[str, Any]:
        return {"kl_coeff": self.kl_coeff, "num_target_updates": self.num_target_updates}

    def set_extra_state(self, extra: dict[str, Any]) -> None:
        self.kl_coeff = float(extra.get("kl_coeff", self.kl_coeff))
        self.num_target_updates = int(extra.get("num_target_updates", 0))
        self.target_module.load_state_dict(self.module.state_dict())
