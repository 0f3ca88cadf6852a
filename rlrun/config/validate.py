"""Semantic checks on a composed config: ranges, choices, schedules, cross-field limits.

Types are already enforced by the schema when Hydra composes; this catches values of the right
type that still make no sense (a negative lr, gamma of 1.5). Each failure is a ConfigError naming
the key, the value and what is allowed. The single-key rules are a table (rlrun.config.rules);
this module applies it and holds the checks a table row cannot express (schedules, conflicts
between keys, offline data, connectors). What depends on this machine (the env can be made, the
data exists) is rlrun.config.env_checks, re-exported here as `check_env_id`. torch and Ray are
never imported.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from omegaconf import DictConfig, OmegaConf

from rlrun.algorithms.registry import ALGORITHMS
from rlrun.config.env_checks import check_env_id  # noqa: F401 - re-exported
from rlrun.config.rules import (
    ABSENT,
    RULES,
    SCHEDULE_HELP,
    Rule,
    did_you_mean,
    get_key,
    is_int,
    is_num,
)
from rlrun.errors import ConfigError


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
        value = get_key(cfg, rule.key)
        if value is ABSENT or (value is None and rule.nullable):
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
    v_min, v_max = get_key(cfg, "algo.v_min"), get_key(cfg, "algo.v_max")
    if is_num(v_min) and is_num(v_max) and v_min >= v_max:
        raise ConfigError(
            "algo.v_min", v_min, f"must be below algo.v_max={v_max}", allowed=f"a number < {v_max}"
        )
    _check_minibatch(cfg)
    _check_model_keys(cfg)


# --- the checks that a table row cannot express ---------------------------------------------------


def _check_algorithm(cfg: DictConfig) -> None:
    name = get_key(cfg, "algo.name")
    if not isinstance(name, str) or name.upper() not in ALGORITHMS:
        raise ConfigError(
            "algo.name",
            name,
            f"unknown algorithm{did_you_mean(name, list(ALGORITHMS))}",
            allowed=", ".join(ALGORITHMS),
        )


def _check_schedule(
    cfg: DictConfig, key: str, *, positive_constant: bool, at_most_one: bool = False
) -> None:
    value = get_key(cfg, key)
    if value is ABSENT or (value is None and _schema_default(cfg, key) is None):
        return  # absent, or unused by this algorithm (SAC's lr: it has one per optimizer)
    const = "a number > 0" if positive_constant else "a number >= 0"
    if at_most_one:
        const += " and <= 1"
    allowed = f"{const}, or {SCHEDULE_HELP}"
    if is_num(value):
        if value < 0 or (positive_constant and value == 0) or (at_most_one and value > 1):
            raise ConfigError(key, value, "out of range.", allowed=allowed)
        return
    if not isinstance(value, list) or not value:
        raise ConfigError(key, value, "is neither a number nor a schedule.", allowed=allowed)
    last_step = -1
    for i, pair in enumerate(value):
        if not (isinstance(pair, list) and len(pair) == 2 and is_int(pair[0]) and is_num(pair[1])):
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

    name = get_key(cfg, "algo.name")
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

    name = get_key(cfg, "algo.name")
    unused = getattr(config_class(name), "unused_model_keys", {})
    defaults = {f.name: f for f in dataclasses.fields(ModelConfig)}
    for key, why in unused.items():
        value = get_key(cfg, f"algo.model.{key}")
        f = defaults[key]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if value is not ABSENT and value != default:
            raise ConfigError(f"algo.model.{key}", value, f"is not used by {name.upper()}: {why}")


def _check_minibatch(cfg: DictConfig) -> None:
    minibatch, batch = (
        get_key(cfg, "algo.minibatch_size"),
        get_key(cfg, "algo.train_batch_size_per_learner"),
    )
    if is_int(minibatch) and is_int(batch) and minibatch > batch:
        raise ConfigError(
            "algo.minibatch_size",
            minibatch,
            f"is larger than algo.train_batch_size_per_learner={batch}.",
            allowed=f"an integer in [1, {batch}]",
        )


def _check_conflicts(cfg: DictConfig) -> None:
    """Settings that are each valid but cannot go together."""
    if get_key(cfg, "fault_tolerance.ignore_env_runner_failures") is True and (
        get_key(cfg, "fault_tolerance.restart_failed_env_runners") is True
    ):
        raise ConfigError(
            "fault_tolerance.ignore_env_runner_failures",
            True,
            "conflicts with fault_tolerance.restart_failed_env_runners=true (the default): a failed "
            "runner is either replaced or dropped. To drop failed runners and go on with the rest, "
            "also set fault_tolerance.restart_failed_env_runners=false",
        )
    if get_key(cfg, "evaluation.parallel_to_training") is True and not (
        get_key(cfg, "evaluation.num_env_runners") or 0
    ):
        raise ConfigError(
            "evaluation.parallel_to_training",
            True,
            "needs remote evaluation runners to run beside training; set "
            "evaluation.num_env_runners to 1 or more, or parallel_to_training=false",
        )
    if (
        get_key(cfg, "evaluation.duration") == "auto"
        and get_key(cfg, "evaluation.parallel_to_training") is not True
    ):
        raise ConfigError(
            "evaluation.duration",
            "auto",
            "evaluates for as long as the training step beside it, so it needs "
            "evaluation.parallel_to_training=true (and evaluation.num_env_runners >= 1)",
        )
    _check_evaluation_config(cfg)
    for key in ("stop.metric", "checkpoint.score_attribute"):
        metric = get_key(cfg, key)
        evaluating = bool(get_key(cfg, "evaluation.interval"))
        if isinstance(metric, str) and metric.startswith("evaluation/") and not evaluating:
            raise ConfigError(
                key,
                metric,
                "is an evaluation result, but evaluation is off (evaluation.interval=0); "
                "set evaluation.interval to 1 or more",
            )
    _check_local_cpus(cfg)
    num_learners, gpus = (
        get_key(cfg, "learner.num_learners"),
        get_key(cfg, "learner.num_gpus_per_learner"),
    )
    if is_int(num_learners) and num_learners > 1 and is_num(gpus) and gpus % 1:
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

    name = str(get_key(cfg, "algo.name")).upper()
    if not getattr(config_class(name), "offline", False):
        return
    if get_key(cfg, "offline_data.input_") in (None, ABSENT):
        raise ConfigError(
            "offline_data.input_", None, f"{name} learns from recorded episodes only: name "
            "them, e.g. offline_data.input_=tuned_examples/data/cartpole_expert (docs/offline.md)",
            allowed="a folder or files of output= episodes (.jsonl, .parquet), a Minari "
            "dataset folder, or minari:<dataset id>",
        )  # fmt: skip
    if get_key(cfg, "stop.timesteps") not in (None, ABSENT):
        raise ConfigError(
            "stop.timesteps", get_key(cfg, "stop.timesteps"), f"{name} samples no env steps "
            "(num_env_steps_sampled_lifetime stays 0), so this would never stop it; use "
            "stop.iterations or stop.time_s",
        )  # fmt: skip
    beta = get_key(cfg, "algo.beta")
    if name == "BC" and is_num(beta) and beta != 0:
        raise ConfigError(
            "algo.beta", beta, "BC is MARWIL with beta=0; for advantage weighting use algo=marwil",
            allowed="0",
        )  # fmt: skip


def _check_evaluation_config(cfg: DictConfig) -> None:
    """evaluation.config overrides env and env_runner keys for evaluation (RLlib's
    evaluation_config): each must exist in its section."""
    from rlrun.config.schema import EnvConfig, EnvRunnerConfig

    over = get_key(cfg, "evaluation.config")
    if over is ABSENT or not over:
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
                    + did_you_mean(name, fields), allowed=", ".join(fields),
                )  # fmt: skip


def _check_local_cpus(cfg: DictConfig) -> None:
    """Remote actors that cannot fit a Ray started on this machine would wait forever: say so
    before anything starts. (A cluster joined by ray.address is checked once joined.)"""
    from rlrun.cluster import actor_resources, local_cpus, needs_ray, resources_message

    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    if get_key(cfg, "ray.address") or not needs_ray(plain):
        return
    need, have = actor_resources(plain)["CPU"], local_cpus(plain)
    if need > have + 1e-9:
        raise ConfigError(None, None, resources_message(plain, "CPU", need, have))


# --- helpers ------------------------------------------------------------------------------------


def _why(rule: Rule, value: Any) -> str:
    if rule.choices:
        return f"not a valid choice{did_you_mean(value, list(rule.choices))}"
    return "out of range." if is_num(value) else "invalid value."


def _check_output_format(cfg: DictConfig) -> None:
    """Parquet episode output needs pyarrow, an optional extra: say so before training starts."""
    import importlib.util

    parquet = get_key(cfg, "output") and get_key(cfg, "output_format") == "parquet"
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
    section = get_key(cfg, "connectors")
    if section is ABSENT:
        return
    from rlrun.connectors.registry import check_connectors

    check_connectors(section)
