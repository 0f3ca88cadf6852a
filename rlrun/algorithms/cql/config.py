"""CQL's hyperparameters: SAC's, plus the conservative penalty's (RLlib's names).

Conservative Q-Learning: Kumar, Zhou, Tucker, Levine 2020, "Conservative Q-Learning for Offline
Reinforcement Learning", NeurIPS, https://arxiv.org/abs/2006.04779. CQL(H) on top of SAC, for
Box actions, learning only from recorded data (`offline_data.input_`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rlrun.algorithms.sac.config import SACSchema


@dataclass
class CQLSchema(SACSchema):
    # algo.model keys this algorithm does not use: setting one is an error naming the reason.
    unused_model_keys: ClassVar[dict[str, str]] = {
        **SACSchema.unused_model_keys,
        "use_lstm": "CQL has no recurrent replay; it learns a feed-forward policy",
    }
    offline: ClassVar[bool] = True  # learns from offline_data.input_, samples nothing
    name: str = "CQL"
    # RLlib's CQL learning rates: a slow actor beside faster critics (the paper's 1e-4 / 3e-4).
    actor_lr: Any = 1e-4  # policy learning rate: a float or a schedule [[steps_trained, value]]
    critic_lr: Any = 1e-3  # Q-networks' learning rate: a float or a schedule
    alpha_lr: Any = 1e-3  # entropy temperature's learning rate: a float or a schedule
    # RLlib's 1.0, kept when SAC's default became 0.1: that change was measured on online SAC
    # only (benchmarks/RESULTS.md section 10), not on offline data.
    initial_alpha: float = 1.0  # entropy temperature alpha at the start (all along if not tuned)
    min_q_weight: float = 5.0  # alpha of the paper's eq. 4: the weight of the CQL(H) penalty
    num_actions: int = 10  # actions sampled per state from each of uniform, pi(.|s), pi(.|s')
    temperature: float = 1.0  # the logsumexp's temperature: T log sum exp(Q / T)
    bc_iters: int = 20000  # updates whose actor loss is behaviour cloning before SAC's
    # CQL-Lagrange (the paper's eq. 5 form): the penalty's weight alpha' is learned so that
    # the weighted gap (min_q_weight x penalty) stays near lagrangian_thresh (tau).
    lagrangian: bool = False  # learn the penalty's weight alpha' (False: a fixed min_q_weight)
    lagrangian_thresh: float = 5.0  # tau: the gap between soft-max and data Q that alpha' targets
