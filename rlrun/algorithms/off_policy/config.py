"""Settings shared by the replay-based algorithms (DQN, SAC)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rlrun.config.schema import AlgoConfig


@dataclass
class ReplayConfig:
    """The replay buffer (rlrun/replay): uniform, or prioritized by TD error."""

    capacity: int = 50_000  # transitions kept; the oldest are overwritten
    prioritized: bool = False  # sample by |TD error| (Schaul et al. 2016) instead of uniformly
    alpha: float = 0.6  # how strongly priorities skew sampling; 0: uniform
    beta: Any = 0.4  # importance-sampling correction: a float or a schedule [[env_steps, value]]
    eps: float = 1e-6  # added to |TD error| so that no transition has priority 0


@dataclass
class OffPolicySchema(AlgoConfig):
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    train_batch_size_per_learner: int = 256  # transitions per replayed batch (per learner)
    learning_starts: int = 1000  # env steps sampled before the first update
    training_intensity: float = 1.0  # replayed transitions per sampled env step
    n_step: int = 1  # steps summed into each return before bootstrapping
    tau: float = 1.0  # target update: target += tau * (online - target); 1: a copy
    target_network_update_freq: int = 0  # env steps between target updates; 0: every update
    min_sample_timesteps_per_iteration: int = 1000  # env steps per reported iteration
