"""Generalized Advantage Estimation (Schulman et al. 2016, https://arxiv.org/abs/1506.02438).

Turns time-major Rollouts into a flat training batch with advantages and value targets.
"""

from __future__ import annotations

import numpy as np
import torch

from rlrun.core import columns as C
from rlrun.core.rl_module import RLModule
from rlrun.env.rollout import Rollout


def compute_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    bootstrap_values: np.ndarray,
    terminateds: np.ndarray,
    truncateds: np.ndarray,
    gamma: float,
    lambda_: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Advantages and value targets for [T, N] time-major arrays.

    `values[t]` is V(s_t); `bootstrap_values` is V of the observation after the last step.
    The observation after step t is always the next row's (a NEXT_STEP-autoresetting vector env
    shows a finished episode's final observation on the following row), so:
      delta_t = r_t + gamma * V(s_{t+1}) * (1 - terminated_t) - V(s_t)
    bootstraps a truncated episode from its final observation and a terminated one from 0, and
      A_t = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}
    stops the sum at every episode end. Rows of autoreset steps get values too; the caller
    masks them out of the loss.
    """
    next_values = np.concatenate([values[1:], bootstrap_values[None]], axis=0)
    deltas = rewards + gamma * next_values * (1.0 - terminateds) - values
    carry = gamma * lambda_ * (1.0 - (terminateds | truncateds))
    advantages = np.empty_like(deltas)
    last = np.zeros(deltas.shape[1:], dtype=deltas.dtype)
    for t in range(deltas.shape[0] - 1, -1, -1):
        last = deltas[t] + carry[t] * last
        advantages[t] = last
    return advantages, advantages + values


class GAEConnector:
    """Learner connector: values every observation with the learner's module in one batched
    forward pass, computes GAE per rollout, then flattens and drops autoreset rows."""

    def __init__(self, gamma: float, lambda_: float) -> None:
        self.gamma = gamma
        self.lambda_ = lambda_

    def __call__(
        self, module: RLModule, rollouts: list[Rollout], device: torch.device
    ) -> dict[str, torch.Tensor]:
        parts: dict[str, list[np.ndarray]] = {}
        for ro in rollouts:
            T, N = ro.num_steps, ro.num_envs
            obs = np.concatenate([ro[C.OBS].reshape(T * N, *ro[C.OBS].shape[2:]), ro.bootstrap_obs])
            with torch.no_grad():
                v = module.compute_values({C.OBS: torch.from_numpy(obs).to(device)}).cpu().numpy()
            values, boot = v[: T * N].reshape(T, N), v[T * N :]
            adv, targets = compute_gae(
                ro[C.REWARDS],
                values,
                boot,
                ro[C.TERMINATEDS],
                ro[C.TRUNCATEDS],
                self.gamma,
                self.lambda_,
            )
            mask = ro[C.VALID].reshape(-1)
            cols = {
                C.OBS: ro[C.OBS],
                C.ACTIONS: ro[C.ACTIONS],
                C.ACTION_DIST_INPUTS: ro[C.ACTION_DIST_INPUTS],
                C.VF_PREDS: values,
                C.ADVANTAGES: adv,
                C.VALUE_TARGETS: targets,
            }
            for k, arr in cols.items():
                parts.setdefault(k, []).append(arr.reshape(T * N, *arr.shape[2:])[mask])
        batch = {k: torch.from_numpy(np.concatenate(v)).to(device) for k, v in parts.items()}
        with torch.no_grad():
            dist = module.action_dist_cls(batch[C.ACTION_DIST_INPUTS])
            batch[C.ACTION_LOGP] = dist.logp(batch[C.ACTIONS])
        return batch
