"""EnvRunner (rlrun.env.env_runner) on tiny deterministic envs from tests/helpers/envs.py.

FixedLengthEnv's observation is [steps taken in this episode, episode index], so the rollout
itself shows where episodes end and which rows are autoreset steps.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rlrun.core import columns as C
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.env_runner import EnvRunner
from rlrun.env.episode_stats import EpisodeStats
from rlrun.env.make_env import make_single_env

FIXED = "tests.helpers.envs:FixedLengthEnv"
BOX = "tests.helpers.envs:BoxActionEnv"


def make_runner(env_id=FIXED, env_config=None, seed=0, module_config=None, **runner_cfg):
    env_cfg = {"id": env_id, "env_config": env_config or {}}
    probe = make_single_env(env_cfg)
    spec = RLModuleSpec(
        "rlrun.algorithms.ppo.module:PPOModule",
        probe.observation_space,
        probe.action_space,
        {"fcnet_hiddens": [8], **(module_config or {})},
    )
    probe.close()
    torch.manual_seed(seed)
    runner_cfg.setdefault("num_envs_per_env_runner", 2)
    return EnvRunner(env_cfg, runner_cfg, spec, seed=seed)


@pytest.mark.parametrize("truncate", [False, True])
def test_valid_mask_is_false_exactly_on_autoreset_rows(truncate: bool):
    k, T = 3, 11
    runner = make_runner(env_config={"length": k, "truncate": truncate})
    ro = runner.sample(T)
    assert ro.num_steps == T and ro.num_envs == 2
    # Per sub-env: k real steps, then one autoreset step, repeated.
    expected_valid = np.array([(t % (k + 1)) != k for t in range(T)])
    expected_done = np.array([(t % (k + 1)) == k - 1 for t in range(T)])
    for n in range(2):
        np.testing.assert_array_equal(ro[C.VALID][:, n], expected_valid)
        ended = ro[C.TRUNCATEDS][:, n] if truncate else ro[C.TERMINATEDS][:, n]
        other = ro[C.TERMINATEDS][:, n] if truncate else ro[C.TRUNCATEDS][:, n]
        np.testing.assert_array_equal(ended, expected_done)
        assert not other.any()
    # An autoreset row shows the finished episode's final observation (k steps taken) and earns
    # nothing; every real step earns 1.
    obs_t = ro[C.OBS][..., 0]
    assert (obs_t[~ro[C.VALID]] == k).all()
    assert (obs_t[ro[C.VALID]] < k).all()
    assert (ro[C.REWARDS][~ro[C.VALID]] == 0).all()
    assert (ro[C.REWARDS][ro[C.VALID]] == 1).all()
    # Env steps count real steps only.
    assert ro.env_steps == int(expected_valid.sum()) * 2
    assert runner.num_env_steps_lifetime == ro.env_steps


def test_rollout_columns_and_bootstrap_obs():
    runner = make_runner(env_config={"length": 4})
    ro = runner.sample(6)
    assert ro[C.OBS].shape == (6, 2, 2) and ro[C.OBS].dtype == np.float32
    assert ro[C.ACTIONS].shape == (6, 2) and ro[C.ACTIONS].dtype == np.int64
    assert ro[C.ACTION_DIST_INPUTS].shape == (6, 2, 2)
    assert set(np.unique(ro[C.ACTIONS])) <= {0, 1}
    # Rows 0-3 episode 0 (done on row 3), row 4 autoreset, row 5 = step 0 of episode 1; the
    # observation after the last step is step 1 of episode 1.
    np.testing.assert_array_equal(ro[C.OBS][:, 0, 0], [0, 1, 2, 3, 4, 0])
    np.testing.assert_array_equal(ro.bootstrap_obs, [[1, 1], [1, 1]])
    # The stored dist inputs are what the module outputs for the stored observations.
    with torch.no_grad():
        out = runner.module.forward_exploration({C.OBS: torch.from_numpy(ro[C.OBS][2])})
    np.testing.assert_allclose(
        ro[C.ACTION_DIST_INPUTS][2], out[C.ACTION_DIST_INPUTS].numpy(), rtol=1e-6
    )


def test_episode_returns_and_lengths_and_episodes_spanning_sample_calls():
    k = 3
    runner = make_runner(env_config={"length": k})
    stats = EpisodeStats(100)
    ro = runner.sample(5)  # rows 0-2: episode 0, row 3: autoreset, row 4: step 1 of episode 1
    assert ro.episode_returns == [k, k] and ro.episode_lengths == [k, k]
    stats.add(ro)
    m1 = stats.metrics()
    assert m1["num_episodes"] == 2  # one per sub-env
    assert m1["episode_return_mean"] == k and m1["episode_len_mean"] == k
    stats.add(runner.sample(5))  # episode 1 finishes on the 2nd row of this call
    m2 = stats.metrics()
    assert m2["num_episodes"] == 2
    assert m2["num_episodes_lifetime"] == 4
    # The episode that spans the two calls is counted whole: length 3, return 3.
    assert m2["episode_len_mean"] == k
    assert m2["episode_return_min"] == m2["episode_return_max"] == k
    assert m2["num_env_steps_sampled_lifetime"] == runner.num_env_steps_lifetime == 2 * 8


def test_metrics_window_and_num_episodes_reset():
    # One sub-env, episode lengths cycling 2, 3, 4; the window keeps the last 2 episodes.
    runner = make_runner(
        env_config={"lengths": [2, 3, 4]},
        num_envs_per_env_runner=1,
        metrics_num_episodes_for_smoothing=2,
    )
    stats = EpisodeStats(2)
    empty = stats.metrics()
    assert math.isnan(empty["episode_return_mean"]) and empty["num_episodes"] == 0
    # ep0 rows 0-1, autoreset 2, ep1 rows 3-5, autoreset 6, ep2 rows 7-10.
    ro = runner.sample(11)
    assert ro.env_steps == 9
    stats.add(ro)
    m = stats.metrics()
    assert m["num_episodes"] == 3
    assert m["num_episodes_lifetime"] == 3
    assert m["episode_return_mean"] == pytest.approx(3.5)  # window [3, 4]; 2 has left it
    assert m["episode_return_min"] == 3 and m["episode_return_max"] == 4
    assert m["episode_len_mean"] == pytest.approx(3.5)
    again = stats.metrics()
    assert again["num_episodes"] == 0  # reset by the previous report
    assert again["episode_return_mean"] == pytest.approx(3.5)  # the window stays
    assert again["num_episodes_lifetime"] == 3


def test_box_actions_clipped_for_env_but_not_in_rollout():
    # std e^1.5 ~ 4.5: most sampled actions fall outside [-1, 1]. BoxActionEnv asserts that every
    # action it gets is inside its bounds and reports it back in obs[1].
    runner = make_runner(env_id=BOX, env_config={"length": 4}, module_config={"log_std_init": 1.5})
    ro = runner.sample(20)
    acts = ro[C.ACTIONS]
    assert acts.shape == (20, 2, 1) and acts.dtype == np.float32
    assert (np.abs(acts) > 1.0).mean() > 0.3  # the learner sees the unclipped samples
    seen = 0
    for t in range(19):
        for n in range(2):
            if ro[C.VALID][t, n]:
                # The env received the clipped action.
                assert ro[C.OBS][t + 1, n, 1] == pytest.approx(float(np.clip(acts[t, n, 0], -1, 1)))
                seen += 1
    assert seen > 20


def test_sample_episodes_returns_exactly_n_episodes():
    runner = make_runner(env_config={"length": 4}, num_envs_per_env_runner=3)
    runner.explore = False
    runner.sample(3)  # a half-finished training episode must not leak into evaluation
    for n in (1, 5, 7):
        rets, lens = runner.sample_episodes(n)
        assert len(rets) == len(lens) == n
        assert rets == [4.0] * n and lens == [4] * n
    # Training sampling starts afresh afterwards.
    ro = runner.sample(2)
    np.testing.assert_array_equal(ro[C.OBS][0, :, 0], [0, 0, 0])


def test_sample_is_deterministic_for_a_seed():
    a = make_runner(env_config={"length": 3}, seed=7).sample(12)
    b = make_runner(env_config={"length": 3}, seed=7).sample(12)
    for key in (C.OBS, C.ACTIONS, C.ACTION_DIST_INPUTS, C.VALID):
        np.testing.assert_array_equal(a[key], b[key])


def test_state_round_trip_keeps_filter_and_stats_window():
    runner = make_runner(env_config={"lengths": [2, 3]}, observation_filter="MeanStdFilter")
    stats = EpisodeStats(100)
    stats.add(runner.sample(9))
    other = make_runner(env_config={"lengths": [2, 3]}, observation_filter="MeanStdFilter")
    other.set_state(runner.get_state())
    other_stats = EpisodeStats(100)
    other_stats.set_state(stats.get_state())
    assert other_stats.num_env_steps_lifetime == stats.num_env_steps_lifetime == 14
    assert other_stats.num_episodes_lifetime == stats.num_episodes_lifetime > 0
    m_a, m_b = stats.metrics(), other_stats.metrics()
    assert m_a["episode_return_mean"] == m_b["episode_return_mean"]
    for k, v in runner.env_to_module.get_state().items():
        np.testing.assert_array_equal(other.env_to_module.get_state()[k], v)


def test_mean_std_filter_sees_every_observation_once():
    """The filter's count is the number of observations the env produced: the first reset obs
    of each sub-env plus one per step. The observation at the boundary between two sample()
    calls must not be counted twice."""
    T, n = 5, 2
    runner = make_runner(env_config={"length": 100}, observation_filter="MeanStdFilter")
    runner.sample(T)
    flt = runner.env_to_module.pieces[0]
    assert float(flt.count) == (1 + T) * n
    runner.sample(T)
    assert float(flt.count) == (1 + 2 * T) * n
