"""Multi-agent environments behind one protocol: RLlib's MultiAgentEnv, as the runner sees it.

`DirectAdapter` wraps RLlib-style envs (subclasses of Ray's `MultiAgentEnv` or duck-typed ones),
`ParallelAdapter` PettingZoo ParallelEnvs and `AECAdapter` PettingZoo's turn-based AECEnvs.

Semantics the runner relies on:

* `reset(seed) -> (obs, infos)` and `step(actions) -> (obs, rewards, terminateds, truncateds,
  infos)` use dicts keyed by agent id, kept as the env gives them (str or int).
* After reset/step, the keys of `obs` are the agents that must act on the next `step` call, plus
  the agents whose episode ended on this step (they carry their final observation).
* `terminateds` and `truncateds` always hold "__all__" (bool). An agent mapped to True in either
  is done: it must not act again until the next reset.
* `rewards` may hold agents that did not act on this step (the loser of a turn-based game) and
  may omit agents with no reward.
* Once "__all__" is True in either dict the episode is over and the runner calls reset next.
  Every agent still alive is then in `obs` with a True flag of its own: adapters flag the ones
  an env leaves out, with their latest observation, so one step closes every agent's episode.
* `max_episode_steps` counts `step` calls (for AEC envs: moves). When it is reached, every live
  agent is truncated with its current observation and `truncateds["__all__"]` is True.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import gymnasium as gym

from rlrun.env.make_env import is_class_path
from rlrun.errors import ConfigError

AgentID = Any  # hashable: str or int, as the env names its agents
MultiAgentDict = dict[AgentID, Any]
StepResult = tuple[MultiAgentDict, MultiAgentDict, MultiAgentDict, MultiAgentDict, MultiAgentDict]
ALL = "__all__"
_PETTINGZOO_ENV_MODULE = "pettingzoo.utils.env"
_CONFIG_PARAMS = ("config", "env_config")


def _is_pettingzoo(obj: Any, name: str) -> bool:
    # By class name, so that telling env kinds apart never imports pettingzoo.
    return any(
        c.__module__ == _PETTINGZOO_ENV_MODULE and c.__name__ == name for c in type(obj).__mro__
    )


def _has_class_named(obj: Any, name: str) -> bool:
    return any(c.__name__ == name for c in type(obj).__mro__)


def _flags(d: Mapping[AgentID, Any] | None) -> MultiAgentDict:
    return {aid: bool(v) for aid, v in (d or {}).items()}


def _done_agents(*flag_dicts: MultiAgentDict) -> set[AgentID]:
    return {aid for d in flag_dicts for aid, done in d.items() if done and aid != ALL}


def _set_all(terms: MultiAgentDict, truncs: MultiAgentDict, over: bool) -> None:
    # Exactly one "__all__" is True at the end: truncated only if no agent terminated.
    all_truncated = not any(v for aid, v in terms.items() if aid != ALL)
    terms[ALL] = over and not all_truncated
    truncs[ALL] = over and all_truncated


class MultiAgentEnvAdapter:
    """The protocol of the module docstring; subclasses implement `_reset`, `_step` and spaces."""

    env: Any
    possible_agents: list[AgentID]

    def __init__(self, env: Any, max_episode_steps: int | None = None) -> None:
        self.env = env
        self.max_episode_steps = max_episode_steps
        self.possible_agents = []
        self._steps = 0
        self._live: dict[AgentID, None] = {}  # an ordered set: alive and seen since reset
        self._last_obs: MultiAgentDict = {}

    def observation_space_for(self, agent_id: AgentID) -> gym.Space:
        raise NotImplementedError

    def action_space_for(self, agent_id: AgentID) -> gym.Space:
        raise NotImplementedError

    def _reset(self, seed: int | None) -> tuple[MultiAgentDict, MultiAgentDict]:
        raise NotImplementedError

    def _step(self, actions: MultiAgentDict) -> StepResult:
        raise NotImplementedError

    def reset(self, seed: int | None = None) -> tuple[MultiAgentDict, MultiAgentDict]:
        obs, infos = self._reset(seed)
        self._steps = 0
        self._live = dict.fromkeys(obs)
        self._last_obs = dict(obs)
        return obs, infos

    def step(self, actions: MultiAgentDict) -> StepResult:
        obs, rewards, terms, truncs, infos = self._step(actions)
        self._steps += 1
        terms[ALL] = bool(terms.get(ALL, False))
        truncs[ALL] = bool(truncs.get(ALL, False))
        self._last_obs.update(obs)
        self._live.update(dict.fromkeys(obs))
        for aid in _done_agents(terms, truncs):
            self._live.pop(aid, None)
        if terms[ALL] or truncs[ALL]:
            self._end_episode(obs, terms if terms[ALL] else truncs, infos)
        elif self.max_episode_steps is not None and self._steps >= self.max_episode_steps:
            truncs[ALL] = True
            self._end_episode(obs, truncs, infos)
        return obs, rewards, terms, truncs, infos

    def _end_episode(
        self, obs: MultiAgentDict, flags: MultiAgentDict, infos: MultiAgentDict
    ) -> None:
        """Flag every agent still alive as done, with its current observation as its final one."""
        for aid in self._live_agents():
            flags[aid] = True
            if aid not in obs:
                obs[aid] = self._current_obs(aid)
            infos.setdefault(aid, {})
        self._live.clear()

    def _live_agents(self) -> list[AgentID]:
        return list(self._live)

    def _current_obs(self, agent_id: AgentID) -> Any:
        return self._last_obs[agent_id]

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        close = getattr(self.env, "close", None)
        if callable(close):
            close()


class DirectAdapter(MultiAgentEnvAdapter):
    """An RLlib-style MultiAgentEnv: it speaks the protocol already, so this mostly normalises
    (missing "__all__" keys, old 4-tuple steps, reset without infos, where spaces are kept)."""

    def __init__(self, env: Any, max_episode_steps: int | None = None) -> None:
        super().__init__(env, max_episode_steps)
        self.possible_agents = _direct_agent_ids(env)
        self._reset_takes_seed = _accepts_keyword(env.reset, "seed")
        self._done: set[AgentID] = set()
        self._terminated: set[AgentID] = set()

    def observation_space_for(self, agent_id: AgentID) -> gym.Space:
        return _direct_space(self.env, "observation", agent_id)

    def action_space_for(self, agent_id: AgentID) -> gym.Space:
        return _direct_space(self.env, "action", agent_id)

    def _reset(self, seed: int | None) -> tuple[MultiAgentDict, MultiAgentDict]:
        self._done, self._terminated = set(), set()
        out = self.env.reset(seed=seed) if self._reset_takes_seed else self.env.reset()
        obs, infos = out if isinstance(out, tuple) and len(out) == 2 else (out, {})
        return dict(obs), dict(infos or {})

    def _step(self, actions: MultiAgentDict) -> StepResult:
        out = self.env.step(actions)
        if len(out) == 4:  # the pre-Gymnasium API: one "dones" dict
            obs, rewards, terms, infos = out
            truncs: Mapping[AgentID, Any] = {}
        else:
            obs, rewards, terms, truncs, infos = out
        terms, truncs = _flags(terms), _flags(truncs)
        self._done |= _done_agents(terms, truncs)
        self._terminated |= _done_agents(terms)
        obs = dict(obs)
        if ALL not in terms or ALL not in truncs:
            self._fill_all(obs, terms, truncs)
        rewards = {aid: float(r) for aid, r in (rewards or {}).items()}
        return obs, rewards, terms, truncs, dict(infos or {})

    def _fill_all(self, obs: MultiAgentDict, terms: MultiAgentDict, truncs: MultiAgentDict) -> None:
        # Over once every possible agent is done, or when nobody is left to act: the runner could
        # only send an empty action dict, which RLlib-style envs reject.
        nobody_to_act = all(aid in self._done for aid in obs)
        over = nobody_to_act or all(aid in self._done for aid in self.possible_agents)
        if ALL not in terms:
            terms[ALL] = over and not truncs.get(ALL, False) and bool(self._terminated)
        if ALL not in truncs:
            truncs[ALL] = over and not terms[ALL]


def _direct_agent_ids(env: Any) -> list[AgentID]:
    for attr in ("possible_agents", "agents"):
        ids = getattr(env, attr, None)
        if ids:
            return list(ids)
    getter = getattr(env, "get_agent_ids", None)  # RLlib's old API: a set
    found = set(getter() if callable(getter) else ()) or set(_space_keys(env))
    if not found:
        raise ConfigError(
            "env.id",
            type(env).__name__,
            "names no agents: give it `possible_agents` (or `get_agent_ids()`).",
        )
    try:
        return sorted(found)
    except TypeError:  # ids of mixed types
        return sorted(found, key=repr)


def _space_keys(env: Any) -> Iterable[AgentID]:
    spaces = getattr(env, "observation_spaces", None)
    if isinstance(spaces, Mapping):
        return spaces.keys()
    space = getattr(env, "observation_space", None)
    return space.spaces.keys() if isinstance(space, gym.spaces.Dict) else ()


def _direct_space(env: Any, kind: str, agent_id: AgentID) -> gym.Space:
    """RLlib's lookup order: get_<kind>_space(aid), <kind>_spaces[aid], then one <kind>_space that
    is a Dict keyed by agent id (old RLlib) or is shared by all agents."""
    getter = getattr(env, f"get_{kind}_space", None)
    space = getter(agent_id) if callable(getter) else None
    spaces = getattr(env, f"{kind}_spaces", None)
    if space is None and isinstance(spaces, Mapping) and agent_id in spaces:
        space = spaces[agent_id]
    if space is None:
        space = getattr(env, f"{kind}_space", None)
        if isinstance(space, gym.spaces.Dict) and agent_id in space.spaces:
            space = space[agent_id]
    if not isinstance(space, gym.Space):
        raise ConfigError("env.id", type(env).__name__, f"has no {kind} space for {agent_id!r}.")
    return space


def _accepts_keyword(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


class _PettingZooAdapter(MultiAgentEnvAdapter):
    """What PettingZoo's two APIs share: `possible_agents` and per-agent space methods."""

    def __init__(self, env: Any, max_episode_steps: int | None = None) -> None:
        super().__init__(env, max_episode_steps)
        self.possible_agents = list(env.possible_agents)

    def observation_space_for(self, agent_id: AgentID) -> gym.Space:
        return self.env.observation_space(agent_id)

    def action_space_for(self, agent_id: AgentID) -> gym.Space:
        return self.env.action_space(agent_id)


class ParallelAdapter(_PettingZooAdapter):
    """A PettingZoo ParallelEnv: all live agents act at once; "__all__" is added here."""

    def _reset(self, seed: int | None) -> tuple[MultiAgentDict, MultiAgentDict]:
        out = self.env.reset(seed=seed)
        obs, infos = out if isinstance(out, tuple) else (out, {})
        return dict(obs), dict(infos or {})

    def _step(self, actions: MultiAgentDict) -> StepResult:
        obs, rewards, terms, truncs, infos = self.env.step(actions)
        terms, truncs = _flags(terms), _flags(truncs)
        stepped = set(terms) | set(truncs)
        over = not self.env.agents or (bool(stepped) and stepped <= _done_agents(terms, truncs))
        _set_all(terms, truncs, over)
        # PettingZoo's rewards are often a defaultdict: a plain dict reads no phantom agents.
        rewards = {aid: float(r) for aid, r in rewards.items()}
        return dict(obs), rewards, terms, truncs, dict(infos or {})


class AECAdapter(_PettingZooAdapter):
    """A PettingZoo AECEnv (turn-based): one `step` is one move by `agent_selection`; agents the
    move ended are reported with their final observation and removed (PettingZoo's dead steps)."""

    def _reset(self, seed: int | None) -> tuple[MultiAgentDict, MultiAgentDict]:
        self.env.reset(seed=seed)
        agent = self.env.agent_selection
        return {agent: self.env.observe(agent)}, {agent: dict(self.env.infos.get(agent, {}))}

    def _step(self, actions: MultiAgentDict) -> StepResult:
        env = self.env
        agent = env.agent_selection
        if agent not in actions:
            raise ValueError(f"AEC env: {agent!r} is to move, but actions are for {list(actions)}")
        env.step(actions[agent])
        # `rewards` holds this move's rewards for every agent. Dead steps only remove agents (and
        # clear `rewards`), so reading it once here keeps the rewards of agents removed below
        # without counting any twice.
        rewards = {aid: float(r) for aid, r in env.rewards.items() if r != 0}
        obs: MultiAgentDict = {}
        terms: MultiAgentDict = {}
        truncs: MultiAgentDict = {}
        infos: MultiAgentDict = {}
        while env.agents:
            sel = env.agent_selection
            if not (env.terminations[sel] or env.truncations[sel]):
                obs[sel] = env.observe(sel)
                infos[sel] = dict(env.infos.get(sel, {}))
                break
            obs[sel] = env.observe(sel)
            terms[sel], truncs[sel] = bool(env.terminations[sel]), bool(env.truncations[sel])
            infos[sel] = dict(env.infos.get(sel, {}))
            env.step(None)  # PettingZoo removes a done agent only when it is stepped with None
        _set_all(terms, truncs, over=not env.agents)
        return obs, rewards, terms, truncs, infos

    def _live_agents(self) -> list[AgentID]:
        # Agents yet to make their first move were never in obs but are alive all the same.
        return list(self.env.agents)

    def _current_obs(self, agent_id: AgentID) -> Any:
        return self.env.observe(agent_id)


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
    if extra and not _accepts_keyword(factory, "render_mode"):
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
