"""restart_failed_sub_environments in the EnvRunner (no Ray): the failed step is dropped, the
cut-off episode ends at its last real observation and stays out of the return statistics."""

from __future__ import annotations

import numpy as np
import torch

from rlrun.core import columns as C
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.env_runner import EnvRunner
from rlrun.env.make_env import make_single_env
from tests.helpers.modules import tiny_ppo_spec

# FaultyEnv over the tests' FixedLengthEnv is not possible (it wraps a Gymnasium id), so use
# CartPole and read the structure from the flags.
ENV = {"id": "rlrun.env.debug_envs:FaultyEnv", "env_config": {"fail_at_step": 5}}


def make_runner() -> EnvRunner:
    spec = tiny_ppo_spec(ENV)
    torch.manual_seed(0)
    return EnvRunner(
        ENV, {"num_envs_per_env_runner": 2}, spec, seed=0, worker_index=3,
        recreate_failed_sub_envs=True,
    )  # fmt: skip


def test_failed_step_is_dropped_and_the_episode_cut_at_its_last_real_observation():
    runner = make_runner()
    ro = runner.sample(8)
    # Both sub-envs fail on their 5th step (row 4); CartPole's first episodes last longer.
    valid, trunc = ro[C.VALID], ro[C.TRUNCATEDS]
    assert valid[:4].all()
    assert not valid[4].any(), "the made-up step is not training data"
    assert trunc[3].all(), "the row before ends the episode and bootstraps from row 4's obs"
    assert not valid[5].any(), "then the usual autoreset row"
    assert valid[6:].all()
    assert ro.env_steps == 2 * 6
    # The cut-off episodes are not finished episodes.
    assert ro.episode_returns == [] and ro.episode_lengths == []
    assert len(ro.sub_env_failures) == 2
    assert all(
        "env runner 3, sub-environment" in t and "deliberate failure at step 5" in t
        for t in ro.sub_env_failures
    )
    # The recreated envs count steps afresh (2 so far, rows 6-7): their next 2 steps work.
    again = runner.sample(2)
    assert again.sub_env_failures == [] and again[C.VALID].all()
    runner.stop()


def test_without_the_option_the_failure_propagates():
    probe = make_single_env(ENV)
    spec = RLModuleSpec(
        "rlrun.algorithms.ppo.module:PPOModule", probe.observation_space, probe.action_space, {}
    )
    runner = EnvRunner(ENV, {"num_envs_per_env_runner": 2}, spec, seed=0)
    try:
        runner.sample(8)
    except RuntimeError as e:
        assert "deliberate failure at step 5" in str(e)
    else:
        raise AssertionError("the env's error must reach the caller")
    finally:
        runner.stop()
        probe.close()


def test_group_reports_sub_env_restarts_and_logs_tracebacks(caplog):
    from rlrun.env.env_runner_group import EnvRunnerGroup

    probe = make_single_env(ENV)
    spec = RLModuleSpec(
        "rlrun.algorithms.ppo.module:PPOModule", probe.observation_space, probe.action_space, {}
    )
    probe.close()
    group = EnvRunnerGroup(
        ENV,
        {"num_envs_per_env_runner": 2},
        {"restart_failed_sub_environments": True},
        spec,
        seed=0,
    )
    with caplog.at_level("WARNING", logger="rlrun.fault"):
        group.sample(8)
    assert group.get_metrics()["num_sub_env_restarts"] == 2
    assert caplog.text.count("deliberate failure at step 5") == 2
    group.stop()
    assert np.isnan(group.get_metrics()["episode_return_mean"])


def test_the_driver_runner_failing_ends_the_run_as_a_training_failure(caplog):
    import pytest

    from rlrun.env.env_runner_group import EnvRunnerGroup
    from rlrun.errors import TrainingFailed

    probe = make_single_env(ENV)
    spec = RLModuleSpec(
        "rlrun.algorithms.ppo.module:PPOModule", probe.observation_space, probe.action_space, {}
    )
    probe.close()
    group = EnvRunnerGroup(ENV, {"num_envs_per_env_runner": 2}, {}, spec, seed=0)
    with caplog.at_level("WARNING", logger="rlrun.fault"), pytest.raises(TrainingFailed) as e:
        group.sample(8)
    group.stop()
    assert e.value.exit_code == 1
    assert "deliberate failure at step 5" in str(e.value)
    assert "restart_failed_sub_environments=true" in str(e.value)
    assert 'debug_envs/wrappers.py", line' in caplog.text  # the env's traceback, for error.txt
