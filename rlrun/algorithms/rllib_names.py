"""RLlib's builder parameters, method by method, and where each lands in rlrun's config.

Each table maps one `AlgorithmConfig` method's RLlib parameter names to:
- `SAME`: the target that rlrun.rllib_yaml.mapping.CONFIG gives the key of the same name (the
  one table of RLlib names; the builder does not keep a second copy of it);
- a dotted rlrun key, where RLlib's YAML files have no such key or the method's name differs;
- `"@name"`: a handler in rlrun.algorithms.rllib_values (values that need more than a rename);
- `NONE`: RLlib has it, rlrun has no equivalent. Accepted only with a value that changes
  nothing (None, a no-effect switch, or rlrun's own behaviour), else an error with the reason.

Pure data: importing this module costs nothing (docs/python_api.md is the same table for readers).
"""

from __future__ import annotations

SAME = ""
NONE = "!"


def _each(target: str, names: str) -> dict[str, str]:
    """Several parameters (space-separated) that share one target."""
    return dict.fromkeys(names.split(), target)


ENVIRONMENT: dict[str, str] = {
    "env": "@env",
    "env_config": SAME,
    "action_mask_key": "env.action_mask_key",
    "env_task_fn": "env.task_fn",
    "is_atari": "env.atari_preprocessing",
    "disable_env_checking": NONE,
    "observation_space": NONE,
    "action_space": NONE,
    "render_env": NONE,
    "clip_rewards": NONE,
    "normalize_actions": NONE,
    "clip_actions": NONE,
}

ENV_RUNNERS: dict[str, str] = {
    **_each(
        SAME,
        "num_env_runners num_envs_per_env_runner rollout_fragment_length explore "
        "observation_filter num_cpus_per_env_runner num_gpus_per_env_runner sample_timeout_s "
        "gym_env_vectorize_mode remote_worker_envs num_rollout_workers num_envs_per_worker "
        "restart_failed_sub_environments ignore_worker_failures recreate_failed_workers",
    ),
    "env_to_module_connector": "@connectors",
    "module_to_env_connector": "@connectors",
    **_each(
        NONE,
        "batch_mode exploration_config enable_connectors env_runner_cls create_local_env_runner "
        "create_env_on_local_worker custom_resources_per_env_runner episode_lookback_horizon "
        "validate_env_runners_after_construction max_requests_in_flight_per_env_runner "
        "add_default_connectors_to_env_to_module_pipeline merge_env_runner_states "
        "add_default_connectors_to_module_to_env_pipeline broadcast_env_runner_states "
        "use_env_runner_state_server compress_observations episodes_to_numpy "
        "use_worker_filter_stats update_worker_filter_stats sample_collector preprocessor_pref "
        "remote_env_batch_wait_ms synchronize_filter",
    ),
}

LEARNERS: dict[str, str] = {
    "num_learners": SAME,
    "num_cpus_per_learner": SAME,
    "num_gpus_per_learner": SAME,
    "learner_connector": "@connectors",
    **_each(
        NONE,
        "custom_resources_per_learner num_aggregator_actors_per_learner local_gpu_idx "
        "max_requests_in_flight_per_aggregator_actor max_requests_in_flight_per_learner "
        "add_default_connectors_to_learner_pipeline learner_config_dict",
    ),
    "learner_class": "@learner_class",
}

# Every algorithm's training(); each config class adds its own table (below).
TRAINING: dict[str, str] = {
    **_each(
        SAME,
        "gamma lr grad_clip grad_clip_by train_batch_size_per_learner num_epochs "
        "minibatch_size num_sgd_iter sgd_minibatch_size lr_schedule",
    ),
    "train_batch_size": "@train_batch_size",
    "model": "@model",
    "learner_connector": "@connectors",
    "learner_class": "@learner_class",
    **_each(
        NONE,
        "shuffle_batch_per_epoch optimizer add_default_connectors_to_learner_pipeline "
        "learner_config_dict num_aggregator_actors_per_learner",
    ),
}

PPO_TRAINING: dict[str, str] = {
    "lambda_": "algo.lambda_",
    **_each(
        SAME, "clip_param vf_loss_coeff entropy_coeff entropy_coeff_schedule kl_target use_kl_loss"
    ),
    "kl_coeff": "@kl_coeff",
    "vf_clip_param": SAME,
    "vf_share_layers": "algo.model.vf_share_layers",
    **_each(NONE, "use_critic use_gae"),
}

_REPLAY = {
    **_each(
        SAME,
        "target_network_update_freq store_buffer_in_checkpoints tau n_step training_intensity "
        "num_steps_sampled_before_learning_starts",
    ),
    "replay_buffer_config": "@replay_buffer_config",
}

DQN_TRAINING: dict[str, str] = {
    **_REPLAY,
    **_each(SAME, "epsilon num_atoms v_min v_max dueling double_q td_error_loss_fn"),
    # RLlib's DQN: the dense layers on the encoder, before the Q (and value) outputs.
    "hiddens": "algo.model.head_fcnet_hiddens",
    **_each(
        NONE,
        "adam_epsilon noisy sigma0 before_learn_on_batch categorical_distribution_temperature "
        "burn_in_len",
    ),
}

SAC_TRAINING: dict[str, str] = {
    **_REPLAY,
    **_each(SAME, "twin_q initial_alpha target_entropy actor_lr critic_lr alpha_lr"),
    "q_model_config": "@model",
    "policy_model_config": "@model",
    "optimization_config": "@optimization_config",
    **_each(NONE, "clip_actions _deterministic_loss _use_beta_distribution"),
}

# RLlib's CQLConfig.training(): SAC's, plus the penalty's (rlrun.algorithms.cql.config).
CQL_TRAINING: dict[str, str] = {
    **SAC_TRAINING,
    **{
        name: f"algo.{name}"
        for name in (
            "min_q_weight",
            "num_actions",
            "temperature",
            "bc_iters",
            "lagrangian",
            "lagrangian_thresh",
        )
    },  # fmt: skip
    **_each(NONE, "deterministic_backup"),
}


# IMPALA's and APPO's own keys go to algo.* by name (RLlib's file mode maps them separately).
def _algo_keys(names: str) -> dict[str, str]:
    """Several parameters (space-separated), each to the algo.* key of its own name."""
    return {name: f"algo.{name}" for name in names.split()}


IMPALA_TRAINING: dict[str, str] = {
    **_algo_keys(
        "vtrace_clip_rho_threshold vtrace_clip_pg_rho_threshold vf_loss_coeff entropy_coeff "
        "broadcast_interval circular_buffer_num_batches circular_buffer_iterations_per_batch"
    ),
    "vf_share_layers": "algo.model.vf_share_layers",
    **_each(
        NONE,
        "vtrace learner_queue_size timeout_s_sampler_manager timeout_s_aggregator_manager "
        "num_gpu_loader_threads use_circular_buffer simple_queue_size",
    ),
}

IMPALA_ENV_RUNNERS: dict[str, str] = {
    "max_requests_in_flight_per_env_runner": "algo.max_requests_in_flight_per_env_runner",
}

APPO_TRAINING: dict[str, str] = {
    **IMPALA_TRAINING,
    **_algo_keys("clip_param use_kl_loss kl_target target_network_update_freq tau"),
    "kl_coeff": "@kl_coeff",
    **_each(NONE, "use_gae lambda_ target_worker_clipping"),
}

# RLlib's MARWILConfig.training() (BCConfig inherits it; rlrun.algorithms.marwil.config).
MARWIL_TRAINING: dict[str, str] = {
    "lambda_": "algo.lambda_",
    **{
        name: f"algo.{name}"
        for name in (
            "beta",
            "vf_coeff",
            "bc_logstd_coeff",
            "moving_average_sqd_adv_norm_update_rate",
            "moving_average_sqd_adv_norm_start",
        )
    },
    **_each(NONE, "burnin_len"),
}

# RLlib's AlgorithmConfig.offline_data(): the reader's settings (rlrun.config.schema
# OfflineDataConfig); the Ray Data plumbing has no equivalent (rlrun reads into memory).
OFFLINE_DATA: dict[str, str] = {
    "input_": "offline_data.input_",
    "dataset_num_iters_per_learner": "offline_data.dataset_num_iters_per_learner",
    "output": "output",
    **_each(
        NONE,
        "offline_data_class input_read_method input_read_method_kwargs input_read_schema "
        "input_read_episodes input_read_sample_batches input_read_batch_size input_filesystem "
        "input_filesystem_kwargs input_compress_columns materialize_data "
        "materialize_mapped_data map_batches_kwargs iter_batches_kwargs "
        "ignore_final_observation prelearner_class prelearner_buffer_class "
        "prelearner_buffer_kwargs prelearner_module_synch_period "
        "prelearner_use_recorded_module_states input_config actions_in_input_normalized "
        "postprocess_inputs shuffle_buffer_size output_config output_compress_columns "
        "output_max_file_size output_max_rows_per_file output_write_remaining_data "
        "output_write_method output_write_method_kwargs output_filesystem "
        "output_filesystem_kwargs output_write_episodes offline_sampling",
    ),
}

EVALUATION: dict[str, str] = {
    **_each(
        SAME,
        "evaluation_interval evaluation_duration evaluation_duration_unit "
        "evaluation_num_env_runners evaluation_parallel_to_training "
        "evaluation_num_workers",
    ),
    "evaluation_config": "@evaluation_config",
    "custom_evaluation_function": "@custom_evaluation_function",
    **_each(
        NONE,
        "evaluation_auto_duration_min_env_steps_per_sample evaluation_sample_timeout_s "
        "evaluation_auto_duration_max_env_steps_per_sample off_policy_estimation_methods "
        "evaluation_unhealthy_workers_timeout_s evaluation_error_after_n_consecutive_skips "
        "evaluation_force_reset_envs_before_iteration ope_split_batch_by_episode "
        "always_attach_evaluation_results",
    ),
}

FAULT_TOLERANCE: dict[str, str] = {
    **_each(
        SAME,
        "restart_failed_env_runners ignore_env_runner_failures max_num_env_runner_restarts "
        "restart_failed_sub_environments recreate_failed_env_runners ignore_worker_failures "
        "recreate_failed_workers max_num_worker_restarts",
    ),
    "delay_between_env_runner_restarts_s": "fault_tolerance.delay_between_env_runner_restarts_s",
    "delay_between_worker_restarts_s": "fault_tolerance.delay_between_env_runner_restarts_s",
    "num_consecutive_env_runner_failures_tolerance": (
        "fault_tolerance.max_consecutive_env_runner_failures"
    ),
    "num_consecutive_worker_failures_tolerance": (
        "fault_tolerance.max_consecutive_env_runner_failures"
    ),
    **_each(
        NONE,
        "env_runner_health_probe_timeout_s env_runner_restore_timeout_s "
        "worker_health_probe_timeout_s worker_restore_timeout_s",
    ),
}

CALLBACKS: dict[str, str] = {
    "callbacks_class": "@callbacks",
    **_each(
        NONE,
        "on_algorithm_init on_train_result on_evaluate_start on_evaluate_end "
        "on_evaluate_offline_start on_evaluate_offline_end on_env_runners_recreated "
        "on_offline_eval_runners_recreated on_checkpoint_loaded on_environment_created "
        "on_episode_created on_episode_start on_episode_step on_episode_end "
        "on_sample_end",
    ),
}

RL_MODULE: dict[str, str] = {
    "model_config": "@model",
    "model_config_dict": "@model",
    "rl_module_spec": "@rl_module_spec",
    "algorithm_config_overrides_per_module": "multi_agent.algorithm_config_overrides_per_module",
    "_enable_rl_module_api": NONE,
}

DEBUGGING: dict[str, str] = {
    "seed": SAME,
    "log_level": SAME,
    "log_sys_usage": NONE,
    "fake_sampler": NONE,
}

REPORTING: dict[str, str] = {
    "metrics_num_episodes_for_smoothing": SAME,
    "min_sample_timesteps_per_iteration": SAME,
    **_each(
        NONE,
        "min_time_s_per_iteration min_train_timesteps_per_iteration log_gradients "
        "keep_per_episode_custom_metrics metrics_episode_collection_timeout_s "
        "custom_stats_cls_lookup",
    ),
}

# RLlib's own two, plus Tune's CheckpointConfig names (RLlib leaves checkpoints to Tune).
CHECKPOINTING: dict[str, str] = {
    "checkpoint_frequency": "checkpoint.frequency",
    "checkpoint_at_end": "checkpoint.at_end",
    "num_to_keep": "checkpoint.num_to_keep",
    "checkpoint_score_attribute": "checkpoint.score_attribute",
    "checkpoint_score_order": "checkpoint.score_order",
    "export_native_model_files": NONE,
    "checkpoint_trainable_policies_only": NONE,
}

MULTI_AGENT: dict[str, str] = {
    "policies": "@policies",
    "policy_mapping_fn": "multi_agent.policy_mapping_fn",
    "policies_to_train": "@policies_to_train",
    "count_steps_by": "multi_agent.count_steps_by",
    "algorithm_config_overrides_per_module": "multi_agent.algorithm_config_overrides_per_module",
    **_each(
        NONE,
        "policy_map_capacity policy_states_are_swappable observation_fn replay_mode "
        "policy_map_cache",
    ),
}

# Deprecated in RLlib, still seen in older scripts.
RESOURCES: dict[str, str] = {
    **_each(
        SAME,
        "num_gpus num_cpus_per_worker num_gpus_per_worker num_learner_workers "
        "num_cpus_per_learner_worker num_gpus_per_learner_worker",
    ),
    **_each(
        NONE,
        "num_cpus_for_main_process custom_resources_for_main_process _fake_gpus "
        "placement_strategy custom_resources_per_worker local_gpu_idx "
        "num_cpus_for_local_worker",
    ),
}

FRAMEWORK: dict[str, str] = {
    "framework": "@framework",
    **_each(
        NONE,
        "eager_tracing eager_max_retraces tf_session_args local_tf_session_args "
        "torch_compile_learner torch_compile_learner_what_to_compile torch_ddp_kwargs "
        "torch_compile_learner_dynamo_mode torch_compile_learner_dynamo_backend "
        "torch_compile_worker torch_compile_worker_dynamo_backend "
        "torch_compile_worker_dynamo_mode torch_skip_nan_gradients",
    ),
}

API_STACK: dict[str, str] = {
    "enable_rl_module_and_learner": "@api_stack",
    "enable_env_runner_and_connector_v2": "@api_stack",
}

METHODS: dict[str, dict[str, str]] = {
    "environment": ENVIRONMENT,
    "env_runners": ENV_RUNNERS,
    "learners": LEARNERS,
    "training": TRAINING,
    "evaluation": EVALUATION,
    "offline_data": OFFLINE_DATA,
    "fault_tolerance": FAULT_TOLERANCE,
    "callbacks": CALLBACKS,
    "rl_module": RL_MODULE,
    "debugging": DEBUGGING,
    "reporting": REPORTING,
    "checkpointing": CHECKPOINTING,
    "multi_agent": MULTI_AGENT,
    "resources": RESOURCES,
    "framework": FRAMEWORK,
    "api_stack": API_STACK,
}

# Why a NONE parameter has no rlrun equivalent, where rlrun.rllib_yaml.mapping.WHY_NOT does not
# already say it.
REASONS: dict[str, str] = {
    "observation_space": "rlrun reads the spaces from the env",
    "action_space": "rlrun reads the spaces from the env",
    "render_env": "render with algo.evaluate(render_mode='human') or `rlrun evaluate render=true`",
    "clip_rewards": "rlrun has no reward clipping setting",
    "optimizer": "an old-stack setting of RLlib's; rlrun's own optimizer keys (`rlrun train "
    "--cfg` lists them) go through update_from_dict",
    "exploration_config": "PPO and SAC explore by sampling; DQN: .training(epsilon=...)",
    "vf_clip_param": "RLlib clips the value loss; rlrun's algo.vf_clip_param clips the value "
    "update around the old value (SB3's clip_range_vf): set that key with update_from_dict",
    "deterministic_backup": "rlrun's CQL keeps SAC's soft backup (the entropy term in the target)",
    "burnin_len": "rlrun's BC and MARWIL learn feed-forward modules only (no recurrent burn-in)",
    "shuffle_buffer_size": "rlrun reads the data into memory; offline_data.shuffle draws its "
    "episodes in a fresh random order each pass (update_from_dict)",
    "input_read_episodes": "rlrun always reads whole episodes",
    "on_": "rlrun's callbacks are classes: .callbacks(MyCallbacks) with the hooks as methods "
    "(docs/callbacks.md)",
}

# Keys whose value names Python code: a class or function given here is stored as its
# "pkg.module:qualname" path, so YAML, the CLI and Ray workers can import it again.
PATH_KEYS = frozenset(
    {
        "env.id",
        "env.task_fn",
        "multi_agent.policy_mapping_fn",
        "multi_agent.multi_rl_module_class",
        "evaluation.policy_mapping_fn",
        "algo.model.module_class",
    }
)
