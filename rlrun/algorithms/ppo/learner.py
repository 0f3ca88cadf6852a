"""PPO's loss (Schulman et al. 2017, https://arxiv.org/abs/1707.06347), read top to bottom."""

from __future__ import annotations

from typing import Any

import torch

from rlrun.algorithms.ppo.surrogate import adapted_kl_coeff, clipped_surrogate
from rlrun.connectors.learner.pipeline import OnPolicyLearnerPipeline
from rlrun.core import columns as C
from rlrun.core.learner import Learner, TensorDict
from rlrun.core.masked import masked_mean, masked_std, masked_var
from rlrun.core.schedules import Schedule


class PPOLearner(Learner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entropy_schedule = Schedule(self.config.entropy_coeff)
        self.kl_coeff = float(self.config.kl_coeff)

    def build_learner_connector(self) -> OnPolicyLearnerPipeline:
        return OnPolicyLearnerPipeline.for_learner(self)

    def compute_loss_for_module(
        self, module_id: str, batch: TensorDict
    ) -> tuple[torch.Tensor, TensorDict]:
        cfg = self.config
        # Rows [B] or sequences [B, L]; rows marked False in `mask` (autoreset rows, padding)
        # do not count in any mean.
        mask = batch.get(C.MASK)
        out = self.module.forward_train(batch)
        dist = self.module.action_dist_cls(out[C.ACTION_DIST_INPUTS])
        old_dist = self.module.action_dist_cls(batch[C.ACTION_DIST_INPUTS])

        # Eq. (7): the clipped surrogate, on the probability ratio r_t = pi(a|s) / pi_old(a|s).
        advantages = batch[C.ADVANTAGES]
        if cfg.normalize_advantages and advantages.numel() > 1:
            mean, std = masked_mean(advantages, mask), masked_std(advantages, mask)
            advantages = (advantages - mean) / (std + 1e-8)
        ratio = (dist.logp(batch[C.ACTIONS]) - batch[C.ACTION_LOGP]).exp()
        policy_loss, clip_fraction = clipped_surrogate(ratio, advantages, cfg.clip_param, mask)

        # Value loss 0.5 (V - target)^2, optionally clipped around the sampling-time value (as
        # in the PPO authors' baselines code): the update may not move V further than
        # vf_clip_param from V_old. vf_loss_clip (RLlib's vf_clip_param) caps each squared error
        # instead, so a sample whose error is beyond it adds no value gradient.
        values, targets = out[C.VF_PREDS], batch[C.VALUE_TARGETS]
        squared = (values - targets).pow(2)
        if cfg.vf_clip_param is not None:
            old = batch[C.VF_PREDS]
            clipped = old + (values - old).clamp(-cfg.vf_clip_param, cfg.vf_clip_param)
            squared = torch.max(squared, (clipped - targets).pow(2))
        if cfg.vf_loss_clip is not None:
            squared = squared.clamp(max=float(cfg.vf_loss_clip))
        vf_loss = 0.5 * masked_mean(squared, mask)

        # Eq. (9): entropy bonus.
        entropy = masked_mean(dist.entropy(), mask)
        entropy_coeff = self.entropy_schedule.value(self.env_steps_lifetime)

        # Section 4: KL(pi_old || pi) as a penalty whose coefficient adapts after each update.
        kl = masked_mean(old_dist.kl(dist), mask)
        total = policy_loss + cfg.vf_loss_coeff * vf_loss - entropy_coeff * entropy
        if cfg.use_kl_loss:
            total = total + self.kl_coeff * kl

        with torch.no_grad():
            explained_var = 1.0 - masked_var(targets - values, mask) / masked_var(
                targets, mask
            ).clamp_min(1e-8)
        return total, {
            "total_loss": total.detach(),
            "policy_loss": policy_loss.detach(),
            "vf_loss": vf_loss.detach(),
            "entropy": entropy.detach(),
            "mean_kl_loss": kl.detach(),
            "clip_fraction": clip_fraction,
            "vf_explained_var": explained_var,
        }

    def after_update(self, metrics: dict[str, float]) -> dict[str, float]:
        # Adaptive KL coefficient (Section 4): push KL toward kl_target.
        if self.config.use_kl_loss:
            self.kl_coeff = adapted_kl_coeff(
                self.kl_coeff, metrics["mean_kl_loss"], self.config.kl_target
            )
        return {
            "curr_kl_coeff": self.kl_coeff,
            "curr_entropy_coeff": self.entropy_schedule.value(self.env_steps_lifetime),
        }

    def get_extra_state(self) -> dict[str, Any]:
        return {"kl_coeff": self.kl_coeff}

    def set_extra_state(self, extra: dict[str, Any]) -> None:
        self.kl_coeff = float(extra.get("kl_coeff", self.kl_coeff))
