"""SAC's hyperparameters.

Soft Actor-Critic: Haarnoja et al. 2018a, "Soft Actor-Critic: Off-Policy Maximum Entropy Deep
Reinforcement Learning with a Stochastic Actor", https://arxiv.org/abs/1801.01290; automatic
entropy (temperature) tuning and twin critics: Haarnoja et al. 2018b, "Soft Actor-Critic
Algorithms and Applications", https://arxiv.org/abs/1812.05905; discrete actions: Christodoulou
2019, "Soft Actor-Critic for Discrete Action Settings", https://arxiv.org/abs/1910.07207.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rlrun.algorithms.off_policy.config import OffPolicySchema
from rlrun.config.schema import ModelConfig


@dataclass
class SACSchema(OffPolicySchema):
    # algo.model keys this algorithm does not use: setting one is an error naming the reason.
    unused_model_keys: ClassVar[dict[str, str]] = {
        "use_lstm": "SAC has no recurrent replay; use algo=ppo for an LSTM policy",
        "vf_share_layers": "SAC's policy and critics always have their own networks",
        "free_log_std": "SAC's log-std is always an output of the policy network",
        "log_std_init": "SAC's log-std is always an output of the policy network",
    }
    name: str = "SAC"
    # ReLU: these learners update after every few env steps, and tanh costs twice as much here.
    model: ModelConfig = field(default_factory=lambda: ModelConfig(fcnet_activation="relu"))
    lr: Any = None  # unused by SAC: actor_lr, critic_lr and alpha_lr set its three optimizers
    actor_lr: Any = 3e-4  # policy learning rate: a float or a schedule [[env_steps, value], ...]
    critic_lr: Any = 3e-4  # Q-networks' learning rate: a float or a schedule
    alpha_lr: Any = 3e-4  # entropy temperature's learning rate: a float or a schedule
    # 0.1, not 1.0 (RLlib, SB3): with rewards of order 1 per step, alpha 1 makes the first few
    # thousand updates mostly entropy; on PointReach 0.1 reached SB3's return at 4k env steps
    # (benchmarks/RESULTS.md section 10).
    initial_alpha: float = 0.1  # entropy temperature alpha at the start (all along if not tuned)
    autotune_alpha: bool = True  # tune alpha towards target_entropy; False: alpha = initial_alpha
    target_entropy: Any = "auto"  # a number; auto: -dim(A) for Box, 0.98 * log(n) for Discrete(n)
    twin_q: bool = True  # two critics, bootstrapping from their minimum (clipped double Q)
    tau: float = 0.005  # target critics move tau of the way to the online ones after each update
    target_network_update_freq: int = 0  # env steps between target updates; 0: every update
    train_batch_size_per_learner: int = 256  # transitions per replayed batch (per learner)
    training_intensity: float = 256.0  # transitions replayed per env step; 256: one update each
    # 100 as in SB3: SAC learns from its first few episodes; 1000 wasted a fifth of an 8k run.
    learning_starts: int = 100  # env steps sampled before the first update
    gamma: float = 0.99  # discount factor, in [0, 1]
    n_step: int = 1  # steps summed into each return before bootstrapping
    grad_clip: float | None = None  # clip each optimizer's gradients at this threshold (None: off)
