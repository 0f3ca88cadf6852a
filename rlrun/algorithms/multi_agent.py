"""From the `multi_agent` section and the env's agents to a MultiRLModuleSpec, checked up front.

Everything here runs before any runner, learner or Ray actor starts, so each mistake is a
ConfigError (exit 2) naming the key: an unknown module id in `policies_to_train`, a mapping
function that raises or returns an unknown id, agents with different spaces mapped to one
module, a per-module setting the algorithm does not have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rlrun.config.sections import _merge
from rlrun.core.columns import DEFAULT_MODULE_ID
from rlrun.core.multi_rl_module import MultiRLModuleSpec
from rlrun.core.rl_module import RLModuleSpec
from rlrun.errors import ConfigError

# Per-module settings under multi_agent.policies.<id> (RLlib's PolicySpec / RLModuleSpec parts).
MODULE_KEYS = ("model", "module_class", "config", "checkpoint")
PROBES = 16  # episodes the mapping function is tried on per agent (it may pick at random)

# (observation space, action space, the module's algorithm settings) -> its spec
SpecBuilder = Callable[[Any, Any, dict[str, Any]], RLModuleSpec]


def policies_of(ma_cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`multi_agent.policies` as {module id: settings}."""
    policies = ma_cfg["policies"]
    if policies is None:
        return {DEFAULT_MODULE_ID: {}}
    if isinstance(policies, str):
        policies = [policies]
    if isinstance(policies, list | tuple):
        out = {str(p): {} for p in policies}
    elif isinstance(policies, dict):
        out = {str(k): dict(v or {}) for k, v in policies.items()}
    else:
        raise ConfigError(
            "multi_agent.policies", policies, "must be a list of module ids or a mapping",
            allowed="[id, ...] or {id: {model: ..., config: ...}}",
        )  # fmt: skip
    if not out:
        raise ConfigError("multi_agent.policies", policies, "names no module")
    for mid, settings in out.items():
        if not mid or "." in mid or "/" in mid:
            raise ConfigError(
                "multi_agent.policies", mid, "is not a usable module id: it names a folder and a "
                "tensor prefix, so it must be non-empty without '.' or '/'",
            )  # fmt: skip
        unknown = sorted(set(settings) - set(MODULE_KEYS))
        if unknown:
            raise ConfigError(
                f"multi_agent.policies.{mid}.{unknown[0]}", settings[unknown[0]],
                "is not a per-module setting", allowed=", ".join(MODULE_KEYS),
            )  # fmt: skip
    return out


def module_algo_config(
    algo_cfg: dict[str, Any], module_id: str, settings: dict[str, Any], ma_cfg: dict[str, Any]
) -> dict[str, Any]:
    """The algorithm settings of one module: `algo`, then RLlib's
    algorithm_config_overrides_per_module, then the module's own `config` and `model`. Each
    key must be one the algorithm has, and the result passes the `algo` section's checks;
    errors name the key where it was set."""
    from rlrun.config.validate import validate_algo_section

    overrides = (ma_cfg["algorithm_config_overrides_per_module"] or {}).get(module_id) or {}
    layers = [
        (f"multi_agent.algorithm_config_overrides_per_module.{module_id}", overrides),
        (f"multi_agent.policies.{module_id}.config", settings.get("config") or {}),
        (f"multi_agent.policies.{module_id}", {"model": settings.get("model") or {}}),
    ]
    if settings.get("module_class"):
        layers.append(
            (f"multi_agent.policies.{module_id}.module_class",
             {"model": {"module_class": settings["module_class"]}})
        )  # fmt: skip
    out = dict(algo_cfg)
    origin: dict[str, str] = {}  # top-level key -> where it was last set
    for where, over in layers:
        _check_keys(where, dict(over), algo_cfg, algo_cfg["name"])
        out = _merge(out, dict(over))
        origin.update(dict.fromkeys(over, where))
    if len(layers) > 3 or any(over for _, over in layers[:2]) or settings.get("model"):
        try:
            validate_algo_section(out)
        except ConfigError as e:
            path = (e.key or "algo.").removeprefix("algo.")
            where = origin.get(path.partition(".")[0], f"multi_agent.policies.{module_id}.config")
            raise ConfigError(f"{where}.{path}", e.value, e.detail, e.allowed) from None
    return out


def _check_keys(where: str, over: dict[str, Any], schema: dict[str, Any], algo: str) -> None:
    """Every key of `over` exists in `schema`, nested sections (model, replay) key by key."""
    for key, value in over.items():
        if key not in schema:
            raise ConfigError(
                f"{where}.{key}", value, f"is not a setting of {algo}",
                allowed=", ".join(sorted(schema)),
            )  # fmt: skip
        if isinstance(value, dict) and isinstance(schema[key], dict) and key != "custom":
            _check_keys(f"{where}.{key}", value, schema[key], algo)


def check_mapping(
    mapping: Callable[..., Any],
    agents: list[Any],
    module_ids: list[str],
    path: str | None = None,
    key: str = "multi_agent.policy_mapping_fn",
) -> dict[Any, set[str]]:
    """Call the mapping function as runners will; the modules each agent was mapped to."""
    from rlrun.env.multi_agent.env_runner import EpisodeInfo

    shown = path or _name(mapping)
    seen: dict[Any, set[str]] = {a: set() for a in agents}
    for k in range(PROBES):
        episode = EpisodeInfo(f"probe-{k}", env_index=0, worker_index=0)
        for agent in agents:
            try:
                mid = mapping(agent, episode)
            except Exception as e:  # noqa: BLE001 - the user's function: report, don't crash
                raise ConfigError(
                    key, shown, f"raised {type(e).__name__}: {e} for agent id {agent!r}"
                ) from None
            if mid not in module_ids:
                raise ConfigError(
                    key, shown, f"returned {mid!r} for agent id {agent!r}, which is not "
                    "a module in multi_agent.policies", allowed=", ".join(module_ids),
                )  # fmt: skip
            seen[agent].add(mid)
    return seen


def build_spec(
    cfg: dict[str, Any],
    obs_spaces: dict[Any, Any],
    act_spaces: dict[Any, Any],
    single_spec: SpecBuilder,
) -> MultiRLModuleSpec:
    """Every module's spec (spaces from the agents mapped to it), its settings, which learn."""
    from rlrun.env.multi_agent.mappings import load_mapping

    ma = cfg["multi_agent"]
    policies = policies_of(ma)
    ids = list(policies)
    if ma["policy_mapping_fn"] is None and len(ids) > 1:
        raise ConfigError(
            "multi_agent.policy_mapping_fn", None, f"is needed with several modules ({', '.join(ids)}): "
            "say which module each agent uses, e.g. my_pkg.mapping:agent_to_module",
        )  # fmt: skip
    mapping = load_mapping(ma["policy_mapping_fn"], ids)
    seen = check_mapping(mapping, list(obs_spaces), ids, ma["policy_mapping_fn"])
    eval_path = cfg["evaluation"]["policy_mapping_fn"]
    if eval_path:  # evaluation may pit a module against one training never uses (random)
        eval_mapping = load_mapping(eval_path, ids, "evaluation.policy_mapping_fn")
        probed = check_mapping(
            eval_mapping, list(obs_spaces), ids, eval_path, "evaluation.policy_mapping_fn"
        )
        for agent, mids in probed.items():
            seen[agent] |= mids
    for mid, over in (ma["algorithm_config_overrides_per_module"] or {}).items():
        if mid not in policies:
            raise ConfigError(
                f"multi_agent.algorithm_config_overrides_per_module.{mid}", over,
                "names a module that is not in multi_agent.policies", allowed=", ".join(ids),
            )  # fmt: skip
    trainable = ma["policies_to_train"]
    trainable = ids if trainable is None else [str(t) for t in trainable]
    for t in trainable:
        if t not in policies:
            raise ConfigError("multi_agent.policies_to_train", t, "is not a module in "
                              "multi_agent.policies", allowed=", ".join(ids))  # fmt: skip
    specs, algo_cfgs = {}, {}
    for mid in ids:
        algo_cfgs[mid] = module_algo_config(cfg["algo"], mid, policies[mid], ma)
        obs_space, act_space = _module_spaces(
            mid, seen, obs_spaces, act_spaces, ma["policy_mapping_fn"]
        )
        specs[mid] = single_spec(obs_space, act_space, algo_cfgs[mid])
    multi_cls = ma["multi_rl_module_class"]
    if multi_cls:
        _check_multi_module_class(multi_cls)
    return MultiRLModuleSpec(specs, algo_cfgs, [m for m in ids if m in trainable], multi_cls)


def _check_multi_module_class(path: str) -> None:
    from rlrun.callbacks.hooks import load_attr_path
    from rlrun.core.multi_rl_module import MultiRLModule

    key = "multi_agent.multi_rl_module_class"
    cls = load_attr_path(key, path, "pkg.module:Class, a subclass of rlrun.MultiRLModule")
    if not (isinstance(cls, type) and issubclass(cls, MultiRLModule)):
        raise ConfigError(
            key, path, "must name a subclass of rlrun.core.multi_rl_module:MultiRLModule"
        )


def _module_spaces(
    module_id: str,
    seen: dict[Any, set[str]],
    obs_spaces: dict[Any, Any],
    act_spaces: dict[Any, Any],
    mapping_path: str | None,
) -> tuple[Any, Any]:
    agents = [a for a, mids in seen.items() if module_id in mids]
    if not agents:
        raise ConfigError(
            "multi_agent.policies", module_id, f"no agent maps to this module (tried "
            f"{PROBES} episodes for agents {', '.join(map(repr, seen))}), so its spaces are "
            "unknown: map an agent to it or drop it",
        )  # fmt: skip
    first = agents[0]
    for a in agents[1:]:
        for what, spaces in (("observation", obs_spaces), ("action", act_spaces)):
            if spaces[a] != spaces[first]:
                raise ConfigError(
                    "multi_agent.policy_mapping_fn", mapping_path, f"maps agents with "
                    f"different {what} spaces to module {module_id}: agent {first!r} has "
                    f"{spaces[first]}, agent {a!r} has {spaces[a]}. Give them separate modules "
                    "(multi_agent.policies and a mapping function)",
                )  # fmt: skip
    return obs_spaces[first], act_spaces[first]


def _name(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', fn)}"
