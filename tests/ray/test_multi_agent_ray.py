"""Multi-agent runs on Ray: multi-agent env runners as actors, one learner per module inside
each (data-parallel) learner actor, and checkpoints that move between remote and local runs."""

from __future__ import annotations

import pytest
import torch

pytestmark = pytest.mark.usefixtures("ray_session")

TWO_CARTPOLES = [
    "env.id=rlrun.env.multi_agent.example_envs:MultiAgentCartPole",
    "env.env_config.num_agents=2",
    "multi_agent.policies=[p0,p1]",
    "multi_agent.policy_mapping_fn=rlrun.env.multi_agent.mappings:by_agent_index",
    "env_runner.num_envs_per_env_runner=2",
]
PPO_SMALL = [
    "algo=ppo",
    "algo.train_batch_size_per_learner=400",
    "algo.minibatch_size=200",
    "algo.num_epochs=1",
]


def test_two_modules_on_remote_runners_and_data_parallel_learners_round_trip(tmp_path):
    import ray

    import rlrun

    remote = rlrun.build(
        [
            *TWO_CARTPOLES,
            *PPO_SMALL,
            "env_runner.num_env_runners=2",
            "env_runner.num_cpus_per_env_runner=0.5",
            "learner.num_learners=2",
            "learner.num_cpus_per_learner=0.5",
        ]
    )
    try:
        result = remote.train()
        assert set(result["learners"]) == {"p0", "p1"}
        assert set(result["env_runners"]["module_episode_returns_mean"]) == {"p0", "p1"}
        # Both learner actors hold the same weights for every module after the all-reduce.
        w0, w1 = ray.get([a.get_weights.remote() for a in remote.learner_group.actors])
        assert {k.partition(".")[0] for k in w0} == {"p0", "p1"}
        for k in w0:
            torch.testing.assert_close(w0[k], w1[k])
        path = remote.save(tmp_path / "checkpoint_000001")
        weights = remote.learner_group.get_weights()
    finally:
        remote.stop()
    assert sorted(p.name for p in (path / "module").iterdir()) == ["p0", "p1"]
    local = rlrun.build([*TWO_CARTPOLES, *PPO_SMALL])
    try:
        local.restore(path)
        for k, v in local.learner_group.get_weights().items():
            torch.testing.assert_close(v, weights[k])
        assert local.train()["training_iteration"] == 2
    finally:
        local.stop()


def test_dqn_two_modules_on_remote_runners_fill_per_module_buffers():
    import rlrun

    algo = rlrun.build(
        [
            *TWO_CARTPOLES,
            "algo=dqn",
            "algo.min_sample_timesteps_per_iteration=200",
            "algo.learning_starts=100",
            "env_runner.num_env_runners=2",
            "env_runner.num_cpus_per_env_runner=0.5",
        ]
    )
    try:
        result = algo.train()
        assert set(result["learners"]) == {"p0", "p1"}
        # Each runner's agent streams land in their own columns of each module's buffer.
        for buf in algo.replays.values():
            assert len(buf) > 0 and buf.num_columns == 2 * 2 * 2  # runners * envs * agents
    finally:
        algo.stop()


def test_tictactoe_self_play_samples_on_remote_runners():
    """An AEC env with action masks, a frozen opponent and a parameterless random module."""
    import rlrun

    algo = rlrun.build(
        [
            "experiment=tictactoe_selfplay_ppo",
            "algo.train_batch_size_per_learner=400",
            "algo.minibatch_size=200",
            "algo.num_epochs=1",
            "env_runner.num_env_runners=2",
            "env_runner.num_cpus_per_env_runner=0.5",
            "env_runner.num_envs_per_env_runner=2",
            "evaluation.interval=1",
            "evaluation.duration=4",
        ]
    )
    try:
        result = algo.train()
        assert set(result["learners"]) == {"main"}
        assert "main" in result["evaluation"]["env_runners"]["module_episode_returns_mean"]
    finally:
        algo.stop()


def test_per_module_filters_merge_across_remote_runners():
    import rlrun

    algo = rlrun.build(
        [
            *TWO_CARTPOLES,
            *PPO_SMALL,
            "env_runner.num_env_runners=2",
            "env_runner.num_cpus_per_env_runner=0.5",
            "env_runner.observation_filter=MeanStdFilter",
        ]
    )
    try:
        result = algo.train()
        master = algo.env_runner_group.get_state()["connector"]
        steps = result["env_runners"]["num_module_steps_sampled_lifetime"]
        # Every remote runner's observations reach the driver's filter of their module once:
        # one per act, plus each ended agent episode's final observation (CartPole episodes
        # last 8 steps or more, so at most an eighth more).
        for m in ("p0", "p1"):
            count = float(master[f"{m}/0.count"])
            assert steps[m] <= count <= 1.2 * steps[m]
        # The merged statistics go back to the runners with the weights.
        algo.train()
        assert float(algo.env_runner_group.get_state()["connector"]["p0/0.count"]) > count
    finally:
        algo.stop()
