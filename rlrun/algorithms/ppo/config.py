"""PPO's hyperparameters (Schulman et al. 2017, https://arxiv.org/abs/1707.06347)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rlrun.config.schema import AlgoConfig


@dataclass
class PPOSchema(AlgoConfig):
    name: str = "PPO"
    # Defaults favour wall-clock speed on a CPU: a small MLP's update costs about the same for 128
    # or 512 samples, so few large minibatches and a brisk lr. Lower lr for harder tasks.
    lr: Any = 1e-3
    train_batch_size_per_learner: int = 4000
    minibatch_size: int = 512  # samples per SGD step; must not exceed the train batch
    num_epochs: int = 10  # passes over each train batch
    lambda_: float = 0.95  # GAE lambda, in [0, 1]
    clip_param: float = 0.2  # surrogate clip range epsilon
    vf_clip_param: float | None = None  # clip the value update to +-this around V_old; None: off
    # RLlib's vf_clip_param: each squared value error (V - target)^2 is capped at this before
    # averaging, so no sample's error weighs more than this (the loss is clipped, not the update).
    vf_loss_clip: float | None = None  # cap on (V - target)^2 in the value loss; None: off
    vf_loss_coeff: float = 0.5  # weight of the value loss
    entropy_coeff: Any = 0.0  # entropy bonus: a float or a schedule [[env_steps, value], ...]
    use_kl_loss: bool = False  # add an adaptive KL penalty to the surrogate
    kl_coeff: float = 0.2  # initial KL penalty coefficient
    kl_target: float = 0.01  # KL the adaptive coefficient steers towards
    normalize_advantages: bool = True  # standardize advantages per minibatch
    grad_clip: float | None = 0.5
