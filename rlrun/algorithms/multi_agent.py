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
MODULE_KEYS = ("model", "module_class", "config", "checkpoint", "observation_space", "action_space")
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
    algorithm_config_overrides_per_module, then the module's own `config` and `model`."""
    out = dict(algo_cfg)
    layers = [
        ("multi_agent.algorithm_config_overrides_per_module." + module_id,
         (ma_cfg["algorithm_config_overrides_per_module"] or {}).get(module_id) or {}),
        (f"multi_agent.policies.{module_id}.config", settings.get("config") or {}),
        (f"multi_agent.policies.{module_id}.model", {"model": settings.get("model") or {}}),
    ]  # fmt: skip
    if settings.get("module_class"):
        layers.append(
            (f"multi_agent.policies.{module_id}.module_class",
             {"model": {"module_class": settings["module_class"]}})
        )  # fmt: skip
    for where, over in layers:
        for key in over:
            if key not in algo_cfg:
                raise ConfigError(
                    f"{where}.{key}", over[key], f"is not a setting of {algo_cfg['name']}",
                    allowed=", ".join(sorted(algo_cfg)),
                )  # fmt: skip
        out = _merge(out, dict(over))
    return out


def check_mapping(
    mapping: Callable[..., Any], agents: list[Any], module_ids: list[str], path: str | None = None
) -> dict[Any, set[str]]:
    """Call the mapping function as runners will; the modules each agent was mapped to."""
    from rlrun.env.multi_agent.env_runner import EpisodeInfo

    key = "multi_agent.policy_mapping_fn"
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
    from rlrun.env.multi_agent.env_runner import _load_mapping

    ma = cfg["multi_agent"]
    policies = policies_of(ma)
    ids = list(policies)
    if ma["policy_mapping_fn"] is None and len(ids) > 1:
        raise ConfigError(
            "multi_agent.policy_mapping_fn", None, f"is needed with several modules ({', '.join(ids)}): "
            "say which module each agent uses, e.g. my_pkg.mapping:agent_to_module",
        )  # fmt: skip
    try:
        mapping = _load_mapping(ma["policy_mapping_fn"], ids)
    except (ImportError, AttributeError, ValueError) as e:
        raise ConfigError("multi_agent.policy_mapping_fn", ma["policy_mapping_fn"],
                          f"cannot be imported ({e})") from None  # fmt: skip
    seen = check_mapping(mapping, list(obs_spaces), ids, ma["policy_mapping_fn"])
    trainable = ma["policies_to_train"]
    trainable = ids if trainable is None else [str(t) for t in trainable]
    for t in trainable:
        if t not in policies:
            raise ConfigError("multi_agent.policies_to_train", t, "is not a module in "
                              "multi_agent.policies", allowed=", ".join(ids))  # fmt: skip
    specs, algo_cfgs = {}, {}
    for mid in ids:
        algo_cfgs[mid] = module_algo_config(cfg["algo"], mid, policies[mid], ma)
        obs_space, act_space = _module_spaces(mid, seen, obs_spaces, act_spaces)
        specs[mid] = single_spec(obs_space, act_space, algo_cfgs[mid])
    return MultiRLModuleSpec(specs, algo_cfgs, [m for m in ids if m in trainable])


def _module_spaces(
    module_id: str,
    seen: dict[Any, set[str]],
    obs_spaces: dict[Any, Any],
    act_spaces: dict[Any, Any],
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
                    "multi_agent.policy_mapping_fn", module_id, f"maps agents with different "
                    f"{what} spaces to one module: agent {first!r} has {spaces[first]}, agent "
                    f"{a!r} has {spaces[a]}. Give them separate modules",
                )  # fmt: skip
    return obs_spaces[first], act_spaces[first]


def _name(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', fn)}"
