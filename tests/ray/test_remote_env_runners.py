"""Remote EnvRunners (rlrun.env.remote_env_runner_group) on a local Ray."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlrun.connectors.connector import build_env_to_module
from rlrun.core import columns as C
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.make_env import make_single_env
from rlrun.env.remote_env_runner_group import RemoteEnvRunnerGroup

pytestmark = pytest.mark.usefixtures("ray_session")

ENV = {"id": "CartPole-v1", "env_config": {}}


def spec_and_space(runner_cfg: dict) -> tuple[RLModuleSpec, object]:
    probe = make_single_env(ENV)
    obs_space = probe.observation_space
    flt = runner_cfg.get("observation_filter", "NoFilter")
    pipeline = build_env_to_module(flt, [], obs_space, probe.action_space)
    module_obs = pipeline.observation_space(obs_space)
    spec = RLModuleSpec(
        "rlrun.algorithms.ppo.module:PPOModule",
        module_obs,
        probe.action_space,
        {"fcnet_hiddens": [8]},
    )
    probe.close()
    return spec, obs_space


def make_group(num_runners: int = 2, **runner_cfg) -> RemoteEnvRunnerGroup:
    cfg = {
        "num_env_runners": num_runners,
        "num_envs_per_env_runner": 3,
        "num_cpus_per_env_runner": 1,
        "num_gpus_per_env_runner": 0,
        "sample_timeout_s": 60,
        **runner_cfg,
    }
    spec, obs_space = spec_and_space(cfg)
    group = RemoteEnvRunnerGroup(ENV, cfg, {}, spec, obs_space, seed=0)
    torch.manual_seed(0)
    group.sync_weights(spec.build().state_dict())
    return group


def actor_filter_state(actor) -> dict:  # noqa: ANN001 - a Ray actor handle
    import ray

    return ray.get(actor.__ray_call__.remote(lambda runner: runner.env_to_module.get_state()))


def test_each_runner_returns_one_time_major_fragment_and_stats_add_up():
    group = make_group(2)
    try:
        rollouts = group.sample(50)
        assert len(rollouts) == 2
        for ro in rollouts:
            assert ro[C.OBS].shape == (50, 3, 4) and ro[C.REWARDS].shape == (50, 3)
        # Runners use different seeds: their fragments differ.
        assert not np.array_equal(rollouts[0][C.OBS], rollouts[1][C.OBS])
        m = group.get_metrics()
        assert m["num_env_steps_sampled_lifetime"] == sum(ro.env_steps for ro in rollouts)
        assert m["num_episodes"] == sum(len(ro.episode_returns) for ro in rollouts) > 0
        assert m["num_healthy_env_runners"] == 2 and m["num_env_runner_restarts"] == 0
        assert group.num_envs_total == 6
    finally:
        group.stop()


def test_weights_go_out_with_one_put_per_sync(monkeypatch: pytest.MonkeyPatch):
    import ray

    group = make_group(3)
    try:
        puts = []
        real_put = ray.put
        monkeypatch.setattr(
            ray, "put", lambda value, **kw: puts.append(value) or real_put(value, **kw)
        )
        weights = {
            k: torch.full_like(v, 0.25) for k, v in group.module_spec.build().state_dict().items()
        }
        group.sync_weights(weights)
        assert len(puts) == 1, "one object for all runners"
        for actor in group.runners.values():
            got = ray.get(actor.__ray_call__.remote(lambda runner: runner.module.state_dict()))
            for k, v in weights.items():
                torch.testing.assert_close(got[k], v)
    finally:
        group.stop()


def test_filter_deltas_are_merged_once_and_broadcast():
    group = make_group(2, observation_filter="MeanStdFilter")
    try:
        T = 40
        rollouts = group.sample(T)
        # Each sub-env's first observation plus one per step, counted once in the driver.
        n_obs = 2 * 3 * (T + 1)
        assert float(group.master.get_state()["0.count"]) == n_obs
        # The driver's mean is the mean of exactly what the runners saw: the fragments' raw
        # observations are normalized, so check against a fresh filter fed the same counts.
        group.sync_weights(group.module_spec.build().state_dict())
        master = group.master.get_state()
        for actor in group.runners.values():
            state = actor_filter_state(actor)
            for k, v in master.items():
                np.testing.assert_allclose(state[k], v)
        # The next fragment counts only new observations (T per sub-env).
        group.sample(T)
        assert float(group.master.get_state()["0.count"]) == n_obs + 2 * 3 * T
        assert rollouts[0].connector_delta  # the delta travelled with the fragment
    finally:
        group.stop()


def test_local_runner_follows_the_synced_weights_and_filter():
    group = make_group(1, observation_filter="MeanStdFilter")
    try:
        group.sample(10)
        weights = {k: v + 0.5 for k, v in group.module_spec.build().state_dict().items()}
        group.sync_weights(weights)
        local = group.local_runner
        for k, v in weights.items():
            torch.testing.assert_close(local.module.state_dict()[k], v)
        np.testing.assert_allclose(
            local.env_to_module.get_state()["0.mean"], group.master.get_state()["0.mean"]
        )
    finally:
        group.stop()


def test_a_local_checkpoint_resumes_on_remote_runners_with_its_filter(tmp_path):
    import rlrun

    small = [
        "algo.train_batch_size_per_learner=200",
        "algo.minibatch_size=100",
        "algo.num_epochs=1",
        "env_runner.num_envs_per_env_runner=2",
        "env_runner.observation_filter=MeanStdFilter",
    ]
    local = rlrun.build(small)
    try:
        local.train()
        path = local.save(tmp_path / "checkpoint_000001")
        saved = local.env_runner_group.get_state()
    finally:
        local.stop()
    remote = rlrun.build([*small, "env_runner.num_env_runners=2"])
    try:
        remote.restore(path)
        assert remote.iteration == 1
        master = remote.env_runner_group.get_state()
        for k, v in saved["connector"].items():
            np.testing.assert_array_equal(master["connector"][k], v)
        assert master["counters"] == saved["counters"]
        for actor in remote.env_runner_group.runners.values():
            for k, v in actor_filter_state(actor).items():
                np.testing.assert_array_equal(v, saved["connector"][k])
        result = remote.train()
        assert result["training_iteration"] == 2
        assert (
            result["num_env_steps_sampled_lifetime"] > saved["counters"]["num_env_steps_lifetime"]
        )
    finally:
        remote.stop()


def test_dqn_samples_from_remote_runners_into_their_own_replay_columns():
    import rlrun

    algo = rlrun.build(
        [
            "algo=dqn",
            "env_runner.num_env_runners=2",
            "env_runner.num_envs_per_env_runner=2",
            "algo.min_sample_timesteps_per_iteration=200",
            "algo.learning_starts=100",
        ]
    )
    try:
        result = algo.train()
        # Each remote call brought a whole iteration's share: 200 steps over 4 sub-envs.
        assert algo.fragment_length() == 50
        assert result["replay"]["size"] == result["num_env_steps_sampled_lifetime"] >= 190
        # Runner 1 fills columns 0-1, runner 2 columns 2-3.
        assert algo.replay.num_columns == 4 and (algo.replay._sizes > 0).all()
        assert result["learners"]["default_policy"]["num_module_steps_trained"] > 0
    finally:
        algo.stop()
