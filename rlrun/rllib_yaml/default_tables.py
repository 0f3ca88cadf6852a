"""RLlib's default values, per algorithm, for the settings an RLlib file leaves out.

The values are RLlib 2.x's: the new API stack's (RLlib 2.60's AlgorithmConfig and each
algorithm's config class) unless a `Default` gives the old stack's too. `defaults.apply` sets
them; docs/rllib_yaml.md ("Defaults that differ") is the same table for readers, and
tests/config/test_rllib_yaml.py checks every entry. Pure data: importing this costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OLD, NEW = "old", "new"


@dataclass(frozen=True)
class Default:
    """RLlib's default for one rlrun key: the value (per stack where they differ), and the
    RLlib setting it comes from (as messages and the docs name it)."""

    key: str
    new: Any
    rllib: str
    old: Any = ...  # Ellipsis: as on the new stack

    def value(self, stack: str) -> Any:
        return self.new if stack == NEW or self.old is ... else self.old


# The same for every algorithm. RLlib's seed is None (a random one each run); rlrun keeps its
# seed 0: a run is one draw either way, and this one can be repeated.
COMMON: tuple[Default, ...] = (
    Default("env_runner.num_envs_per_env_runner", 1, "num_envs_per_env_runner"),
    Default("env_runner.sample_timeout_s", 60.0, "sample_timeout_s"),
    Default(
        "fault_tolerance.delay_between_env_runner_restarts_s",
        60.0,
        "delay_between_env_runner_restarts_s",
    ),
    Default("checkpoint.at_end", False, "checkpoint_at_end (Tune's)"),
)

PPO: tuple[Default, ...] = (
    Default("algo.lr", 5e-5, "lr"),
    Default("algo.num_epochs", 30, "num_epochs (num_sgd_iter)"),
    Default("algo.lambda_", 1.0, "lambda"),
    Default("algo.clip_param", 0.3, "clip_param"),
    # RLlib's value loss is (V - target)^2, rlrun's 0.5 (V - target)^2: the coefficient doubles.
    Default("algo.vf_loss_coeff", 2.0, "vf_loss_coeff (1.0)"),
    Default("algo.vf_loss_clip", 10.0, "vf_clip_param"),
    Default("algo.use_kl_loss", True, "use_kl_loss"),
    Default("algo.grad_clip", None, "grad_clip"),
    Default("algo.model.fcnet_hiddens", [256, 256], "model.fcnet_hiddens"),
    Default("algo.model.free_log_std", False, "model.free_log_std"),
    Default("algo.model.lstm_cell_size", 256, "model.lstm_cell_size"),
    Default("evaluation.explore", True, "evaluation_config.explore"),
)

DQN: tuple[Default, ...] = (
    Default("algo.lr", 5e-4, "lr"),
    Default("algo.grad_clip", 40.0, "grad_clip"),
    Default("algo.learning_starts", 1000, "num_steps_sampled_before_learning_starts"),
    Default("algo.n_step", 1, "n_step"),
    Default("algo.target_network_update_freq", 500, "target_network_update_freq"),
    Default(
        "algo.epsilon",
        [[0, 1.0], [10000, 0.05]],
        "epsilon (new stack), exploration_config (old)",
        old=[[0, 1.0], [10000, 0.02]],
    ),
    Default("algo.replay.prioritized", True, "replay_buffer_config.type"),
    Default("algo.model.fcnet_hiddens", [256, 256], "model.fcnet_hiddens"),
    Default("algo.model.fcnet_activation", "tanh", "model.fcnet_activation"),
    # The old stack's `hiddens: [256]`: a ReLU layer per head (advantage, value) on the encoder.
    Default("algo.model.head_fcnet_hiddens", [], "model.head_fcnet_hiddens / hiddens", old=[256]),
)

SAC: tuple[Default, ...] = (
    Default("algo.actor_lr", 3e-5, "actor_lr / optimization.actor_learning_rate", old=3e-4),
    Default("algo.learning_starts", 1500, "num_steps_sampled_before_learning_starts"),
    Default("algo.initial_alpha", 1.0, "initial_alpha"),
    Default("algo.min_sample_timesteps_per_iteration", 100, "min_sample_timesteps_per_iteration"),
    Default("algo.replay.capacity", 1_000_000, "replay_buffer_config.capacity"),
    Default("algo.replay.prioritized", True, "replay_buffer_config.type"),
    Default("algo.model.fcnet_hiddens", [256, 256], "model_config / q_model_config"),
    Default(
        "algo.model.fcnet_activation",
        "tanh",
        "model_config (new stack), q_model_config / policy_model_config (old)",
        old="relu",
    ),
    Default("evaluation.explore", True, "evaluation_config.explore"),
)

# IMPALA and APPO (RLlib 2.60's IMPALAConfig, APPOConfig). Both sample 50-step fragments on 2
# remote runners, which file mode samples as sub-envs in the driver like PPO's (defaults._ppo).
_ASYNC: tuple[Default, ...] = (
    Default("algo.lr", 5e-4, "lr"),
    Default("env_runner.rollout_fragment_length", 50, "rollout_fragment_length"),
    Default("algo.model.fcnet_hiddens", [256, 256], "model_config.fcnet_hiddens"),
    Default("evaluation.explore", True, "evaluation_config.explore"),
)
IMPALA: tuple[Default, ...] = (
    *_ASYNC,
    # RLlib's IMPALA trains each batch once, in arrival order (no circular buffer).
    Default("algo.circular_buffer_num_batches", 1, "(IMPALA has no circular buffer)"),
    Default("algo.circular_buffer_iterations_per_batch", 1, "(IMPALA has no circular buffer)"),
)
APPO: tuple[Default, ...] = (
    *_ASYNC,
    Default("algo.circular_buffer_num_batches", 8, "circular_buffer_num_batches"),
)
# MARWIL and BC (MARWILConfig, BCConfig): rlrun's schema holds RLlib's values but the network's.
MARWIL: tuple[Default, ...] = (
    Default("algo.model.fcnet_hiddens", [256, 256], "model_config.fcnet_hiddens"),
    Default("evaluation.explore", True, "evaluation_config.explore"),
)
# CQL (CQLConfig over SACConfig): its own learning rates are rlrun's too.
CQL: tuple[Default, ...] = (
    Default("algo.model.fcnet_hiddens", [256, 256], "model_config"),
    Default("algo.model.fcnet_activation", "tanh", "model_config", old="relu"),
    Default("evaluation.explore", True, "evaluation_config.explore"),
)

TABLES: dict[str, tuple[Default, ...]] = {
    "PPO": PPO,
    "DQN": DQN,
    "SAC": SAC,
    "IMPALA": IMPALA,
    "APPO": APPO,
    "MARWIL": MARWIL,
    "BC": MARWIL,
    "CQL": CQL,
}

# RLlib's SimpleQ and Ape-X DQN (old stack only) are DQN with other defaults, applied over DQN's.
SIMPLE_Q: tuple[Default, ...] = (
    Default("algo.double_q", False, "SimpleQ (no double Q)"),
    Default("algo.dueling", False, "SimpleQ (no dueling heads)"),
    Default("algo.model.head_fcnet_hiddens", [], "SimpleQ (no hiddens head)"),
    Default("algo.replay.prioritized", False, "replay_buffer_config.type (MultiAgentReplayBuffer)"),
)
# Horgan et al. 2018 (https://arxiv.org/abs/1803.00933): many actors, 3-step returns, prioritized
# replay. Its per-runner epsilons (PerWorkerEpsilonGreedy) are not built: every runner follows
# the EpsilonGreedy schedule.
APEX: tuple[Default, ...] = (
    Default("algo.n_step", 3, "n_step"),
    Default("algo.learning_starts", 50_000, "num_steps_sampled_before_learning_starts"),
    Default("algo.replay.capacity", 2_000_000, "replay_buffer_config.capacity"),
    Default(
        "algo.min_sample_timesteps_per_iteration", 25_000, "min_sample_timesteps_per_iteration"
    ),
    Default("env_runner.num_env_runners", 32, "num_workers"),
)
PRESETS: dict[str, tuple[Default, ...]] = {"SimpleQ": SIMPLE_Q, "APEX": APEX}
PRESET_SUMMARY = {
    "SimpleQ": "no double Q, no dueling heads, no hiddens head, uniform replay",
    "APEX": "32 remote env runners, 3-step returns, prioritized replay of 2M, "
    "one replayed transition per sampled step; per-runner epsilons are not built",
}
# Ape-X counts target updates in trained samples (500k by default), rlrun in env steps sampled.
APEX_TARGET_UPDATE_TRAINED = 500_000

# Train batch, over all learners (RLlib's train_batch_size).
TRAIN_BATCH = {
    "PPO": 4000,
    "DQN": 32,
    "SAC": 256,
    "APEX": 512,
    "IMPALA": 500,
    "APPO": 500,
    "MARWIL": 2000,
    "BC": 2000,
    "CQL": 256,
}
PPO_MINIBATCH = 128
PPO_ENV_RUNNERS = 2  # num_env_runners of PPOConfig, IMPALAConfig and APPOConfig
# Replay algorithms' rollout_fragment_length: "auto" (new stack) or the old stack's number.
OLD_FRAGMENT = {"DQN": 4, "SAC": 1, "APEX": 50}
