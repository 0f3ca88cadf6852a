"""DQN and SAC end to end in the driver (rlrun.algorithms.off_policy): tiny runs, replay in
checkpoints, and the action-space errors."""

from __future__ import annotations

import pytest

import rlrun
from rlrun.errors import ConfigError

TINY = [
    "algo.min_sample_timesteps_per_iteration=100",
    "algo.learning_starts=50",
    "algo.train_batch_size_per_learner=32",
    "algo.model.fcnet_hiddens=[16]",
    "env_runner.num_envs_per_env_runner=2",
]


def run(overrides: list[str], iterations: int = 2):
    algo = rlrun.build([*TINY, *overrides])
    results = [algo.train() for _ in range(iterations)]
    return algo, results


@pytest.mark.parametrize(
    ("overrides", "learner_keys"),
    [
        (["algo=dqn", "env=CartPole-v1"], {"qf_loss", "curr_epsilon", "td_error_mean"}),
        (
            ["algo=dqn", "env=CartPole-v1", "algo.num_atoms=11", "algo.v_max=50",
             "algo.replay.prioritized=true", "algo.n_step=3"],
            {"qf_loss", "td_error_mean"},
        ),
        (["algo=sac", "env=Pendulum-v1"], {"qf_loss", "actor_loss", "alpha_value"}),
        (["algo=sac", "env=CartPole-v1"], {"qf_loss", "actor_loss", "alpha_value"}),
    ],
)  # fmt: skip
def test_trains_and_reports(overrides, learner_keys):
    algo, results = run(overrides)
    try:
        last = results[-1]
        assert last["num_env_steps_sampled_lifetime"] >= 200
        learner = last["learners"]["default_policy"]
        assert learner_keys <= set(learner)
        # An iteration replays training_intensity transitions per sampled step (summed over its
        # rounds; a fraction of a batch carries over).
        replayed = (
            last["env_runners"]["num_env_steps_sampled"] * algo.algo_config.training_intensity
        )
        assert abs(learner["num_module_steps_trained"] - replayed) <= 32
        assert last["timers"]["learner_update_timer"] > 0.2 * last["time_this_iter_s"]
        assert last["replay"]["size"] == min(last["num_env_steps_sampled_lifetime"], 50_000)
        action = algo.compute_single_action(algo.env_runner_group.local_runner._obs[0])
        assert algo.env_runner_group.local_runner.action_space.contains(action)
    finally:
        algo.stop()


def test_dqn_on_box_actions_is_a_config_error():
    with pytest.raises(ConfigError, match=r"DQN.*Discrete action space"):
        rlrun.build(["algo=dqn", "env=Pendulum-v1"])


@pytest.mark.parametrize("include", [True, False])
def test_replay_buffer_in_checkpoints(tmp_path, include):
    algo, _ = run(["algo=dqn", "env=CartPole-v1", f"checkpoint.include_replay_buffer={include}"])
    try:
        path = algo.save(tmp_path / "checkpoint_000002")
        size = len(algo.replay)
    finally:
        algo.stop()
    assert (path / "replay" / "buffer.npz").exists() is include
    restored = rlrun.Algorithm.from_checkpoint(path)
    try:
        assert len(restored.replay) == (size if include else 0)
        assert restored.num_env_steps_sampled_lifetime == algo.num_env_steps_sampled_lifetime
        restored.train()
    finally:
        restored.stop()
