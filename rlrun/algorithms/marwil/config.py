"""MARWIL's hyperparameters (Wang et al. 2018, "Exponentially Weighted Imitation Learning for
Batched Histories", NeurIPS), under RLlib's MARWILConfig names. Defaults are RLlib's unless a
comment says why not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rlrun.config.schema import AlgoConfig


@dataclass
class MARWILSchema(AlgoConfig):
    offline: ClassVar[bool] = True  # learns from offline_data.input_, samples nothing
    unused_model_keys: ClassVar[dict[str, str]] = {
        "use_lstm": "recorded episodes carry no recurrent state; use a feed-forward module",
        "lstm_use_prev_action": "recorded episodes carry no recurrent state",
        "lstm_use_prev_reward": "recorded episodes carry no recurrent state",
    }
    name: str = "MARWIL"
    lr: Any = 1e-4  # a float or a schedule [[env_steps_trained, value], ...]
    train_batch_size_per_learner: int = 2000  # recorded steps per update (whole episodes)
    minibatch_size: int | None = None  # rows per SGD step; None: the whole train batch
    num_epochs: int = 1  # passes over each train batch
    lambda_: float = 1.0  # GAE lambda of the advantages; 1: discounted Monte-Carlo returns
    beta: float = 1.0  # advantage weighting exp(beta * A / c); 0: behaviour cloning
    vf_coeff: float = 1.0  # weight of the value loss
    bc_logstd_coeff: float = 0.0  # Box actions: bonus on the policy's mean log-std
    # c^2, the moving average of squared advantages that scales them (Eq. 6's c); RLlib's rate
    # 1e-8 keeps c near sqrt(start) for any practical run.
    moving_average_sqd_adv_norm_update_rate: float = 1e-8  # its update rate, in [0, 1]
    moving_average_sqd_adv_norm_start: float = 100.0  # its initial value
