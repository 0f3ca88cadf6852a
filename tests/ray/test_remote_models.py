"""The new model kinds on remote runners: a recurrent module with a Dict observation, a frame
stack and a merged mean-std filter samples on Ray actors, its checkpoint resumes on local
runners with the same weights and filter, and back on remote ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.usefixtures("ray_session")

SMALL = [
    "env=DictCartPole",
    "algo.model.use_lstm=true",
    "algo.model.max_seq_len=8",
    "env_runner.observation_filter=MeanStdFilter",
    "connectors.env_to_module=[{frame_stack:{num_frames:2}}]",
    "algo.train_batch_size_per_learner=400",
    "algo.minibatch_size=100",
    "algo.num_epochs=1",
    "env_runner.num_envs_per_env_runner=2",
]


def test_recurrent_dict_obs_runs_remote_and_round_trips(tmp_path):
    import rlrun

    remote = rlrun.build([*SMALL, "env_runner.num_env_runners=2"])
    try:
        result = remote.train()
        assert result["learners"]["default_policy"]["num_module_steps_trained"] > 0
        path = remote.save(tmp_path / "checkpoint_000001")
        saved = remote.env_runner_group.get_state()
        weights = remote.learner_group.get_weights()
    finally:
        remote.stop()
    assert saved["connector"], "the remote runners' filter deltas were merged in the driver"
    local = rlrun.build(SMALL)
    try:
        local.restore(path)
        got = local.env_runner_group.get_state()["connector"]
        for k, v in saved["connector"].items():
            np.testing.assert_array_equal(got[k], v)
        for k, v in local.learner_group.get_weights().items():
            torch.testing.assert_close(v, weights[k])
        assert local.train()["training_iteration"] == 2
    finally:
        local.stop()


def test_recurrent_module_on_two_data_parallel_learners():
    """Each learner cuts its shard of sub-envs into sequences; they all-reduce their gradients
    per minibatch of sequences and end with the same weights."""
    import rlrun

    algo = rlrun.build([*SMALL, "learner.num_learners=2", "learner.num_cpus_per_learner=0.5"])
    try:
        result = algo.train()
        assert result["learners"]["default_policy"]["num_module_steps_trained"] > 0
        import ray

        w0, w1 = ray.get([a.get_weights.remote() for a in algo.learner_group.actors])
        for k in w0:
            torch.testing.assert_close(w0[k], w1[k])
    finally:
        algo.stop()
