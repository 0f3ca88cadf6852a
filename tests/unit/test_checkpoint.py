"""Checkpoints (rlrun.results.checkpoint, Algorithm.save / from_checkpoint) round trip and the
errors for corrupt ones. One small PPO on CartPole is trained once for the whole module."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import rlrun
from rlrun.algorithms.algorithm import Algorithm
from rlrun.errors import CheckpointError
from rlrun.results.checkpoint import MARKER, load_module

OVERRIDES = [
    "algo=ppo",
    "env=CartPole-v1",
    "seed=1",
    "algo.train_batch_size_per_learner=256",
    "algo.minibatch_size=64",
    "algo.num_epochs=1",
    "algo.use_kl_loss=true",
    "env_runner.num_envs_per_env_runner=2",
    "env_runner.observation_filter=MeanStdFilter",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(algorithm after 2 iterations, its checkpoint path, the two results)."""
    algo = rlrun.build(OVERRIDES)
    results = [algo.train(), algo.train()]
    # An unusual KL coefficient, so restoring the default could not pass for restoring the state.
    algo.learner_group.local_learner.kl_coeff = 0.123456789
    path = algo.save(tmp_path_factory.mktemp("ckpt") / "checkpoint_000002")
    yield algo, path, results
    algo.stop()


@pytest.fixture(scope="module")
def restored(trained):
    _, path, _ = trained
    algo = Algorithm.from_checkpoint(path)
    yield algo
    algo.stop()


def learner(algo):
    return algo.learner_group.local_learner


def runner(algo):
    return algo.env_runner_group.local_runner


def assert_tensor_dicts_equal(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for k in a:
        assert torch.equal(torch.as_tensor(a[k]), torch.as_tensor(b[k])), k


def test_training_ran(trained):
    algo, _, results = trained
    assert [r["training_iteration"] for r in results] == [1, 2]
    # 2 x 256 rows, less the autoreset rows (which are not env steps).
    assert 400 < results[1]["num_env_steps_sampled_lifetime"] <= 2 * 256
    assert algo.iteration == 2
    assert float(runner(algo).env_to_module.pieces[0].count) > 0


def test_restored_weights_equal(trained, restored):
    algo, _, _ = trained
    assert type(restored).__name__ == "PPO"
    assert_tensor_dicts_equal(learner(algo).get_weights(), learner(restored).get_weights())
    # The env runner's module copy got the restored weights too.
    assert_tensor_dicts_equal(learner(algo).get_weights(), runner(restored).module.state_dict())


def test_restored_optimizer_moments_equal(trained, restored):
    algo, _, _ = trained
    a, b = learner(algo).optimizer.state_dict(), learner(restored).optimizer.state_dict()
    assert int(a["step"]) == int(b["step"]) > 0
    assert_tensor_dicts_equal(a, b)
    assert any(float(v.abs().sum()) > 0 for k, v in b.items() if k.startswith("exp_avg."))


def test_restored_filter_state_equal(trained, restored):
    algo, _, _ = trained
    a, b = runner(algo).env_to_module.get_state(), runner(restored).env_to_module.get_state()
    assert set(a) == set(b) == {"0.count", "0.mean", "0.m2"}
    for k in a:
        assert a[k].shape == b[k].shape, k  # a 0-d count must stay 0-d
        assert a[k].dtype == b[k].dtype, k
        np.testing.assert_array_equal(a[k], b[k])


def test_restored_counters_equal(trained, restored):
    algo, _, _ = trained
    assert restored.iteration == algo.iteration == 2
    assert restored.num_env_steps_sampled_lifetime == algo.num_env_steps_sampled_lifetime > 0
    assert restored.time_total_s == algo.time_total_s > 0
    assert learner(restored).kl_coeff == 0.123456789
    assert learner(restored).env_steps_lifetime == learner(algo).env_steps_lifetime
    assert learner(restored).num_updates_lifetime == learner(algo).num_updates_lifetime > 0
    stats, restored_stats = algo.env_runner_group.stats, restored.env_runner_group.stats
    assert restored_stats.num_env_steps_lifetime == stats.num_env_steps_lifetime > 0
    assert restored_stats.num_episodes_lifetime == stats.num_episodes_lifetime > 0
    assert list(restored_stats.returns) == list(stats.returns)


def test_checkpoint_metadata_and_config(trained):
    algo, path, _ = trained
    meta = json.loads((path / MARKER).read_text())
    assert meta["format"] == "rlrun-checkpoint"
    assert meta["algorithm"] == "PPO"
    assert meta["iteration"] == 2
    assert meta["num_env_steps_sampled_lifetime"] == algo.num_env_steps_sampled_lifetime
    assert (path / "config.yaml").is_file()
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_container(OmegaConf.load(path / "config.yaml"))
    assert cfg["env_runner"]["observation_filter"] == "MeanStdFilter"
    assert cfg["algo"]["train_batch_size_per_learner"] == 256


def test_checkpoint_holds_no_pickle(trained):
    _, path, _ = trained
    files = [p for p in path.rglob("*") if p.is_file()]
    assert files
    assert {p.suffix for p in files} <= {".json", ".yaml", ".safetensors"}
    for p in files:
        # Pickle streams start with the PROTO opcode 0x80; zip (torch.save) with "PK".
        head = p.read_bytes()[:2]
        assert head[:1] != b"\x80" and head != b"PK", p


def test_restored_algorithm_keeps_training(trained):
    algo, path, _ = trained
    again = Algorithm.from_checkpoint(path)
    try:
        steps_before = again.num_env_steps_sampled_lifetime
        result = again.train()
        assert result["training_iteration"] == 3
        assert result["num_env_steps_sampled_lifetime"] > steps_before
        assert result["time_total_s"] > algo.time_total_s
        # The restored filter keeps accumulating from the saved statistics.
        count_saved = float(runner(algo).env_to_module.pieces[0].count)
        assert float(runner(again).env_to_module.pieces[0].count) > count_saved
        result = again.train()
        assert result["training_iteration"] == 4
        # Weights moved away from the checkpoint's.
        w0, w1 = learner(algo).get_weights(), learner(again).get_weights()
        assert any(not torch.equal(w0[k], w1[k]) for k in w0)
    finally:
        again.stop()


def test_two_restores_continue_identically(trained):
    """The checkpoint holds the RNG states: two restores train the same next iteration."""
    _, path, _ = trained
    runs = []
    for _ in range(2):
        algo = Algorithm.from_checkpoint(path)
        try:
            r = algo.train()
            runs.append(
                (
                    r["env_runners"]["num_env_steps_sampled"],
                    r["learners"]["default_policy"]["policy_loss"],
                    r["learners"]["default_policy"]["vf_loss"],
                    learner(algo).get_weights(),
                )
            )
        finally:
            algo.stop()
    assert runs[0][:3] == runs[1][:3]
    assert_tensor_dicts_equal(runs[0][3], runs[1][3])


def test_load_module_without_algorithm(trained):
    algo, path, _ = trained
    module = load_module(path)
    assert isinstance(module, rlrun.RLModule)
    assert_tensor_dicts_equal(module.state_dict(), learner(algo).get_weights())
    obs = {"obs": torch.randn(5, 4)}
    with torch.no_grad():
        a = module.forward_inference(obs)["action_dist_inputs"]
        b = learner(algo).module.forward_inference(obs)["action_dist_inputs"]
    torch.testing.assert_close(a, b)
    assert isinstance(module.action_space, gym.spaces.Discrete) and module.action_space.n == 2


def test_compute_single_action(restored):
    env = gym.make("CartPole-v1")
    try:
        obs, _ = env.reset(seed=0)
        for _ in range(5):
            action = restored.compute_single_action(obs, explore=False)
            assert isinstance(action, int)
            assert env.action_space.contains(action)
            assert restored.compute_single_action(obs, explore=False) == action  # deterministic
            explored = restored.compute_single_action(obs, explore=True)
            assert env.action_space.contains(explored)
            obs, *_ = env.step(action)
    finally:
        env.close()


def test_evaluate_after_restore(restored):
    stats = restored.evaluate(episodes=3, seed=0)
    assert stats["episodes"] == 3
    assert (
        stats["episode_return_min"] <= stats["episode_return_mean"] <= stats["episode_return_max"]
    )
    assert stats["episode_len_mean"] > 0


# --- corrupt checkpoints ------------------------------------------------------------------


@pytest.fixture
def ckpt_copy(trained, tmp_path) -> Path:
    _, path, _ = trained
    dst = tmp_path / "copy" / "checkpoint_000002"
    shutil.copytree(path, dst)
    return dst


def _expect_error(path: Path, *fragments: str) -> None:
    with pytest.raises(CheckpointError) as info:
        Algorithm.from_checkpoint(path)
    msg = str(info.value)
    assert str(path) in msg
    for frag in fragments:
        assert frag in msg, msg


def test_missing_marker(ckpt_copy):
    (ckpt_copy / MARKER).unlink()
    _expect_error(ckpt_copy, MARKER)


def test_missing_folder(tmp_path):
    _expect_error(tmp_path / "nope" / "checkpoint_000001")


def test_truncated_weights(ckpt_copy):
    f = ckpt_copy / "module" / "default_policy" / "model.safetensors"
    f.write_bytes(f.read_bytes()[:40])
    _expect_error(ckpt_copy, "model.safetensors")
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_module(ckpt_copy)


def test_missing_optimizer_state(ckpt_copy):
    (ckpt_copy / "learner" / "optimizer.safetensors").unlink()
    _expect_error(ckpt_copy, "optimizer.safetensors")


def test_garbage_marker_json(ckpt_copy):
    (ckpt_copy / MARKER).write_text("{not json at all")
    _expect_error(ckpt_copy, MARKER)


def test_garbage_state_json(ckpt_copy):
    (ckpt_copy / "learner" / "state.json").write_bytes(b"\xff\xfe garbage")
    _expect_error(ckpt_copy, "state.json")


def test_garbage_config_yaml(ckpt_copy):
    (ckpt_copy / "config.yaml").write_text("algo: [unclosed\n  - : :")
    _expect_error(ckpt_copy, "config.yaml")


def test_wrong_format_marker(ckpt_copy):
    meta = json.loads((ckpt_copy / MARKER).read_text())
    meta["format"] = "something-else"
    (ckpt_copy / MARKER).write_text(json.dumps(meta))
    _expect_error(ckpt_copy, "something-else")


def test_newer_format_version(ckpt_copy):
    meta = json.loads((ckpt_copy / MARKER).read_text())
    meta["format_version"] = meta["format_version"] + 1
    (ckpt_copy / MARKER).write_text(json.dumps(meta))
    _expect_error(ckpt_copy, "newer", str(meta["format_version"]))


def test_checkpoint_errors_are_user_errors():
    assert issubclass(CheckpointError, rlrun.errors.RLRunError)
    assert CheckpointError.exit_code == 2


def test_a_checkpoint_from_before_the_model_catalog_is_refused_with_a_reason(ckpt_copy):
    marker = ckpt_copy / "rlrun_checkpoint.json"
    meta = json.loads(marker.read_text())
    meta["format_version"] = 1
    marker.write_text(json.dumps(meta))
    _expect_error(ckpt_copy, "before the model catalog", "version 1")
