"""DirectAdapter: RLlib-style multi-agent envs (subclasses of Ray's `MultiAgentEnv` or duck-typed
ones), whose own dicts already nearly follow the protocol (rlrun.env.multi_agent.adapter)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import gymnasium as gym

from rlrun.env.multi_agent.adapter import (
    ALL,
    AgentID,
    MultiAgentDict,
    MultiAgentEnvAdapter,
    StepResult,
    accepts_keyword,
    done_agents,
    flags,
)
from rlrun.errors import ConfigError


class DirectAdapter(MultiAgentEnvAdapter):
    """An RLlib-style MultiAgentEnv: it speaks the protocol already, so this mostly normalises
    (missing "__all__" keys, old 4-tuple steps, reset without infos, where spaces are kept)."""

    def __init__(self, env: Any, max_episode_steps: int | None = None) -> None:
        super().__init__(env, max_episode_steps)
        self.possible_agents = _direct_agent_ids(env)
        self._reset_takes_seed = accepts_keyword(env.reset, "seed")
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
        terms, truncs = flags(terms), flags(truncs)
        self._done |= done_agents(terms, truncs)
        self._terminated |= done_agents(terms)
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
