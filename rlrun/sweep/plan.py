"""What `rlrun train -m ...` will run, checked before the first trial starts.

The command line is split into the task's overrides (handed to Hydra's sweeper, sweeps included)
and Hydra's own (`hydra/launcher=ray`, `hydra/sweeper=optuna`, `hydra.sweeper.n_trials=...`).
Every value a sweep can take is composed once against the schema here, so a typo in the third
value fails in a second with exit 2 instead of as trial 3's crash an hour later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hydra.core.override_parser.types import IntervalSweep, Override

from rlrun.config.compose import compose
from rlrun.config.overrides import open_free_form, parse_overrides, rewrite_env_overrides
from rlrun.errors import ConfigError

LAUNCHERS = ("basic", "ray")  # hydra/launcher options: in turn, or in parallel on Ray
SWEEPERS = ("basic", "optuna")  # hydra/sweeper options: every combination, or a search
_HYDRA_GROUPS = {"hydra/launcher": LAUNCHERS, "hydra/sweeper": SWEEPERS}


@dataclass
class SweepPlan:
    task_overrides: list[str]  # the trials' overrides, sweeps included, as Hydra takes them
    hydra_overrides: list[str]  # the user's hydra/... and hydra.* overrides
    sweep_keys: list[str]  # keys whose value differs between trials: they name the trials
    experiment: str  # the folder under results_dir that holds the trials
    experiment_dir: Path
    launcher: str
    sweeper: str
    base_config: dict[str, Any] = field(default_factory=dict)  # the first trial's config


def plan_sweep(overrides: list[str], now: datetime | None = None) -> SweepPlan:
    hydra_ov = [o for o in overrides if _key(o).startswith("hydra")]
    user = [o for o in overrides if not _key(o).startswith("hydra")]
    choices = _hydra_choices(hydra_ov)
    if choices["hydra/sweeper"] == "optuna":
        _require_optuna()

    parsed = parse_overrides(user)
    sweeps = [ov for ov in parsed if ov.is_sweep_override()]
    if choices["hydra/sweeper"] == "basic":
        _check_basic_sweeps(sweeps)
    task = open_free_form(rewrite_env_overrides(user, parsed=parsed, sweeps=True))
    base = _check_every_value(task)
    sweep_keys = [_sweep_key(ov) for ov in sweeps]
    if choices["hydra/sweeper"] == "optuna":
        # Its search space may also come from hydra.sweeper.params.* (yaml-style keys).
        sweep_keys += [
            _key(o).removeprefix("hydra.sweeper.params.")
            for o in hydra_ov
            if _key(o).startswith("hydra.sweeper.params.")
        ]
    experiment = base.get("name") or _default_name(base, sweep_keys, now)
    from rlrun.results.trial import expand_path, safe_name

    experiment = safe_name(experiment, max_len=200)
    return SweepPlan(
        task_overrides=task,
        hydra_overrides=hydra_ov,
        sweep_keys=sweep_keys,
        experiment=experiment,
        experiment_dir=expand_path(base["results_dir"]) / experiment,
        launcher=choices["hydra/launcher"],
        sweeper=choices["hydra/sweeper"],
        base_config=base,
    )


def _hydra_choices(hydra_ov: list[str]) -> dict[str, str]:
    """The launcher and sweeper the user's hydra/... overrides pick; any other Hydra override
    must be a hydra.* setting."""
    choices = {g: "basic" for g in _HYDRA_GROUPS}
    for text in hydra_ov:
        key, _, value = text.lstrip("+").partition("=")
        if key in _HYDRA_GROUPS:
            if value not in _HYDRA_GROUPS[key]:
                raise ConfigError(
                    key,
                    value,
                    "is not an option rlrun supports.",
                    allowed=", ".join(_HYDRA_GROUPS[key]),
                )
            choices[key] = value
        elif not key.startswith("hydra."):
            raise ConfigError(
                key,
                value,
                "is not a Hydra setting a sweep takes.",
                allowed="hydra/launcher=basic|ray, hydra/sweeper=basic|optuna, hydra.sweeper.*, "
                "hydra.launcher.*",
            )
    return choices


def _check_basic_sweeps(sweeps: list[Override]) -> None:
    """The basic sweeper needs at least one sweep, and only values it can list."""
    if not sweeps:
        raise ConfigError(
            None,
            None,
            "-m/--multirun needs at least one sweep, e.g. seed=0,1,2 or algo.lr=1e-3,3e-4 "
            "(comma-separated values, range(), choice() or glob()); for one trial drop -m.",
        )
    for ov in sweeps:
        if isinstance(ov.value(), IntervalSweep):
            raise ConfigError(
                str(ov.key_or_group),
                ov.input_line,
                "interval() is a continuous range, which only a search sweeper samples: add "
                "hydra/sweeper=optuna, or list values (a,b,c) or use range(start,stop,step).",
            )


def trial_tag(job_overrides: list[str], sweep_keys: list[str]) -> str:
    """`lr=0.001,seed=0`: a trial's values of the swept keys, each under its last name part
    (the whole key where two swept keys share that part)."""
    values = {}
    for text in job_overrides:
        key, _, value = text.lstrip("+").partition("=")
        if key in sweep_keys:
            values[key] = value
    short = {k: k.rsplit(".", 1)[-1] for k in values}
    clash = {s for s in short.values() if list(short.values()).count(s) > 1}
    return ",".join(f"{k if short[k] in clash else short[k]}={v}" for k, v in values.items())


def _check_every_value(task: list[str]) -> dict[str, Any]:
    """Compose the first combination, then each other value of each sweep once; returns the
    first combination's config."""
    from omegaconf import OmegaConf

    from rlrun.callbacks.hooks import check_user_code
    from rlrun.config.validate import check_env_id, validate

    parsed = parse_overrides(task)
    options = [_values(ov) for ov in parsed]
    first = [_with_value(text, vals[0]) for text, vals in zip(task, options, strict=True)]
    seen_envs: set[str] = set()

    def check(overrides: list[str]) -> dict[str, Any]:
        cfg = compose(overrides)
        validate(cfg)
        if cfg.env.id not in seen_envs:
            check_env_id(cfg)
            seen_envs.add(cfg.env.id)
        check_user_code(cfg)  # callbacks= and env.task_fn import
        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]

    base = check(first)
    for i, vals in enumerate(options):
        for value in vals[1:]:
            check(first[:i] + [_with_value(task[i], value)] + first[i + 1 :])
    return base


def _values(ov: Override) -> list[str | None]:
    """The values to check for one override: None for a plain one (used as written)."""
    if not ov.is_sweep_override():
        return [None]
    if isinstance(ov.value(), IntervalSweep):
        sweep = ov.value()
        return [str(sweep.start), str(sweep.end)]
    return list(ov.sweep_string_iterator())


def _with_value(text: str, value: str | None) -> str:
    return text if value is None else f"{text.split('=', 1)[0]}={value}"


def _sweep_key(ov: Override) -> str:
    return str(ov.key_or_group)


def _key(text: str) -> str:
    return text.lstrip("+~").split("=", 1)[0]


def _default_name(base: dict[str, Any], sweep_keys: list[str], now: datetime | None) -> str:
    """`<algo>_<env>_sweep_<time>`: a folder per sweep, so its summary and Hydra's
    multirun.yaml are never another sweep's. A swept algo or env drops out of the name."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
    parts = []
    if not any(k in ("algo", "experiment") for k in sweep_keys):
        parts.append(base["algo"]["name"])
    if not any(k in ("env", "env.id", "experiment") for k in sweep_keys):
        parts.append(base["env"]["id"])
    return "_".join([*parts, "sweep", stamp])


def _require_optuna() -> None:
    try:
        import hydra_plugins.hydra_optuna_sweeper  # noqa: F401
    except ImportError:
        raise ConfigError(
            "hydra/sweeper",
            "optuna",
            "needs Hydra's Optuna sweeper, which is not installed: pip install 'rlrun[optuna]' "
            "(hydra-optuna-sweeper, which brings optuna 2.10).",
        ) from None
