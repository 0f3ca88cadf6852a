"""Multi-agent envs from the `env` section: loading the class or function `env.id` names,
telling PettingZoo AEC/Parallel envs and RLlib-style MultiAgentEnvs apart (never importing
pettingzoo to do so), and wrapping each in its adapter. The protocol the adapters follow is
rlrun.env.multi_agent.adapter's; the adapters are direct_adapter.py and pettingzoo_adapters.py.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

from rlrun.env.make_env import is_class_path
from rlrun.env.multi_agent.adapter import AgentID, MultiAgentEnvAdapter, accepts_keyword
from rlrun.env.multi_agent.direct_adapter import DirectAdapter
from rlrun.env.multi_agent.pettingzoo_adapters import AECAdapter, ParallelAdapter
from rlrun.errors import ConfigError

_PETTINGZOO_ENV_MODULE = "pettingzoo.utils.env"
_CONFIG_PARAMS = ("config", "env_config")


def _is_pettingzoo(obj: Any, name: str) -> bool:
    # By class name, so that telling env kinds apart never imports pettingzoo.
    return any(
        c.__module__ == _PETTINGZOO_ENV_MODULE and c.__name__ == name for c in type(obj).__mro__
    )


def _has_class_named(obj: Any, name: str) -> bool:
    return any(c.__name__ == name for c in type(obj).__mro__)


def is_multi_agent(obj: Any) -> bool:
    """Whether `obj` is a PettingZoo AEC/Parallel env or an RLlib-style MultiAgentEnv."""
    if _is_pettingzoo(obj, "AECEnv") or _is_pettingzoo(obj, "ParallelEnv"):
        return True
    if _has_class_named(obj, "MultiAgentEnv"):
        return True
    ids = getattr(obj, "possible_agents", None)
    if ids is None and callable(getattr(obj, "get_agent_ids", None)):
        ids = obj.get_agent_ids()
    if ids is None or not callable(getattr(obj, "step", None)):
        return False
    if not isinstance(obj, gym.Env):
        return True
    # A gym.Env that names agents is multi-agent only if its spaces are per agent.
    if getattr(obj, "observation_spaces", None) is not None:
        return True
    space = getattr(obj, "observation_space", None)
    return isinstance(space, gym.spaces.Dict) and bool(ids) and set(ids) <= set(space.spaces)


def load_env_object(env_cfg: Mapping[str, Any], render_mode: str | None = None) -> Any:
    """Call the class or function that `env_cfg["id"]` ("pkg.module:Name") names with
    `env_cfg["env_config"]`: as one `config` dict if it takes one (RLlib's convention), else as
    keyword arguments. `render_mode`, if given, goes in as a keyword (or into that dict)."""
    from rlrun.algorithms.registry import load_attr  # lazily, as make_env does

    env_id = env_cfg["id"]
    if not isinstance(env_id, str) or not is_class_path(env_id):
        raise ConfigError("env.id", env_id, "a multi-agent env is named 'pkg.module:Name'.")
    try:
        factory = load_attr(env_id)
    except (ImportError, AttributeError) as e:
        raise ConfigError("env.id", env_id, f"cannot be loaded: {e}.") from None
    kwargs = dict(env_cfg.get("env_config") or {})
    try:
        return _call_factory(factory, kwargs, render_mode)
    except TypeError as e:
        raise ConfigError("env.env_config", kwargs, f"was rejected by {env_id}: {e}") from None


def _call_factory(
    factory: Callable[..., Any], kwargs: dict[str, Any], render_mode: str | None
) -> Any:
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    extra = {} if render_mode is None else {"render_mode": render_mode}
    if not positional or positional[0].name not in _CONFIG_PARAMS:
        return factory(**kwargs, **extra)
    if extra and not accepts_keyword(factory, "render_mode"):
        return factory({**kwargs, **extra})
    return factory(kwargs, **extra)


def env_is_multi_agent(env_cfg: Mapping[str, Any]) -> bool:
    """Whether `env_cfg` names a multi-agent env. Gymnasium ids are answered without making
    anything; a class path is constructed once, checked and closed."""
    env_id = env_cfg.get("id")
    if not isinstance(env_id, str) or not is_class_path(env_id):
        return False
    obj = load_env_object(env_cfg)
    try:
        return is_multi_agent(obj)
    finally:
        close = getattr(obj, "close", None)
        if callable(close):
            close()


def make_multi_agent_env(
    env_cfg: Mapping[str, Any], render_mode: str | None = None
) -> MultiAgentEnvAdapter:
    """The env that `env_cfg` names, wrapped in the adapter for its kind."""
    obj = load_env_object(env_cfg, render_mode)
    max_steps = env_cfg.get("max_episode_steps")
    if _is_pettingzoo(obj, "AECEnv"):
        return AECAdapter(obj, max_steps)
    if _is_pettingzoo(obj, "ParallelEnv"):
        return ParallelAdapter(obj, max_steps)
    if is_multi_agent(obj):
        return DirectAdapter(obj, max_steps)
    close = getattr(obj, "close", None)
    if callable(close):
        close()
    raise ConfigError(
        "env.id",
        env_cfg["id"],
        f"makes a {type(obj).__name__}, which is not a multi-agent env (a PettingZoo AEC or "
        "Parallel env, or an RLlib-style MultiAgentEnv with `possible_agents`).",
    )


def agent_spaces(
    adapter: MultiAgentEnvAdapter,
) -> tuple[dict[AgentID, gym.Space], dict[AgentID, gym.Space]]:
    """(observation spaces, action spaces) of every possible agent."""
    obs_spaces = {aid: adapter.observation_space_for(aid) for aid in adapter.possible_agents}
    act_spaces = {aid: adapter.action_space_for(aid) for aid in adapter.possible_agents}
    return obs_spaces, act_spaces
