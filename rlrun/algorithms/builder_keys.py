"""What an AlgorithmConfig builder has collected, and how RLlib's parameters become rlrun keys.

Each builder call's parameters are looked up in rllib_names' tables (or the algorithm's own
`training()` names) and stored as rlrun's dotted keys, with the call that set each one, so that a
ConfigError about a key can name the builder call behind it. Values are not checked here: the
composed config is (rlrun.algorithms.algorithm_config.AlgorithmConfig.build).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rlrun.algorithms import config_files as F
from rlrun.algorithms import rllib_names as N
from rlrun.algorithms.rllib_values import HANDLERS, did_you_mean, fail, import_path, plain
from rlrun.errors import ConfigError

if TYPE_CHECKING:
    from typing import Self

UNSET: Any = object()


class BuilderKeys:
    """AlgorithmConfig's store of rlrun keys and RLlib's parameter tables (a mixin: the state is
    set by AlgorithmConfig.__init__)."""

    own_training: ClassVar[dict[str, str]]
    _name: str | None  # the algorithm, upper case
    _groups: dict[str, str]  # Hydra group choices (env, env_runner, learner)
    _values: dict[str, Any]  # rlrun dotted key -> value
    _origin: dict[str, str]  # rlrun key -> the builder call that set it
    _deferred: dict[str, tuple[Any, str]]  # values that depend on others

    def _apply(self, method: str, params: dict[str, Any]) -> Self:
        table = self._table(method)
        for name, value in params.items():
            where = f"{type(self).__name__}.{method}({name}={_short(value)})"
            spec = table.get(name)
            if spec is None and method == "training":
                spec = self._own_algo_key(name)
            if spec is None:
                raise self._unknown(method, name, table)
            for key, v in self._resolve(spec, name, value, where).items():
                self._set(key, v, where)
        return self

    def _table(self, method: str) -> dict[str, str]:
        if method == "training":
            return {**N.TRAINING, **self.own_training}
        return N.METHODS[method]

    def _own_algo_key(self, name: str) -> str | None:
        """rlrun's own algo.* names in training() (normalize_advantages, autotune_alpha, ...)."""
        from rlrun.config.keys import algorithm_keys, schema_keys

        key = f"algo.{name}"
        if self._name is None or key not in algorithm_keys(self._name) or name == "name":
            return None
        return None if F.is_section(key, schema_keys()) else key

    def _resolve(self, spec: str, name: str, value: Any, where: str) -> dict[str, Any]:
        from rlrun.rllib_yaml import mapping as M

        if spec == N.SAME and name not in M.CONFIG:
            spec = N.NONE  # a table entry that this version of the RLlib mapping lacks
        if spec == N.NONE:
            if value is None or name in M.NO_EFFECT or M.SAME_AS_RLRUN.get(name, UNSET) == value:
                return {}
            why = N.REASONS.get(name) or M.WHY_NOT.get(name, "")
            if name.startswith("on_"):
                why = N.REASONS["on_"]
            raise fail(
                where, f"RLlib's '{name}' has no rlrun equivalent{': ' if why else ''}{why}."
            )
        if spec.startswith("@"):
            return HANDLERS[spec[1:]](self, name, value, where)
        if spec != N.SAME:
            return {spec: value}
        target = M.CONFIG[name]
        if M.UNUSABLE.get(name, lambda v: False)(value):
            raise fail(where, f"{M.WHY_NOT.get(name, 'rlrun cannot use this value')}.")
        return {target.key: target.transform(value) if target.transform else value}

    def _set(self, key: str, value: Any, where: str) -> None:
        value = plain(value)
        if key in N.PATH_KEYS and value is not None:
            value = import_path(value, where)
        if key == "algo.name":
            return  # the builder's class names the algorithm
        if key.startswith("algo.") and self._name is not None:
            from rlrun.config.keys import algorithm_keys, schema_keys

            if key in schema_keys() and key not in algorithm_keys(self._name):
                raise fail(where, f"'{key}' is not a {self._name} setting")
        self._values.pop(key, None)  # re-inserted last: a later call wins, as in RLlib
        self._values[key] = value
        self._origin[key] = where

    def _resolved(self) -> dict[str, Any]:
        """The values, with those that depend on others filled in."""
        values = dict(self._values)
        if (
            "train_batch_size" in self._deferred
            and "algo.train_batch_size_per_learner" not in values
        ):
            total, where = self._deferred["train_batch_size"]
            learners = values.get("learner.num_learners") or 0
            if (
                isinstance(total, int | float)
                and not isinstance(total, bool)
                and isinstance(learners, int)
            ):
                total = max(1, int(total) // max(1, learners))
            values["algo.train_batch_size_per_learner"] = total
            self._origin.setdefault("algo.train_batch_size_per_learner", where)
        if "kl_coeff" in self._deferred and "algo.use_kl_loss" not in values:
            values["algo.use_kl_loss"] = True
        return values

    def _explained(self, e: ConfigError) -> ConfigError:
        """The CLI's error, plus the builder call that set the key."""
        if e.key is None:
            return e
        key = e.key.lstrip("+")
        setters = [k for k in self._origin if key == k or key.startswith((f"{k}.", f"{k}["))]
        if not setters:
            return e
        origin = self._origin[max(setters, key=len)]
        return ConfigError(e.key, e.value, f"{e.detail} (set by {origin})", allowed=e.allowed)

    def _all_names(self) -> list[str]:
        return sorted({n for t in N.METHODS.values() for n in t} | set(self.own_training))

    def _method_of(self, name: str) -> str | None:
        if name in self.own_training or self._own_algo_key(name):
            return "training"
        return next((m for m, table in N.METHODS.items() if name in table), None)

    def _unknown(self, method: str, name: str, table: dict[str, str]) -> ConfigError:
        cls = type(self).__name__
        elsewhere = [f".{m}" for m, t in N.METHODS.items() if m != method and name in t]
        from rlrun.algorithms.algorithm_config import BUILDERS, builder_class

        for algo in BUILDERS:
            if (
                method == "training"
                and algo != self._name
                and name in builder_class(algo).own_training
            ):
                elsewhere.append(f"{algo}Config.training")
        hint = (
            f" It is a parameter of {elsewhere[0]}()."
            if elsewhere
            else did_you_mean(name, list(table))
        )
        return ConfigError(None, None, f"{cls}.{method}({name}=...): unknown parameter '{name}'.{hint}",
                           allowed=", ".join(sorted(table)))  # fmt: skip


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
