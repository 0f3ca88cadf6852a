"""ParallelAdapter and AECAdapter: PettingZoo's ParallelEnvs and turn-based AECEnvs behind the
protocol (rlrun.env.multi_agent.adapter). Nothing here imports pettingzoo."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from rlrun.env.multi_agent.adapter import (
    AgentID,
    MultiAgentDict,
    MultiAgentEnvAdapter,
    StepResult,
    done_agents,
    flags,
    set_all,
)


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
        terms, truncs = flags(terms), flags(truncs)
        stepped = set(terms) | set(truncs)
        over = not self.env.agents or (bool(stepped) and stepped <= done_agents(terms, truncs))
        set_all(terms, truncs, over)
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
        set_all(terms, truncs, over=not env.agents)
        return obs, rewards, terms, truncs, infos

    def _live_agents(self) -> list[AgentID]:
        # Agents yet to make their first move were never in obs but are alive all the same.
        return list(self.env.agents)

    def _current_obs(self, agent_id: AgentID) -> Any:
        return self.env.observe(agent_id)
