"""`hydra/launcher=ray`: sweep trials run in parallel as Ray tasks, each in a placement group
that also holds the actors the trial starts."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from rlrun import cli
from rlrun.sweep.ray_launch import trial_bundles
from rlrun.sweep.trial import RECORDS_DIR, load_records


def test_trial_bundles_cover_driver_and_actors() -> None:
    config = {
        "env_runner": {"num_env_runners": 2, "num_cpus_per_env_runner": 0.5,
                       "num_gpus_per_env_runner": 0.0},
        "learner": {"num_learners": 1, "num_cpus_per_learner": 1.0, "num_gpus_per_learner": 1.0},
        "evaluation": {"num_env_runners": 1, "num_cpus_per_env_runner": None},
    }  # fmt: skip
    assert trial_bundles(config) == [
        {"CPU": 1.0},  # the trial's driver (its learner is remote, so no GPU here)
        {"CPU": 0.5},
        {"CPU": 0.5},
        {"CPU": 0.5},  # the eval runner takes the training runners' CPUs
        {"CPU": 1.0, "GPU": 1.0},
    ]
    config["learner"]["num_learners"] = 0
    assert trial_bundles(config)[0] == {"CPU": 1.0, "GPU": 1.0}  # a local GPU learner


def test_parallel_trials_with_their_own_remote_runners(
    ray_session: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        [
            "train",
            "-m",
            "hydra/launcher=ray",
            "seed=0,1",
            "env_runner.num_env_runners=1",  # each trial asks for 2 CPUs of the session's 6
            "algo.train_batch_size_per_learner=256",
            "algo.minibatch_size=64",
            "algo.num_epochs=1",
            "stop.iterations=3",
            f"results_dir={tmp_path}",
            "name=par",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    exp = tmp_path / "par"
    records = load_records(next((exp / RECORDS_DIR).iterdir()))
    assert [r.status for r in records] == ["ok", "ok"]
    first, second = records
    assert first.started < second.finished and second.started < first.finished, "overlapping"
    for record in records:
        results = (Path(record.trial_dir) / "result.json").read_text().splitlines()
        last = json.loads(results[-1])
        assert last["training_iteration"] == 3
        assert last["env_runners"]["num_healthy_env_runners"] == 1  # the actor ran in its bundle
    with (exp / "sweep_summary.csv").open() as f:
        assert {r["overrides"] for r in csv.DictReader(f)} == {"seed=0", "seed=1"}
