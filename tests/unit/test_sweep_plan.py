"""Sweep planning and summaries, without training: which overrides sweep, how trials are named,
how env sweeps are rewritten, and how the summary ranks trials."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from rlrun.errors import ConfigError
from rlrun.results.trial import create_trial_dir, trial_name
from rlrun.sweep.plan import plan_sweep, trial_tag
from rlrun.sweep.summary import summarize, write_summary
from rlrun.sweep.trial import TrialRecord, last_value, load_records, save_record

NOW = datetime(2026, 1, 2, 3, 4, 5)


def test_plan_splits_hydra_and_task_overrides(tmp_path: Path) -> None:
    plan = plan_sweep(
        ["hydra/launcher=ray", "algo.lr=1e-3,3e-4", "seed=range(0,3)", f"results_dir={tmp_path}"],
        now=NOW,
    )
    assert plan.launcher == "ray" and plan.sweeper == "basic"
    assert plan.hydra_overrides == ["hydra/launcher=ray"]
    assert plan.sweep_keys == ["algo.lr", "seed"]
    assert "algo.lr=1e-3,3e-4" in plan.task_overrides
    assert plan.experiment == "PPO_CartPole-v1_sweep_2026-01-02_03-04-05"
    assert plan.experiment_dir == tmp_path / plan.experiment
    assert plan.base_config["algo"]["lr"] == pytest.approx(1e-3)  # the first combination


def test_named_sweep_and_swept_algo_name_the_folder(tmp_path: Path) -> None:
    named = plan_sweep(["seed=0,1", "name=mine", f"results_dir={tmp_path}"], now=NOW)
    assert named.experiment == "mine"
    both = plan_sweep(["algo=ppo,dqn", f"results_dir={tmp_path}"], now=NOW)
    assert both.experiment == "CartPole-v1_sweep_2026-01-02_03-04-05"


def test_env_sweep_over_gym_ids_becomes_an_env_id_sweep(tmp_path: Path) -> None:
    plan = plan_sweep(
        ["env=MountainCar-v0,MountainCarContinuous-v0", f"results_dir={tmp_path}"], now=NOW
    )
    assert plan.task_overrides[:2] == ["env=gym", "env.id=MountainCar-v0,MountainCarContinuous-v0"]
    with_yaml = plan_sweep(["env=CartPole-v1,Acrobot-v1", f"results_dir={tmp_path}"], now=NOW)
    assert with_yaml.task_overrides[0] == "env=CartPole-v1,Acrobot-v1"


def test_every_value_is_checked_before_a_trial_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"algo.gamma=1.5"):
        plan_sweep(["algo.gamma=0.9,1.5", "seed=0,1", f"results_dir={tmp_path}"])
    with pytest.raises(ConfigError, match="Did you mean 'algo.lr'"):
        plan_sweep(["algo.lrr=1e-3,3e-4", f"results_dir={tmp_path}"])
    with pytest.raises(ConfigError, match="not a Hydra setting"):
        plan_sweep(["hydra_launcher=ray", "seed=0,1"])


def test_trial_tag_uses_short_names_unless_they_clash() -> None:
    keys = ["algo.lr", "seed"]
    assert trial_tag(["algo.lr=0.001", "seed=0", "stop.iterations=2"], keys) == "lr=0.001,seed=0"
    clash = ["algo.model.custom.lr", "algo.lr"]
    got = trial_tag(["algo.model.custom.lr=1", "algo.lr=2"], clash)
    assert got == "algo.model.custom.lr=1,algo.lr=2"


def test_trial_names_keep_the_overrides_readable(tmp_path: Path) -> None:
    name = trial_name("PPO", "CartPole-v1", id="abcde", index=3, now=NOW, tag="lr=0.001,seed=0")
    assert name == "PPO_CartPole-v1_lr=0.001,seed=0_abcde_00003_2026-01-02_03-04-05"
    made = create_trial_dir(tmp_path, "exp", name)
    assert made.name == name
    odd = trial_name("PPO", "x", id="abcde", now=NOW, tag="hiddens=[64, 64]/../x")
    assert "/" not in odd and " " not in odd and "[" not in odd


def _record(tmp_path: Path, index: int, status: str, returns: list[float]) -> TrialRecord:
    trial = tmp_path / f"trial{index}"
    trial.mkdir()
    lines = [
        {
            "training_iteration": i + 1,
            "num_env_steps_sampled_lifetime": 100 * (i + 1),
            "time_total_s": 0.5 * (i + 1),
            "env_runners": {"episode_return_mean": r},
        }
        for i, r in enumerate(returns)
    ]
    text = "".join(json.dumps(x) + "\n" for x in lines) + '{"torn'  # a killed run's last line
    (trial / "result.json").write_text(text)
    metric = "env_runners/episode_return_mean"
    return TrialRecord(
        index=index,
        overrides=[f"seed={index}"],
        tag=f"seed={index}",
        status=status,
        exit_code=0 if status == "ok" else 1,
        trial_dir=str(trial),
        error=None if status == "ok" else "TrainingFailed: boom.\n\nmore detail",
        metric=metric,
        value=last_value(trial, metric) if returns else None,
    )


def test_summary_ranks_by_the_stop_metric_and_lists_failures_last(tmp_path: Path) -> None:
    records = [
        _record(tmp_path, 0, "ok", [10.0, 50.0, 30.0]),
        _record(tmp_path, 1, "failed", [80.0]),
        _record(tmp_path, 2, "ok", [20.0, 40.0]),
    ]
    rows = summarize(records)
    assert [r.index for r in rows] == [2, 0, 1]
    best = rows[0]
    assert (best.value, best.final_return, best.best_return) == (40.0, 40.0, 40.0)
    assert (best.env_steps, best.iterations, best.time_s) == (200, 2, 1.0)
    assert rows[1].final_return == 30.0 and rows[1].best_return == 50.0
    assert rows[2].status == "failed" and rows[2].error == "TrainingFailed: boom."
    csv_path, json_path = write_summary(rows, tmp_path / "exp")
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("rank,index,trial,overrides,status")
    assert len(lines) == 4
    assert [r["index"] for r in json.loads(json_path.read_text())] == [2, 0, 1]


def test_records_round_trip(tmp_path: Path) -> None:
    record = _record(tmp_path, 4, "ok", [1.0])
    save_record(record, tmp_path / "records")
    (tmp_path / "records" / "broken.json").write_text("{")
    assert load_records(tmp_path / "records") == [record]
