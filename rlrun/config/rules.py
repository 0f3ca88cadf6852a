"""The table of single-key rules that `validate` applies: ranges and choices per dotted key.

Each `Rule` names a key, a predicate and what is allowed; a value of the right type (Hydra and
the schema checked types) that fails it is a ConfigError naming the key, the value and the rule.
Pure data and small predicates (and the key lookup both validate modules use); it imports
only omegaconf.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

ACTIVATIONS = ("tanh", "relu", "silu", "elu", "linear")
GRAD_CLIP_BY = ("value", "norm", "global_norm")
OBSERVATION_FILTERS = ("NoFilter", "MeanStdFilter")
VECTORIZE_MODES = ("sync", "async")
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "WARNING", "ERROR")
OUTPUT_FORMATS = ("json", "parquet")
CONSOLES = ("auto", "rich", "plain", "off")
DURATION_UNITS = ("episodes", "timesteps")
TD_LOSSES = ("huber", "mse")
SCORE_ORDERS = ("max", "min")
COUNT_STEPS_BY = ("env_steps", "agent_steps")
# algo.optimizer.type: torch.optim classes by lower-case name (rlrun.core.optim builds them).
OPTIMIZER_TYPES = ("adam", "adamw", "sgd", "rmsprop", "adagrad", "adamax", "nadam", "radam")

ABSENT = object()


@dataclass(frozen=True)
class Rule:
    """One key's constraint: `ok(value)` must hold; `allowed` tells the user what would."""

    key: str
    ok: Callable[[Any], bool]
    allowed: str
    nullable: bool = False  # null (None) is accepted as "off" / "default"
    choices: tuple[str, ...] = ()  # for a choice, a near miss gets a "did you mean"


def is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_text(v: Any) -> bool:
    """A string with something in it (paths, names)."""
    return isinstance(v, str) and v.strip() != ""


def _is_attr_path(v: Any) -> bool:
    """Whether `v` is "pkg.module:Name", the form of user classes and functions in the config."""
    if not isinstance(v, str) or v.count(":") != 1:
        return False
    module, attr = v.split(":")
    return all(p.isidentifier() for p in [*module.split("."), *attr.split(".")])


def at_least(key: str, lo: float, *, integer: bool = False, nullable: bool = False) -> Rule:
    kind = "an integer" if integer else "a number"
    check = is_int if integer else is_num
    return Rule(key, lambda v: check(v) and v >= lo, f"{kind} >= {lo:g}", nullable)


def above(key: str, lo: float, *, nullable: bool = False) -> Rule:
    return Rule(key, lambda v: is_num(v) and v > lo, f"a number > {lo:g}", nullable)


def between(key: str, lo: float, hi: float) -> Rule:
    return Rule(key, lambda v: is_num(v) and lo <= v <= hi, f"a number in [{lo:g}, {hi:g}]")


def one_of(key: str, choices: tuple[str, ...]) -> Rule:
    return Rule(key, lambda v: v in choices, ", ".join(choices), choices=choices)


RULES: tuple[Rule, ...] = (
    # algo: shared by every algorithm
    between("algo.gamma", 0, 1),
    Rule(
        "evaluation.custom_evaluation_function",
        _is_attr_path,
        "pkg.module:fn, fn(algorithm, evaluator) -> a dict of metrics, or null",
        nullable=True,
    ),
    Rule(
        "algo.learner_class",
        _is_attr_path,
        "pkg.module:Class, a subclass of the algorithm's Learner, or null",
        nullable=True,
    ),
    Rule(
        "algo.algorithm_class",
        _is_attr_path,
        "pkg.module:Class, a subclass of the algorithm's class, or null",
        nullable=True,
    ),
    Rule(
        "algo.model.load_state_path",
        is_text,
        "a checkpoint folder (or its module/<id> folder) to start the module from, or null",
        nullable=True,
    ),
    Rule(
        "algo.optimizer",
        lambda v: (
            isinstance(v, dict | DictConfig)
            and (v.get("type") is None or str(v.get("type")).lower() in OPTIMIZER_TYPES)
        ),
        "a mapping: {} (the built-in Adam), {eps: 1e-8}, or {type: <name>, <kwarg>: <value>} "
        f"with type one of {', '.join(OPTIMIZER_TYPES)}",
    ),
    at_least("algo.train_batch_size_per_learner", 1, integer=True),
    above("algo.grad_clip", 0, nullable=True),
    one_of("algo.grad_clip_by", GRAD_CLIP_BY),
    one_of("algo.model.fcnet_activation", ACTIVATIONS),
    Rule(
        "algo.model.fcnet_hiddens",
        lambda v: isinstance(v, list) and all(is_int(h) and h >= 1 for h in v),
        "a list of layer sizes >= 1, e.g. [64,64] ([] for a linear policy)",
    ),
    one_of("algo.model.head_fcnet_activation", ACTIVATIONS),
    one_of("algo.model.conv_activation", ACTIVATIONS),
    one_of("algo.model.conv_dtype", ("float32", "bfloat16")),
    Rule(
        "algo.model.head_fcnet_hiddens",
        lambda v: isinstance(v, list) and all(is_int(h) and h >= 1 for h in v),
        "a list of layer sizes >= 1, e.g. [256] ([] for one linear layer per head)",
    ),
    Rule(
        "algo.model.conv_filters",
        lambda v: (
            isinstance(v, list)
            and len(v) > 0
            and all(
                isinstance(f, list) and len(f) == 3 and all(is_int(x) and x >= 1 for x in f)
                for f in v
            )
        ),
        "null (a default that fits the image size) or a list of [channels, kernel, stride] "
        "triples of integers >= 1, e.g. [[16,4,2],[32,4,2]]",
        nullable=True,
    ),
    at_least("algo.model.lstm_cell_size", 1, integer=True),
    at_least("algo.model.max_seq_len", 1, integer=True),
    Rule(
        "env.action_mask_key",
        lambda v: isinstance(v, str) and v != "",
        'null ("action_mask" when the observation has it) or a key of the Dict observation',
        nullable=True,
    ),
    Rule(
        "algo.model.module_class",
        lambda v: isinstance(v, str) and ":" in v and all(v.split(":", 1)),
        "null (the default MLP) or a class path pkg.module:Class",
        nullable=True,
    ),
    # PPO (skipped when the algorithm has no such key)
    between("algo.lambda_", 0, 1),
    above("algo.clip_param", 0),
    above("algo.vf_clip_param", 0, nullable=True),
    above("algo.vf_loss_clip", 0, nullable=True),
    at_least("algo.vf_loss_coeff", 0),
    at_least("algo.kl_coeff", 0),
    above("algo.kl_target", 0),
    at_least("algo.num_epochs", 1, integer=True),
    at_least("algo.minibatch_size", 1, integer=True, nullable=True),  # IMPALA's None: the batch
    # replay-based algorithms (DQN, SAC)
    at_least("algo.replay.capacity", 1, integer=True),
    at_least("algo.replay.alpha", 0),
    above("algo.replay.eps", 0),
    at_least("algo.learning_starts", 0, integer=True),
    above("algo.training_intensity", 0),
    at_least("algo.n_step", 1, integer=True),
    Rule("algo.tau", lambda v: is_num(v) and 0 < v <= 1, "a number in (0, 1]"),
    at_least("algo.target_network_update_freq", 0, integer=True),
    at_least("algo.min_sample_timesteps_per_iteration", 1, integer=True),
    # DQN
    at_least("algo.num_atoms", 1, integer=True),
    one_of("algo.td_error_loss_fn", TD_LOSSES),
    # SAC
    above("algo.initial_alpha", 0),
    Rule(
        "algo.target_entropy",
        lambda v: v == "auto" or is_num(v),
        '"auto" (-dim(A), or 0.98 log|A| for discrete actions) or a number',
    ),
    # CQL
    at_least("algo.min_q_weight", 0),
    at_least("algo.num_actions", 1, integer=True),
    above("algo.temperature", 0),
    at_least("algo.bc_iters", 0, integer=True),
    Rule("algo.lagrangian_thresh", is_num, "a number (the target gap tau)"),
    # IMPALA, APPO
    above("algo.vtrace_clip_rho_threshold", 0),
    above("algo.vtrace_clip_pg_rho_threshold", 0),
    at_least("algo.broadcast_interval", 1, integer=True),
    at_least("algo.max_requests_in_flight_per_env_runner", 1, integer=True),
    at_least("algo.circular_buffer_num_batches", 1, integer=True),
    at_least("algo.circular_buffer_iterations_per_batch", 1, integer=True),
    # MARWIL, BC
    at_least("algo.beta", 0),
    at_least("algo.vf_coeff", 0),
    at_least("algo.bc_logstd_coeff", 0),
    between("algo.moving_average_sqd_adv_norm_update_rate", 0, 1),
    above("algo.moving_average_sqd_adv_norm_start", 0),
    # offline data
    Rule(
        "offline_data.input_",
        lambda v: is_text(v) or (isinstance(v, list) and bool(v) and all(is_text(x) for x in v)),
        "a folder or files of output= episodes (.jsonl, .parquet), a Minari dataset folder, "
        "minari:<dataset id>, a list of these, or null",
        nullable=True,
    ),
    at_least("offline_data.dataset_num_iters_per_learner", 1, integer=True),
    # env
    Rule(
        "env.id",
        is_text,
        "a Gymnasium id or pkg.module:Class",
    ),
    at_least("env.max_episode_steps", 1, integer=True, nullable=True),
    Rule("env.task_fn", _is_attr_path, "null or a function path pkg.module:fn", nullable=True),
    Rule(
        "env.reward_threshold", is_num, "a number, or null for the registry's value", nullable=True
    ),
    # env_runner
    at_least("env_runner.num_env_runners", 0, integer=True),
    at_least("env_runner.num_envs_per_env_runner", 1, integer=True),
    Rule(
        "env_runner.rollout_fragment_length",
        lambda v: v == "auto" or (is_int(v) and v >= 1),
        '"auto" or an integer >= 1',
    ),
    one_of("env_runner.vectorize_mode", VECTORIZE_MODES),
    one_of("env_runner.observation_filter", OBSERVATION_FILTERS),
    at_least("env_runner.metrics_num_episodes_for_smoothing", 1, integer=True),
    at_least("env_runner.num_cpus_per_env_runner", 0),
    at_least("env_runner.num_gpus_per_env_runner", 0),
    above("env_runner.sample_timeout_s", 0, nullable=True),
    # learner
    at_least("learner.num_learners", 0, integer=True),
    at_least("learner.num_cpus_per_learner", 0),
    at_least("learner.num_gpus_per_learner", 0),
    at_least("learner.torch_num_threads", 1, integer=True),
    # stop
    Rule(
        "stop.reward",
        lambda v: v == "auto" or is_num(v),
        'a number, "auto" (the env\'s reward_threshold) or null (off)',
        nullable=True,
    ),
    Rule(
        "stop.metric",
        lambda v: isinstance(v, str) and v != "",
        "a result key, e.g. env_runners/episode_return_mean",
    ),
    at_least("stop.timesteps", 0, integer=True, nullable=True),
    at_least("stop.iterations", 0, integer=True, nullable=True),
    at_least("stop.time_s", 0, nullable=True),
    # checkpoint
    at_least("checkpoint.frequency", 0, integer=True),
    at_least("checkpoint.num_to_keep", 1, integer=True, nullable=True),
    Rule(
        "checkpoint.score_attribute",
        lambda v: isinstance(v, str) and v != "",
        "a result key, e.g. evaluation/env_runners/episode_return_mean, or null (newest)",
        nullable=True,
    ),
    one_of("checkpoint.score_order", SCORE_ORDERS),
    # evaluation
    at_least("evaluation.interval", 0, integer=True),
    Rule(
        "evaluation.duration",
        lambda v: v == "auto" or (is_int(v) and v >= 1),
        "an integer >= 1 (episodes or timesteps, per evaluation.duration_unit), or auto (as "
        "long as the training step beside it; needs evaluation.parallel_to_training=true)",
    ),
    one_of("evaluation.duration_unit", DURATION_UNITS),
    at_least("evaluation.num_env_runners", 0, integer=True),
    at_least("evaluation.num_envs_per_env_runner", 1, integer=True, nullable=True),
    at_least("evaluation.num_cpus_per_env_runner", 0, nullable=True),
    # fault tolerance
    at_least("fault_tolerance.max_num_env_runner_restarts", 0, integer=True),
    at_least("fault_tolerance.max_consecutive_env_runner_failures", 1, integer=True),
    at_least("fault_tolerance.delay_between_env_runner_restarts_s", 0),
    # ray
    Rule(
        "ray.address",
        is_text,
        "auto, HOST:PORT of a running cluster's head, or null to start Ray here",
        nullable=True,
    ),
    above("ray.connect_timeout_s", 0),
    at_least("ray.num_cpus", 1, integer=True, nullable=True),
    at_least("ray.num_gpus", 0, integer=True, nullable=True),
    # Ray refuses object stores under 75 MiB.
    at_least("ray.object_store_memory", 75 * 1024 * 1024, integer=True, nullable=True),
    Rule("ray.dashboard_host", lambda v: isinstance(v, str) and v != "", "a host or IP address"),
    # multi-agent
    Rule(
        "multi_agent.policy_mapping_fn",
        _is_attr_path,
        "a function path pkg.module:fn, fn(agent_id, episode, **kwargs) -> module id, or null "
        "(every agent uses default_policy)",
        nullable=True,
    ),
    Rule(
        "multi_agent.policies_to_train",
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "a list of module ids, or null (all modules learn)",
        nullable=True,
    ),
    one_of("multi_agent.count_steps_by", COUNT_STEPS_BY),
    # top level
    Rule(
        "seed",
        lambda v: is_int(v) and 0 <= v < 2**32,
        "an integer in [0, 2**32), or null for a random seed",
        nullable=True,
    ),
    Rule(
        "name",
        is_text,
        "a folder name, or null for <algo>_<env id>",
        nullable=True,
    ),
    Rule("results_dir", is_text, "a directory path"),
    one_of("log_level", LOG_LEVELS),
    one_of("console", CONSOLES),
    Rule(
        "output",
        is_text,
        "a directory for the sampled episodes, or null for none",
        nullable=True,
    ),
    one_of("output_format", OUTPUT_FORMATS),
    above("output_max_file_size_mb", 0),
    Rule(
        "callbacks",
        lambda v: isinstance(v, list) and all(_is_attr_path(p) for p in v),
        "a list of class paths, e.g. [my_pkg.callbacks:MyCallbacks]",
    ),
)

SCHEDULE_HELP = (
    "a piecewise-linear schedule [[env_steps, value], ...] (env_steps >= 0 and non-decreasing, "
    "values >= 0), e.g. [[0,1e-3],[100000,1e-4]]"
)


def get_key(cfg: DictConfig, key: str) -> Any:
    value = OmegaConf.select(cfg, key, default=ABSENT)
    if isinstance(value, DictConfig | ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    return value


def did_you_mean(value: Any, choices: list[str]) -> str:
    if not isinstance(value, str):
        return "."
    by_case = [c for c in choices if c.lower() == value.lower()]
    close = by_case or difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f". Did you mean '{close[0]}'?" if close else "."
