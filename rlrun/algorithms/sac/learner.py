"""SAC's losses, read top to bottom beside the papers.

Haarnoja et al. 2018a (https://arxiv.org/abs/1801.01290), section 4.2: the soft Q-function loss
J_Q and the reparameterized policy loss J_pi; appendix C: the tanh change of variables (done in
`SquashedGaussian.sample_with_logp`). Haarnoja et al. 2018b (https://arxiv.org/abs/1812.05905):
the value of s' taken directly from the target critics (no separate V network), the minimum of
two critics (clipped double Q, Fujimoto et al. 2018), and section 5: the temperature loss J(alpha)
that holds the policy's entropy at a target. Christodoulou 2019
(https://arxiv.org/abs/1910.07207), section 4: discrete actions, where every expectation over a
is a sum over the policy's probabilities instead of a sample.

Three optimizers (actor, critic, alpha) and one loss each: the base Learner sends each loss's
gradients only to its own optimizer's parameters, so the actor loss (which runs through the
critics) never moves the critics, and the critic loss never moves the policy.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import gymnasium as gym
import torch

from rlrun.algorithms.off_policy.learner import OffPolicyLearner
from rlrun.algorithms.sac.module import Q_VALUES, SACModule
from rlrun.core import columns as C
from rlrun.core.distributions import Categorical, SquashedGaussian
from rlrun.core.learner import TD_ERROR, TensorDict
from rlrun.core.optim import Optimizer, make_optimizer
from rlrun.core.schedules import Schedule
from rlrun.errors import ConfigError
from rlrun.models.action_mask import legal_actions

NEXT_OBS, DISCOUNTS, WEIGHTS = "next_obs", "discounts", "weights"  # replayed batch columns


def resolve_target_entropy(spec: Any, action_space: gym.Space) -> float:
    """The entropy the temperature steers towards. "auto": -dim(A) for Box actions (2018b,
    section 5), 0.98 * log|A| (98% of the uniform policy's entropy) for Discrete (the value
    Christodoulou 2019 uses in its experiments)."""
    if isinstance(spec, str):
        if spec.lower() != "auto":
            raise ConfigError("algo.target_entropy", spec, "must be a number or auto")
        if isinstance(action_space, gym.spaces.Discrete):
            return 0.98 * math.log(int(action_space.n))
        return -float(math.prod(action_space.shape))
    return float(spec)


class SACLearner(OffPolicyLearner):
    module: SACModule
    joint_backward = True  # critic, actor and alpha losses touch disjoint parameters

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.target_entropy = resolve_target_entropy(
            self.config.target_entropy, self.module.action_space
        )

    def _discrete_target(self, batch: TensorDict) -> torch.Tensor | float:
        """The entropy target per state. With an action mask and target_entropy "auto", 98% of
        the uniform policy's entropy over the *legal* actions, log(#legal), which varies by
        state: the all-actions target would be out of reach where few are legal, and alpha
        would grow without end."""
        key = self.module.mask_key
        if key is None or self.config.target_entropy != "auto":
            return self.target_entropy
        n_legal = legal_actions(batch[C.OBS][key]).sum(-1).float()
        return 0.98 * n_legal.log()

    @property
    def autotune_alpha(self) -> bool:
        return bool(self.config.autotune_alpha)

    def build_lr_schedules(self) -> dict[str, Schedule]:
        names = ["actor", "critic"] + (["alpha"] if self.autotune_alpha else [])
        return {name: Schedule(getattr(self.config, f"{name}_lr")) for name in names}

    def build_optimizers(self) -> dict[str, Optimizer]:
        """Adam for the policy, the critics and log(alpha). With autotune_alpha=False there is
        no alpha optimizer (and no alpha loss): log_alpha is frozen at log(initial_alpha)."""
        m = self.module
        lr = {name: s.value(0) for name, s in self.lr_schedules.items()}
        opt = self.config.optimizer  # eps 1e-8 unless set: SAC's published settings'
        optimizers = {
            "actor": make_optimizer(m.pi.parameters(), lr["actor"], opt, 1e-8),
            "critic": make_optimizer(m.qs.parameters(), lr["critic"], opt, 1e-8),
        }
        if self.autotune_alpha:
            optimizers["alpha"] = make_optimizer([m.log_alpha], lr["alpha"], opt, 1e-8)
        else:
            m.log_alpha.requires_grad_(False)
        return optimizers

    def compute_loss_for_module(
        self, module_id: str, batch: TensorDict
    ) -> tuple[TensorDict, TensorDict]:
        if self.module.discrete:
            return self._discrete_loss(batch)
        m = self.module
        out = m.forward_train(batch)  # pi's inputs at s; Q_i(s, a) of the replayed actions
        alpha = m.alpha.detach()

        # Soft Q-function (2018a, J_Q; 2018b's form, V(s') from the target critics), with the
        # minimum of the target critics and a' sampled from the current policy at s':
        #   y = r + gamma^k (1 - done) (min_i Qtarget_i(s', a') - alpha log pi(a'|s'))
        # (r is the replay's n-step return and gamma^k its "discounts": k = 1 for n_step=1.)
        with torch.no_grad():
            next_dist = SquashedGaussian(m.pi_dist_inputs(batch[NEXT_OBS]))
            next_actions, next_logp = next_dist.sample_with_logp()
            next_q = m.target_q(batch[NEXT_OBS], next_actions).amin(dim=0)
            target = self._bootstrap(batch, next_q - alpha * next_logp)
        critic_loss, td_error, q = self._critic_loss(out[Q_VALUES], target, batch)

        # Policy (2018a, J_pi with the reparameterization a~ = tanh(mean + std * eps)):
        #   J_pi = E_s,eps[ alpha log pi(a~|s) - min_i Q_i(s, a~) ]
        # The critics are evaluated afresh on a~ with their weights frozen, so each loss reaches
        # only its own optimizer's parameters and one backward pass serves all three.
        actions, logp = SquashedGaussian(out[C.ACTION_DIST_INPUTS]).sample_with_logp()
        with _frozen(m.qs):  # the gradient reaches a~ (and pi) but not the critics' weights
            q_pi = m.q(batch[C.OBS], actions).amin(dim=0)
        actor_loss = (alpha * logp - q_pi).mean()

        # Temperature (2018b, section 5): J(alpha) = E_a~pi[ -alpha (log pi(a|s) + H_target) ],
        # taken in log(alpha) (same sign of gradient, alpha stays positive). Entropy below the
        # target (log pi + H_target > 0) makes the gradient negative: alpha grows.
        alpha_loss = -(m.log_alpha * (logp.detach() + self.target_entropy)).mean()

        return self._losses_and_metrics(
            critic_loss, actor_loss, alpha_loss, td_error, q, entropy=-logp.detach().mean()
        )

    def _discrete_loss(self, batch: TensorDict) -> tuple[TensorDict, TensorDict]:
        """Christodoulou 2019, section 4: the same three losses, with the expectations over
        actions computed exactly from pi's probabilities instead of sampled."""
        m = self.module
        out = m.forward_train(batch)  # pi's logits at s; Q_i(s, .) [K, B, |A|]
        alpha = m.alpha.detach()

        # The soft value of s' as an expectation over pi(.|s'):
        #   V(s') = sum_a' pi(a'|s') (min_i Qtarget_i(s', a') - alpha log pi(a'|s'))
        with torch.no_grad():
            next_logp = Categorical(m.pi_dist_inputs(batch[NEXT_OBS])).logits  # normalized
            next_q = m.target_q_all(batch[NEXT_OBS]).amin(dim=0)
            next_v = (next_logp.exp() * (next_q - alpha * next_logp)).sum(-1)
            target = self._bootstrap(batch, next_v)
        q_all = out[Q_VALUES]
        index = batch[C.ACTIONS].long().view(1, -1, 1).expand(q_all.shape[0], -1, 1)
        critic_loss, td_error, q = self._critic_loss(
            q_all.gather(-1, index).squeeze(-1), target, batch
        )

        # Policy: J_pi = E_s[ sum_a pi(a|s) (alpha log pi(a|s) - min_i Q_i(s, a)) ].
        # Q(s, .) does not depend on the policy: the critic pass's values serve, detached.
        logp = Categorical(out[C.ACTION_DIST_INPUTS]).logits
        probs = logp.exp()
        q_min = q_all.detach().amin(dim=0)
        actor_loss = (probs * (alpha * logp - q_min)).sum(-1).mean()

        # Temperature: J(alpha) = E_s[ pi(s)^T (-alpha (log pi(s) + H_target)) ],
        # i.e. with the policy's expected log-prob, E_pi[log pi] = -entropy.
        expected_logp = (probs * logp).sum(-1).detach()
        alpha_loss = -(m.log_alpha * (expected_logp + self._discrete_target(batch))).mean()

        return self._losses_and_metrics(
            critic_loss, actor_loss, alpha_loss, td_error, q, entropy=-expected_logp.mean()
        )

    # --- shared pieces ------------------------------------------------------------------------

    @staticmethod
    def _bootstrap(batch: TensorDict, next_v: torch.Tensor) -> torch.Tensor:
        """y = r + discounts * (1 - terminated) * V(s'): no bootstrap past a terminal state; a
        truncated episode's last transition does bootstrap (the replay marks it not terminated)."""
        not_done = 1.0 - batch[C.TERMINATEDS].to(next_v.dtype)
        return batch[C.REWARDS] + batch[DISCOUNTS] * not_done * next_v

    @staticmethod
    def _critic_loss(
        q: torch.Tensor, target: torch.Tensor, batch: TensorDict
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """J_Q summed over the critics: sum_i mean_b( w_b * 0.5 * (Q_i(s_b, a_b) - y_b)^2 ), with
        w the prioritized-replay importance weights (1 for uniform replay). The 0.5 is the
        papers' J_Q = E[1/2 (Q - y)^2]. Also returns the per-sample |TD error| averaged over the
        critics (for prioritized replay) and the Qs, [K, B]."""
        td = q - target  # [K, B]
        weights = batch.get(WEIGHTS)
        sq = td.pow(2) if weights is None else weights * td.pow(2)
        critic_loss = 0.5 * sq.mean(dim=-1).sum()
        return critic_loss, td.detach().abs().mean(dim=0), q.detach()

    def _losses_and_metrics(
        self,
        critic_loss: torch.Tensor,
        actor_loss: torch.Tensor,
        alpha_loss: torch.Tensor,
        td_error: torch.Tensor,
        q: torch.Tensor,
        entropy: torch.Tensor,
    ) -> tuple[TensorDict, TensorDict]:
        losses = {"critic": critic_loss, "actor": actor_loss}
        if self.autotune_alpha:
            losses["alpha"] = alpha_loss
        log_alpha = self.module.log_alpha.detach()
        metrics = {
            "qf_loss": critic_loss.detach(),
            "actor_loss": actor_loss.detach(),
            "alpha_loss": alpha_loss.detach(),
            "alpha_value": log_alpha.exp(),
            "log_alpha_value": log_alpha,
            "qf_mean": q.mean(),
            "entropy": entropy,
            "target_entropy": torch.tensor(self.target_entropy, device=self.device),
            TD_ERROR: td_error,
        }
        return losses, metrics


@contextmanager
def _frozen(module: torch.nn.Module) -> Iterator[None]:
    """Evaluate `module` without recording gradients for its weights (inputs still get them)."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)
