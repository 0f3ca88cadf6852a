"""Behaviour cloning: MARWIL with beta = 0 and no value loss (RLlib's BCConfig)."""

from __future__ import annotations

from dataclasses import dataclass

from rlrun.algorithms.marwil.config import MARWILSchema


@dataclass
class BCSchema(MARWILSchema):
    name: str = "BC"
    beta: float = 0.0  # every recorded action weighs the same: plain log-likelihood
    vf_coeff: float = 0.0  # no value function is learned
