"""The protocol every multi-agent env is adapted to: RLlib's MultiAgentEnv, as the runner sees it.

`DirectAdapter` (direct_adapter.py) wraps RLlib-style envs (subclasses of Ray's `MultiAgentEnv`
or duck-typed ones), `ParallelAdapter` PettingZoo ParallelEnvs and `AECAdapter` PettingZoo's
turn-based AECEnvs (pettingzoo_adapters.py); rlrun.env.multi_agent.env picks one for an env.

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
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

AgentID = Any  # hashable: str or int, as the env names its agents
MultiAgentDict = dict[AgentID, Any]
StepResult = tuple[MultiAgentDict, MultiAgentDict, MultiAgentDict, MultiAgentDict, MultiAgentDict]
ALL = "__all__"


def flags(d: Mapping[AgentID, Any] | None) -> MultiAgentDict:
    return {aid: bool(v) for aid, v in (d or {}).items()}


def done_agents(*flag_dicts: MultiAgentDict) -> set[AgentID]:
    return {aid for d in flag_dicts for aid, done in d.items() if done and aid != ALL}


def set_all(terms: MultiAgentDict, truncs: MultiAgentDict, over: bool) -> None:
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
        for aid in done_agents(terms, truncs):
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


def accepts_keyword(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
