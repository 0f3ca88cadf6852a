"""The parts of scaling out that need no Ray: filter deltas, sharding batches over learners,
checkpoint ranking, and the resources a trial asks Ray for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlrun.cluster import actor_resources, needs_ray, trial_resources
from rlrun.config.compose import compose
from rlrun.connectors.mean_std_filter import MeanStdFilter
from rlrun.core import columns as C
from rlrun.env.rollout import Rollout, shard_rollouts
from rlrun.results.checkpoint import MARKER, prune_checkpoints


def test_merged_deltas_equal_one_filter_that_saw_everything():
    rng = np.random.default_rng(0)
    batches = [rng.normal(loc=i, scale=1 + i, size=(7, 3)) for i in range(6)]
    single = MeanStdFilter((3,))
    for b in batches:
        single.update(b)
    # Two runners each see half the batches; the driver merges their deltas.
    master, a, b = MeanStdFilter((3,)), MeanStdFilter((3,)), MeanStdFilter((3,))
    for i, batch in enumerate(batches):
        (a if i % 2 else b).update(batch)
        if i == 2:  # a sync in the middle: deltas so far, then the master state goes back out
            master.merge_delta(a.pop_delta())
            master.merge_delta(b.pop_delta())
            a.set_state(master.get_state())
            b.set_state(master.get_state())
    master.merge_delta(a.pop_delta())
    master.merge_delta(b.pop_delta())
    for k, v in single.get_state().items():
        np.testing.assert_allclose(master.get_state()[k], v, rtol=1e-10)
    assert a.pop_delta() == {}, "a popped delta is gone"


def rollout(T: int, N: int) -> Rollout:
    data = {C.OBS: np.arange(T * N, dtype=np.float32).reshape(T, N, 1), C.REWARDS: np.zeros((T, N))}
    return Rollout(data, bootstrap_obs=np.arange(N, dtype=np.float32).reshape(N, 1))


def test_shards_take_whole_rollouts_when_they_divide_evenly():
    ros = [rollout(4, 3) for _ in range(4)]
    shards = shard_rollouts(ros, 2)
    assert [len(s) for s in shards] == [2, 2]
    assert shards[0][0] is ros[0] and shards[1][0] is ros[1]


def test_shards_split_rollouts_by_sub_env_columns_otherwise():
    ro = rollout(4, 5)
    shards = shard_rollouts([ro], 2)
    (a,), (b,) = shards
    assert (a.num_envs, b.num_envs) == (3, 2)
    np.testing.assert_array_equal(a[C.OBS], ro[C.OBS][:, :3])
    np.testing.assert_array_equal(b.bootstrap_obs, ro.bootstrap_obs[3:])


def fake_checkpoints(tmp_path: Path, n: int) -> None:
    for i in range(1, n + 1):
        d = tmp_path / f"checkpoint_{i:06d}"
        d.mkdir()
        (d / MARKER).write_text("{}")


def test_prune_keeps_the_best_by_score_and_the_newest(tmp_path: Path):
    fake_checkpoints(tmp_path, 5)
    scores = {
        "checkpoint_000001": 10.0,
        "checkpoint_000002": 50.0,
        "checkpoint_000003": None,
        "checkpoint_000004": 30.0,
        "checkpoint_000005": 5.0,
    }
    prune_checkpoints(tmp_path, 2, scores, "max")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint_000002",
        "checkpoint_000004",
        "checkpoint_000005",  # the newest, kept to resume from
    ]


def test_prune_min_order_and_newest_only_without_scores(tmp_path: Path):
    fake_checkpoints(tmp_path, 4)
    prune_checkpoints(tmp_path, 1, {f"checkpoint_{i:06d}": float(i) for i in range(1, 5)}, "min")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint_000001", "checkpoint_000004"]
    prune_checkpoints(tmp_path, 1)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint_000004"]


def plain(*overrides: str) -> dict:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(compose(list(overrides)), resolve=True)


def test_the_default_needs_no_ray_and_asks_for_one_cpu():
    cfg = plain()
    assert not needs_ray(cfg)
    assert trial_resources(cfg) == {"CPU": 1.0, "GPU": 0.0}


@pytest.mark.parametrize(
    ("overrides", "actors", "trial"),
    [
        (["env_runner=ray"], {"CPU": 2.0, "GPU": 0.0}, {"CPU": 3.0, "GPU": 0.0}),
        (
            [
                "env_runner.num_env_runners=4",
                "env_runner.num_cpus_per_env_runner=0.5",
                "learner.num_learners=2",
                "learner.num_gpus_per_learner=1",
                "evaluation.interval=1",
                "evaluation.num_env_runners=1",
                "evaluation.num_cpus_per_env_runner=0.25",
            ],
            {"CPU": 4 * 0.5 + 2 * 1 + 0.25, "GPU": 2.0},
            {"CPU": 1 + 4 * 0.5 + 2 * 1 + 0.25, "GPU": 2.0},
        ),
        # A GPU learner in the driver is the trial's GPU, not an actor's.
        (["learner.num_gpus_per_learner=1"], {"CPU": 0.0, "GPU": 0.0}, {"CPU": 1.0, "GPU": 1.0}),
    ],
)
def test_resources_a_trial_asks_for(overrides, actors, trial):
    cfg = plain(*overrides)
    assert actor_resources(cfg) == pytest.approx(actors)
    assert trial_resources(cfg) == pytest.approx(trial)


def test_a_cluster_address_alone_means_ray():
    assert needs_ray(plain("ray.address=auto"))
