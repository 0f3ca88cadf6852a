"""Semantic checks on a composed config: ranges, choices, schedules, cross-field limits.

Types are already enforced by the schema when Hydra composes; this catches values of the right
type that still make no sense (a negative lr, gamma of 1.5). Each failure is a ConfigError naming
the key, the value and what is allowed. Only gymnasium is imported here, and only by
`check_env_id`; torch and Ray never are.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from rlrun.algorithms.registry import ALGORITHMS
from rlrun.errors import ConfigError

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

_ABSENT = object()


@dataclass(frozen=True)
class Rule:
    """One key's constraint: `ok(value)` must hold; `allowed` tells the user what would."""

    key: str
    ok: Callable[[Any], bool]
    allowed: str
    nullable: bool = False  # null (None) is accepted as "off" / "default"
    choices: tuple[str, ...] = ()  # for a choice, a near miss gets a "did you mean"


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_attr_path(v: Any) -> bool:
    """Whether `v` is "pkg.module:Name", the form of user classes and functions in the config."""
    if not isinstance(v, str) or v.count(":") != 1:
        return False
    module, attr = v.split(":")
    return all(p.isidentifier() for p in [*module.split("."), *attr.split(".")])


def at_least(key: str, lo: float, *, integer: bool = False, nullable: bool = False) -> Rule:
    kind = "an integer" if integer else "a number"
    check = _is_int if integer else _is_num
    return Rule(key, lambda v: check(v) and v >= lo, f"{kind} >= {lo:g}", nullable)


def above(key: str, lo: float, *, nullable: bool = False) -> Rule:
    return Rule(key, lambda v: _is_num(v) and v > lo, f"a number > {lo:g}", nullable)


def between(key: str, lo: float, hi: float) -> Rule:
    return Rule(key, lambda v: _is_num(v) and lo <= v <= hi, f"a number in [{lo:g}, {hi:g}]")


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
        lambda v: isinstance(v, str) and v.strip() != "",
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
        lambda v: isinstance(v, list) and all(_is_int(h) and h >= 1 for h in v),
        "a list of layer sizes >= 1, e.g. [64,64] ([] for a linear policy)",
    ),
    one_of("algo.model.head_fcnet_activation", ACTIVATIONS),
    one_of("algo.model.conv_activation", ACTIVATIONS),
    one_of("algo.model.conv_dtype", ("float32", "bfloat16")),
    Rule(
        "algo.model.head_fcnet_hiddens",
        lambda v: isinstance(v, list) and all(_is_int(h) and h >= 1 for h in v),
        "a list of layer sizes >= 1, e.g. [256] ([] for one linear layer per head)",
    ),
    Rule(
        "algo.model.conv_filters",
        lambda v: (
            isinstance(v, list)
            and len(v) > 0
            and all(
                isinstance(f, list) and len(f) == 3 and all(_is_int(x) and x >= 1 for x in f)
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
    Rule("algo.tau", lambda v: _is_num(v) and 0 < v <= 1, "a number in (0, 1]"),
    at_least("algo.target_network_update_freq", 0, integer=True),
    at_least("algo.min_sample_timesteps_per_iteration", 1, integer=True),
    # DQN
    at_least("algo.num_atoms", 1, integer=True),
    one_of("algo.td_error_loss_fn", TD_LOSSES),
    # SAC
    above("algo.initial_alpha", 0),
    Rule(
        "algo.target_entropy",
        lambda v: v == "auto" or _is_num(v),
        '"auto" (-dim(A), or 0.98 log|A| for discrete actions) or a number',
    ),
    # CQL
    at_least("algo.min_q_weight", 0),
    at_least("algo.num_actions", 1, integer=True),
    above("algo.temperature", 0),
    at_least("algo.bc_iters", 0, integer=True),
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
        lambda v: (
            (isinstance(v, str) and v.strip() != "")
            or (isinstance(v, list) and v and all(isinstance(x, str) and x.strip() for x in v))
        ),
        "a folder or files of output= episodes (.jsonl, .parquet), a Minari dataset folder, "
        "minari:<dataset id>, a list of these, or null",
        nullable=True,
    ),
    at_least("offline_data.dataset_num_iters_per_learner", 1, integer=True),
    # env
    Rule(
        "env.id",
        lambda v: isinstance(v, str) and v.strip() != "",
        "a Gymnasium id or pkg.module:Class",
    ),
    at_least("env.max_episode_steps", 1, integer=True, nullable=True),
    Rule("env.task_fn", _is_attr_path, "null or a function path pkg.module:fn", nullable=True),
    Rule(
        "env.reward_threshold", _is_num, "a number, or null for the registry's value", nullable=True
    ),
    # env_runner
    at_least("env_runner.num_env_runners", 0, integer=True),
    at_least("env_runner.num_envs_per_env_runner", 1, integer=True),
    Rule(
        "env_runner.rollout_fragment_length",
        lambda v: v == "auto" or (_is_int(v) and v >= 1),
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
        lambda v: v == "auto" or _is_num(v),
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
        lambda v: v == "auto" or (_is_int(v) and v >= 1),
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
        lambda v: isinstance(v, str) and v.strip() != "",
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
        lambda v: _is_int(v) and 0 <= v < 2**32,
        "an integer in [0, 2**32), or null for a random seed",
        nullable=True,
    ),
    Rule(
        "name",
        lambda v: isinstance(v, str) and v.strip() != "",
        "a folder name, or null for <algo>_<env id>",
        nullable=True,
    ),
    Rule("results_dir", lambda v: isinstance(v, str) and v.strip() != "", "a directory path"),
    one_of("log_level", LOG_LEVELS),
    one_of("console", CONSOLES),
    Rule(
        "output",
        lambda v: isinstance(v, str) and v.strip() != "",
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


def validate(cfg: DictConfig) -> None:
    """Raise ConfigError for the first value that is out of range or inconsistent."""
    _check_algorithm(cfg)
    _check_rules(cfg)
    _check_algo_values(cfg)
    _check_conflicts(cfg)
    _check_offline(cfg)
    _check_output_format(cfg)
    _check_connectors(cfg)


def validate_algo_section(section: dict[str, Any]) -> None:
    """The `algo.*` checks of `validate`, on one algorithm section (a multi-agent module's
    settings with its overrides merged); errors name algo.<key>, for the caller to re-key."""
    cfg = OmegaConf.create({"algo": section})
    _check_rules(cfg, prefix="algo.")
    _check_algo_values(cfg)


def _check_rules(cfg: DictConfig, prefix: str = "") -> None:
    """Every rule (whose key starts with `prefix`) on its value, when the value is there."""
    for rule in RULES:
        if not rule.key.startswith(prefix):
            continue
        value = _get(cfg, rule.key)
        if value is _ABSENT or (value is None and rule.nullable):
            continue
        if not rule.ok(value):
            raise ConfigError(rule.key, value, _why(rule, value), allowed=rule.allowed)


def _check_algo_values(cfg: DictConfig) -> None:
    """The `algo` section's checks beyond one key at a time: schedules, bounds that depend on
    each other, the minibatch against the batch, model keys the algorithm ignores."""
    for key in ("algo.lr", "algo.actor_lr", "algo.critic_lr", "algo.alpha_lr"):
        _check_schedule(cfg, key, positive_constant=True)
    for key in ("algo.entropy_coeff", "algo.replay.beta"):
        _check_schedule(cfg, key, positive_constant=False)
    _check_schedule(cfg, "algo.epsilon", positive_constant=False, at_most_one=True)
    v_min, v_max = _get(cfg, "algo.v_min"), _get(cfg, "algo.v_max")
    if _is_num(v_min) and _is_num(v_max) and v_min >= v_max:
        raise ConfigError(
            "algo.v_min", v_min, f"must be below algo.v_max={v_max}", allowed=f"a number < {v_max}"
        )
    _check_minibatch(cfg)
    _check_model_keys(cfg)


def check_env_id(cfg: DictConfig) -> None:
    """What the run reads on this machine exists: the env id names something that can be made
    (an importable class or a registered id), and an offline algorithm's recorded data is
    there. `validate` checks neither, so a config (an RLlib file) converts on any machine.

    Imports gymnasium (and, for a class path, the user's module) but never torch.
    """
    data = _get(cfg, "offline_data.input_")
    if data not in (None, _ABSENT):
        from rlrun.offline.loader import check_sources

        check_sources(data)
    env_id = _get(cfg, "env.id")
    if not isinstance(env_id, str) or not env_id.strip():
        raise ConfigError(
            "env.id", env_id, "needs an environment.", allowed="a Gymnasium id or pkg.module:Class"
        )
    from rlrun.env.make_env import ensure_registered, is_class_path

    if is_class_path(env_id):
        _check_class_path(env_id)
    else:  # a Gymnasium id, perhaps "module:Id" or in a namespace a package registers
        _check_registered(ensure_registered(env_id))


# --- the checks that a table row cannot express ---------------------------------------------------


def _check_algorithm(cfg: DictConfig) -> None:
    name = _get(cfg, "algo.name")
    if not isinstance(name, str) or name.upper() not in ALGORITHMS:
        raise ConfigError(
            "algo.name",
            name,
            f"unknown algorithm{_did_you_mean(name, list(ALGORITHMS))}",
            allowed=", ".join(ALGORITHMS),
        )


def _check_schedule(
    cfg: DictConfig, key: str, *, positive_constant: bool, at_most_one: bool = False
) -> None:
    value = _get(cfg, key)
    if value is _ABSENT or (value is None and _schema_default(cfg, key) is None):
        return  # absent, or unused by this algorithm (SAC's lr: it has one per optimizer)
    const = "a number > 0" if positive_constant else "a number >= 0"
    if at_most_one:
        const += " and <= 1"
    allowed = f"{const}, or {SCHEDULE_HELP}"
    if _is_num(value):
        if value < 0 or (positive_constant and value == 0) or (at_most_one and value > 1):
            raise ConfigError(key, value, "out of range.", allowed=allowed)
        return
    if not isinstance(value, list) or not value:
        raise ConfigError(key, value, "is neither a number nor a schedule.", allowed=allowed)
    last_step = -1
    for i, pair in enumerate(value):
        if not (
            isinstance(pair, list) and len(pair) == 2 and _is_int(pair[0]) and _is_num(pair[1])
        ):
            raise ConfigError(
                key,
                value,
                f"entry {i} ({pair}) is not an [env_steps, value] pair.",
                allowed=allowed,
            )
        step, val = pair
        if step < 0 or step < last_step:
            raise ConfigError(
                key,
                value,
                f"env_steps must be >= 0 and non-decreasing; entry {i} has {step}.",
                allowed=allowed,
            )
        if val < 0 or (at_most_one and val > 1):
            raise ConfigError(key, value, f"entry {i} has the value {val}.", allowed=allowed)
        last_step = step


def _schema_default(cfg: DictConfig, key: str) -> Any:
    """The algorithm schema's default for an `algo.` key (None for other keys)."""
    import dataclasses

    from rlrun.algorithms.registry import config_class

    name = _get(cfg, "algo.name")
    if not key.startswith("algo.") or not isinstance(name, str) or name.upper() not in ALGORITHMS:
        return None
    fields = {f.name: f for f in dataclasses.fields(config_class(name))}
    f = fields.get(key.split(".")[1])
    return None if f is None or f.default is dataclasses.MISSING else f.default


def _check_model_keys(cfg: DictConfig) -> None:
    """A model key the algorithm has no use for is an error, not silence: each algorithm's
    schema lists them with the reason (`unused_model_keys`)."""
    import dataclasses

    from rlrun.algorithms.registry import config_class
    from rlrun.config.schema import ModelConfig

    name = _get(cfg, "algo.name")
    unused = getattr(config_class(name), "unused_model_keys", {})
    defaults = {f.name: f for f in dataclasses.fields(ModelConfig)}
    for key, why in unused.items():
        value = _get(cfg, f"algo.model.{key}")
        f = defaults[key]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if value is not _ABSENT and value != default:
            raise ConfigError(f"algo.model.{key}", value, f"is not used by {name.upper()}: {why}")


def _check_minibatch(cfg: DictConfig) -> None:
    minibatch, batch = (
        _get(cfg, "algo.minibatch_size"),
        _get(cfg, "algo.train_batch_size_per_learner"),
    )
    if _is_int(minibatch) and _is_int(batch) and minibatch > batch:
        raise ConfigError(
            "algo.minibatch_size",
            minibatch,
            f"is larger than algo.train_batch_size_per_learner={batch}.",
            allowed=f"an integer in [1, {batch}]",
        )


def _check_conflicts(cfg: DictConfig) -> None:
    """Settings that are each valid but cannot go together."""
    if _get(cfg, "fault_tolerance.ignore_env_runner_failures") is True and (
        _get(cfg, "fault_tolerance.restart_failed_env_runners") is True
    ):
        raise ConfigError(
            "fault_tolerance.ignore_env_runner_failures",
            True,
            "conflicts with fault_tolerance.restart_failed_env_runners=true (the default): a failed "
            "runner is either replaced or dropped. To drop failed runners and go on with the rest, "
            "also set fault_tolerance.restart_failed_env_runners=false",
        )
    if _get(cfg, "evaluation.parallel_to_training") is True and not (
        _get(cfg, "evaluation.num_env_runners") or 0
    ):
        raise ConfigError(
            "evaluation.parallel_to_training",
            True,
            "needs remote evaluation runners to run beside training; set "
            "evaluation.num_env_runners to 1 or more, or parallel_to_training=false",
        )
    if (
        _get(cfg, "evaluation.duration") == "auto"
        and _get(cfg, "evaluation.parallel_to_training") is not True
    ):
        raise ConfigError(
            "evaluation.duration",
            "auto",
            "evaluates for as long as the training step beside it, so it needs "
            "evaluation.parallel_to_training=true (and evaluation.num_env_runners >= 1)",
        )
    _check_evaluation_config(cfg)
    for key in ("stop.metric", "checkpoint.score_attribute"):
        metric = _get(cfg, key)
        evaluating = bool(_get(cfg, "evaluation.interval"))
        if isinstance(metric, str) and metric.startswith("evaluation/") and not evaluating:
            raise ConfigError(
                key,
                metric,
                "is an evaluation result, but evaluation is off (evaluation.interval=0); "
                "set evaluation.interval to 1 or more",
            )
    _check_local_cpus(cfg)
    num_learners, gpus = (
        _get(cfg, "learner.num_learners"),
        _get(cfg, "learner.num_gpus_per_learner"),
    )
    if _is_int(num_learners) and num_learners > 1 and _is_num(gpus) and gpus % 1:
        raise ConfigError(
            "learner.num_gpus_per_learner",
            gpus,
            f"is fractional, but data-parallel learners (learner.num_learners={num_learners}) need "
            "a whole GPU each for nccl",
            allowed="0 or a whole number of GPUs, or learner.num_learners <= 1",
        )


def _check_offline(cfg: DictConfig) -> None:
    """Offline algorithms (a schema with `offline = True`) need recorded data and sample no env
    steps; BC is MARWIL with beta = 0."""
    from rlrun.algorithms.registry import config_class

    name = str(_get(cfg, "algo.name")).upper()
    if not getattr(config_class(name), "offline", False):
        return
    if _get(cfg, "offline_data.input_") in (None, _ABSENT):
        raise ConfigError(
            "offline_data.input_", None, f"{name} learns from recorded episodes only: name "
            "them, e.g. offline_data.input_=tuned_examples/data/cartpole_expert (docs/offline.md)",
            allowed="a folder or files of output= episodes (.jsonl, .parquet), a Minari "
            "dataset folder, or minari:<dataset id>",
        )  # fmt: skip
    if _get(cfg, "stop.timesteps") not in (None, _ABSENT):
        raise ConfigError(
            "stop.timesteps", _get(cfg, "stop.timesteps"), f"{name} samples no env steps "
            "(num_env_steps_sampled_lifetime stays 0), so this would never stop it; use "
            "stop.iterations or stop.time_s",
        )  # fmt: skip
    beta = _get(cfg, "algo.beta")
    if name == "BC" and _is_num(beta) and beta != 0:
        raise ConfigError(
            "algo.beta", beta, "BC is MARWIL with beta=0; for advantage weighting use algo=marwil",
            allowed="0",
        )  # fmt: skip


def _check_evaluation_config(cfg: DictConfig) -> None:
    """evaluation.config overrides env and env_runner keys for evaluation (RLlib's
    evaluation_config): each must exist in its section."""
    from rlrun.config.schema import EnvConfig, EnvRunnerConfig

    over = _get(cfg, "evaluation.config")
    if over is _ABSENT or not over:
        return
    sections = {"env": EnvConfig, "env_runner": EnvRunnerConfig}
    for section, values in over.items():
        key = f"evaluation.config.{section}"
        if section not in sections:
            raise ConfigError(key, values, "is not a section evaluation can override",
                              allowed="env, env_runner")  # fmt: skip
        fields = [f.name for f in dataclasses.fields(sections[section])]
        for name, value in (values or {}).items():
            if name == "num_env_runners":
                raise ConfigError(f"{key}.{name}", value, "use evaluation.num_env_runners")
            if name not in fields:
                raise ConfigError(
                    f"{key}.{name}", value, f"is not a key of {section}"
                    + _did_you_mean(name, fields), allowed=", ".join(fields),
                )  # fmt: skip


def _check_local_cpus(cfg: DictConfig) -> None:
    """Remote actors that cannot fit a Ray started on this machine would wait forever: say so
    before anything starts. (A cluster joined by ray.address is checked once joined.)"""
    from rlrun.cluster import actor_resources, local_cpus, needs_ray, resources_message

    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    if _get(cfg, "ray.address") or not needs_ray(plain):
        return
    need, have = actor_resources(plain)["CPU"], local_cpus(plain)
    if need > have + 1e-9:
        raise ConfigError(None, None, resources_message(plain, "CPU", need, have))


def _check_class_path(env_id: str) -> None:
    module_name, _, attr = env_id.partition(":")
    if not module_name or not attr:
        raise ConfigError(
            "env.id", env_id, "a class path needs both parts.", allowed="pkg.module:Class"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigError("env.id", env_id, f"cannot import module '{module_name}': {e}.") from None
    except Exception as e:  # the user's module itself failed while importing
        raise ConfigError(
            "env.id", env_id, f"importing '{module_name}' failed: {type(e).__name__}: {e}"
        ) from None
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part, _ABSENT)
        if obj is _ABSENT:
            break
    if obj is _ABSENT:
        # Gymnasium's own "module:EnvId" form: importing the module registers the id.
        import gymnasium

        if attr in gymnasium.registry:
            return
        classes = sorted(
            n for n, v in vars(module).items() if isinstance(v, type) and not n.startswith("_")
        )
        hint = _did_you_mean(attr, classes)
        listing = f" Classes in {module_name}: {', '.join(classes[:12])}." if classes else ""
        raise ConfigError(
            "env.id", env_id, f"module '{module_name}' has no class '{attr}'{hint or '.'}{listing}"
        )
    # A class, or a factory function such as PettingZoo's `tictactoe_v3:env`.
    if not callable(obj):
        raise ConfigError(
            "env.id",
            env_id,
            f"'{attr}' is a {type(obj).__name__}, not a class or factory function.",
            allowed="pkg.module:Class naming a gymnasium.Env subclass, a multi-agent env "
            "class, or a function that returns an env (e.g. mpe2.simple_spread_v3:parallel_env)",
        )


def _check_registered(env_id: str) -> None:
    import gymnasium

    try:
        gymnasium.spec(env_id)
        return
    except (gymnasium.error.Error, ValueError) as e:
        said = str(e).strip().rstrip(".")
    ids = list(gymnasium.registry)
    close = difflib.get_close_matches(env_id, ids, n=3, cutoff=0.6)
    lowered = {i.lower(): i for i in ids}
    if env_id.lower() in lowered and lowered[env_id.lower()] not in close:
        close.insert(0, lowered[env_id.lower()])
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ConfigError(
        "env.id",
        env_id,
        f"not a registered Gymnasium environment (Gymnasium says: {said}).{hint} "
        "For your own class use env=pkg.module:Class; for an env that a package registers on import, "
        "use env=package:EnvId.",
    )


# --- helpers ------------------------------------------------------------------------------------


def _get(cfg: DictConfig, key: str) -> Any:
    value = OmegaConf.select(cfg, key, default=_ABSENT)
    if isinstance(value, DictConfig | ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    return value


def _why(rule: Rule, value: Any) -> str:
    if rule.choices:
        return f"not a valid choice{_did_you_mean(value, list(rule.choices))}"
    return "out of range." if _is_num(value) else "invalid value."


def _did_you_mean(value: Any, choices: list[str]) -> str:
    if not isinstance(value, str):
        return "."
    by_case = [c for c in choices if c.lower() == value.lower()]
    close = by_case or difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f". Did you mean '{close[0]}'?" if close else "."


def _check_output_format(cfg: DictConfig) -> None:
    """Parquet episode output needs pyarrow, an optional extra: say so before training starts."""
    import importlib.util

    parquet = _get(cfg, "output") and _get(cfg, "output_format") == "parquet"
    if parquet and importlib.util.find_spec("pyarrow") is None:
        raise ConfigError(
            "output_format",
            "parquet",
            "needs pyarrow, which is not installed: pip install 'rlrun[output]'",
            allowed="json (no extra needed), or parquet with pyarrow installed",
        )


def _check_connectors(cfg: DictConfig) -> None:
    """Connector pieces (docs/connectors.md): each entry's form, name or class path, and kwargs.
    Imports the named piece classes (gymnasium, the user's modules) but never torch itself."""
    section = _get(cfg, "connectors")
    if section is _ABSENT:
        return
    from rlrun.connectors.registry import check_connectors

    check_connectors(section)
