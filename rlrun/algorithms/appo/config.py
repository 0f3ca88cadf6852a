"""APPO's hyperparameters: IMPALA's plus PPO's clipped surrogate against a target network
(RLlib's APPO; Schulman et al. 2017, https://arxiv.org/abs/1707.06347, on V-trace advantages,
Espeholt et al. 2018, https://arxiv.org/abs/1802.01561). RLlib's names; where a default differs
from RLlib's, the comment says why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rlrun.algorithms.impala.config import IMPALASchema


@dataclass
class APPOSchema(IMPALASchema):
    name: str = "APPO"
    lr: Any = 1e-3  # a float or a schedule [[env_steps, value], ...]; RLlib: 5e-4
    clip_param: float = 0.4  # surrogate clip range around the target network's policy
    use_kl_loss: bool = False  # add an adaptive KL(target || current) penalty
    kl_coeff: float = 1.0  # initial KL penalty coefficient
    kl_target: float = 0.01  # KL the adaptive coefficient steers towards
    # The target network is the policy the ratio is taken against; an update is one batch
    # trained on (rlrun counts updates, RLlib env steps trained over N * K * batch size).
    target_network_update_freq: int = 2  # updates between moves of the target network
    tau: float = 1.0  # target <- tau * current + (1 - tau) * target; 1: a copy
