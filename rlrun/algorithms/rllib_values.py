"""The builder parameters that need more than a rename (the `"@name"` entries of rllib_names):
each handler turns one RLlib value into {rlrun key: value}, or raises a ConfigError that names
the builder call. Python objects that rlrun's config holds as import paths (env classes, mapping
functions, callbacks, module classes) become "pkg.module:qualname" strings here."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rlrun.errors import ConfigError

if TYPE_CHECKING:
    from rlrun.algorithms.algorithm_config import AlgorithmConfig

Handler = Callable[["AlgorithmConfig", str, Any, str], dict[str, Any]]


def fail(where: str, message: str, allowed: str | None = None) -> ConfigError:
    return ConfigError(None, None, f"{where}: {message}", allowed=allowed)


def did_you_mean(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def import_path(obj: Any, where: str) -> str:
    """A class or function as "pkg.module:qualname", checked to import back to the same object
    (rlrun's config is YAML: the CLI, a checkpoint and Ray workers import it by that name)."""
    if isinstance(obj, str):
        return obj
    from rlrun.algorithms.registry import load_attr

    module, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not callable(obj) or not module or not qual:
        raise fail(
            where, f"expected a class or function, or its 'pkg.module:Name' path; got {obj!r}"
        )
    if "<lambda>" in qual:
        raise fail(
            where, "a lambda has no name to import it by, and rlrun keeps its config as YAML "
            "(checkpoints, the CLI and Ray workers import functions by name). Define it with "
            "`def` at the top level of a module and pass the function or 'pkg.module:fn'",
        )  # fmt: skip
    if "<locals>" in qual:
        raise fail(where, f"{qual} is defined inside a function: it cannot be imported by name; "
                   "define it at the top level of a module")  # fmt: skip
    path = f"{module}:{qual}"
    try:
        found = load_attr(path)
    except Exception:  # noqa: BLE001 - any failure means "not importable under that name"
        found = None
    if found is not obj:
        raise fail(where, f"{obj!r} cannot be imported back as '{path}'")
    return path


def plain(value: Any) -> Any:
    """Tuples and sets as lists, numpy scalars and arrays as Python values: what YAML holds."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    if hasattr(value, "tolist") and type(value).__module__ == "numpy":
        return value.tolist()
    return value


def _items(value: Any, where: str) -> dict[str, Any]:
    """A dict, or a dataclass such as RLlib's DefaultModelConfig (only the fields it changed)."""
    if value is None:
        return {}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            default = (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            )  # type: ignore[misc]
            if getattr(value, f.name) != default:
                out[f.name] = getattr(value, f.name)
        return out
    if not isinstance(value, Mapping):
        raise fail(where, f"expected a dict, got {type(value).__name__}")
    return dict(value)


def model_keys(value: Any, where: str) -> dict[str, Any]:
    """model / model_config -> {name under algo.model: value}, RLlib's spellings translated."""
    from rlrun.config.schema import ModelConfig
    from rlrun.rllib_yaml import mapping as M

    fields = [f.name for f in dataclasses.fields(ModelConfig)]
    out: dict[str, Any] = {}
    for key, v in _items(value, where).items():
        if key in M.MODEL:
            target = M.MODEL[key]
            out[target.key.removeprefix("algo.model.")] = (
                target.transform(v) if target.transform else v
            )
        elif key in fields:
            out[key] = v
        elif getattr(M, "MODEL_SAME_AS_RLRUN", {}).get(key, object()) == v:
            continue  # RLlib's value for what rlrun's networks always do
        else:
            why = M.WHY_NOT.get(f"model.{key}")
            hint = f" ({why})" if why else did_you_mean(key, fields)
            raise fail(where, f"'{key}' is not a model setting rlrun has.{hint} A custom "
                       "module's own settings go in {'custom': {...}}", allowed=", ".join(fields))  # fmt: skip
    return out


def model(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    return {f"algo.model.{k}": v for k, v in model_keys(value, where).items()}


def env(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    from rlrun.rllib_yaml.values import env_id

    cfg._groups["env"] = env_id(value) if isinstance(value, str) else import_path(value, where)
    cfg._values.pop("env.id", None)  # an id set before (from_dict) would win over the group
    cfg._origin["env"] = cfg._origin["env.id"] = where
    return {}


def train_batch_size(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    # RLlib's total over all learners: divided by learner.num_learners when the config is read.
    cfg._deferred["train_batch_size"] = (value, where)
    return {}


def kl_coeff(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    # RLlib's PPO adds the KL term by default, rlrun's only with use_kl_loss: a kl_coeff given
    # turns it on unless use_kl_loss is set too (as `rlrun train file=` does).
    cfg._deferred["kl_coeff"] = (True, where)
    return {"algo.kl_coeff": value}


def replay_buffer_config(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    from rlrun.rllib_yaml import mapping as M

    out: dict[str, Any] = {}
    for sub, v in _items(value, where).items():
        if sub == "type":
            kind = v if isinstance(v, str) else getattr(v, "__name__", str(v))
            kind = kind.rpartition(".")[2]
            if kind not in M.REPLAY_TYPES:
                raise fail(where, f"replay buffer type {kind!r}: rlrun's buffer is uniform or "
                           "prioritized", allowed=", ".join(M.REPLAY_TYPES))  # fmt: skip
            out["algo.replay.prioritized"] = M.REPLAY_TYPES[kind]
        elif sub in M.REPLAY:
            out[M.REPLAY[sub].key] = v
        elif M.REPLAY_SAME_AS_RLRUN.get(sub, object()) != v:
            raise fail(where, f"'{sub}' has no rlrun equivalent.{did_you_mean(sub, list(M.REPLAY))}",
                       allowed=", ".join(["type", *M.REPLAY]))  # fmt: skip
    return out


def optimization_config(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    from rlrun.rllib_yaml import mapping as M

    out = {}
    for sub, v in _items(value, where).items():
        if sub not in M.OPTIMIZATION:
            raise fail(where, f"'{sub}' has no rlrun equivalent", allowed=", ".join(M.OPTIMIZATION))
        out[M.OPTIMIZATION[sub].key] = v
    return out


def evaluation_config(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    from rlrun.rllib_yaml import mapping as M

    known = {**{k: t.key for k, t in M.EVALUATION_CONFIG.items()}}
    known["policy_mapping_fn"] = "evaluation.policy_mapping_fn"
    out = {}
    for sub, v in _items(value, where).items():
        if sub not in known:
            raise fail(where, f"'{sub}' cannot be overridden for evaluation in rlrun."
                       f"{did_you_mean(sub, list(known))}", allowed=", ".join(known))  # fmt: skip
        out[known[sub]] = v
    return out


def callbacks(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    classes = value if isinstance(value, list | tuple) else [] if value is None else [value]
    return {"callbacks": [import_path(c, where) for c in classes]}


def learner_class(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    """A Learner subclass (e.g. an extra loss term): algo.learner_class."""
    return {"algo.learner_class": None if value is None else import_path(value, where)}


def custom_evaluation_function(
    cfg: AlgorithmConfig, name: str, value: Any, where: str
) -> dict[str, Any]:
    """fn(algorithm, evaluator) -> metrics: evaluation.custom_evaluation_function."""
    path = None if value is None else import_path(value, where)
    return {"evaluation.custom_evaluation_function": path}


def connectors(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    key = {"env_to_module_connector": "env_to_module", "module_to_env_connector": "module_to_env"}
    section = f"connectors.{key.get(name, 'learner')}"
    if value is None:
        return {section: []}
    pieces = value if isinstance(value, list | tuple) else [value]
    out = []
    for piece in pieces:
        if callable(piece) and not isinstance(piece, type):
            raise fail(where, "RLlib's connector factories are Python functions; rlrun's "
                       "pieces are named in a list: ['frame_stack', {'prev_actions_prev_rewards': "
                       "{...}}, MyPiece or 'pkg.module:MyPiece'] (docs/connectors.md)")  # fmt: skip
        out.append(import_path(piece, where) if isinstance(piece, type) else piece)
    return {section: out}


def policies(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {"multi_agent.policies": None}
    if isinstance(value, str) or not isinstance(value, Mapping | list | tuple | set | frozenset):
        raise fail(where, "expected module ids (a list or set) or {id: spec}")
    new = (
        {str(k): _policy_settings(v, f"{where}[{k!r}]") for k, v in value.items()}
        if isinstance(value, Mapping)
        else {str(p): {} for p in (sorted(value) if isinstance(value, set | frozenset) else value)}
    )
    return {"multi_agent.policies": _merge_policies(cfg, new, replace=True)}


def _policy_settings(spec: Any, where: str) -> dict[str, Any]:
    """One entry of `policies`: None, rlrun's settings dict, an RLModuleSpec or a PolicySpec."""
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        out = dict(spec)
        if out.get("module_class") is not None:
            out["module_class"] = import_path(out["module_class"], where)
        return out
    if hasattr(spec, "module_class"):
        return module_spec_settings(spec, where)
    if hasattr(spec, "policy_class"):  # RLlib's PolicySpec: only its config carries over
        if any(
            getattr(spec, a, None) is not None
            for a in ("policy_class", "observation_space", "action_space")
        ):
            raise fail(where, "a PolicySpec's class and spaces have no rlrun equivalent (rlrun "
                       "reads spaces from the env); give {'config': {...}} or an RLModuleSpec")  # fmt: skip
        return {"config": dict(spec.config)} if spec.config else {}
    raise fail(where, f"expected None, a dict of module settings or an RLModuleSpec; got {spec!r}")


def module_spec_settings(spec: Any, where: str) -> dict[str, Any]:
    """An RLModuleSpec-like object -> rlrun's per-module settings (module_class, model, checkpoint)."""
    for attr in ("observation_space", "action_space", "catalog_class"):
        if getattr(spec, attr, None) is not None:
            raise fail(where, f"RLModuleSpec.{attr} has no rlrun equivalent: rlrun reads spaces "
                       "from the env and builds encoders with its own catalog")  # fmt: skip
    out: dict[str, Any] = {}
    if getattr(spec, "module_class", None) is not None:
        out["module_class"] = import_path(spec.module_class, where)
    model_cfg = model_keys(getattr(spec, "model_config", None), where)
    if model_cfg:
        out["model"] = model_cfg
    if getattr(spec, "load_state_path", None):
        out["checkpoint"] = str(spec.load_state_path)
    return out


def rl_module_spec(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    specs = getattr(value, "rl_module_specs", None)
    if isinstance(specs, Mapping):  # a MultiRLModuleSpec: one module per id
        new = {str(k): module_spec_settings(s, f"{where}[{k!r}]") for k, s in specs.items()}
        out: dict[str, Any] = {"multi_agent.policies": _merge_policies(cfg, new, replace=False)}
        multi = getattr(value, "multi_rl_module_class", None)
        if multi is not None and not getattr(multi, "__module__", "").startswith("ray."):
            out["multi_agent.multi_rl_module_class"] = import_path(multi, where)
        return out
    if not hasattr(value, "module_class") and not hasattr(value, "model_config"):
        raise fail(where, "expected an RLModuleSpec (module_class, model_config) or a "
                   "MultiRLModuleSpec (rl_module_specs)")  # fmt: skip
    settings = module_spec_settings(value, where)
    out = {f"algo.model.{k}": v for k, v in settings.pop("model", {}).items()}
    if "checkpoint" in settings:
        out["algo.model.load_state_path"] = settings["checkpoint"]
    if "module_class" in settings:
        out["algo.model.module_class"] = settings["module_class"]
    return out


def _merge_policies(cfg: AlgorithmConfig, new: dict[str, dict[str, Any]], replace: bool) -> Any:
    """policies and rl_module_spec both say things about modules, in either order: merge them.
    `replace`: `new` names the modules (policies=...); otherwise it adds settings to them."""
    old = cfg._values.get("multi_agent.policies")
    old = {p: {} for p in old} if isinstance(old, list) else dict(old or {})
    ids = list(new) if replace else list(dict.fromkeys([*old, *new]))
    return {mid: {**old.get(mid, {}), **new.get(mid, {})} for mid in ids}


def policies_to_train(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    if callable(value):
        raise fail(where, "a function choosing modules per batch has no rlrun equivalent; give "
                   "the ids of the modules that learn (the others are frozen)")  # fmt: skip
    return {"multi_agent.policies_to_train": None if value is None else plain(value)}


def framework(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    if value not in ("torch", None):
        raise fail(where, f"rlrun runs on torch only, not {value!r}", allowed="torch")
    return {}


def api_stack(cfg: AlgorithmConfig, name: str, value: Any, where: str) -> dict[str, Any]:
    if value is False:
        raise fail(where, "rlrun implements RLlib's new API stack only (RLModule, Learner, "
                   "EnvRunner, connectors)", allowed="True")  # fmt: skip
    return {}


HANDLERS: dict[str, Handler] = {
    "env": env,
    "model": model,
    "train_batch_size": train_batch_size,
    "kl_coeff": kl_coeff,
    "replay_buffer_config": replay_buffer_config,
    "optimization_config": optimization_config,
    "evaluation_config": evaluation_config,
    "callbacks": callbacks,
    "learner_class": learner_class,
    "custom_evaluation_function": custom_evaluation_function,
    "connectors": connectors,
    "policies": policies,
    "policies_to_train": policies_to_train,
    "rl_module_spec": rl_module_spec,
    "framework": framework,
    "api_stack": api_stack,
}
