"""IMPALA and APPO from the outside: bad values are exit-2 errors naming the key, RLlib's
builders reach rlrun's keys, and a trained APPO saves and restores (its target network
starting from the restored module)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rlrun.algorithms.appo import APPOConfig
from rlrun.algorithms.impala import IMPALAConfig
from rlrun.errors import ConfigError
from tests.helpers.cli import cli_fails


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["algo=appo", "algo.vtrace_clip_rho_threshold=0"],
         ["algo.vtrace_clip_rho_threshold=0", "a number > 0"]),
        (["algo=impala", "algo.circular_buffer_num_batches=0"],
         ["algo.circular_buffer_num_batches=0", "an integer >= 1"]),
        (["algo=impala", "algo.max_requests_in_flight_per_env_runner=0"],
         ["algo.max_requests_in_flight_per_env_runner=0", "an integer >= 1"]),
        (["algo=appo", "algo.broadcast_interval=0"], ["algo.broadcast_interval=0"]),
        (["algo=appo", "algo.tau=2"], ["algo.tau=2", "(0, 1]"]),
        (["algo=impala", "algo.clip_param=0.3"], ["algo.clip_param", "a setting of", "APPO"]),
        (["algo=appo", "algo.minibatch_size=100000"],
         ["algo.minibatch_size=100000", "larger than algo.train_batch_size_per_learner"]),
    ],
)  # fmt: skip
def test_bad_values_exit_2_naming_the_key(argv, fragments, capsys):
    cli_fails(["train", *argv], capsys, *fragments)


def test_builders_take_rllibs_names():
    config = (
        APPOConfig()
        .environment("CartPole-v1")
        .training(vtrace_clip_rho_threshold=2.0, clip_param=0.3, circular_buffer_num_batches=3)
        .env_runners(max_requests_in_flight_per_env_runner=3)
    )
    values = config.to_dict()["algo"]
    assert values["vtrace_clip_rho_threshold"] == 2.0
    assert values["clip_param"] == 0.3
    assert values["circular_buffer_num_batches"] == 3
    assert values["max_requests_in_flight_per_env_runner"] == 3
    with pytest.raises(ConfigError, match="clip_param"):
        IMPALAConfig().training(clip_param=0.3)  # APPO's, not IMPALA's
    with pytest.raises(ConfigError, match="target_worker_clipping"):
        APPOConfig().training(target_worker_clipping=3.0)


def test_appo_trains_saves_and_restores(tmp_path: Path):
    config = (
        APPOConfig()
        .environment("CartPole-v1")
        .training(train_batch_size_per_learner=128, use_kl_loss=True)
        .env_runners(num_envs_per_env_runner=4)
    )
    algo = config.build()
    try:
        algo.train()  # one batch in the circular buffer: one update
        result = algo.train()  # two batches: two updates, so the target network moved
        learner = result["learners"]["default_policy"]
        assert learner["num_target_updates"] >= 1 and "curr_kl_coeff" in learner
        assert result["num_weight_broadcasts"] == 3  # at the start, and after each update
        path = algo.save(tmp_path / "ckpt").checkpoint.path
        weights = algo.get_weights()
    finally:
        algo.stop()
    restored = config.build()
    try:
        restored.restore(path)
        for k, v in restored.get_weights()["default_policy"].items():
            torch.testing.assert_close(v, weights["default_policy"][k])
        local = restored.learner_group.local_learner
        for k, v in local.target_module.state_dict().items():
            torch.testing.assert_close(v, local.module.state_dict()[k])
        assert restored.train()["training_iteration"] == 3
    finally:
        restored.stop()
