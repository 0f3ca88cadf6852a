"""MultiAgentEnvRunner: per-agent streams as per-module, time-major Rollouts, checked by hand.

Most tests script the actions (the runner's `act` is wrapped so that the module's sampled
actions are replaced by a fixed sequence), so every row's reward, flag and observation follows
from the example envs' documented rules. TurnBasedGuess with the script
S = [0, 0, 1, 0, 0, 0] (moves m1..m6; p0 moves m1, m3, m5, p1 moves m2, m4, m6):

  move   mover  action  reward to the other     observation the mover acted on
  m1     p0     0       p1 +1 (before p1 acted) [1,0, 0,0,0]
  m2     p1     0       p0 +1                   [0,1, 1,0,0]
  m3     p0     1       p1  0                   [1,0, 1,0,0]
  m4     p1     0       p0 +1                   [0,1, 0,1,0]
  m5     p0     0       p1 +1                   [1,0, 1,0,0]
  m6     p1     0       p0 +1 (on the last step)[0,1, 1,0,0]
  final observation of both: [1,0, 1,0,0]

so p0's rows (m1, m3, m5) earn [1, 1, 1], p1's rows (m2, m4, m6) earn [0, 1, 0]; the agents'
returns are p0: 3, p1: 2 (m1's reward reached p1 before it ever acted: it is in p1's return but
on no row); the episode return is 5 and the rows hold 4 of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch

import rlrun.env.multi_agent.env_runner as runner_mod
from rlrun.config.schema import ModelConfig
from rlrun.config.sections import complete
from rlrun.core import columns as C
from rlrun.core.multi_rl_module import MultiRLModuleSpec
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.multi_agent.env import agent_spaces, make_multi_agent_env
from rlrun.env.multi_agent.env_runner import MultiAgentEnvRunner
from rlrun.env.rollout import Rollout

EXAMPLES = "rlrun.env.multi_agent.example_envs"
TURN = {"id": f"{EXAMPLES}:TurnBasedGuess"}
JOIN = {"id": f"{EXAMPLES}:JoinLeaveEnv"}
CARTPOLE2 = {"id": f"{EXAMPLES}:MultiAgentCartPole", "env_config": {"num_agents": 2}}
PPO_MODULE = "rlrun.algorithms.ppo.module:PPOModule"
SCRIPT = [0, 0, 1, 0, 0, 0]  # TurnBasedGuess's six moves (module docstring)

# TurnBasedGuess observations: [turn p0, turn p1, last move 0, 1, 2]
P0_FIRST, P1_AFTER_0, P0_AFTER_0, P1_AFTER_1 = (
    [1, 0, 0, 0, 0],
    [0, 1, 1, 0, 0],
    [1, 0, 1, 0, 0],
    [0, 1, 0, 1, 0],
)
FINAL = [1, 0, 1, 0, 0]


# --- helpers ----------------------------------------------------------------------------------


def ppo_spec(
    env_cfg: dict[str, Any],
    modules: dict[str, list[Any]] | None = None,
    trainable: list[str] | None = None,
) -> MultiRLModuleSpec:
    """A MultiRLModuleSpec of PPO modules; `modules`: {module id: the agents mapped to it}
    (None: one default_policy for every agent), spaces from the env's first agent of each."""
    probe = make_multi_agent_env(env_cfg)
    obs_spaces, act_spaces = agent_spaces(probe)
    probe.close()
    modules = modules or {"default_policy": list(obs_spaces)}
    model = complete(ModelConfig, {"fcnet_hiddens": [8]})
    model.pop("module_class")
    model["action_mask_key"] = None
    specs = {
        mid: RLModuleSpec(PPO_MODULE, obs_spaces[agents[0]], act_spaces[agents[0]], model)
        for mid, agents in modules.items()
    }
    return MultiRLModuleSpec(specs, {}, list(specs) if trainable is None else trainable)


def make_runner(
    env_cfg: dict[str, Any],
    spec: MultiRLModuleSpec,
    num_envs: int = 1,
    mapping: str | None = None,
    seed: int = 0,
) -> MultiAgentEnvRunner:
    torch.manual_seed(seed)
    runner_cfg: dict[str, Any] = {"num_envs_per_env_runner": num_envs}
    if mapping:
        runner_cfg["policy_mapping_fn"] = mapping
    return MultiAgentEnvRunner(env_cfg, runner_cfg, spec, seed=seed)


class Scripted:
    """Wraps the runner's `act`: every call's actions become script[calls % len(script)]."""

    def __init__(self, script: list[int]) -> None:
        self.script = script
        self.calls = 0
        self.real = runner_mod.act

    def __call__(self, module: Any, obs: Any, state: Any, explore: bool) -> Any:
        actions, dist_inputs, state_out, values = self.real(module, obs, state, explore)
        a = self.script[self.calls % len(self.script)]
        self.calls += 1
        return np.full_like(actions, a), dist_inputs, state_out, values


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Scripted]:
    s = Scripted(SCRIPT)
    monkeypatch.setattr(runner_mod, "act", s)
    yield s


def only_part(ro: Rollout, module_id: str = "default_policy") -> Rollout:
    parts = [p for p in ro.module_parts() if p.module_id == module_id]
    assert len(parts) == 1, [(p.module_id, p.columns) for p in ro.module_parts()]
    return parts[0]


def col(part: Rollout, column: int) -> int:
    """The position of stream `column` in a part's [T, L] arrays."""
    assert part.columns is not None
    hits = np.flatnonzero(part.columns == column)
    assert len(hits) == 1, part.columns
    return int(hits[0])


def emitted_reward(ro: Rollout) -> float:
    return float(sum(p.data[C.REWARDS].sum() for p in ro.module_parts()))


# --- TurnBasedGuess: rewards to the agent that did not act --------------------------------------


def test_turn_based_one_episode_rows_rewards_flags_and_final_rows(scripted):
    runner = make_runner(TURN, ppo_spec(TURN))
    ro = runner.sample(6)  # exactly one episode
    assert ro.num_env_steps == 6
    assert ro.episode_returns == [5.0] and ro.episode_lengths == [6]
    assert ro.agent_episode_returns == {"p0": [3.0], "p1": [2.0]}
    assert ro.module_episode_returns == {"default_policy": [5.0]}
    assert ro.agent_steps == {"p0": 3, "p1": 3}

    part = only_part(ro)
    assert sorted(part.columns.tolist()) == [0, 1]  # env 0 * 2 agents + agent index
    assert part.data[C.REWARDS].shape == (4, 2)  # 3 moves + the masked final row each
    p0, p1 = col(part, 0), col(part, 1)
    d = part.data
    np.testing.assert_array_equal(d[C.REWARDS][:, p0], [1, 1, 1, 0])
    np.testing.assert_array_equal(d[C.REWARDS][:, p1], [0, 1, 0, 0])
    for c in (p0, p1):
        np.testing.assert_array_equal(d[C.MASK][:, c], [True, True, True, False])
        np.testing.assert_array_equal(d[C.TERMINATEDS][:, c], [False, False, True, False])
        assert not d[C.TRUNCATEDS][:, c].any()
        np.testing.assert_array_equal(d[C.OBS][3, c], FINAL)  # the final observation
    np.testing.assert_array_equal(d[C.OBS][:3, p0], [P0_FIRST, P0_AFTER_0, P0_AFTER_0])
    np.testing.assert_array_equal(d[C.OBS][:3, p1], [P1_AFTER_0, P1_AFTER_1, P1_AFTER_0])
    np.testing.assert_array_equal(d[C.ACTIONS][:3, p0], [0, 1, 0])
    np.testing.assert_array_equal(d[C.ACTIONS][:3, p1], [0, 0, 0])
    assert d[C.ACTION_DIST_INPUTS].shape == (4, 2, 3)
    # The rows hold every reward except the one that reached p1 before it first acted.
    assert emitted_reward(ro) == 4.0
    runner.stop()


def test_turn_based_open_rows_are_carried_into_the_next_sample(scripted):
    runner = make_runner(TURN, ppo_spec(TURN))
    # m1..m4: p0's rows m1 and m3 are closed (p0 has its next observation); p1's m2 row is
    # closed, its m4 row is open (it waits for its turn) and must not be emitted yet.
    first = runner.sample(4)
    part = only_part(first)
    p0, p1 = col(part, 0), col(part, 1)
    assert part.data[C.REWARDS].shape == (2, 2)
    np.testing.assert_array_equal(part.data[C.REWARDS][:, p0], [1, 1])
    np.testing.assert_array_equal(part.data[C.MASK][:, p0], [True, True])
    # p1 has one row: front-padded by one masked row, its last row at T-1.
    np.testing.assert_array_equal(part.data[C.MASK][:, p1], [False, True])
    np.testing.assert_array_equal(part.data[C.REWARDS][:, p1], [0, 0])
    np.testing.assert_array_equal(part.data[C.OBS][1, p1], P1_AFTER_0)
    assert not part.data[C.TERMINATEDS].any() and not part.data[C.TRUNCATEDS].any()
    assert first.episode_returns == []

    # m5, m6: the episode ends. p1's m4 row comes now, with m5's reward (+1) on it.
    second = runner.sample(2)
    part = only_part(second)
    p0, p1 = col(part, 0), col(part, 1)
    d = part.data
    assert d[C.REWARDS].shape == (3, 2)
    np.testing.assert_array_equal(d[C.MASK][:, p0], [False, True, False])
    np.testing.assert_array_equal(d[C.REWARDS][:, p0], [0, 1, 0])  # m6's reward on m5's row
    np.testing.assert_array_equal(d[C.TERMINATEDS][:, p0], [False, True, False])
    np.testing.assert_array_equal(d[C.MASK][:, p1], [True, True, False])
    np.testing.assert_array_equal(d[C.REWARDS][:, p1], [1, 0, 0])
    np.testing.assert_array_equal(d[C.TERMINATEDS][:, p1], [False, True, False])
    np.testing.assert_array_equal(d[C.OBS][:2, p1], [P1_AFTER_1, P1_AFTER_0])
    np.testing.assert_array_equal(d[C.OBS][2, p0], FINAL)
    np.testing.assert_array_equal(d[C.OBS][2, p1], FINAL)
    assert second.episode_returns == [5.0]
    assert emitted_reward(first) + emitted_reward(second) == 4.0
    runner.stop()


def test_turn_based_bootstrap_obs_is_the_observation_after_the_last_emitted_row(scripted):
    runner = make_runner(TURN, ppo_spec(TURN))
    part = only_part(runner.sample(4))
    p0, p1 = col(part, 0), col(part, 1)
    # p0 waits to act on m5's observation: that one follows its m3 row.
    np.testing.assert_array_equal(part.bootstrap_obs[p0], P0_AFTER_0)
    # p1's last emitted row is m2 (observation P1_AFTER_0); the observation after it is the
    # one p1 acted on in m4 (P1_AFTER_1), which GAE must bootstrap from.
    np.testing.assert_array_equal(part.bootstrap_obs[p1], P1_AFTER_1)
    runner.stop()


@pytest.mark.parametrize("steps", [1, 7, 14])
def test_turn_based_every_reward_after_an_agents_first_act_lands_on_a_row_once(steps):
    env_cfg = {"id": "tests.helpers.ma_envs:RecordingTurnBasedGuess"}
    runner = make_runner(env_cfg, ppo_spec(env_cfg), num_envs=2, seed=steps)
    emitted, valid_rows, agent_steps = 0.0, 0, 0
    for _ in range(42 // steps):  # random actions; every sub-env ends its 7th episode
        ro = runner.sample(steps)
        emitted += emitted_reward(ro)
        valid_rows += int(sum(p.data[C.MASK].sum() for p in ro.module_parts()))
        agent_steps += sum(ro.agent_steps.values())
        for p in ro.module_parts():
            assert len(set(p.columns.tolist())) == len(p.columns)
    envs = [e.env for e in runner.envs]
    assert sum(e.paid for e in envs) > 0
    assert emitted == sum(e.paid_after_first_act for e in envs)
    assert valid_rows == agent_steps == 84  # every action is one unmasked row, exactly once
    runner.stop()


# --- JoinLeaveEnv: agents that join late and leave early ---------------------------------------


def test_join_leave_lanes_returns_and_padding():
    runner = make_runner(JOIN, ppo_spec(JOIN))
    ro = runner.sample(8)  # the whole episode: a acts in steps 1-8, b in 3-8, c in 4-5
    assert ro.episode_returns == [16.0] and ro.episode_lengths == [8]
    assert ro.agent_episode_returns == {"a": [8.0], "b": [6.0], "c": [2.0]}
    assert ro.module_episode_returns == {"default_policy": [16.0]}
    assert ro.agent_steps == {"a": 8, "b": 6, "c": 2}
    part = only_part(ro)
    d = part.data
    assert d[C.REWARDS].shape == (9, 3)
    a, b, c = col(part, 0), col(part, 1), col(part, 2)
    T, F = True, False
    np.testing.assert_array_equal(d[C.MASK][:, a], [T] * 8 + [F])
    np.testing.assert_array_equal(d[C.MASK][:, b], [F] * 2 + [T] * 6 + [F])
    np.testing.assert_array_equal(d[C.MASK][:, c], [F] * 6 + [T, T, F])
    for k, n in ((a, 8), (b, 6), (c, 2)):
        np.testing.assert_array_equal(d[C.REWARDS][:, k], [0] * (8 - n) + [1] * n + [0])
    # observations [step, agent index]; final rows hold the final observation
    np.testing.assert_array_equal(d[C.OBS][:, a], [[t, 0] for t in range(9)])
    np.testing.assert_array_equal(d[C.OBS][2:, b], [[t, 1] for t in range(2, 9)])
    np.testing.assert_array_equal(d[C.OBS][6:, c], [[3, 2], [4, 2], [5, 2]])
    # c is terminated by step 5; a and b are truncated by step 8
    np.testing.assert_array_equal(d[C.TERMINATEDS][:, c], [F] * 7 + [T, F])
    for k in (a, b):
        np.testing.assert_array_equal(d[C.TRUNCATEDS][:, k], [F] * 7 + [T, F])
    assert d[C.TERMINATEDS][:, [a, b]].sum() == 0 and d[C.TRUNCATEDS][:, c].sum() == 0
    runner.stop()


def test_join_leave_the_leaving_agent_ends_while_the_others_go_on():
    runner = make_runner(JOIN, ppo_spec(JOIN))
    part = only_part(runner.sample(5))  # c leaves in step 5
    a, b, c = col(part, 0), col(part, 1), col(part, 2)
    d = part.data
    assert d[C.REWARDS].shape == (5, 3)
    np.testing.assert_array_equal(d[C.MASK][:, c], [False, False, True, True, False])
    np.testing.assert_array_equal(d[C.TERMINATEDS][:, c], [False, False, False, True, False])
    np.testing.assert_array_equal(d[C.OBS][4, c], [5, 2])
    for k in (a, b):  # still playing: no flags, no final row yet
        assert d[C.MASK][-1, k] and not d[C.TERMINATEDS][:, k].any()
        assert not d[C.TRUNCATEDS][:, k].any()
    np.testing.assert_array_equal(d[C.MASK][:, b], [False, False, True, True, True])
    np.testing.assert_array_equal(part.bootstrap_obs[a], [5, 0])
    np.testing.assert_array_equal(part.bootstrap_obs[b], [5, 1])

    ro = runner.sample(3)  # steps 6-8: only a and b have rows
    part = only_part(ro)
    assert sorted(part.columns.tolist()) == [0, 1]
    for k in (col(part, 0), col(part, 1)):
        np.testing.assert_array_equal(part.data[C.MASK][:, k], [True, True, True, False])
        np.testing.assert_array_equal(part.data[C.REWARDS][:, k], [1, 1, 1, 0])
        np.testing.assert_array_equal(part.data[C.TRUNCATEDS][:, k], [False, False, True, False])
    assert ro.episode_returns == [16.0]
    assert ro.agent_episode_returns == {"a": [8.0], "b": [6.0], "c": [2.0]}
    runner.stop()


# --- vectorized sub-envs, several modules ------------------------------------------------------


def test_vectorized_env_steps_and_distinct_columns():
    spec = ppo_spec(CARTPOLE2)
    one = make_runner(CARTPOLE2, spec, num_envs=1)
    three = make_runner(CARTPOLE2, spec, num_envs=3)
    ro1, ro3 = one.sample(5), three.sample(5)  # CartPole lasts more than 5 steps
    assert ro1.num_env_steps == ro1.env_steps == 5
    assert ro3.num_env_steps == ro3.env_steps == 15
    assert ro3.agent_steps == {"0": 15, "1": 15}
    part = only_part(ro3)
    assert sorted(part.columns.tolist()) == [0, 1, 2, 3, 4, 5]  # env * 2 + agent
    assert part.data[C.REWARDS].shape == (5, 6) and part.data[C.MASK].all()
    assert part.bootstrap_obs.shape == (6, 4)
    one.stop()
    three.stop()


def test_vectorized_cartpole_streams_start_from_distinct_states():
    runner = make_runner(CARTPOLE2, ppo_spec(CARTPOLE2), num_envs=3)
    part = only_part(runner.sample(1))  # seeded resets: seed + sub-env index
    starts = [tuple(part.data[C.OBS][0, k]) for k in range(6)]
    for _ in range(2):  # later episodes: reset(seed=None) goes on from the seeded RNGs
        for env in runner.envs:
            obs, _ = env.reset(seed=None)
            starts += [tuple(obs[a]) for a in (0, 1)]
    assert len(set(starts)) == len(starts) == 18
    runner.stop()


def test_two_modules_each_agents_rows_land_only_in_its_module():
    spec = ppo_spec(CARTPOLE2, {"p0": [0], "p1": [1]})
    runner = make_runner(CARTPOLE2, spec, num_envs=2, mapping="tests.helpers.mapping:by_index")
    ro = runner.sample(30)  # episodes end on the way: final rows, new episodes
    p0, p1 = only_part(ro, "p0"), only_part(ro, "p1")
    assert sorted(p0.columns.tolist()) == [0, 2]  # agent 0 of envs 0 and 1
    assert sorted(p1.columns.tolist()) == [1, 3]
    assert int(p0.data[C.MASK].sum()) == ro.agent_steps["0"]
    assert int(p1.data[C.MASK].sum()) == ro.agent_steps["1"]
    runner.stop()

    spec = ppo_spec(JOIN, {"p0": ["a"], "p1": ["b", "c"]})
    runner = make_runner(JOIN, spec, mapping="tests.helpers.mapping:a_alone")
    ro = runner.sample(8)
    p0, p1 = only_part(ro, "p0"), only_part(ro, "p1")
    assert p0.columns.tolist() == [0] and sorted(p1.columns.tolist()) == [1, 2]
    # JoinLeaveEnv's observation holds the agent's index: a is 0, b 1, c 2.
    assert set(p0.data[C.OBS][..., 1][p0.data[C.MASK]].tolist()) == {0.0}
    assert set(p1.data[C.OBS][..., 1][p1.data[C.MASK]].tolist()) == {1.0, 2.0}
    assert int(p0.data[C.MASK].sum()) == 8 and int(p1.data[C.MASK].sum()) == 8
    assert ro.module_episode_returns == {"p0": [8.0], "p1": [8.0]}
    runner.stop()


def test_agents_that_change_modules_between_episodes(scripted):
    """Self-play: the players swap modules every episode. A lane's rows go to the module its
    agent had in their episode; a column that feeds a module twice in one fragment comes as a
    second Rollout (no buffer column is written twice in one add)."""
    spec = ppo_spec(TURN, {"A": ["p0"], "B": ["p1"]})
    runner = make_runner(TURN, spec, mapping="tests.helpers.mapping:swap_each_episode")
    ro = runner.sample(24)  # four episodes: A plays p0, p1, p0, p1
    assert ro.module_episode_returns == {"A": [3.0, 2.0, 3.0, 2.0], "B": [2.0, 3.0, 2.0, 3.0]}
    assert ro.agent_episode_returns == {"p0": [3.0] * 4, "p1": [2.0] * 4}
    for mid in ("A", "B"):
        parts = [p for p in ro.module_parts() if p.module_id == mid]
        assert len(parts) == 2
        for p in parts:
            assert sorted(p.columns.tolist()) == [0, 1]
            assert p.data[C.MASK].sum() == 6 and p.data[C.TERMINATEDS].sum() == 2
        # each module's rows hold 3 (as p0) + 1 (as p1) per pair of episodes
        assert sum(float(p.data[C.REWARDS].sum()) for p in parts) == 8.0
    first_a = [p for p in ro.module_parts() if p.module_id == "A"][0]
    # in episode 1 A was p0 (column 0): its rows earn [1, 1, 1]
    np.testing.assert_array_equal(first_a.data[C.REWARDS][:, col(first_a, 0)], [1, 1, 1, 0])
    np.testing.assert_array_equal(first_a.data[C.REWARDS][:, col(first_a, 1)], [0, 1, 0, 0])
    runner.stop()


def test_frozen_modules_act_but_record_no_rows():
    spec = ppo_spec(CARTPOLE2, {"p0": [0], "p1": [1]}, trainable=["p0"])
    runner = make_runner(CARTPOLE2, spec, num_envs=2, mapping="tests.helpers.mapping:by_index")
    ro = runner.sample(10)
    assert [p.module_id for p in ro.module_parts()] == ["p0"]
    assert ro.agent_steps == {"0": 20, "1": 20}
    runner.stop()


# --- sample_episodes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env_cfg", "n", "num_envs", "ret", "length"),
    [(TURN, 3, 2, None, 6), (JOIN, 5, 2, 16.0, 8), (JOIN, 1, 3, 16.0, 8)],
)
def test_sample_episodes_returns_exactly_n(env_cfg, n, num_envs, ret, length):
    runner = make_runner(env_cfg, ppo_spec(env_cfg), num_envs=num_envs)
    runner.sample(3)  # an episode in progress is dropped, not counted
    rets, lens = runner.sample_episodes(n)
    assert len(rets) == len(lens) == n
    assert lens == [length] * n
    if ret is not None:
        assert rets == [ret] * n
    # Sampling for training starts afresh afterwards.
    ro = runner.sample(2)
    assert ro.fresh and ro.num_env_steps == 2 * num_envs
    runner.stop()
