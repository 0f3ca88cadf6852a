"""CQL's losses, read top to bottom beside the paper: SAC's three losses
(rlrun/algorithms/sac/learner.py), the conservative penalty added to the critics' loss, and
behaviour cloning in place of SAC's actor loss for the first `bc_iters` updates.

Kumar, Zhou, Tucker, Levine 2020, "Conservative Q-Learning for Offline Reinforcement Learning"
(https://arxiv.org/abs/2006.04779):
- eq. 4, CQL(H): each critic minimizes
      alpha * E_s~D[ log sum_a exp Q(s, a) - E_a~D(.|s)[ Q(s, a) ] ] + 1/2 E_D[ (Q - B^pi Qhat)^2 ]
  i.e. SAC's soft Bellman error plus a penalty that pushes Q down on every action (the soft
  maximum, log sum exp) and up on the actions in the data. alpha is `min_q_weight`.
- appendix F: the log sum exp over a continuous action space is estimated by importance
  sampling, with N actions drawn from Unif(A) and N from the policy:
      log sum_a exp Q(s, a) ~ log( 1/2N sum_{a~Unif} exp Q(s, a) / Unif(a)
                                 + 1/2N sum_{a~pi(.|s)} exp Q(s, a) / pi(a|s) )
  The authors' code (and RLlib's CQL) also draws N actions from pi(.|s') (evaluated at s), and
  writes it with a temperature T: T * logsumexp_j((Q(s, a_j) - log mu(a_j)) / T), mu being the
  density a_j was drawn from. The constant log 3N is left out: it moves no gradient.
- eq. 5 / appendix F, CQL-Lagrange (`lagrangian=true`): the penalty's weight alpha' >= 0 is
  learned by dual gradient steps on
      min_Q max_{alpha'>=0} alpha' (min_q_weight * penalty - tau) + Bellman error,
  so alpha' grows while the weighted gap exceeds tau (`lagrangian_thresh`) and shrinks when it
  falls below. As the authors' code: alpha' = exp(log alpha') clipped to [0, 1e6], log alpha'
  starting at 0, its own Adam at the critics' learning rate, and its loss the negated mean
  over the critics of alpha' (min_q_weight * penalty_i - tau), the penalty held constant.
- behaviour cloning warm start (the authors' `policy_eval_start`, RLlib's `bc_iters`): for the
  first bc_iters updates the actor loss is E_s,a~D[ alpha log pi(a~|s) - log pi(a|s) ], a~ ~ pi,
  so the policy first imitates the data, before the (still conservative) critics steer it.

Actions are in the module's (-1, 1) units (the EnvRunner rescales to the Box bounds, and the
recorded data holds what the module sampled), so the uniform density is (1/2)^dim(A).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from rlrun.algorithms.sac.learner import NEXT_OBS, SACLearner
from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.core.distributions import SquashedGaussian
from rlrun.core.learner import TensorDict
from rlrun.core.optim import Optimizer, make_optimizer
from rlrun.core.schedules import Schedule
from rlrun.errors import ConfigError

ALPHA_PRIME = "alpha_prime"  # the Lagrangian's optimizer (and lr schedule)


def cql_penalty(
    q_sampled: torch.Tensor, log_density: torch.Tensor, q_data: torch.Tensor, temperature: float
) -> torch.Tensor:
    """The bracket of eq. 4 for each critic, with appendix F's importance-sampled log sum exp:
        mean_b[ T logsumexp_j((Q_i(s_b, a_bj) - log mu(a_bj)) / T) ] - mean_b[ Q_i(s_b, a_b) ]
    q_sampled [K, B, M]: the K critics' values of M sampled actions per state; log_density
    [B, M]: the log-density each was drawn with; q_data [K, B]: the critics' values of the
    data's actions. Returns [K]."""
    weighted = (q_sampled - log_density) / temperature
    soft_max = temperature * torch.logsumexp(weighted, dim=-1)  # [K, B]
    return soft_max.mean(dim=-1) - q_data.mean(dim=-1)


def require_box_actions(action_space: Any) -> None:
    """CQL here is CQL(H) on SAC's squashed Gaussian: Box actions only."""
    import gymnasium as gym

    if not isinstance(action_space, gym.spaces.Box):
        raise ConfigError(
            "algo.name",
            "CQL",
            f"needs a Box action space; this env's is {action_space} (rlrun's CQL is CQL(H) "
            "on SAC, for continuous actions): use algo=bc or algo=marwil for other actions",
        )


class CQLLearner(SACLearner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        require_box_actions(self.module.action_space)
        cfg = self.config
        self.min_q_weight = float(cfg.min_q_weight)
        self.num_actions = int(cfg.num_actions)
        self.temperature = float(cfg.temperature)
        self.bc_iters = int(cfg.bc_iters)

    @property
    def lagrangian(self) -> bool:
        return bool(self.config.lagrangian)

    def build_lr_schedules(self) -> dict[str, Schedule]:
        schedules = super().build_lr_schedules()
        if self.lagrangian:
            schedules[ALPHA_PRIME] = Schedule(self.config.critic_lr)
        return schedules

    def build_optimizers(self) -> dict[str, Optimizer]:
        """SAC's, plus Adam for log(alpha') with the Lagrangian (a learner tensor, not a module
        parameter: runners never need it; checkpoints keep it in the learner's state)."""
        optimizers = super().build_optimizers()
        if self.lagrangian:
            self.log_alpha_prime = torch.zeros(1, device=self.device, requires_grad=True)
            lr = self.lr_schedules[ALPHA_PRIME].value(0)
            optimizers[ALPHA_PRIME] = make_optimizer(
                [self.log_alpha_prime], lr, self.config.optimizer, 1e-8
            )
        return optimizers

    def compute_loss_for_module(
        self, module_id: str, batch: TensorDict
    ) -> tuple[TensorDict, TensorDict]:
        # SAC's J_Q, J_pi and J(alpha) on the replayed batch (soft Bellman backup, clipped
        # double Q, temperature tuning).
        losses, metrics = super().compute_loss_for_module(module_id, batch)

        # Eq. 4: alpha * (soft maximum of Q over actions - Q of the data's actions), per critic,
        # summed over the critics as SAC sums their Bellman errors.
        gaps = self.min_q_weight * self.penalty(batch)  # [K]
        if self.lagrangian:
            # Eq. 5: the critics minimize alpha' (gap - tau), alpha' held fixed; alpha' takes
            # a step up the same expression (its loss is the negation), the gap held fixed.
            tau = float(self.config.lagrangian_thresh)
            alpha_prime = self.log_alpha_prime.exp().clamp(0.0, 1e6)
            cql_loss = (alpha_prime.detach() * (gaps - tau)).sum()
            losses[ALPHA_PRIME] = -(alpha_prime * (gaps.detach() - tau)).mean()
            metrics["alpha_prime"] = alpha_prime.detach().squeeze()
            metrics["alpha_prime_loss"] = losses[ALPHA_PRIME].detach()
        else:
            cql_loss = gaps.sum()
        losses["critic"] = losses["critic"] + cql_loss
        metrics["cql_loss"] = cql_loss.detach()
        metrics["qf_loss"] = losses["critic"].detach()

        # The warm start: imitate the data's actions for the first bc_iters updates.
        metrics["bc_phase"] = torch.tensor(float(self.in_bc_phase))
        if self.in_bc_phase:
            losses["actor"] = self.bc_actor_loss(batch)
            metrics["actor_loss"] = losses["actor"].detach()
        return losses, metrics

    def get_extra_state(self) -> dict[str, Any]:
        extra = super().get_extra_state()
        if self.lagrangian:
            extra["log_alpha_prime"] = float(self.log_alpha_prime.item())
        return extra

    def set_extra_state(self, extra: dict[str, Any]) -> None:
        super().set_extra_state(extra)
        if self.lagrangian and "log_alpha_prime" in extra:  # absent: a run without it
            with torch.no_grad():
                self.log_alpha_prime.fill_(float(extra["log_alpha_prime"]))

    @property
    def in_bc_phase(self) -> bool:
        """Whether the coming update is one of the first `bc_iters` (counted over the whole
        run: a resumed run continues the count from its checkpoint)."""
        return self.num_updates_lifetime < self.bc_iters

    def penalty(self, batch: TensorDict) -> torch.Tensor:
        """`cql_penalty` of the online critics on this batch, [K]: M = 3 * num_actions sampled
        actions per state (uniform, pi(.|s), pi(.|s')), and the data's actions, valued by the
        critics in one pass each."""
        actions, log_density = self.sampled_actions(batch)  # [B, M, d], [B, M]
        b, m, d = actions.shape
        # The data's action last: one critic pass over B * (M + 1) rows.
        everything = torch.cat([actions, batch[C.ACTIONS].view(b, 1, d).to(actions.dtype)], 1)
        obs = tree.map_structure(lambda x: x.repeat_interleave(m + 1, dim=0), batch[C.OBS])
        q = self.module.q(obs, everything.view(b * (m + 1), d)).view(-1, b, m + 1)
        return cql_penalty(q[..., :m], log_density, q[..., m], self.temperature)

    @torch.no_grad()
    def sampled_actions(self, batch: TensorDict) -> tuple[torch.Tensor, torch.Tensor]:
        """Appendix F's proposal actions for each state s of the batch, and the log-density
        each was drawn with: num_actions from Unif(-1, 1)^d, from pi(.|s) and from pi(.|s').
        Drawn without gradient: the penalty trains the critics only (the policy's own loss
        is SAC's or BC's), and the densities are importance weights, constants."""
        m, n = self.module, self.num_actions
        rows = tree.lead_size(batch[C.OBS])
        d = m.action_dim
        uniform = torch.rand(rows, n, d, device=self.device) * 2.0 - 1.0
        uniform_logp = torch.full((rows, n), d * math.log(0.5), device=self.device)
        drawn, logps = [uniform], [uniform_logp]
        for obs in (batch[C.OBS], batch[NEXT_OBS]):
            inputs = m.pi_dist_inputs(obs).repeat_interleave(n, dim=0)
            a, logp = SquashedGaussian(inputs).sample_with_logp()
            drawn.append(a.view(rows, n, d))
            logps.append(logp.view(rows, n))
        return torch.cat(drawn, dim=1), torch.cat(logps, dim=1)

    def bc_actor_loss(self, batch: TensorDict) -> torch.Tensor:
        """E_s,a~D[ alpha log pi(a~|s) - log pi(a|s) ], a~ ~ pi(.|s) reparameterized: the data's
        log-likelihood, with SAC's entropy bonus kept so the policy does not collapse onto it."""
        m = self.module
        dist = SquashedGaussian(m.pi_dist_inputs(batch[C.OBS]))
        _, logp = dist.sample_with_logp()
        return (m.alpha.detach() * logp - dist.logp(batch[C.ACTIONS])).mean()
