"""The multi-agent env layer: adapters to RLlib's MultiAgentEnv protocol and the example envs."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from rlrun.env.multi_agent.direct_adapter import DirectAdapter
from rlrun.env.multi_agent.env import (
    agent_spaces,
    env_is_multi_agent,
    is_multi_agent,
    load_env_object,
    make_multi_agent_env,
)
from rlrun.env.multi_agent.example_envs import JoinLeaveEnv, MultiAgentCartPole, TurnBasedGuess
from rlrun.env.multi_agent.pettingzoo_adapters import AECAdapter, ParallelAdapter
from rlrun.errors import ConfigError

EXAMPLES = "rlrun.env.multi_agent.example_envs"


def _done(terms: dict, truncs: dict) -> set:
    return {a for d in (terms, truncs) for a, v in d.items() if v and a != "__all__"}


def _play(adapter: Any, seed: int = 0, pick=None, max_steps: int = 1000) -> list[tuple]:
    """Run one episode as the runner would; the steps' (obs, rewards, terms, truncs, infos)."""
    rng = np.random.default_rng(seed)
    obs, _ = adapter.reset(seed=seed)
    steps, dead = [], set()
    for _ in range(max_steps):
        acting = {a: o for a, o in obs.items() if a not in dead}
        actions = {a: (pick or _random_action)(adapter, a, o, rng) for a, o in acting.items()}
        out = adapter.step(actions)
        steps.append(out)
        obs, _, terms, truncs, _ = out
        for flags in (terms, truncs):
            assert isinstance(flags["__all__"], bool)
        dead |= _done(terms, truncs)
        if terms["__all__"] or truncs["__all__"]:
            return steps
    raise AssertionError("episode did not end")


def _random_action(adapter: Any, agent: Any, obs: Any, rng: np.random.Generator) -> Any:
    if isinstance(obs, dict) and "action_mask" in obs:
        return int(rng.choice(np.flatnonzero(obs["action_mask"])))
    return int(rng.integers(adapter.action_space_for(agent).n))


def _returns(steps: list[tuple]) -> dict:
    totals: dict = {}
    for _, rewards, *_ in steps:
        for a, r in rewards.items():
            totals[a] = totals.get(a, 0.0) + r
    return totals


# --- DirectAdapter ------------------------------------------------------------------------------


def test_direct_multi_agent_cartpole_int_ids_and_leaving_agents():
    adapter = DirectAdapter(MultiAgentCartPole({"num_agents": 3}))
    assert adapter.possible_agents == [0, 1, 2]
    obs_spaces, act_spaces = agent_spaces(adapter)
    assert obs_spaces[2].shape == (4,) and act_spaces[0] == gym.spaces.Discrete(2)
    obs, _ = adapter.reset(seed=3)
    assert sorted(obs) == [0, 1, 2]
    assert not np.allclose(obs[0], obs[1])  # distinct seeds per pole
    steps = _play(adapter, seed=3)
    finished = []
    for obs, _, terms, truncs, _ in steps:
        for a in _done(terms, truncs):
            assert a in obs and obs_spaces[a].contains(obs[a])  # final observation
            finished.append(a)
        if len(set(finished)) < 3:
            assert not terms["__all__"] and not truncs["__all__"]
    assert sorted(finished) == [0, 1, 2]  # each agent finishes exactly once
    assert steps[-1][2]["__all__"]  # a pole fell: terminated, not truncated


def test_direct_acting_for_a_done_agent_is_refused():
    adapter = DirectAdapter(MultiAgentCartPole())
    adapter.reset(seed=0)
    while True:
        _, _, terms, truncs, _ = adapter.step({a: 1 for a in adapter.env.agents})
        gone = _done(terms, truncs)
        if gone:
            break
    with pytest.raises(ValueError, match="expected actions"):
        adapter.step(dict.fromkeys(adapter.possible_agents, 1))


def test_direct_ray_multi_agent_env_subclass():
    mae = pytest.importorskip("ray.rllib.env.multi_agent_env")

    class Pair(mae.MultiAgentEnv):
        def __init__(self, config=None):
            super().__init__()
            self.possible_agents = ["x", "y"]
            self.observation_spaces = dict.fromkeys(self.possible_agents, gym.spaces.Discrete(4))
            self.action_spaces = dict.fromkeys(self.possible_agents, gym.spaces.Discrete(2))
            self.t = 0

        def reset(self, *, seed=None, options=None):
            self.t = 0
            return {"x": 0, "y": 0}, {}

        def step(self, action_dict):
            self.t += 1
            done = self.t == 3
            obs = dict.fromkeys(action_dict, self.t)
            terms = dict.fromkeys(action_dict, done) | {"__all__": done}
            return obs, dict.fromkeys(action_dict, 1.0), terms, {"__all__": False}, {}

    assert is_multi_agent(Pair())
    adapter = DirectAdapter(Pair())
    assert agent_spaces(adapter)[0] == dict.fromkeys(["x", "y"], gym.spaces.Discrete(4))
    steps = _play(adapter)
    assert len(steps) == 3 and _returns(steps) == {"x": 3.0, "y": 3.0}


class MultiAgentEnv:  # stands in for Ray's base: the class name alone marks it
    pass


class OldApiEnv(MultiAgentEnv):
    """Old RLlib style: `get_agent_ids()`, one shared observation space, a Dict of action spaces
    keyed by int agent id, reset() without seed returning obs only, 4-tuple steps without
    "__all__"; agent 1 is done after 2 steps and agent 0 after 4."""

    observation_space = gym.spaces.Box(0.0, 10.0, (1,), np.float32)
    action_space = gym.spaces.Dict({0: gym.spaces.Discrete(2), 1: gym.spaces.Discrete(3)})

    def get_agent_ids(self) -> set[int]:
        return {1, 0}

    def reset(self):
        self.t = 0
        return {0: np.zeros(1, np.float32), 1: np.zeros(1, np.float32)}

    def step(self, actions):
        self.t += 1
        obs = {a: np.full(1, self.t, np.float32) for a in actions}
        dones = {a: self.t >= (2 if a == 1 else 4) for a in actions}
        return obs, dict.fromkeys(actions, 0.5), dones, {}


def test_direct_old_api_fills_all_and_reads_shared_and_dict_spaces():
    adapter = DirectAdapter(OldApiEnv())
    assert adapter.possible_agents == [0, 1]
    assert adapter.observation_space_for(1) == OldApiEnv.observation_space
    assert adapter.action_space_for(1) == gym.spaces.Discrete(3)
    steps = _play(adapter, seed=5)
    alls = [(s[2]["__all__"], s[3]["__all__"]) for s in steps]
    assert alls == [(False, False)] * 3 + [(True, False)]
    assert steps[1][2][1] and sorted(steps[1][0]) == [0, 1]
    assert _returns(steps) == {0: 2.0, 1: 1.0}


def test_direct_turn_based_guess_rewards_go_to_the_other_player():
    adapter = DirectAdapter(TurnBasedGuess())
    obs, _ = adapter.reset()
    assert list(obs) == ["p0"] and adapter.observation_space_for("p0").contains(obs["p0"])
    moves = iter([0, 1, 0, 0, 2, 0])  # p0: 0, 0, 2; p1: 1, 0, 0
    steps = _play(adapter, pick=lambda *_: next(moves))
    assert [list(s[0]) for s in steps] == [["p1"], ["p0"], ["p1"], ["p0"], ["p1"], ["p0", "p1"]]
    assert [s[1] for s in steps[:2]] == [{"p1": 1.0}, {"p0": 0.0}]
    assert _returns(steps) == {"p0": 2.0, "p1": 2.0}
    last = steps[-1]
    assert last[2] == {"p0": True, "p1": True, "__all__": True} and not last[3]["__all__"]
    np.testing.assert_array_equal(last[0]["p1"], [1, 0, 1, 0, 0])  # "p0 to move", last move 0


def test_direct_join_leave_env():
    adapter = DirectAdapter(JoinLeaveEnv())
    steps = _play(adapter)
    assert [sorted(s[0]) for s in steps] == [
        ["a"],
        ["a", "b"],
        ["a", "b", "c"],
        ["a", "b", "c"],
        ["a", "b", "c"],
        ["a", "b"],
        ["a", "b"],
        ["a", "b"],
    ]
    assert steps[4][2] == {"c": True, "__all__": False}
    assert steps[-1][3] == {"a": True, "b": True, "__all__": True}
    assert not steps[-1][2]["__all__"]
    assert _returns(steps) == {"a": 8.0, "b": 6.0, "c": 2.0}


# --- ParallelAdapter ----------------------------------------------------------------------------


def test_parallel_mpe2_truncates_all_at_max_cycles():
    from mpe2 import simple_spread_v3

    adapter = ParallelAdapter(simple_spread_v3.parallel_env(max_cycles=5))
    agents = ["agent_0", "agent_1", "agent_2"]
    assert adapter.possible_agents == agents
    steps = _play(adapter, seed=1)
    assert len(steps) == 5
    for obs, rewards, terms, truncs, _ in steps[:-1]:
        assert sorted(obs) == agents and not terms["__all__"] and not truncs["__all__"]
        assert type(rewards) is dict and all(isinstance(r, float) for r in rewards.values())
    obs, _, terms, truncs, _ = steps[-1]
    assert truncs == dict.fromkeys(agents, True) | {"__all__": True}
    assert not terms["__all__"]
    assert all(adapter.observation_space_for(a).contains(obs[a]) for a in agents)


def test_parallel_max_episode_steps():
    from mpe2 import simple_spread_v3

    adapter = ParallelAdapter(simple_spread_v3.parallel_env(max_cycles=25), max_episode_steps=2)
    steps = _play(adapter)
    assert len(steps) == 2 and steps[-1][3]["__all__"] and not steps[-1][2]["__all__"]
    assert _done(steps[-1][2], steps[-1][3]) == set(adapter.possible_agents)


# --- AECAdapter ---------------------------------------------------------------------------------


def _tictactoe(**kwargs: Any) -> AECAdapter:
    from pettingzoo.classic import tictactoe_v3

    return AECAdapter(tictactoe_v3.env(), **kwargs)


def _reference_returns(seed: int, moves: list[int]) -> dict[str, float]:
    """PettingZoo's own bookkeeping: the standard agent_iter loop summing `last()` rewards."""
    from pettingzoo.classic import tictactoe_v3

    env = tictactoe_v3.env()
    env.reset(seed=seed)
    totals: dict[str, float] = {}
    todo = iter(moves)
    for agent in env.agent_iter():
        _, reward, term, trunc, _ = env.last()
        totals[agent] = totals.get(agent, 0.0) + reward
        env.step(None if term or trunc else next(todo))
    return totals


def test_aec_tictactoe_turns_masks_and_returns_match_pettingzoo():
    adapter = _tictactoe()
    obs, _ = adapter.reset(seed=0)
    assert list(obs) == ["player_1"] and set(obs["player_1"]) == {"action_mask", "observation"}
    outcomes = set()
    for seed in range(8):
        moves: list[int] = []

        def pick(ad, agent, o, rng, moves=moves):
            moves.append(_random_action(ad, agent, o, rng))
            return moves[-1]

        steps = _play(adapter, seed=seed, pick=pick)
        movers = ["player_1", "player_2"] * 5
        assert [list(s[0]) for s in steps[:-1]] == [[m] for m in movers[1 : len(steps)]]
        obs, _, terms, truncs, _ = steps[-1]
        assert sorted(obs) == ["player_1", "player_2"]
        assert terms == {"player_1": True, "player_2": True, "__all__": True}
        assert not truncs["__all__"]
        assert all(set(o) == {"action_mask", "observation"} for o in obs.values())
        totals = _returns(steps)
        ref = {a: r for a, r in _reference_returns(seed, moves).items() if r != 0}
        assert totals == ref
        assert sorted(totals.values()) in ([-1.0, 1.0], [])  # a win or a draw
        outcomes.add(tuple(sorted(totals.values())))
    assert len(outcomes) >= 2  # the seeds cover more than one kind of ending


def test_aec_scripted_win_reports_both_rewards_on_the_last_move():
    adapter = _tictactoe()
    moves = iter([0, 3, 1, 4, 2])  # player_1 takes the top row on move 5
    steps = _play(adapter, pick=lambda *_: next(moves))
    assert len(steps) == 5
    assert steps[-1][1] == {"player_1": 1.0, "player_2": -1.0}
    assert _returns(steps) == {"player_1": 1.0, "player_2": -1.0}


def test_aec_max_episode_steps_truncates_every_live_agent():
    adapter = _tictactoe(max_episode_steps=3)
    steps = _play(adapter)
    assert len(steps) == 3
    obs, _, terms, truncs, _ = steps[-1]
    assert truncs == {"player_1": True, "player_2": True, "__all__": True}
    assert not terms["__all__"]
    assert sum(obs["player_1"]["observation"].ravel()) == 3  # the board after three moves


def test_direct_max_episode_steps_gives_cached_final_obs():
    adapter = DirectAdapter(TurnBasedGuess(), max_episode_steps=3)
    steps = _play(adapter, pick=lambda *_: 1)
    obs, _, terms, truncs, _ = steps[-1]
    assert len(steps) == 3 and truncs == {"p0": True, "p1": True, "__all__": True}
    assert not terms["__all__"]
    np.testing.assert_array_equal(obs["p0"], steps[1][0]["p0"])  # p0's latest observation


# --- making, loading, telling kinds apart -------------------------------------------------------


@pytest.mark.parametrize(
    ("env_id", "env_config", "kind", "agents"),
    [
        ("mpe2.simple_spread_v3:parallel_env", {"max_cycles": 3}, ParallelAdapter, 3),
        ("pettingzoo.classic.tictactoe_v3:env", {}, AECAdapter, 2),
        (f"{EXAMPLES}:MultiAgentCartPole", {"num_agents": 3}, DirectAdapter, 3),
    ],
)
def test_make_multi_agent_env(env_id, env_config, kind, agents):
    env_cfg = {"id": env_id, "env_config": env_config, "max_episode_steps": None}
    assert env_is_multi_agent(env_cfg)
    adapter = make_multi_agent_env(env_cfg)
    try:
        assert type(adapter) is kind and len(adapter.possible_agents) == agents
        obs, _ = adapter.reset(seed=0)
        assert obs
    finally:
        adapter.close()


def test_make_passes_max_episode_steps():
    env_cfg = {"id": f"{EXAMPLES}:JoinLeaveEnv", "max_episode_steps": 2}
    steps = _play(make_multi_agent_env(env_cfg))
    assert len(steps) == 2 and steps[-1][3] == {"a": True, "b": True, "__all__": True}


def test_single_agent_envs_are_not_multi_agent():
    assert not env_is_multi_agent({"id": "CartPole-v1"})
    assert not env_is_multi_agent({"id": "rlrun.env.debug_envs:DictCartPole"})
    assert not is_multi_agent(gym.make("CartPole-v1"))
    with pytest.raises(ConfigError, match="env.id=rlrun.env.debug_envs:DictCartPole"):
        make_multi_agent_env({"id": "rlrun.env.debug_envs:DictCartPole"})


def test_bad_env_config_is_a_config_error():
    with pytest.raises(ConfigError, match="env.env_config"):
        load_env_object({"id": f"{__name__}:made_with_kwargs", "env_config": {"bogus": 1}})
    with pytest.raises(ConfigError, match="env.id"):
        load_env_object({"id": "CartPole-v1"})


def made_with_env_config(env_config: dict, render_mode: str | None = None) -> tuple:
    return env_config, render_mode


def made_with_config_only(config: dict) -> dict:
    return config


def made_with_kwargs(size: int = 1, render_mode: str | None = None) -> tuple:
    return size, render_mode


def test_load_env_object_calling_conventions():
    def load(name: str, render_mode: str | None = None) -> Any:
        env_cfg = {"id": f"{__name__}:{name}", "env_config": {"size": 4}}
        return load_env_object(env_cfg, render_mode)

    assert load("made_with_env_config", "rgb_array") == ({"size": 4}, "rgb_array")
    assert load("made_with_config_only") == {"size": 4}
    assert load("made_with_config_only", "human") == {"size": 4, "render_mode": "human"}
    assert load("made_with_kwargs") == (4, None)
