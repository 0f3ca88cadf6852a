"""One RLlib experiment -> an `Experiment`: rlrun keys and values, plus what could not be carried.

Every key of the file ends up in exactly one place: a value under an rlrun key (`values`, with
the RLlib key it came from in `sources`), `ignored` (no rlrun home; the reason when known), a
note (superseded as RLlib would supersede it, or a framework that rlrun replaces by torch), or
the short NO_EFFECT list of RLlib code-path switches. Nothing is dropped silently. What the file
leaves out then takes RLlib's default (`defaults`, kept apart in `Experiment.defaults`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from rlrun.algorithms.registry import ALGORITHMS, config_class
from rlrun.rllib_yaml import defaults as D
from rlrun.rllib_yaml import mapping as M
from rlrun.rllib_yaml.parse import Grid, file_error, load_experiments, marked_old_stack, where
from rlrun.rllib_yaml.sections import HANDLERS, models
from rlrun.rllib_yaml.values import (
    as_schema_type,
    each,
    env_id,
    no_nested_grid,
    show,
    translate_metric,
)

DEFAULT_METRIC = "env_runners/episode_return_mean"
TF_FRAMEWORKS = ("tf", "tf2", "tfe", "jax")
_FREE_KEY = re.compile(r"[A-Za-z0-9_][\w\-]*")
# RLlib's example envs moved from ray.rllib.examples.env to ray.rllib.examples.envs.classes.
_OLD_EXAMPLE_ENVS = "ray.rllib.examples.env."
_NEW_EXAMPLE_ENVS = "ray.rllib.examples.envs.classes."
# Gym's Atari ids from before the ALE/ namespace, which ale_py registers on import. RLlib
# wrapped the games without frame skipping in DeepMind's preprocessing (rlrun does so on its
# own only for ALE/ ids).
_ATARI_V4 = re.compile(r"^[A-Z]\w*(NoFrameskip|Deterministic)-v[04]$")
_ATARI_NOFRAMESKIP = re.compile(r"^(ale_py:)?[A-Z]\w*NoFrameskip-v[04]$")
# RLlib's (old-stack-only) names for DQN with other defaults: the run is rlrun's DQN with those
# defaults (defaults.PRESETS), as `algo=simple_q` / `algo=apex` are on the command line.
RLLIB_PRESETS = {"SIMPLEQ": "SimpleQ", "APEX": "APEX", "APEX_DQN": "APEX", "APEXDQN": "APEX"}


@dataclass
class Experiment:
    """An RLlib experiment in rlrun's terms."""

    name: str
    file: str
    algo: str  # registry name: PPO, DQN, SAC
    env: str  # a Gymnasium id or pkg.module:Class (the first, when `env` is a grid_search)
    # RLlib's SimpleQ or APEX: rlrun's DQN with that algorithm's defaults (old stack only).
    preset: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # rlrun key -> value (or Grid)
    sources: dict[str, str] = field(default_factory=dict)  # rlrun key -> RLlib key
    ignored: dict[str, str] = field(default_factory=dict)  # RLlib key -> why ("" if unknown)
    notes: list[str] = field(default_factory=list)
    envs: tuple[str, ...] = ()  # every env of a grid_search over `env` (one trial each)
    stack: str = D.NEW  # the RLlib API stack whose defaults fill what the file leaves out
    stack_reason: str = ""
    # RLlib's defaults for the keys the file leaves out (rlrun key -> value), and the RLlib
    # setting each one is (defaults.py); the file's own values are in `values`.
    defaults: dict[str, Any] = field(default_factory=dict)
    default_sources: dict[str, str] = field(default_factory=dict)

    @property
    def place(self) -> str:
        return where(self.file, self.name)

    @property
    def sweeps(self) -> dict[str, Grid]:
        return {k: v for k, v in self.values.items() if isinstance(v, Grid) and len(v.values) > 1}

    @property
    def is_sweep(self) -> bool:
        return bool(self.sweeps) or len(self.envs) > 1

    @property
    def settings(self) -> dict[str, Any]:
        """Every rlrun key this experiment sets: RLlib's defaults, then the file's values."""
        return {**{k: v for k, v in self.defaults.items() if k not in self.values}, **self.values}


def convert_file(path: str) -> list[Experiment]:
    """Every experiment of an RLlib YAML file, in file order."""
    old = marked_old_stack(path)
    return [
        convert_experiment(name, spec, path, old) for name, spec in load_experiments(path).items()
    ]


def convert_experiment(
    name: str, spec: dict[str, Any], file: str, marked_old: bool = False
) -> Experiment:
    return Converter(name, spec, file, marked_old).run()


class Converter:
    """Reads one experiment's spec into an Experiment; `set`/`ignore`/`note` are its only outputs."""

    def __init__(
        self, name: str, spec: dict[str, Any], file: str, marked_old: bool = False
    ) -> None:
        self.spec = dict(spec)
        self.place = where(file, name)
        self.marked_old = marked_old
        self.normalize_actions: bool | None = None  # the file's, for PPO (defaults.py)
        run = self.spec.pop("run")
        preset = RLLIB_PRESETS.get(run.upper(), "") if isinstance(run, str) else ""
        algo = "DQN" if preset else self._algo(run)
        self.exp = Experiment(name=name, file=file, algo=algo, env="", preset=preset)
        self.algo_keys = _algo_keys(algo)

    def run(self) -> Experiment:
        config = self.spec.pop("config", None)
        if config is None:
            config = {}
        if not isinstance(config, dict):
            raise file_error(self.place, "config", config, "must be a mapping of RLlib settings.")
        config = dict(config)
        self.exp.stack, self.exp.stack_reason = D.detect_stack(
            config, self.spec.get("stop"), self.marked_old
        )
        if self.exp.preset:
            self.exp.stack, self.exp.stack_reason = D.OLD, f"{self.exp.preset} is old-stack only"
            self.note(
                f"run: {self.exp.preset} -> algo=dqn with RLlib's {self.exp.preset} defaults "
                f"({D.PRESET_SUMMARY[self.exp.preset]})."
            )
        elif self.exp.stack == D.OLD and self.exp.algo in ("DQN", "SAC"):
            # Only DQN's and SAC's defaults differ between the stacks.
            self.note(
                f"read as an old-API-stack file ({self.exp.stack_reason}): the settings it "
                "leaves out take the old stack's defaults."
            )
        self._env(self.spec.pop("env", None), config.pop("env", None))
        self._framework(config.pop("framework", "torch"))
        self._stop(self.spec.pop("stop", None))
        self._experiment_keys(self.spec)
        self._config(config)
        D.apply(self)
        return self.exp

    # --- the experiment's own keys ---------------------------------------------------------------

    def _algo(self, run: Any) -> str:
        allowed = ", ".join([*ALGORITHMS, "SimpleQ", "APEX"])
        if not isinstance(run, str) or run.upper() not in ALGORITHMS:
            raise file_error(
                self.place, "run", show(run), "rlrun has no such algorithm.", allowed=allowed
            )
        return run.upper()

    def _env(self, top: Any, in_config: Any) -> None:
        if top is not None and in_config is not None and top != in_config:
            raise file_error(
                self.place, "env", show(top), f"differs from config.env ({show(in_config)}); "
                "give one env.",
            )  # fmt: skip
        env = top if top is not None else in_config
        # A grid_search over envs: one trial per env, as Tune runs it.
        envs = env.values if isinstance(env, Grid) else (env,)
        ids = []
        for one in envs:
            if not isinstance(one, str) or not one.strip():
                raise file_error(
                    self.place, "env", show(env), "needs an environment.",
                    allowed="a Gymnasium id (CartPole-v1) or a class path (pkg.module.Class)",
                )  # fmt: skip
            ids.append(self._env_id(one.strip()))
        self.exp.envs = tuple(dict.fromkeys(ids))
        self.exp.env = self.exp.envs[0]
        if all(_ATARI_NOFRAMESKIP.match(i) for i in self.exp.envs):
            # RLlib wraps Atari games in DeepMind's preprocessing; rlrun does on its own only for
            # ALE/ ids, so a NoFrameskip-v4 id asks for it.
            self.set("env.atari_preprocessing", True, "env")

    def _env_id(self, value: str) -> str:
        if _ATARI_V4.match(value):
            return f"ale_py:{value}"
        if value.startswith(_OLD_EXAMPLE_ENVS):
            moved = _NEW_EXAMPLE_ENVS + value.removeprefix(_OLD_EXAMPLE_ENVS)
            self.note(f"env: {value} -> {moved} (RLlib moved its example envs there).")
            value = moved
        return env_id(value)

    def _framework(self, value: Any) -> None:
        values = value.values if isinstance(value, Grid) else (value,)
        for v in values:
            if v not in ("torch", *TF_FRAMEWORKS):
                raise file_error(
                    self.place, "framework", v, "unknown framework.", allowed="torch, tf, tf2, jax"
                )
        if isinstance(value, Grid) and len(values) > 1:
            self.note(f"framework: a grid_search over {list(values)} is one run here, on torch.")
        elif values[0] != "torch":
            self.note(f"framework: {values[0]} -> rlrun runs on torch.")

    def _stop(self, stop: Any) -> None:
        if stop is None:
            return
        if not isinstance(stop, dict):
            raise file_error(self.place, "stop", stop, "must be a mapping of result key: value.")
        found: dict[str, list[Any]] = {"timesteps": [], "iterations": [], "time_s": []}
        metrics: list[tuple[str, Any]] = []
        for key, value in stop.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise file_error(self.place, f"stop.{key}", show(value), "must be a number.")
            if key in M.STOP_TIMESTEPS:
                found["timesteps"].append(self.integral(f"stop.{key}", value))
            elif key in M.STOP_ITERATIONS:
                found["iterations"].append(self.integral(f"stop.{key}", value))
            elif key in M.STOP_TIME:
                found["time_s"].append(value)
            else:
                metrics.append((key, value))
        # Tune stops at the first criterion met, so of two budgets of one kind the smaller counts.
        for kind, values in found.items():
            if values:
                self.set(f"stop.{kind}", min(values), "stop")
        if not metrics:
            # The file's budgets replace rlrun's default stop at the env's reward threshold.
            if stop:
                self.set("stop.reward", None, "stop")
            return
        (key, value), rest = metrics[0], metrics[1:]
        self.set("stop.reward", value, f"stop.{key}")
        metric = translate_metric(key)
        if metric != DEFAULT_METRIC:
            self.set("stop.metric", metric, f"stop.{key}")
        for other, _ in rest:
            self.ignore(f"stop.{other}", f"rlrun stops on one metric; {key} is used")

    def _experiment_keys(self, spec: dict[str, Any]) -> None:
        for key, value in spec.items():
            if key in M.EXPERIMENT:
                self.map(M.EXPERIMENT[key], value, key)
            elif key == "checkpoint_score_attr":
                self._score_attribute(value, key, order=None)
            elif key == "checkpoint_config":
                section = self.section(key, value)
                for sub, v in section.items():
                    if sub in M.CHECKPOINT_CONFIG:
                        self.map(M.CHECKPOINT_CONFIG[sub], v, f"{key}.{sub}")
                    elif sub == "checkpoint_score_attribute":
                        self._score_attribute(v, f"{key}.{sub}", order="max")
                    else:
                        self.ignore(f"{key}.{sub}")
            elif key == "num_samples" and value == 1:
                continue  # Tune's repeat count at its default: one trial
            else:
                self.ignore(key)

    def _score_attribute(self, value: Any, source: str, order: str | None) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not value:
            raise file_error(self.place, source, value, "must be a result key.")
        if order is None and value.startswith(("min-", "max-")):
            # Tune's old form: "min-<metric>" ranks lowest first.
            order, value = value[:3], value[4:]
        self.set("checkpoint.score_attribute", translate_metric(value), source)
        if order == "min":
            self.set("checkpoint.score_order", "min", source)

    # --- config ----------------------------------------------------------------------------------

    def _config(self, config: dict[str, Any]) -> None:
        for weak, strong in M.SUPERSEDED_BY.items():
            if weak in config and strong in config:
                self.note(f"{weak} is superseded by {strong}, as in RLlib.")
                del config[weak]
        # RLlib's later names for its GPU keys (accelerators).
        for new, old in (("_fake_accs", "_fake_gpus"), ("num_accs", "num_gpus")):
            if new in config and old not in config:
                config[old] = config.pop(new)
        if "_fake_gpus" in config:
            # Before the GPU keys, which it turns off.
            config = {"_fake_gpus": config.pop("_fake_gpus"), **config}
        if self.exp.algo in ("SAC", "CQL"):
            for key in ("lr", "lr_schedule"):
                if key in config:
                    del config[key]
                    self.note(
                        f"{key}: unused by {self.exp.algo} (actor_lr, critic_lr, alpha_lr), "
                        "as in RLlib."
                    )
        models(self, {s: config.pop(s) for s in M.MODEL_SECTIONS if s in config})
        for key, value in config.items():
            if key in M.NO_EFFECT:
                continue
            if key in M.SAME_AS_RLRUN:
                if value != M.SAME_AS_RLRUN[key]:
                    self.ignore(key)
                continue
            if key in M.UNUSABLE and not isinstance(value, Grid) and M.UNUSABLE[key](value):
                self.ignore(key)
                continue
            special = HANDLERS.get(key)
            if special is not None:
                special(self, value, config)
            elif key in M.CONFIG:
                self.map(M.CONFIG[key], value, key)
            else:
                self.ignore(key)

    # --- helpers ---------------------------------------------------------------------------------

    def section(self, name: str, value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise file_error(self.place, name, value, "must be a mapping.")
        return value

    def free_form(self, value: Any, source: str, target: str) -> None:
        """A free-form mapping (env_config): one rlrun key per first-level entry, so a
        grid_search over one entry becomes a sweep over that entry alone."""
        for key, v in self.section(source, value).items():
            if not _FREE_KEY.fullmatch(str(key)):
                raise file_error(
                    self.place, f"{source}.{key}", v, "this key cannot be an rlrun config key.",
                    allowed="letters, digits, '_' and '-'",
                )  # fmt: skip
            self.set(f"{target}.{key}", v, f"{source}.{key}")

    def integral(self, source: str, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise file_error(self.place, source, value, "must be an integer.")
        return value

    def map(self, target: M.Target, value: Any, source: str) -> None:
        if target.transform is not None:
            value = each(value, target.transform)
        self.set(target.key, value, source)

    def default(self, key: str, value: Any, rllib: str, replace: bool = False) -> None:
        """RLlib's default for a key the file leaves out; with `replace`, also a value that
        follows from the file's own (a fragment or replay ratio worked out as RLlib would)."""
        if key.startswith("algo.") and key.split(".")[1] not in self.algo_keys:
            return
        if key in self.exp.values:
            if replace:
                self.exp.values[key] = value
            return
        self.exp.defaults[key] = (
            as_schema_type(key, value) if not isinstance(value, Grid) else value
        )
        self.exp.default_sources[key] = rllib

    def value(self, key: str, fallback: Any = None) -> Any:
        """The file's value for an rlrun key, else RLlib's default, else `fallback`."""
        return self.exp.values.get(key, self.exp.defaults.get(key, fallback))

    def set(self, key: str, value: Any, source: str) -> None:
        if key.startswith("algo.") and key.split(".")[1] not in self.algo_keys:
            self.ignore(source, f"rlrun's {self.exp.algo} has no {key.removeprefix('algo.')}")
            return
        if isinstance(value, Grid) and len(value.values) == 1:
            value = value.values[0]
        no_nested_grid(value, self.place, source)
        value = each(value, lambda v: as_schema_type(key, v))
        if key in self.exp.values and self.exp.values[key] != value:
            raise file_error(
                self.place, source, show(value),
                f"sets {key}, as {self.exp.sources[key]} does, to another value "
                f"({show(self.exp.values[key])}); keep one of the two.",
            )  # fmt: skip
        self.exp.values[key] = value
        self.exp.sources.setdefault(key, source)

    def ignore(self, key: str, why: str | None = None) -> None:
        self.exp.ignored[key] = M.WHY_NOT.get(key, "") if why is None else why

    def note(self, text: str) -> None:
        self.exp.notes.append(text)


def _algo_keys(algo: str) -> set[str]:
    return {f.name for f in dataclasses.fields(config_class(algo))}
