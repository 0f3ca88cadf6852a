"""The CQL algorithm (rlrun.algorithms.cql.algorithm) on the committed Pendulum data: the buffer
holds every recorded transition in the module's (-1, 1) action units, iterations train without
sampling, and a checkpoint round trip restores weights, counters and the bc_iters count."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import rlrun
from rlrun.algorithms.algorithm import Algorithm

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tuned_examples/data/pendulum_sac_training"
UPDATES, BATCH = 3, 32
OVERRIDES = [
    "algo=cql",
    "env=Pendulum-v1",
    "seed=3",
    f"offline_data.input_={DATA}",
    f"offline_data.dataset_num_iters_per_learner={UPDATES}",
    f"algo.train_batch_size_per_learner={BATCH}",
    "algo.bc_iters=4",
    "algo.num_actions=2",
    "algo.model.fcnet_hiddens=[16,16]",
    "env_runner.num_envs_per_env_runner=1",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    algo = rlrun.build(OVERRIDES)
    results = [algo.train(), algo.train()]
    path = algo.save(tmp_path_factory.mktemp("ckpt") / "checkpoint_000002")
    yield algo, path, results
    algo.stop()


def test_the_buffer_holds_the_data_in_module_units(trained):
    algo, _, _ = trained
    assert len(algo.replay) == 10_000  # 50 recorded episodes of 200 steps
    actions = algo.replay.sample(4096)["actions"]
    # Pendulum's env actions are in [-2, 2]; SAC's module acts in (-1, 1).
    assert np.abs(actions).max() <= 1.0
    assert np.abs(actions).max() > 0.9


def test_iterations_train_without_sampling(trained):
    _, _, results = trained
    for i, r in enumerate(results, start=1):
        assert r["num_env_steps_sampled_lifetime"] == 0
        assert r["num_env_steps_trained"] == UPDATES * BATCH
        assert r["num_env_steps_trained_lifetime"] == i * UPDATES * BATCH
        learner = r["learners"]["default_policy"]
        assert learner["num_module_steps_trained"] == UPDATES * BATCH
        assert np.isfinite(learner["cql_loss"])
    # bc_iters=4: updates 1-3 imitate, then one of the second iteration's three.
    assert results[0]["learners"]["default_policy"]["bc_phase"] == 1.0
    assert results[1]["learners"]["default_policy"]["bc_phase"] == pytest.approx(1 / 3)


def test_round_trip(trained):
    algo, path, _ = trained
    restored = Algorithm.from_checkpoint(path)
    try:
        a, b = algo.learner_group.local_learner, restored.learner_group.local_learner
        for k, v in a.get_weights().items():
            assert torch.equal(v, b.get_weights()[k]), k
        assert b.num_updates_lifetime == a.num_updates_lifetime == 2 * UPDATES
        assert restored.num_env_steps_trained_lifetime == 2 * UPDATES * BATCH
        assert type(restored).__name__ == "CQL" and not restored.replays  # read when training
        r = restored.train()
        assert len(restored.replay) == 10_000
        assert r["training_iteration"] == 3
        assert r["num_env_steps_trained_lifetime"] == 3 * UPDATES * BATCH
        assert r["num_env_steps_sampled_lifetime"] == 0
        assert r["learners"]["default_policy"]["bc_phase"] == 0.0  # the count went on
    finally:
        restored.stop()


def test_a_checkpoint_evaluates_without_its_data(tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    overrides = [o for o in OVERRIDES if not o.startswith("offline_data.input_")]
    algo = rlrun.build([*overrides, f"offline_data.input_={data}"])
    try:
        algo.train()
        path = algo.save(tmp_path / "checkpoint_000001")
    finally:
        algo.stop()
    shutil.rmtree(data)
    restored = Algorithm.from_checkpoint(path)
    try:
        stats = restored.evaluate(episodes=1)
        assert np.isfinite(stats["episode_return_mean"])
    finally:
        restored.stop()


def test_two_restores_continue_identically(trained):
    _, path, _ = trained
    runs = []
    for _ in range(2):
        algo = Algorithm.from_checkpoint(path)
        try:
            r = algo.train()["learners"]["default_policy"]
            runs.append((r["qf_loss"], r["actor_loss"], r["cql_loss"]))
        finally:
            algo.stop()
    assert runs[0] == runs[1]
