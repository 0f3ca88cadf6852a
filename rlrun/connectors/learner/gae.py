"""Generalized Advantage Estimation (Schulman et al. 2016, https://arxiv.org/abs/1506.02438).

The maths on time-major [T, N] arrays; rlrun.connectors.learner.pipeline runs it per fragment.
"""

from __future__ import annotations

import numpy as np


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
