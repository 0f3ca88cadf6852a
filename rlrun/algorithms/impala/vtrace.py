"""V-trace (Espeholt et al. 2018, https://arxiv.org/abs/1802.01561, section 4.1).

The maths on time-major [T, N] arrays, with the row conventions of rlrun's batches (as
rlrun.connectors.learner.gae.compute_gae): the observation after step t is always the next
row's, so a NEXT_STEP autoreset row (mask False) holds the finished episode's final
observation and a truncated episode bootstraps from its value, a terminated one from 0.

With importance weights rho_t = min(rho_bar, pi(a_t|x_t) / mu(a_t|x_t)) and
c_t = min(1, pi/mu) (c-bar = 1, as in the paper's experiments and RLlib):

  delta_t = rho_t * (r_t + gamma * (1 - terminated_t) * V(x_{t+1}) - V(x_t))
  v_t - V(x_t) = delta_t + gamma * c_t * (1 - done_t) * (v_{t+1} - V(x_{t+1}))      (eq. 1)

computed backwards from v_T = V(bootstrap). Rows whose mask is False (autoreset rows,
padding, the bootstrap row of a time line) take no part: their v is their own value, so
nothing flows through them (the row before an autoreset row is done anyway). The policy
gradient's advantage (section 4.2) uses the next row's target:

  A_t = min(pg_rho_bar, pi/mu) * (r_t + gamma * (1 - terminated_t) * v_{t+1} - V(x_t))

With pi = mu (rho = c = 1), v_t are the lambda=1 (n-step to the episode's end) returns and A_t
the lambda=1 GAE advantages.
"""

from __future__ import annotations

import numpy as np


def vtrace(
    behaviour_logp: np.ndarray,
    target_logp: np.ndarray,
    rewards: np.ndarray,
    values: np.ndarray,
    bootstrap_values: np.ndarray,
    terminateds: np.ndarray,
    truncateds: np.ndarray,
    gamma: float,
    clip_rho_threshold: float = 1.0,
    clip_pg_rho_threshold: float = 1.0,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """V-trace targets v_t and policy-gradient advantages, both [T, N].

    `behaviour_logp` is log mu(a_t|x_t) (the policy that acted), `target_logp` log pi(a_t|x_t);
    `values[t]` is V(x_t) and `bootstrap_values` V of the observation after the last row.
    """
    dtype = np.result_type(values.dtype, np.float32)
    values = values.astype(dtype, copy=False)
    ratio = np.exp(target_logp.astype(dtype) - behaviour_logp.astype(dtype))
    rho = np.minimum(clip_rho_threshold, ratio)
    c = np.minimum(1.0, ratio)
    not_term = 1.0 - terminateds.astype(dtype)
    real = np.ones_like(values) if mask is None else mask.astype(dtype)
    next_values = np.concatenate([values[1:], bootstrap_values[None].astype(dtype)], axis=0)
    deltas = rho * (rewards + gamma * not_term * next_values - values)
    carry = gamma * c * (1.0 - (terminateds | truncateds).astype(dtype))

    diff = np.empty_like(values)  # v_t - V(x_t)
    acc = np.zeros(values.shape[1:], dtype)
    for t in range(values.shape[0] - 1, -1, -1):
        acc = real[t] * (deltas[t] + carry[t] * acc)
        diff[t] = acc
    vs = values + diff

    next_vs = np.concatenate([vs[1:], bootstrap_values[None].astype(dtype)], axis=0)
    pg_rho = np.minimum(clip_pg_rho_threshold, ratio)
    pg_advantages = pg_rho * (rewards + gamma * not_term * next_vs - values)
    return vs, pg_advantages
