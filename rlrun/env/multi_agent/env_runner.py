"""MultiAgentEnvRunner: steps several multi-agent envs with a MultiRLModule, and returns each
module's experience as time-major Rollouts (rlrun.env.multi_agent.lanes), the same batch format
single-agent runners produce, so learners and their pipelines take them unchanged.

Per step it asks every module once, for all (sub-env, agent) pairs mapped to it that must act,
in one batched forward pass through the same `act` step single-agent sampling uses; then it
steps each sub-env with its agents' actions. Agents map to modules once per episode, through
`multi_agent.policy_mapping_fn(agent_id, episode, **kwargs)`, as in RLlib.

Why a runner of its own rather than a Gymnasium vector env: multi-agent envs have per-agent
dicts and agents that come and go, which Gymnasium's vector envs do not carry; the single-agent
runner keeps its preallocated, dict-free hot loop.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rlrun.callbacks.metrics_logger import MetricsLogger
from rlrun.config.sections import typed
from rlrun.connectors.module_to_env import build_module_to_env
from rlrun.connectors.per_module import build_per_module
from rlrun.core import tree
from rlrun.core.multi_rl_module import MultiRLModuleSpec
from rlrun.env.act_step import RunnerSync, act
from rlrun.env.multi_agent.env import make_multi_agent_env
from rlrun.env.multi_agent.lanes import (
    OBS,
    REWARD,
    Lane,
    Segment,
    segments_to_rollouts,
    take_closed,
)
from rlrun.env.multi_agent.mappings import load_mapping
from rlrun.env.rollout import Rollout
from rlrun.env.runner_config import RunnerConfig

ALL = "__all__"


@dataclass
class EpisodeInfo:
    """What `policy_mapping_fn` gets as `episode` (RLlib passes its episode; functions use
    its `id_`), plus this episode's bookkeeping."""

    id_: str
    env_index: int
    worker_index: int
    length: int = 0
    agent_returns: dict[Any, float] = field(default_factory=dict)
    agent_modules: dict[Any, str] = field(default_factory=dict)
    lanes: dict[Any, Lane] = field(default_factory=dict)


class MultiAgentEnvRunner(RunnerSync):
    def __init__(
        self,
        env_cfg: dict[str, Any],
        runner_cfg: RunnerConfig | Mapping[str, Any],
        module_spec: MultiRLModuleSpec,
        seed: int | None = None,
        worker_index: int = 0,
        num_envs: int | None = None,
        render_mode: str | None = None,
        update_filters: bool = True,
        recreate_failed_sub_envs: bool = False,
    ) -> None:
        del recreate_failed_sub_envs  # no sub-env recreation in multi-agent runs yet
        self.runner_cfg = runner_cfg = typed(RunnerConfig, runner_cfg)
        self.worker_index = worker_index
        self.num_envs = int(num_envs or runner_cfg.num_envs_per_env_runner)
        self.envs = [make_multi_agent_env(env_cfg, render_mode) for _ in range(self.num_envs)]
        self.possible_agents = list(self.envs[0].possible_agents)
        self._agent_index = {a: k for k, a in enumerate(self.possible_agents)}
        self.explore = bool(runner_cfg.explore)
        self.seed = None if seed is None else int(seed) + 10_000 * worker_index
        self.spec = module_spec
        self.module = module_spec.build()
        self.module.eval()
        ids = module_spec.module_ids
        self._obs_space = {m: module_spec.module_specs[m].observation_space for m in ids}
        self._act_space = {m: module_spec.module_specs[m].action_space for m in ids}
        modules_to_env = runner_cfg.connectors.module_to_env
        self._to_env = {
            m: build_module_to_env(self._act_space[m], self.module[m].action_dist_cls,
                                   modules_to_env)
            for m in ids
        }  # fmt: skip
        # One env-to-module pipeline per module (its observation filter), fed one agent's
        # observation at a time; evaluation runners do not update the statistics.
        self.update_filters = update_filters
        self.env_to_module = build_per_module(runner_cfg.observation_filter, module_spec)
        self._to_module = {m: _obs_converter(self._obs_space[m]) for m in ids}
        self._initial = {m: self.module[m].get_initial_state() or None for m in ids}
        self._mapping = load_mapping(runner_cfg.policy_mapping_fn, ids)
        # Modules that learn get rows; frozen ones only act.
        self._recorded = set(module_spec.trainable)
        self.metrics = MetricsLogger()
        self._episode_ids = itertools.count()
        self._episodes: list[EpisodeInfo] | None = None
        self._lanes = [Lane(c) for c in range(self.num_envs * len(self.possible_agents))]
        self._segments: dict[str, list[Segment]] = {}
        self._finished: list[tuple[EpisodeInfo, float]] = []
        self._record = True
        self._module_steps: dict[str, int] = {}  # acts per module since the last sample()
        self._weight_targets: dict[str, torch.Tensor] | None = None
        self.num_env_steps_lifetime = 0

    # --- episodes ----------------------------------------------------------------------------

    def _new_episode(self, i: int, seed: int | None) -> EpisodeInfo:
        ep = EpisodeInfo(f"{self.worker_index}-{i}-{next(self._episode_ids)}", i, self.worker_index)
        obs, _ = self.envs[i].reset(seed=seed)
        self._receive(ep, obs, {})
        return ep

    def _lane_for(self, ep: EpisodeInfo, agent: Any) -> Lane:
        """The agent's lane, mapped to its module for this episode on first sight."""
        lane = ep.lanes.get(agent)
        if lane is not None:
            return lane
        module_id = ep.agent_modules.get(agent) or self._map(agent, ep)
        ep.agent_modules[agent] = module_id
        lane = self._lanes[ep.env_index * len(self.possible_agents) + self._agent_index[agent]]
        if lane.module_id != module_id and lane.rows:
            # The slot now feeds another module: its finished rows go to the old one.
            self._keep(lane)
        lane.module_id = module_id
        init = self._initial[module_id]
        lane.state = None if init is None else {k: v.clone() for k, v in init.items()}
        lane.acted = False
        ep.lanes[agent] = lane
        return lane

    def _map(self, agent: Any, ep: EpisodeInfo) -> str:
        module_id = self._mapping(agent, ep)
        if module_id not in self._obs_space:
            raise ValueError(
                f"multi_agent.policy_mapping_fn returned {module_id!r} for agent {agent!r}, "
                f"which is not a module (modules: {', '.join(self._obs_space)})"
            )
        return module_id

    def _receive(self, ep: EpisodeInfo, obs: dict[Any, Any], done: dict[Any, bool]) -> None:
        """Observations for agents that act next: their open rows close, they wait to act."""
        for agent, o in obs.items():
            if agent in done:
                continue
            lane = self._lane_for(ep, agent)
            lane.close_rows()
            lane.pending_obs = self._convert(lane.module_id, o)

    def _keep(self, lane: Lane) -> None:
        if lane.module_id in self._recorded:
            seg = take_closed(lane, self._initial[lane.module_id])
            if seg is not None:
                self._segments.setdefault(lane.module_id, []).append(seg)
        else:
            lane.rows.clear()
            lane.n_closed = 0

    # --- stepping ----------------------------------------------------------------------------

    def _act_all(self, explore: bool) -> list[dict[Any, Any]]:
        """One forward pass per module for every agent that must act; env actions per sub-env."""
        assert self._episodes is not None
        requests: dict[str, list[tuple[int, Any, Lane]]] = {}
        for ep in self._episodes:
            for agent, lane in ep.lanes.items():
                if lane.pending_obs is not None:
                    requests.setdefault(lane.module_id, []).append((ep.env_index, agent, lane))
        env_actions: list[dict[Any, Any]] = [{} for _ in range(self.num_envs)]
        for module_id, reqs in requests.items():
            self._module_steps[module_id] = self._module_steps.get(module_id, 0) + len(reqs)
            lanes = [lane for _, _, lane in reqs]
            obs = tree.stack([lane.pending_obs for lane in lanes])
            state = None
            if self._initial[module_id] is not None:
                state = {k: torch.stack([ln.state[k] for ln in lanes]) for k in lanes[0].state}
            actions, dist_inputs, state_out, _ = act(self.module[module_id], obs, state, explore)
            to_env = _env_actions(self._to_env[module_id](actions))
            dist = dist_inputs.numpy()
            record = self._record and module_id in self._recorded
            for k, (i, agent, lane) in enumerate(reqs):
                env_actions[i][agent] = to_env[k]
                state_in = None if state is None else {s: v[k] for s, v in state.items()}
                if record:
                    lane.rows.append([lane.pending_obs, actions[k], dist[k], state_in,
                                      0.0, False, False, True])  # fmt: skip
                if state_out is not None:
                    lane.state = {s: v[k] for s, v in state_out.items()}
                lane.pending_obs = None
                lane.acted = True
        return env_actions

    def _step_env(self, i: int, actions: dict[Any, Any]) -> bool:
        """Step sub-env i and book the result; True if its episode ended (it was reset)."""
        assert self._episodes is not None
        ep = self._episodes[i]
        obs, rewards, terms, truncs, _ = self.envs[i].step(actions)
        ep.length += 1
        for agent, r in rewards.items():
            r = float(r)
            ep.agent_returns[agent] = ep.agent_returns.get(agent, 0.0) + r
            lane = ep.lanes.get(agent)
            if lane is not None and lane.acted and lane.rows:
                lane.rows[-1][REWARD] += r
        all_done = bool(terms.get(ALL)) or bool(truncs.get(ALL))
        done: dict[Any, bool] = {}
        for agent, lane in list(ep.lanes.items()):
            term, trunc = bool(terms.get(agent)), bool(truncs.get(agent))
            if not (term or trunc or all_done):
                continue
            if not (term or trunc):
                term = bool(terms.get(ALL))
            final = obs.get(agent)
            final = lane.pending_obs if final is None else self._convert(lane.module_id, final)
            if final is None and lane.rows:
                final = lane.rows[-1][OBS]
            lane.end_episode(term, final)
            done[agent] = True
            del ep.lanes[agent]
        if all_done:
            self._finished.append((ep, float(sum(ep.agent_returns.values()))))
            self._episodes[i] = self._new_episode(i, None)
            return True
        self._receive(ep, obs, done)
        return False

    # --- sampling ----------------------------------------------------------------------------

    def sample(self, num_steps: int) -> Rollout:
        """Step every sub-env `num_steps` times; episodes (and open rows) carry on."""
        fresh = self._episodes is None
        if fresh:
            self._reset_all()
        self._record = True
        self._module_steps = {}  # evaluation's acts are not training's samples
        agent_steps: dict[str, int] = {}
        with torch.no_grad():
            for _ in range(int(num_steps)):
                for i, actions in enumerate(self._act_all(self.explore)):
                    for agent in actions:
                        agent_steps[str(agent)] = agent_steps.get(str(agent), 0) + 1
                    self._step_env(i, actions)
        for lane in self._lanes:
            if lane.module_id is not None:
                self._keep(lane)
        parts = [
            part
            for mid, segs in self._segments.items()
            for part in segments_to_rollouts(mid, segs, self._obs_space[mid], self._act_space[mid])
        ]
        self._segments = {}
        for part in parts:  # where the part came from, for replay columns and episode output
            part.runner_index, part.fresh = self.worker_index, fresh
        env_steps = int(num_steps) * self.num_envs
        self.num_env_steps_lifetime += env_steps
        return self._carrier(parts, env_steps, agent_steps, fresh)

    def _carrier(
        self, parts: list[Rollout], env_steps: int, agent_steps: dict[str, int], fresh: bool
    ) -> Rollout:
        """The sample's Rollout: its module parts and the episodes that finished."""
        finished, self._finished = self._finished, []
        module_steps, self._module_steps = self._module_steps, {}
        agent_returns: dict[str, list[float]] = {}
        module_returns: dict[str, list[float]] = {}
        for ep, _ in finished:
            per_module: dict[str, float] = {}
            for agent, ret in ep.agent_returns.items():
                agent_returns.setdefault(str(agent), []).append(ret)
                mid = ep.agent_modules.get(agent)
                if mid is not None:
                    per_module[mid] = per_module.get(mid, 0.0) + ret
            for mid, ret in per_module.items():
                module_returns.setdefault(mid, []).append(ret)
        return Rollout(
            data={},
            bootstrap_obs=None,
            modules=parts,
            num_env_steps=env_steps,
            episode_returns=[ret for _, ret in finished],
            episode_lengths=[ep.length for ep, _ in finished],
            agent_episode_returns=agent_returns,
            module_episode_returns=module_returns,
            agent_steps=agent_steps,
            module_steps=module_steps,
            runner_index=self.worker_index,
            fresh=fresh,
            custom_metrics=self.metrics.pop_logged(),
            connector_delta=self.env_to_module.pop_delta(),
        )

    def _convert(self, module_id: str, obs: Any) -> Any:
        """An env observation as the module takes it: its space's dtypes, then its filter."""
        return self.env_to_module.one(
            module_id, self._to_module[module_id](obs), self.update_filters
        )

    def _reset_all(self) -> None:
        for lane in self._lanes:
            lane.rows.clear()
            lane.n_closed, lane.pending_obs, lane.acted = 0, None, False
        self._segments = {}
        self._finished = []
        seeds = [None if self.seed is None else self.seed + i for i in range(self.num_envs)]
        self._episodes = [self._new_episode(i, s) for i, s in enumerate(seeds)]

    def sample_episodes(self, num_episodes: int) -> tuple[list[float], list[int]]:
        """Exactly `num_episodes` fresh episodes (evaluation), a fixed quota per sub-env."""
        self._reset_all()
        self._record = False
        quota = np.full(self.num_envs, num_episodes // self.num_envs)
        quota[: num_episodes % self.num_envs] += 1
        done_count = np.zeros(self.num_envs, np.int64)
        returns: list[float] = []
        lengths: list[int] = []
        with torch.no_grad():
            while (done_count < quota).any():
                for i, actions in enumerate(self._act_all(self.explore)):
                    if done_count[i] >= quota[i]:
                        continue
                    if self._step_env(i, actions):
                        ep, ret = self._finished.pop()
                        returns.append(ret)
                        lengths.append(ep.length)
                        done_count[i] += 1
                        self._log_returns(ep)
        self._episodes = None  # the next sample() starts from fresh episodes
        self._record = True
        return returns, lengths

    def _log_returns(self, ep: EpisodeInfo) -> None:
        """An evaluation episode's returns by agent and by module, as RLlib reports them
        (evaluation/env_runners/agent_episode_returns_mean/<agent>, ...)."""
        per_module: dict[str, float] = {}
        for agent, ret in ep.agent_returns.items():
            self.metrics.log_value(f"agent_episode_returns_mean/{agent}", ret)
            mid = ep.agent_modules.get(agent)
            if mid is not None:
                per_module[mid] = per_module.get(mid, 0.0) + ret
        for mid, ret in per_module.items():
            self.metrics.log_value(f"module_episode_returns_mean/{mid}", ret)

    def restart_episodes(self) -> None:
        """The next sample() starts fresh episodes in every env."""
        self._episodes = None

    def sample_timesteps(self, num_steps: int) -> tuple[list[float], list[int], int]:
        from rlrun.env.eval_sampling import sample_timesteps

        return sample_timesteps(self, num_steps)

    def sample_for_seconds(self, seconds: float) -> tuple[list[float], list[int], int]:
        from rlrun.env.eval_sampling import sample_for_seconds

        return sample_for_seconds(self, seconds)

    # --- weights, state, lifecycle -------------------------------------------------------------

    def pop_metrics(self) -> dict[str, Any]:
        return self.metrics.pop_logged()

    def set_task(self, task: Any) -> None:
        for env in self.envs:
            if hasattr(env.env, "set_task"):
                env.env.set_task(task)

    def stop(self) -> None:
        for env in self.envs:
            env.close()


def _obs_converter(space: Any) -> Callable[[Any], Any]:
    """Turns an env's observation into the module space's dtypes (a tree for Dict/Tuple)."""
    if not isinstance(space, gym.spaces.Dict | gym.spaces.Tuple):
        dtype = tree.space_dtype(space)
        return lambda o: np.asarray(o, dtype=dtype)
    leaf_spaces = tree.map_space(lambda s: s, space)
    return lambda o: tree.map_structure(
        lambda s, x: np.asarray(x, dtype=tree.space_dtype(s)), leaf_spaces, o
    )


def _env_actions(actions: np.ndarray) -> list[Any]:
    """A batch of env actions as one per agent: Python ints for Discrete (what PettingZoo
    and RLlib envs expect; one `tolist()` for the batch), arrays otherwise."""
    if actions.ndim == 1 and actions.dtype.kind in "iu":
        return actions.tolist()
    return list(actions)
