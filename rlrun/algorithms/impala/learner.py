"""IMPALA's loss (Espeholt et al. 2018, https://arxiv.org/abs/1802.01561), read top to bottom.

A batch is a set of time lines [B, L] (rlrun.algorithms.impala.time_lines), each ending in
the masked row that bootstraps it. V-trace needs the policy being trained, so it is computed
here, per minibatch, with the current network's values (no gradient through the targets).
Each incoming batch goes into a circular buffer first; an update trains on batches drawn from
it (rlrun.algorithms.impala.circular_buffer).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rlrun.algorithms.impala.circular_buffer import CircularBuffer
from rlrun.algorithms.impala.time_lines import TimeLinePipeline
from rlrun.algorithms.impala.vtrace import vtrace
from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.core.learner import Learner, TensorDict
from rlrun.core.masked import masked_mean
from rlrun.core.rl_module import RLModule
from rlrun.core.schedules import Schedule
from rlrun.env.rollout import Rollout


class IMPALALearner(Learner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entropy_schedule = Schedule(self.config.entropy_coeff)
        self.circular_buffer = CircularBuffer(
            self.config.circular_buffer_num_batches,
            self.config.circular_buffer_iterations_per_batch,
            seed=int(torch.initial_seed() % 2**32),
        )

    def build_learner_connector(self) -> TimeLinePipeline:
        return TimeLinePipeline(int(self.config.model.max_seq_len), self.user_learner_pieces())

    def update(self, rollouts: list[Rollout], env_steps_lifetime: int) -> dict[str, float]:
        """Add the fresh batch to the circular buffer, then train on each batch it holds."""
        self.env_steps_lifetime = env_steps_lifetime
        assert self.learner_connector is not None
        batch = self.learner_connector(self.module, rollouts, self.device)[self.module_id]
        self.circular_buffer.add(batch)
        runs = [
            self.update_from_batch(
                b,
                num_epochs=int(self.config.num_epochs),
                minibatch_size=self.config.minibatch_size,
            )
            for b in self.circular_buffer.draw()
        ]
        out = {k: sum(r[k] for r in runs) / len(runs) for k in runs[0]}
        out["num_module_steps_trained"] = sum(r["num_module_steps_trained"] for r in runs)
        return out

    # --- the loss ---------------------------------------------------------------------------

    def compute_loss_for_module(
        self, module_id: str, batch: TensorDict
    ) -> tuple[torch.Tensor, TensorDict]:
        mask = batch[C.MASK]  # False: autoreset rows, each line's bootstrap row, padding
        out = forward_lines(self.module, batch)
        dist = self.module.action_dist_cls(out[C.ACTION_DIST_INPUTS])
        logp = dist.logp(batch[C.ACTIONS])
        values = out[C.VF_PREDS]

        # Section 4.1: value targets v_s and advantages, with pi the policy being trained.
        vs, advantages = self.vtrace(batch, logp.detach(), values.detach())

        # Section 4.2: the policy gradient rho_s * grad log pi(a_s|x_s) * (r_s + gamma v_{s+1}
        # - V(x_s)) (rho_s is inside the advantage), the value regression towards v_s, and an
        # entropy bonus.
        policy_loss = -masked_mean(logp * advantages, mask)
        vf_loss = 0.5 * masked_mean((values - vs).pow(2), mask)
        entropy = masked_mean(dist.entropy(), mask)
        entropy_coeff = self.entropy_schedule.value(self.env_steps_lifetime)
        total = policy_loss + self.config.vf_loss_coeff * vf_loss - entropy_coeff * entropy
        return total, {
            "total_loss": total.detach(),
            "policy_loss": policy_loss.detach(),
            "vf_loss": vf_loss.detach(),
            "entropy": entropy.detach(),
            "mean_vtrace_target": masked_mean(vs, mask),
        }

    def vtrace(
        self, batch: TensorDict, target_logp: torch.Tensor, values: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """V-trace targets and advantages [B, L] for lines [B, L] (rlrun...vtrace, on the CPU:
        a loop over L small steps is cheaper in numpy than in torch)."""

        def tm(x: torch.Tensor) -> Any:  # [B, L] -> time-major [L, B] numpy
            return x.detach().cpu().numpy().T

        cfg = self.config
        mask = tm(batch[C.MASK])
        vs, adv = vtrace(
            tm(batch[C.ACTION_LOGP]),
            tm(target_logp),
            tm(batch[C.REWARDS]),
            tm(values),
            # A line's last row is its bootstrap row or padding: masked, so nothing after it counts.
            np.zeros(values.shape[0], np.float32),
            tm(batch[C.TERMINATEDS]),
            tm(batch[C.TRUNCATEDS]),
            float(cfg.gamma),
            float(cfg.vtrace_clip_rho_threshold),
            float(cfg.vtrace_clip_pg_rho_threshold),
            mask=mask,
        )
        device = values.device
        return (
            torch.as_tensor(vs.T.copy(), device=device),
            torch.as_tensor(adv.T.copy(), device=device),
        )

    def after_update(self, metrics: dict[str, float]) -> dict[str, float]:
        return {"curr_entropy_coeff": self.entropy_schedule.value(self.env_steps_lifetime)}


def forward_lines(module: RLModule, batch: TensorDict) -> TensorDict:
    """`forward_train` on lines [B, L]: a recurrent module runs along each line from its
    `state_in`; a feed-forward one sees the B*L rows at once."""
    if module.is_stateful:
        return module.forward_train({C.OBS: batch[C.OBS], C.STATE_IN: batch[C.STATE_IN]})
    b, t = tree.first_leaf(batch[C.OBS]).shape[:2]
    out = module.forward_train({C.OBS: tree.reshape_lead(batch[C.OBS], 2, (b * t,))})
    return {k: v.reshape(b, t, *v.shape[1:]) for k, v in out.items() if isinstance(v, torch.Tensor)}
