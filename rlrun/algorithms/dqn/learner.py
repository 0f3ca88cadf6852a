"""DQN's loss, with the Rainbow options, read top to bottom.

- Q-learning target and Huber loss: Mnih et al. 2015 (Methods, "Training algorithm").
- Double Q: van Hasselt et al. 2016, eq. (4), https://arxiv.org/abs/1509.06461.
- C51: Bellemare et al. 2017, Algorithm 1, https://arxiv.org/abs/1707.06887.
- n-step returns and prioritized replay as in Rainbow (Hessel et al. 2018, eqs. 2-3): the replay
  buffer hands over "rewards" = sum_{k<n} gamma^k r_{t+k}, "discounts" = gamma^n for the
  bootstrap and "weights" = the importance-sampling corrections; the per-sample "td_error"
  metric goes back to it as the new priorities.

Target networks are moved by OffPolicyLearner (hard copy every `target_network_update_freq` env
steps, or Polyak averaging with `tau`).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from rlrun.algorithms.off_policy.learner import OffPolicyLearner
from rlrun.core import columns as C
from rlrun.core.learner import TD_ERROR, TensorDict
from rlrun.core.schedules import Schedule


class DQNLearner(OffPolicyLearner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.epsilon_schedule = Schedule(self.config.epsilon)
        self.update_epsilon()  # the first weights sent to the env runners carry eps(0)

    def update_epsilon(self) -> torch.Tensor:
        """Exploration's eps at the current env step, written into the module's buffer (the
        env runners get it with the next weights)."""
        eps = self.epsilon_schedule.value(self.env_steps_lifetime)
        self.module.epsilon.fill_(eps)
        return self.module.epsilon.detach().clone()

    def compute_loss_for_module(
        self, module_id: str, batch: TensorDict
    ) -> tuple[torch.Tensor, TensorDict]:
        epsilon = self.update_epsilon()
        if self.module.distributional:
            loss, metrics = self.distributional_loss(batch)
        else:
            loss, metrics = self.expected_q_loss(batch)
        metrics["curr_epsilon"] = epsilon
        return loss, metrics

    # --- expected Q (Mnih et al. 2015; van Hasselt et al. 2016) -------------------------------

    def expected_q_loss(self, batch: TensorDict) -> tuple[torch.Tensor, TensorDict]:
        module = self.module
        actions = batch[C.ACTIONS].long()
        q_all = module.forward_train(batch)["q_values"]  # [B, A]
        q = q_all.gather(1, actions.unsqueeze(1)).squeeze(1)  # Q(s, a)

        with torch.no_grad():
            # y = r + gamma^n (1 - terminated) Q_target(s', a*), where double Q lets the online
            # net pick a* = argmax_a Q(s', a) and the target net evaluate it; plain DQN takes
            # a* = argmax_a Q_target(s', a), i.e. max_a Q_target(s', a).
            next_obs = batch["next_obs"]
            q_next_target = module.target_q_values(next_obs)  # [B, A]
            a_star = self._next_action(next_obs, q_next_target)
            q_next = q_next_target.gather(1, a_star.unsqueeze(1)).squeeze(1)
            y = batch[C.REWARDS] + self._bootstrap_factor(batch) * q_next

        # td = Q(s, a) - y;  loss = mean_i w_i * rho(td_i), rho Huber (delta 1) or 0.5 td^2.
        # Huber: 0.5 td^2 for |td| <= 1, |td| - 0.5 beyond (Mnih et al. 2015's error clipping).
        td = q - y
        if self.config.td_error_loss_fn == "huber":
            per_sample = F.huber_loss(td, torch.zeros_like(td), reduction="none", delta=1.0)
        else:
            per_sample = 0.5 * td.pow(2)
        loss = (batch["weights"] * per_sample).mean()

        return loss, self._metrics(loss, q, td.detach())

    # --- distributional, C51 (Bellemare et al. 2017) ------------------------------------------

    def distributional_loss(self, batch: TensorDict) -> tuple[torch.Tensor, TensorDict]:
        module = self.module
        actions = batch[C.ACTIONS].long()
        rows = torch.arange(len(actions), device=actions.device)
        out = module.forward_train(batch)
        logits = out["q_logits"][rows, actions]  # [B, atoms]: log p_i(s, a) up to a constant
        q = out["q_values"][rows, actions]  # Q(s, a) = sum_i p_i(s, a) z_i, for the metrics

        with torch.no_grad():
            # Algorithm 1: the bootstrap action a* from the expected Q, as above (double Q: the
            # online net picks it), then the target net's distribution p_j(s', a*)...
            next_obs = batch["next_obs"]
            next_probs_all = module.target_q_logits(next_obs).softmax(dim=-1)  # [B, A, atoms]
            # The target net's expected Q, with illegal actions (an action mask) never the max.
            q_next_target = module.target_q_values(next_obs)  # [B, A]
            a_star = self._next_action(next_obs, q_next_target)
            next_probs = next_probs_all[rows, a_star]  # [B, atoms]
            # ... moved to r + gamma^n (1 - terminated) z_j and projected back onto the support.
            target = project_distribution(
                next_probs,
                batch[C.REWARDS],
                batch["discounts"],
                batch[C.TERMINATEDS],
                module.support,
            )

        # Cross-entropy -sum_i m_i log p_i(s, a): the KL to the projected target up to a
        # constant. Per sample it is also the priority (as Rainbow and RLlib use).
        cross_entropy = -(target * F.log_softmax(logits, dim=-1)).sum(-1)
        loss = (batch["weights"] * cross_entropy).mean()

        return loss, self._metrics(loss, q, cross_entropy.detach())

    # --- shared pieces ------------------------------------------------------------------------

    def _next_action(self, next_obs: torch.Tensor, q_next_target: torch.Tensor) -> torch.Tensor:
        """a* = argmax_a Q_online(s', a) with double Q, else argmax_a Q_target(s', a)."""
        if self.config.double_q:
            return self.module.q_values(next_obs).argmax(dim=1)
        return q_next_target.argmax(dim=1)

    @staticmethod
    def _metrics(loss: torch.Tensor, q: torch.Tensor, errors: torch.Tensor) -> TensorDict:
        """The loss's metrics; `errors` are the per-sample errors whose magnitudes become
        prioritized replay's new priorities (TD errors, or C51's cross-entropies)."""
        return {
            TD_ERROR: errors,
            "qf_loss": loss.detach(),
            "qf_mean": q.detach().mean(),
            "qf_max": q.detach().max(),
            "td_error_mean": errors.abs().mean(),
        }

    @staticmethod
    def _bootstrap_factor(batch: TensorDict) -> torch.Tensor:
        """gamma^n (1 - terminated): no bootstrap past a terminal state (truncation does)."""
        return batch["discounts"] * (1.0 - batch[C.TERMINATEDS].float())


def project_distribution(
    next_probs: torch.Tensor,
    rewards: torch.Tensor,
    discounts: torch.Tensor,
    terminateds: torch.Tensor,
    support: torch.Tensor,
) -> torch.Tensor:
    """Bellemare et al. 2017, Algorithm 1: project the distribution of r + gamma^n (1 - term) Z,
    Z with probabilities `next_probs` [B, atoms] on `support` [atoms], back onto the support.

    Each atom's mass goes to its two neighbours l = floor(b), u = ceil(b), in proportion to
    closeness, b being its (clamped) position in units of the atom spacing. Returns [B, atoms],
    rows summing to 1.
    """
    num_atoms = support.numel()
    v_min, v_max = float(support[0]), float(support[-1])
    delta_z = (v_max - v_min) / (num_atoms - 1)
    gamma = discounts * (1.0 - terminateds.float())
    # T z_j = [r + gamma^n (1 - term) z_j] clamped to [V_min, V_max]
    tz = (rewards.unsqueeze(1) + gamma.unsqueeze(1) * support.unsqueeze(0)).clamp(v_min, v_max)
    # b_j = (T z_j - V_min) / delta_z (clamped again: rounding may push it past N - 1)
    b = ((tz - v_min) / delta_z).clamp(0.0, num_atoms - 1)
    lower, upper = b.floor(), b.ceil()
    # m_l += p_j (u - b_j);  m_u += p_j (b_j - l). When b_j lands on an atom (l == u) both
    # shares would be 0, so the whole p_j goes to l.
    m_lower = next_probs * (upper - b + (lower == upper).to(b.dtype))
    m_upper = next_probs * (b - lower)
    target = torch.zeros_like(m_lower)
    target.scatter_add_(1, lower.long(), m_lower)
    target.scatter_add_(1, upper.long(), m_upper)
    return target
