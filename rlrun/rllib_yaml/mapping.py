"""RLlib's config keys (old and new names) -> rlrun's keys, with the value transforms between them.

Pure data plus a few one-value functions; the logic that needs several keys at once (batch sizes
over learners, precedence between old and new names, the stop dict) is in `convert`.
docs/rllib_yaml.md is the same table for readers; tests/config/test_rllib_yaml.py checks that
every target here is a real rlrun key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    """Where one RLlib key goes: an rlrun key, and how its value changes on the way."""

    key: str
    transform: Callable[[Any], Any] | None = None


def _activation(value: Any) -> Any:
    # RLlib spells SiLU "swish" and means a linear layer by None.
    return {"swish": "silu", None: "linear"}.get(value, value) if _hashable(value) else value


def _observation_filter(value: Any) -> Any:
    # Concurrent: each runner keeps its own statistics; rlrun merges runners' deltas instead.
    return "MeanStdFilter" if value == "ConcurrentMeanStdFilter" else value


def _vectorize_mode(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _remote_envs(value: Any) -> Any:
    # RLlib steps each sub-env in its own Ray actor; Gymnasium's async mode, a subprocess each.
    return ("async" if value else "sync") if isinstance(value, bool) else value


def _interval(value: Any) -> Any:
    return 0 if value is None else value  # RLlib: None means "never"


def _vf_loss_coeff(value: Any) -> Any:
    # RLlib's value loss is (V - target)^2, rlrun's 0.5 (V - target)^2: the same loss needs
    # twice the coefficient.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return 2.0 * value


def _vf_loss_clip(value: Any) -> Any:
    # RLlib's vf_clip_param caps the squared value error; an infinite cap is no cap.
    if isinstance(value, float) and value == float("inf"):
        return None
    return value


def _conv_filters(value: Any) -> Any:
    # RLlib: [[out_channels, kernel, stride], ...] with kernel and stride an int or a square
    # [k, k] pair; rlrun's triples hold ints. Anything else is left for validation to refuse.
    if not isinstance(value, list):
        return value
    out = []
    for layer in value:
        if not isinstance(layer, list) or len(layer) != 3:
            return value
        fixed = [layer[0]]
        for part in layer[1:]:
            if isinstance(part, list) and len(part) == 2 and part[0] == part[1]:
                part = part[0]
            fixed.append(part)
        out.append(fixed)
    return out


def _hashable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


# Top-level keys of an experiment's `config:` that map one to one.
CONFIG: dict[str, Target] = {
    # common
    "gamma": Target("algo.gamma"),
    "lr": Target("algo.lr"),
    "lr_schedule": Target("algo.lr"),
    "grad_clip": Target("algo.grad_clip"),
    "grad_clip_by": Target("algo.grad_clip_by"),
    "train_batch_size_per_learner": Target("algo.train_batch_size_per_learner"),
    "seed": Target("seed"),
    "log_level": Target("log_level"),
    # PPO
    "lambda": Target("algo.lambda_"),
    "clip_param": Target("algo.clip_param"),
    "vf_clip_param": Target("algo.vf_loss_clip", _vf_loss_clip),
    "vf_loss_coeff": Target("algo.vf_loss_coeff", _vf_loss_coeff),
    "entropy_coeff": Target("algo.entropy_coeff"),
    "entropy_coeff_schedule": Target("algo.entropy_coeff"),
    "kl_coeff": Target("algo.kl_coeff"),
    "kl_target": Target("algo.kl_target"),
    "use_kl_loss": Target("algo.use_kl_loss"),
    "num_sgd_iter": Target("algo.num_epochs"),
    "num_epochs": Target("algo.num_epochs"),
    "sgd_minibatch_size": Target("algo.minibatch_size"),
    "minibatch_size": Target("algo.minibatch_size"),
    # DQN and SAC
    "n_step": Target("algo.n_step"),
    "tau": Target("algo.tau"),
    "target_network_update_freq": Target("algo.target_network_update_freq"),
    "training_intensity": Target("algo.training_intensity"),
    "learning_starts": Target("algo.learning_starts"),
    "num_steps_sampled_before_learning_starts": Target("algo.learning_starts"),
    "min_sample_timesteps_per_iteration": Target("algo.min_sample_timesteps_per_iteration"),
    "min_sample_timesteps_per_reporting": Target("algo.min_sample_timesteps_per_iteration"),
    "timesteps_per_iteration": Target("algo.min_sample_timesteps_per_iteration"),
    "buffer_size": Target("algo.replay.capacity"),
    "prioritized_replay": Target("algo.replay.prioritized"),
    "prioritized_replay_alpha": Target("algo.replay.alpha"),
    "prioritized_replay_beta": Target("algo.replay.beta"),
    "prioritized_replay_eps": Target("algo.replay.eps"),
    "store_buffer_in_checkpoints": Target("checkpoint.include_replay_buffer"),
    # DQN
    "double_q": Target("algo.double_q"),
    "dueling": Target("algo.dueling"),
    "num_atoms": Target("algo.num_atoms"),
    "v_min": Target("algo.v_min"),
    "v_max": Target("algo.v_max"),
    "td_error_loss_fn": Target("algo.td_error_loss_fn"),
    "epsilon": Target("algo.epsilon"),
    # SAC
    "twin_q": Target("algo.twin_q"),
    "initial_alpha": Target("algo.initial_alpha"),
    "target_entropy": Target("algo.target_entropy"),
    "actor_lr": Target("algo.actor_lr"),
    "critic_lr": Target("algo.critic_lr"),
    "alpha_lr": Target("algo.alpha_lr"),
    # IMPALA and APPO
    "vtrace_clip_rho_threshold": Target("algo.vtrace_clip_rho_threshold"),
    "vtrace_clip_pg_rho_threshold": Target("algo.vtrace_clip_pg_rho_threshold"),
    "broadcast_interval": Target("algo.broadcast_interval"),
    "max_requests_in_flight_per_env_runner": Target("algo.max_requests_in_flight_per_env_runner"),
    "max_requests_in_flight_per_sampler_worker": Target(
        "algo.max_requests_in_flight_per_env_runner"
    ),
    "circular_buffer_num_batches": Target("algo.circular_buffer_num_batches"),
    "circular_buffer_iterations_per_batch": Target("algo.circular_buffer_iterations_per_batch"),
    # MARWIL and BC
    "beta": Target("algo.beta"),
    "vf_coeff": Target("algo.vf_coeff"),
    "bc_logstd_coeff": Target("algo.bc_logstd_coeff"),
    "moving_average_sqd_adv_norm_update_rate": Target(
        "algo.moving_average_sqd_adv_norm_update_rate"
    ),
    "moving_average_sqd_adv_norm_start": Target("algo.moving_average_sqd_adv_norm_start"),
    # CQL
    "bc_iters": Target("algo.bc_iters"),
    "min_q_weight": Target("algo.min_q_weight"),
    "num_actions": Target("algo.num_actions"),
    "temperature": Target("algo.temperature"),
    "lagrangian": Target("algo.lagrangian"),
    "lagrangian_thresh": Target("algo.lagrangian_thresh"),
    # offline data (input / input_ / input_config: rlrun.rllib_yaml.offline_async)
    "dataset_num_iters_per_learner": Target("offline_data.dataset_num_iters_per_learner"),
    # env runners
    "num_workers": Target("env_runner.num_env_runners"),
    "num_rollout_workers": Target("env_runner.num_env_runners"),
    "num_env_runners": Target("env_runner.num_env_runners"),
    "num_envs_per_worker": Target("env_runner.num_envs_per_env_runner"),
    "num_envs_per_env_runner": Target("env_runner.num_envs_per_env_runner"),
    "rollout_fragment_length": Target("env_runner.rollout_fragment_length"),
    "remote_worker_envs": Target("env_runner.vectorize_mode", _remote_envs),
    "gym_env_vectorize_mode": Target("env_runner.vectorize_mode", _vectorize_mode),
    "observation_filter": Target("env_runner.observation_filter", _observation_filter),
    "metrics_smoothing_episodes": Target("env_runner.metrics_num_episodes_for_smoothing"),
    "metrics_num_episodes_for_smoothing": Target("env_runner.metrics_num_episodes_for_smoothing"),
    "explore": Target("env_runner.explore"),
    "num_cpus_per_worker": Target("env_runner.num_cpus_per_env_runner"),
    "num_cpus_per_env_runner": Target("env_runner.num_cpus_per_env_runner"),
    "num_gpus_per_worker": Target("env_runner.num_gpus_per_env_runner"),
    "num_gpus_per_env_runner": Target("env_runner.num_gpus_per_env_runner"),
    "sample_timeout_s": Target("env_runner.sample_timeout_s"),
    # learners
    "num_learners": Target("learner.num_learners"),
    "num_learner_workers": Target("learner.num_learners"),
    "num_cpus_per_learner": Target("learner.num_cpus_per_learner"),
    "num_cpus_per_learner_worker": Target("learner.num_cpus_per_learner"),
    "num_gpus_per_learner": Target("learner.num_gpus_per_learner"),
    "num_gpus_per_learner_worker": Target("learner.num_gpus_per_learner"),
    "num_gpus": Target("learner.num_gpus_per_learner"),
    # env
    "env_config": Target("env.env_config"),
    "horizon": Target("env.max_episode_steps"),
    # evaluation
    "evaluation_interval": Target("evaluation.interval", _interval),
    "evaluation_duration": Target("evaluation.duration"),
    "evaluation_num_episodes": Target("evaluation.duration"),
    "evaluation_duration_unit": Target("evaluation.duration_unit"),
    "evaluation_num_workers": Target("evaluation.num_env_runners"),
    "evaluation_num_env_runners": Target("evaluation.num_env_runners"),
    "evaluation_parallel_to_training": Target("evaluation.parallel_to_training"),
    # fault tolerance
    "recreate_failed_workers": Target("fault_tolerance.restart_failed_env_runners"),
    "recreate_failed_env_runners": Target("fault_tolerance.restart_failed_env_runners"),
    "restart_failed_env_runners": Target("fault_tolerance.restart_failed_env_runners"),
    "ignore_worker_failures": Target("fault_tolerance.ignore_env_runner_failures"),
    "ignore_env_runner_failures": Target("fault_tolerance.ignore_env_runner_failures"),
    "max_num_worker_restarts": Target("fault_tolerance.max_num_env_runner_restarts"),
    "max_num_env_runner_restarts": Target("fault_tolerance.max_num_env_runner_restarts"),
    "restart_failed_sub_environments": Target("fault_tolerance.restart_failed_sub_environments"),
}

# When both keys of a pair are given, the second wins as in RLlib; the first is noted, not used.
SUPERSEDED_BY: dict[str, str] = {
    "lr": "lr_schedule",
    "entropy_coeff": "entropy_coeff_schedule",
    "train_batch_size": "train_batch_size_per_learner",
    "num_gpus": "num_gpus_per_learner",
    "exploration_config": "epsilon",
}

# model / model_config (and SAC's q_model_config / policy_model_config, or their old spellings
# Q_model / policy_model): the default networks.
MODEL: dict[str, Target] = {
    "fcnet_hiddens": Target("algo.model.fcnet_hiddens"),
    "fcnet_activation": Target("algo.model.fcnet_activation", _activation),
    "head_fcnet_hiddens": Target("algo.model.head_fcnet_hiddens"),
    "head_fcnet_activation": Target("algo.model.head_fcnet_activation", _activation),
    # The old stack's layers between the encoder and the outputs: rlrun's head layers.
    "post_fcnet_hiddens": Target("algo.model.head_fcnet_hiddens"),
    "post_fcnet_activation": Target("algo.model.head_fcnet_activation", _activation),
    "conv_filters": Target("algo.model.conv_filters", _conv_filters),
    "conv_activation": Target("algo.model.conv_activation", _activation),
    "use_lstm": Target("algo.model.use_lstm"),
    "lstm_cell_size": Target("algo.model.lstm_cell_size"),
    "max_seq_len": Target("algo.model.max_seq_len"),
    "lstm_use_prev_action": Target("algo.model.lstm_use_prev_action"),
    "lstm_use_prev_reward": Target("algo.model.lstm_use_prev_reward"),
    "vf_share_layers": Target("algo.model.vf_share_layers"),
    "free_log_std": Target("algo.model.free_log_std"),
}
MODEL_SECTIONS = (
    "model",
    "model_config",
    "q_model_config",
    "policy_model_config",
    "Q_model",
    "policy_model",
)
# Old spellings of SAC's two model sections (RLlib renamed them in 2.0).
MODEL_SECTION_ALIASES = {"Q_model": "q_model_config", "policy_model": "policy_model_config"}
# Model keys accepted when they hold the value that rlrun's networks have anyway: RLlib's
# defaults for what rlrun does not make configurable (the old stack's Atari frames are 84x84,
# stacked; activations of RLlib's None are linear).
MODEL_SAME_AS_RLRUN: dict[str, Any] = {
    "custom_model": None,
    "custom_model_config": {},
    "custom_action_dist": None,
    "custom_preprocessor": None,
    "use_attention": False,
    "dim": 84,
    "framestack": True,
    "no_final_linear": False,
    "_time_major": False,
    "lstm_use_prev_action_reward": False,
    "_disable_preprocessor_api": False,
    "_disable_action_flattening": False,
}

REPLAY: dict[str, Target] = {
    "capacity": Target("algo.replay.capacity"),
    "alpha": Target("algo.replay.alpha"),
    "prioritized_replay_alpha": Target("algo.replay.alpha"),
    "beta": Target("algo.replay.beta"),
    "prioritized_replay_beta": Target("algo.replay.beta"),
    "eps": Target("algo.replay.eps"),
    "prioritized_replay_eps": Target("algo.replay.eps"),
    "prioritized_replay": Target("algo.replay.prioritized"),
    "learning_starts": Target("algo.learning_starts"),
    # The old stack's buffer returned nothing until it held this many steps: no update before.
    "min_size_for_sampling": Target("algo.learning_starts"),
}
# replay_buffer_config.type, by class name (a dotted class path is read by its last part).
REPLAY_TYPES: dict[str, bool] = {
    "ReplayBuffer": False,
    "MultiAgentReplayBuffer": False,
    "EpisodeReplayBuffer": False,
    "MultiAgentEpisodeReplayBuffer": False,
    "PrioritizedReplayBuffer": True,
    "MultiAgentPrioritizedReplayBuffer": True,
    "PrioritizedEpisodeReplayBuffer": True,
    "MultiAgentPrioritizedEpisodeReplayBuffer": True,
}

# SAC's old-stack learning rates.
OPTIMIZATION: dict[str, Target] = {
    "actor_learning_rate": Target("algo.actor_lr"),
    "critic_learning_rate": Target("algo.critic_lr"),
    "entropy_learning_rate": Target("algo.alpha_lr"),
}

EVALUATION_CONFIG: dict[str, Target] = {
    "explore": Target("evaluation.explore"),
    "env_config": Target("evaluation.env_config"),
    "num_envs_per_env_runner": Target("evaluation.num_envs_per_env_runner"),
    "num_envs_per_worker": Target("evaluation.num_envs_per_env_runner"),
    "num_cpus_per_env_runner": Target("evaluation.num_cpus_per_env_runner"),
    "num_cpus_per_worker": Target("evaluation.num_cpus_per_env_runner"),
}

# Keys of the experiment itself (Tune's side), next to run/env/stop/config.
EXPERIMENT: dict[str, Target] = {
    "checkpoint_freq": Target("checkpoint.frequency"),
    "checkpoint_at_end": Target("checkpoint.at_end"),
    "keep_checkpoints_num": Target("checkpoint.num_to_keep"),
    "local_dir": Target("results_dir"),
    "storage_path": Target("results_dir"),
}
CHECKPOINT_CONFIG: dict[str, Target] = {
    "checkpoint_frequency": Target("checkpoint.frequency"),
    "checkpoint_at_end": Target("checkpoint.at_end"),
    "num_to_keep": Target("checkpoint.num_to_keep"),
    "checkpoint_score_order": Target("checkpoint.score_order"),
}

# stop: keys counted in env steps, iterations and seconds; any other key is a metric to reach.
STOP_TIMESTEPS = (
    "timesteps_total",
    "num_env_steps_sampled_lifetime",
    "num_env_steps_sampled",
    "env_runners/num_env_steps_sampled_lifetime",
    "env_runners/num_env_steps_sampled",
    "agent_timesteps_total",
    "num_agent_steps_sampled_lifetime",
)
STOP_ITERATIONS = ("training_iteration",)
STOP_TIME = ("time_total_s",)

# Accepted and without effect: switches between RLlib's own code paths (rlrun has one, torch),
# and TensorFlow-only settings, which RLlib ignores on torch too.
NO_EFFECT = frozenset(
    {
        "_enable_new_api_stack",
        "enable_rl_module_and_learner",
        "enable_env_runner_and_connector_v2",
        "_enable_learner_api",
        "_enable_rl_module_api",
        "enable_connectors",
        "api_stack",
        "disable_env_checking",
        "_disable_preprocessor_api",
        "_disable_execution_plan_api",
        "simple_optimizer",
        "eager_tracing",
        "eager_max_retraces",
        "tf_session_args",
        "local_tf_session_args",
    }
)
# Accepted when the value is what rlrun always does; any other value has no home.
SAME_AS_RLRUN: dict[str, Any] = {
    "use_critic": True,
    "use_gae": True,
    "batch_mode": "truncate_episodes",
    "shuffle_sequences": True,
    "shuffle_batch_per_epoch": True,
    "soft_horizon": False,
    "clip_rewards": None,
    "compress_observations": False,
    "count_steps_by": "env_steps",
    "vtrace": True,
    "vtrace_drop_last_ts": False,
    "replay_ratio": 0.0,
    "replay_proportion": 0.0,
    "use_circular_buffer": True,
    "postprocess_inputs": True,
}

# Known RLlib keys with no rlrun home, and why (unknown ones are listed by name alone).
WHY_NOT: dict[str, str] = {
    "adam_epsilon": "rlrun's Adam eps is algo.optimizer.eps (1e-5 for PPO and DQN, 1e-8 for "
    "SAC, unless set): set it yourself",
    "noisy": "rlrun has no noisy nets",
    "sigma0": "noisy nets only, which rlrun has not",
    "normalize_actions": "true or false",
    "use_gae": "rlrun's PPO always uses GAE",
    "use_critic": "rlrun's PPO always trains a critic",
    "batch_mode": "rlrun samples fixed-length fragments (truncate_episodes)",
    "shuffle_sequences": "rlrun always shuffles minibatches",
    "shuffle_batch_per_epoch": "rlrun always shuffles minibatches",
    "soft_horizon": "rlrun resets every episode at its horizon",
    "clip_rewards": "rlrun passes rewards on unchanged",
    "compress_observations": "rlrun keeps observations uncompressed (uint8 images stay uint8)",
    "count_steps_by": "set multi_agent.count_steps_by",
    "num_samples": "rlrun runs each configuration once; sweep seeds instead (-m seed=0,1,2)",
    "evaluation_duration": "rlrun needs a number of episodes or timesteps",
    "n_step": "rlrun needs one n (RLlib draws n per sample from a range)",
    "multiagent": "RLlib files give the mapping as Python code: set rlrun's multi_agent.* "
    "(docs/multi_agent.md)",
    "policies": "set rlrun's multi_agent.policies (docs/multi_agent.md)",
    "callbacks": "RLlib callbacks cannot run in rlrun",
    "callbacks_class": "RLlib callbacks cannot run in rlrun",
    "min_time_s_per_iteration": "rlrun sizes iterations in env steps",
    "min_train_timesteps_per_iteration": "rlrun sizes iterations in env steps",
    "num_cpus_for_driver": "rlrun's driver takes no Ray resources",
    "num_cpus_for_main_process": "rlrun's driver takes no Ray resources",
    "model.custom_model": "use algo.model.module_class=pkg.module:Class with an rlrun RLModule",
    "model.custom_model_config": "settings of an RLlib custom model; an rlrun module_class "
    "reads algo.model.custom",
    "model.use_attention": "rlrun has no attention models yet",
    "model.dim": "rlrun's Atari frames are 84x84",
    "model.framestack": "rlrun stacks 4 Atari frames (env.atari_preprocessing)",
    "model.no_final_linear": "rlrun's networks always end in a linear output layer",
    "exploration_config": "rlrun's DQN explores epsilon-greedily, PPO and SAC by sampling",
    "replay_buffer_config.type": "rlrun's buffer is uniform or prioritized",
    "vtrace": "rlrun's IMPALA and APPO always use V-trace",
    "vtrace_drop_last_ts": "rlrun keeps every step of a fragment",
    "replay_ratio": "rlrun's IMPALA replays no old batches (circular_buffer_* reuses recent ones)",
    "replay_proportion": "rlrun's IMPALA replays no old batches (circular_buffer_* reuses "
    "recent ones)",
    "use_circular_buffer": "rlrun's APPO always has its circular buffer (size 1 for none)",
    "minibatch_buffer_size": "the old stack's APPO minibatch buffer: rlrun reuses batches with "
    "circular_buffer_num_batches and circular_buffer_iterations_per_batch",
    "learner_queue_size": "rlrun's learner trains in the driver's loop, without a queue",
    "learner_queue_timeout": "rlrun's learner trains in the driver's loop, without a queue",
    "target_worker_clipping": "rlrun's APPO clips against its target network only",
    "deterministic_backup": "rlrun's CQL keeps SAC's soft backup (the entropy term stays)",
    "actions_in_input_normalized": "rlrun's recorded actions are what the env received; CQL "
    "converts them to its own units",
    "postprocess_inputs": "rlrun computes returns and advantages from recorded episodes itself",
}

# Values of a mapped key that rlrun cannot use (the reason is in WHY_NOT).
UNUSABLE: dict[str, Callable[[Any], bool]] = {
    "n_step": lambda v: isinstance(v, list),
    "evaluation_duration": lambda v: v == "auto",
}

# Sub-keys of replay_buffer_config that old-stack files list with these (their only) values.
REPLAY_SAME_AS_RLRUN: dict[str, Any] = {
    "_enable_replay_buffer_api": True,
    "replay_sequence_length": 1,
    "replay_burn_in": 0,
    "replay_zero_init_states": True,
    "storage_unit": "timesteps",
    "replay_mode": "independent",
    "worker_side_prioritization": False,
}
