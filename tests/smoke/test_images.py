"""Image envs through the whole training path: the Atari tuned example (pong_ppo, for a GPU or
a cluster: here a short run shows it works) and MinAtar."""

from __future__ import annotations

import numpy as np
import pytest

import rlrun


def test_pong_ppo_trains_an_iteration_on_preprocessed_frames(tmp_path):
    pytest.importorskip("ale_py")
    algo = rlrun.build(
        [
            "experiment=pong_ppo",
            "algo.train_batch_size_per_learner=256",
            "algo.minibatch_size=128",
            "algo.num_epochs=1",
            "env_runner.num_envs_per_env_runner=2",
        ]
    )
    try:
        assert algo.module_spec.observation_space.shape == (4, 84, 84)
        assert algo.module_spec.observation_space.dtype == np.uint8
        result = algo.train()
        assert result["num_env_steps_sampled_lifetime"] >= 250
        assert result["learners"]["default_policy"]["num_module_steps_trained"] > 0
        frame = np.zeros((4, 84, 84), np.uint8)
        assert algo.compute_single_action(frame) in range(6)
        assert (algo.save(tmp_path / "ckpt") / "rlrun_checkpoint.json").exists()
    finally:
        algo.stop()


def test_minatar_breakout_trains_an_iteration():
    pytest.importorskip("minatar")
    algo = rlrun.build(["experiment=minatar_breakout_ppo", "algo.train_batch_size_per_learner=512"])
    try:
        assert algo.module_spec.observation_space.shape == (10, 10, 4)
        assert algo.train()["num_env_steps_sampled_lifetime"] > 400  # autoreset rows do not count
    finally:
        algo.stop()
