"""Checkpoint round trips of the new model kinds: a recurrent PPO module with stateful
connector pieces (a frame stack and the mean-std filter on a Dict observation), an image
module, and a masked DQN whose replay buffer holds a Dict observation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

import rlrun
from rlrun import Algorithm
from rlrun.core import columns as C

SMALL = ["algo.train_batch_size_per_learner=512", "algo.minibatch_size=128", "algo.num_epochs=1"]


def assert_same_weights(a: Algorithm, b: Algorithm) -> None:
    wa, wb = a.learner_group.get_weights(), b.learner_group.get_weights()
    assert wa.keys() == wb.keys()
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], msg=k)


def test_recurrent_module_with_stateful_connectors_round_trips(tmp_path: Path):
    algo = rlrun.build(
        [
            "env=DictCartPole",
            "algo.model.use_lstm=true",
            "algo.model.max_seq_len=8",
            "algo.model.lstm_use_prev_action=true",
            "env_runner.observation_filter=MeanStdFilter",
            "connectors.env_to_module=[{frame_stack:{num_frames:2}}]",
            *SMALL,
        ]
    )
    algo.train()
    saved_filter = algo.env_runner_group.get_state()["connector"]
    assert saved_filter, "the mean-std filter's statistics are connector state"
    restored = Algorithm.from_checkpoint(algo.save(tmp_path / "ckpt"))
    assert_same_weights(algo, restored)
    got = restored.env_runner_group.get_state()["connector"]
    assert got.keys() == saved_filter.keys()
    for k in got:
        np.testing.assert_allclose(got[k], saved_filter[k], err_msg=k)
    # It acts, with its state, and trains on.
    obs = {"cart": np.zeros(2, np.float32), "pole": np.zeros(2, np.float32)}
    action, state = restored.compute_single_action(obs)
    assert action in (0, 1) and {"h", "c", "vf_h", "vf_c"} <= set(state)
    action, state = restored.compute_single_action(obs, state, episode_start=False)
    assert restored.train()["training_iteration"] == 2
    assert restored.evaluate(episodes=2)["episodes"] == 2
    algo.stop()
    restored.stop()


def test_image_module_round_trips(tmp_path: Path):
    algo = rlrun.build(["env=TinyImageEnv", *SMALL])
    algo.train()
    restored = Algorithm.from_checkpoint(algo.save(tmp_path / "ckpt"))
    assert_same_weights(algo, restored)
    frame = np.zeros((12, 12, 3), np.uint8)
    greedy = restored.compute_single_action(frame, explore=False)
    assert greedy == algo.compute_single_action(frame, explore=False)
    algo.stop()
    restored.stop()


def test_masked_dqn_with_a_dict_replay_buffer_round_trips(tmp_path: Path):
    algo = rlrun.build(
        [
            "algo=dqn",
            "env=ActionMaskEnv",
            "algo.learning_starts=100",
            "algo.min_sample_timesteps_per_iteration=400",
            "checkpoint.include_replay_buffer=true",
        ]
    )
    algo.train()
    restored = Algorithm.from_checkpoint(algo.save(tmp_path / "ckpt"))
    assert_same_weights(algo, restored)
    assert len(restored.replay) == len(algo.replay) > 0
    batch = restored.replay.sample(8)
    assert set(batch["obs"]) == {"action_mask", "observations"}
    assert batch["obs"]["action_mask"].dtype == np.int8
    # Masked actions are never chosen, greedy or not.
    obs = {"action_mask": np.array([0, 0, 1, 0, 0], np.int8), "observations": np.eye(5)[0]}
    for explore in (False, True):
        assert {restored.compute_single_action(obs, explore=explore) for _ in range(20)} == {2}
    assert C.DEFAULT_MODULE_ID in restored.train()["learners"]
    algo.stop()
    restored.stop()
