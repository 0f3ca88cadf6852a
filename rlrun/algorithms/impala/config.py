"""IMPALA's hyperparameters (Espeholt et al. 2018, https://arxiv.org/abs/1802.01561), by RLlib's
names. Where a default differs from RLlib's, the comment says why: RLlib's suit a cluster of
GPU learners and many runners, these a small task on a CPU in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rlrun.config.schema import AlgoConfig


@dataclass
class IMPALASchema(AlgoConfig):
    name: str = "IMPALA"
    lr: Any = 1e-3  # a float or a schedule [[env_steps, value], ...]; RLlib: 5e-4
    # Env steps per update (per learner): each sub-env's fragment is one time line [B, L].
    train_batch_size_per_learner: int = 512  # RLlib: 500
    minibatch_size: int | None = None  # rows per SGD step (whole time lines); None: the batch
    num_epochs: int = 1  # passes over each train batch taken from the circular buffer
    vtrace_clip_rho_threshold: float = 1.0  # rho-bar: clips the weights of the value targets
    vtrace_clip_pg_rho_threshold: float = 1.0  # clips the weights of the policy gradient
    vf_loss_coeff: float = 0.5  # weight of the value loss
    entropy_coeff: Any = 0.01  # entropy bonus: a float or a schedule [[env_steps, value], ...]
    grad_clip: float | None = 40.0  # as RLlib
    # With Ray runners sampling runs beside learning. One call queued per runner (RLlib's
    # default) keeps the data about 2 updates stale with 2 runners; 2 doubled the lag and made
    # APPO on CartPole stall below 300 in 2 of 10 runs (1: 9 of 9 reached it, docs/impala_appo.md).
    broadcast_interval: int = 1  # Ray runners: send the weights every this many updates
    max_requests_in_flight_per_env_runner: int = 1  # Ray runners: sample calls queued on each
    # The circular buffer (RLlib's APPO; RLlib's IMPALA has a plain queue, i.e. 1 and 1):
    # reusing each batch in two updates halves the samples CartPole needs.
    circular_buffer_num_batches: int = 4  # train batches the learner keeps (newest)
    circular_buffer_iterations_per_batch: int = 2  # updates each kept batch is trained in
