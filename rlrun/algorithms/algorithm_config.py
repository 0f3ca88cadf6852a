"""AlgorithmConfig: RLlib's config builder, with RLlib's method and parameter names, over
rlrun's config (docs/python_api.md).

The builder only collects rlrun keys (rllib_names says where each RLlib parameter goes,
builder_keys.py stores them with the call that set each); it checks nothing about values
itself. `build()` turns them into Hydra overrides and composes them exactly as `rlrun train`
does (rlrun.build: compose, validate, env check), so a bad value is the CLI's ConfigError naming
the rlrun key, plus the builder call that set it. `to_yaml()`
writes the same settings as an experiment file for `rlrun train experiment=...`.
Importing this module imports neither torch, Hydra nor Ray.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rlrun.algorithms import config_files as F
from rlrun.algorithms import rllib_names as N
from rlrun.algorithms.builder_keys import UNSET, BuilderKeys
from rlrun.algorithms.rllib_values import did_you_mean, fail
from rlrun.errors import ConfigError

if TYPE_CHECKING:
    from typing import Self

    from rlrun.algorithms.algorithm import Algorithm

# Algorithm name -> its builder class, loaded lazily ("module:attr").
BUILDERS: dict[str, str] = {
    "PPO": "rlrun.algorithms.ppo.ppo:PPOConfig",
    "DQN": "rlrun.algorithms.dqn.dqn:DQNConfig",
    "SAC": "rlrun.algorithms.sac.sac:SACConfig",
    "BC": "rlrun.algorithms.bc.bc:BCConfig",
    "MARWIL": "rlrun.algorithms.marwil.marwil:MARWILConfig",
    "IMPALA": "rlrun.algorithms.impala.impala:IMPALAConfig",
    "APPO": "rlrun.algorithms.appo.appo:APPOConfig",
    "CQL": "rlrun.algorithms.cql.cql:CQLConfig",
}


class AlgorithmConfig(BuilderKeys):
    """RLlib's `AlgorithmConfig`: each method takes RLlib's parameter names, returns self, and
    raises ConfigError for a parameter it does not know (RLlib would store it silently)."""

    algo_name: ClassVar[str | None] = None  # set by PPOConfig, DQNConfig, SACConfig
    own_training: ClassVar[dict[str, str]] = {}  # the algorithm's training() parameters

    def __init__(self, algo_class: Any = None) -> None:
        self.algo_class = algo_class
        name = self.algo_name or getattr(algo_class, "algo_name", None)
        if name is None and algo_class is not None:
            name = algo_class if isinstance(algo_class, str) else algo_class.__name__
        self._name: str | None = name.upper() if name else None
        self._groups: dict[str, str] = {}  # Hydra group choices (env, env_runner, learner)
        self._values: dict[str, Any] = {}  # rlrun dotted key -> value
        self._origin: dict[str, str] = {}  # rlrun key -> the builder call that set it
        self._deferred: dict[str, tuple[Any, str]] = {}  # values that depend on others

    # --- RLlib's builder methods ----------------------------------------------------------

    def environment(self, env: Any = UNSET, **kwargs: Any) -> Self:
        """env (a Gymnasium id, "pkg.module:Class" or a class), env_config, ..."""
        return self._apply("environment", kwargs if env is UNSET else {"env": env, **kwargs})

    def training(self, **kwargs: Any) -> Self:
        """lr, gamma, train_batch_size(_per_learner), minibatch_size, num_epochs, model, and
        the algorithm's own (PPO: lambda_, clip_param, ...); also rlrun's own algo.* names."""
        return self._apply("training", kwargs)

    def env_runners(self, **kwargs: Any) -> Self:
        return self._apply("env_runners", kwargs)

    def learners(self, **kwargs: Any) -> Self:
        return self._apply("learners", kwargs)

    def evaluation(self, **kwargs: Any) -> Self:
        return self._apply("evaluation", kwargs)

    def fault_tolerance(self, **kwargs: Any) -> Self:
        return self._apply("fault_tolerance", kwargs)

    def offline_data(self, **kwargs: Any) -> Self:
        """input_ (recorded episodes: a folder, files, minari:<id>), dataset_num_iters_per_learner,
        output (RLlib's names; docs/offline.md)."""
        return self._apply("offline_data", kwargs)

    def callbacks(self, callbacks_class: Any = UNSET, **kwargs: Any) -> Self:
        """A callbacks class (or a list of them, or "pkg.module:Class" paths)."""
        if callbacks_class is not UNSET:
            kwargs = {"callbacks_class": callbacks_class, **kwargs}
        return self._apply("callbacks", kwargs)

    def rl_module(self, **kwargs: Any) -> Self:
        return self._apply("rl_module", kwargs)

    def debugging(self, **kwargs: Any) -> Self:
        return self._apply("debugging", kwargs)

    def reporting(self, **kwargs: Any) -> Self:
        return self._apply("reporting", kwargs)

    def checkpointing(self, **kwargs: Any) -> Self:
        return self._apply("checkpointing", kwargs)

    def multi_agent(self, **kwargs: Any) -> Self:
        return self._apply("multi_agent", kwargs)

    def resources(self, **kwargs: Any) -> Self:
        return self._apply("resources", kwargs)

    def framework(self, framework: Any = UNSET, **kwargs: Any) -> Self:
        return self._apply(
            "framework", kwargs if framework is UNSET else {"framework": framework, **kwargs}
        )

    def api_stack(self, **kwargs: Any) -> Self:
        return self._apply("api_stack", kwargs)

    @staticmethod
    def overrides(**kwargs: Any) -> dict[str, Any]:
        """RLlib's `AlgorithmConfig.overrides(explore=False)`, for evaluation_config=..."""
        return dict(kwargs)

    def update_from_dict(self, config: Mapping[str, Any]) -> Self:
        """Keys by RLlib's names (lr, num_env_runners, ...) or rlrun's (nested sections as in
        `to_dict()`, or dotted: "stop.iterations"). The way to set rlrun keys that RLlib has
        no builder parameter for, e.g. {"env.max_episode_steps": 200, "stop.iterations": 5}."""
        from rlrun.config.keys import schema_keys

        keys = schema_keys()
        for name, value in config.items():
            where = f"{type(self).__name__}.update_from_dict({name!r})"
            if name in ("algo", *(k for k in keys if F.is_section(k, keys))) and isinstance(
                value, Mapping
            ):
                for key, v in F.flatten(name, value, keys):
                    self._set(key, v, where)
            elif name == "callbacks":
                self._apply("callbacks", {"callbacks_class": value})
            elif name in keys or name.startswith("algo."):
                self._set(name, value, where)
            elif (method := self._method_of(name)) is not None:
                self._apply(method, {name: value})
            else:
                raise fail(where, f"unknown key.{did_you_mean(name, [*keys, *self._all_names()])}")
        return self

    # --- building and converting -----------------------------------------------------------

    def build(self, env: Any = None, logger_creator: Any = None) -> Algorithm:
        """The Algorithm, composed and checked exactly as `rlrun train` does. (RLlib's old
        `env=` argument sets the env; rlrun's loggers are the runner's, so `logger_creator`
        is not used.)"""
        import rlrun

        if env is not None:
            self.environment(env)
        try:
            return rlrun.build(self.to_overrides())
        except ConfigError as e:
            raise self._explained(e) from None

    def build_algo(self, env: Any = None, logger_creator: Any = None) -> Algorithm:
        return self.build(env, logger_creator)

    def validate(self) -> None:
        """Compose and check the config without building anything."""
        from rlrun.config.validate import check_env_id, validate

        try:
            cfg = self._compose()
            validate(cfg)
            check_env_id(cfg)
        except ConfigError as e:
            raise self._explained(e) from None

    def rlrun_keys(self) -> dict[str, Any]:
        """What the builder calls set so far, as rlrun's dotted keys ("env" for the env group);
        everything else keeps rlrun's default."""
        return {**self._groups, **self._resolved()}

    def to_overrides(self, values: dict[str, Any] | None = None) -> list[str]:
        """The settings as `rlrun train` overrides (Hydra syntax), algorithm and env first."""
        from rlrun.rllib_yaml.emit import hydra_value

        out = [f"algo={self._require_algo().lower()}"]
        out += [f"{group}={hydra_value(option)}" for group, option in self._groups.items()]
        for key, value in (self._resolved() if values is None else values).items():
            if F.has_search_space(value):
                raise ConfigError(key, value, "is a Ray Tune search space: give the config to "
                                  "tune.Tuner(PPO, param_space=config), or set one value")  # fmt: skip
            try:
                out.append(f"{key}={hydra_value(value)}")
            except ConfigError as e:
                raise self._explained(ConfigError(key, value, e.detail)) from None
        return out

    def to_dict(self) -> dict[str, Any]:
        """The whole composed config as nested rlrun sections, Ray Tune search spaces kept in
        place (Tune resolves them; each trial's config is then composed and checked)."""
        from omegaconf import OmegaConf

        values = self._resolved()
        spaces = {k: v for k, v in values.items() if F.has_search_space(v)}
        try:
            cfg = self._compose({k: v for k, v in values.items() if k not in spaces})
        except ConfigError as e:
            raise self._explained(e) from None
        out: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
        for key, value in spaces.items():
            F.put(out, key, value)
        return out

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> AlgorithmConfig:
        """A builder holding `config` (a `to_dict()` result, or RLlib-named keys)."""
        algo = config.get("algo")
        name = algo.get("name") if isinstance(algo, Mapping) else None
        return (builder_class(name)() if name else cls()).update_from_dict(config)

    def to_yaml(self, path: str | Path | None = None) -> str:
        """An experiment file (as in conf/experiment/) that `rlrun train experiment=<name>`
        runs with this config; written to `path` when given, and returned."""
        values = self._resolved()
        text = F.experiment_yaml(
            type(self).__name__, self._require_algo(), self._groups, values, path
        )
        if path is not None:
            target = Path(path).expanduser()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        return text

    @classmethod
    def from_yaml(cls, path: str | Path) -> AlgorithmConfig:
        """A builder holding an experiment file's settings (the inverse of `to_yaml`)."""
        algo, groups, data = F.read_experiment_yaml(path)
        out = builder_class(algo or cls.algo_name)() if algo or cls.algo_name else cls()
        out._groups.update(groups)
        return out.update_from_dict(data)

    def copy(self, copy_frozen: bool | None = None) -> Self:
        return copy.deepcopy(self)

    def __getattr__(self, name: str) -> Any:
        """RLlib's attribute reads (`config.lr`, `config.num_env_runners`, `config.env`,
        `config.train_batch_size`): what a builder call set, else the value the run would use,
        which is rlrun's default for the algorithm (RLlib's own defaults apply only to RLlib YAML
        files, docs/rllib_yaml.md)."""
        if name.startswith("_"):  # copy/pickle probes, and attributes before __init__ ran
            raise AttributeError(name)
        cls = type(self).__name__
        if name == "env":
            return self._groups.get("env") or self._read("env.id")
        if name == "train_batch_size":
            learners = max(1, int(self._read("learner.num_learners") or 0))
            return int(self._read("algo.train_batch_size_per_learner")) * learners
        if name == "model":
            return self._read("algo.model")
        method = self._method_of(name)
        spec = self._table(method).get(name) if method else None
        if spec is None and method == "training":
            spec = self._own_algo_key(name)
        if spec is None:
            raise AttributeError(
                f"{cls} has no attribute '{name}'.{did_you_mean(name, self._all_names())}"
            )
        if spec == N.SAME:
            from rlrun.rllib_yaml import mapping as M

            spec = M.CONFIG[name].key if name in M.CONFIG else N.NONE
        if spec == N.NONE or spec.startswith("@"):
            raise AttributeError(
                f"{cls}.{name}: RLlib's '{name}' is not one rlrun setting that can be read back; "
                "config.to_dict() shows the whole config"
            )
        return self._read(spec)

    def _read(self, key: str) -> Any:
        """A key's value: set by a builder call, else from the composed config (its default)."""
        from omegaconf import OmegaConf

        values = self._resolved()
        if key in values:
            return values[key]
        overrides = tuple(self.to_overrides(values))
        if self.__dict__.get("_composed_for") != overrides:
            self.__dict__["_composed"] = self._compose(values)
            self.__dict__["_composed_for"] = overrides
        value = OmegaConf.select(self.__dict__["_composed"], key)
        return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.rlrun_keys()})"

    # --- composing -------------------------------------------------------------------------

    def _compose(self, values: dict[str, Any] | None = None) -> Any:
        from rlrun.config.compose import compose

        return compose(self.to_overrides(values))

    def _require_algo(self) -> str:
        if self._name is None:
            raise ConfigError(None, None, "AlgorithmConfig() names no algorithm: use PPOConfig(), "
                              "DQNConfig() or SACConfig(), or AlgorithmConfig(algo_class='PPO')")  # fmt: skip
        return self._name


def trainable(name: str) -> type:
    """RLlib's `PPO` name: a Ray Tune Trainable (rlrun.tune), or without Ray Tune, rlrun's
    Algorithm class itself."""
    try:
        from rlrun.tune import algorithm
    except ImportError:
        from rlrun.algorithms.registry import algorithm_class

        return algorithm_class(name)
    return algorithm(name)


def trainable_getattr(name: str) -> Callable[[str], Any]:
    """A module `__getattr__` that loads the Trainable `name` on first access, so that
    `from rlrun.algorithms.ppo import PPO` works as in RLlib without importing Ray before."""

    def __getattr__(attr: str) -> Any:
        if attr == name:
            return trainable(name)
        raise AttributeError(attr)

    return __getattr__


def builder_class(name: str) -> type[AlgorithmConfig]:
    """PPOConfig, DQNConfig or SACConfig by algorithm name."""
    if str(name).upper() not in BUILDERS:
        raise ConfigError("algo.name", name, "unknown algorithm", allowed=", ".join(BUILDERS))
    return _load(BUILDERS[str(name).upper()])


def _load(path: str) -> Any:
    from rlrun.algorithms.registry import load_attr

    return load_attr(path)
