"""MARWIL's loss (Wang et al. 2018, "Exponentially Weighted Imitation Learning for Batched
Histories", NeurIPS, Algorithm 1), read top to bottom. BC is the beta = 0 case.

The batch comes from rlrun.connectors.learner.pipeline, as PPO's does: recorded episodes in the
time-major format, valued by the module, with GAE targets; with lambda_ = 1 the value targets
are the discounted Monte-Carlo returns R_t (bootstrapped from V(final observation) where an
episode was truncated).
"""

from __future__ import annotations

from typing import Any

import torch

from rlrun.connectors.learner.pipeline import OnPolicyLearnerPipeline
from rlrun.core import columns as C
from rlrun.core.distributions import DiagGaussian
from rlrun.core.learner import Learner, TensorDict
from rlrun.core.masked import masked_mean, masked_var


class MARWILLearner(Learner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # c^2 of Eq. (6): the running mean of squared advantages that normalizes them.
        start = float(self.config.moving_average_sqd_adv_norm_start)
        self.moving_avg_sqd_adv_norm = torch.tensor(start, device=self.device)

    def build_learner_connector(self) -> OnPolicyLearnerPipeline:
        return OnPolicyLearnerPipeline.for_learner(self)

    def compute_loss_for_module(
        self, module_id: str, batch: TensorDict
    ) -> tuple[torch.Tensor, TensorDict]:
        cfg = self.config
        # Rows marked False in `mask` (autoreset rows, padding) count in no mean.
        mask = batch.get(C.MASK)
        out = self.module.forward_train(batch)
        dist = self.module.action_dist_cls(out[C.ACTION_DIST_INPUTS])
        logp = dist.logp(batch[C.ACTIONS])
        metrics: TensorDict = {}

        beta = float(cfg.beta)
        if beta == 0.0:
            # Behaviour cloning: every recorded action is imitated alike.
            weights: torch.Tensor | float = 1.0
            vf_loss = torch.zeros((), device=self.device)
        else:
            # Advantage A = R_t - V(s_t) with the current value function; the value loss fits
            # V to the returns: 0.5 E[A^2].
            values, returns = out[C.VF_PREDS], batch[C.VALUE_TARGETS]
            advantages = returns - values
            sqd_mean = masked_mean(advantages.pow(2), mask)
            vf_loss = 0.5 * sqd_mean
            # Eq. (6): c^2 <- c^2 + rate (E[A^2] - c^2), then the weight exp(beta A / c),
            # a constant for the policy gradient.
            rate = float(cfg.moving_average_sqd_adv_norm_update_rate)
            self.moving_avg_sqd_adv_norm += rate * (
                sqd_mean.detach() - self.moving_avg_sqd_adv_norm
            )
            norm = 1e-8 + self.moving_avg_sqd_adv_norm.sqrt()
            weights = torch.exp(beta * advantages.detach() / norm)
            metrics["vf_explained_variance"] = 1.0 - masked_var(
                returns - values.detach(), mask
            ) / masked_var(returns, mask).clamp_min(1e-8)
            metrics["moving_avg_sqd_adv_norm"] = self.moving_avg_sqd_adv_norm.clone()
            metrics["vf_loss"] = vf_loss.detach()

        # Algorithm 1: maximize E[w * log pi(a|s)] over the recorded (s, a); RLlib's optional
        # bonus on a Gaussian policy's log-std keeps it from collapsing onto the data.
        log_std_bonus: torch.Tensor | float = 0.0
        if float(cfg.bc_logstd_coeff) > 0.0 and isinstance(dist, DiagGaussian):
            log_std_bonus = float(cfg.bc_logstd_coeff) * dist.log_std.mean(-1)
        policy_loss = -masked_mean(weights * (logp + log_std_bonus), mask)
        total = policy_loss + float(cfg.vf_coeff) * vf_loss
        metrics.update(total_loss=total.detach(), policy_loss=policy_loss.detach())
        return total, metrics

    def get_extra_state(self) -> dict[str, Any]:
        return {"moving_avg_sqd_adv_norm": float(self.moving_avg_sqd_adv_norm)}

    def set_extra_state(self, extra: dict[str, Any]) -> None:
        if "moving_avg_sqd_adv_norm" in extra:
            self.moving_avg_sqd_adv_norm.fill_(float(extra["moving_avg_sqd_adv_norm"]))
