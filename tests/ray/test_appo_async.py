"""Asynchronous sampling for IMPALA and APPO on a local Ray: fragments taken as they arrive, the
weights' sequence number and policy lag, a dead runner restarted; APPO learning with 2 remote
runners, and with 2 data-parallel learners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import ray

from tests.ray.test_remote_env_runners import make_group

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.usefixtures("ray_session")
def test_sample_async_takes_fragments_as_they_come_and_reports_policy_lag():
    group = make_group(2)  # synced once: weights_seq_no 1
    try:
        weights = group._weights
        seen = []
        for _ in range(6):
            rollouts = group.sample_async(20, max_in_flight=2)
            assert rollouts and all(r.num_steps == 20 for r in rollouts)
            seen += [r.weights_seq_no for r in rollouts]
            group.sync_weights(weights)  # each sync is a new version
        # Calls queued before a sync sample with the weights they had: lag > 0.
        metrics = group.get_metrics()
        assert metrics["weights_seq_no"] == 7
        assert metrics["max_policy_lag"] >= 1
        assert 0 < metrics["mean_policy_lag"] <= metrics["max_policy_lag"]
        assert seen == sorted(seen) or max(seen) > min(seen)
        assert "mean_policy_lag" not in group.get_metrics()  # reported once
    finally:
        group.stop()


@pytest.mark.usefixtures("ray_session")
def test_sample_async_restarts_a_runner_that_died():
    group = make_group(2)
    try:
        group.sample_async(10, max_in_flight=2)
        ray.kill(group.runners[1], no_restart=True)
        got = []
        for _ in range(6):
            got += group.sample_async(10, max_in_flight=2)
        assert group.restarts[1] == 1
        assert group.get_metrics()["num_env_runner_restarts"] == 1
        assert {r.runner_index for r in got} == {1, 2}  # the new runner 1 samples again
    finally:
        group.stop()


def _train(args: list[str], results_dir: Path) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "rlrun", "train", *args, f"results_dir={results_dir}",
         "console=plain", "seed=0"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (result_file,) = results_dir.glob("*/*/result.json")
    return [json.loads(line) for line in result_file.read_text().splitlines()]


# Left out of `make test`: with asynchronous runners the data each update sees depends on timing.
# With two sample calls queued per runner (the default until 2026-12-05) about one run in five
# stalled below 300 at seed 0; with one (RLlib's, now the default) 9 of 9 runs reached it
# (docs/impala_appo.md), but timing-dependent runs stay out of the 15-minute suite. Policy lag
# and the sync counters are checked in `make test` by the tests above; run this with -m long.
@pytest.mark.slow
@pytest.mark.long
def test_appo_learns_cartpole_on_two_async_runners(tmp_path: Path):
    results = _train(
        [
            "experiment=cartpole_appo",
            "env_runner=ray",
            "env_runner.num_env_runners=2",
            "env_runner.num_cpus_per_env_runner=0.5",
            "env_runner.rollout_fragment_length=64",
            "stop.reward=300",
            "stop.timesteps=300000",
        ],
        tmp_path,
    )
    runners = [r["env_runners"] for r in results]
    assert max(r["episode_return_mean"] for r in runners) >= 300
    assert max(r["max_policy_lag"] for r in runners) > 0
    assert runners[-1]["weights_seq_no"] == results[-1]["num_weight_broadcasts"]


@pytest.mark.slow
def test_appo_with_two_data_parallel_learners_and_an_lstm(tmp_path: Path):
    results = _train(
        [
            "algo=appo",
            "env=StatelessCartPole",
            "algo.model.use_lstm=true",
            "algo.model.max_seq_len=16",
            "env_runner=ray",
            "env_runner.num_env_runners=1",
            "env_runner.num_cpus_per_env_runner=0.5",
            "learner.num_learners=2",
            "learner.num_cpus_per_learner=0.5",
            "stop.iterations=4",
        ],
        tmp_path,
    )
    assert len(results) == 4
    learner = results[-1]["learners"]["default_policy"]
    assert learner["num_module_steps_trained"] > 0 and learner["num_target_updates"] >= 1
