"""Real sweeps of tiny trials through the `rlrun` command: in turn (Hydra's basic launcher), a
failing trial among good ones, and an Optuna search. The Ray launcher is in tests/ray/."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.helpers.cli import Run, start

TINY = [
    "algo.train_batch_size_per_learner=256",
    "algo.minibatch_size=64",
    "algo.num_epochs=1",
    "env_runner.num_envs_per_env_runner=2",
    "stop.iterations=2",
    "console=off",
]


def sweep(results_dir: Path, *args: str) -> tuple[Run, Path]:
    run = Run(start("train", "-m", f"results_dir={results_dir}", "name=sw", *TINY, *args), None)
    return run, results_dir / "sw"


def summary(experiment_dir: Path) -> list[dict[str, str]]:
    with (experiment_dir / "sweep_summary.csv").open() as f:
        return list(csv.DictReader(f))


def test_grid_sweep_runs_every_combination(tmp_path: Path) -> None:
    run, exp = sweep(tmp_path, "algo.lr=1e-3,3e-4", "seed=0,1")
    assert run.rc == 0, run.explain()
    trials = sorted(p for p in exp.iterdir() if (p / "params.json").is_file())
    assert len(trials) == 4
    seen = set()
    for trial in trials:
        params = json.loads((trial / "params.json").read_text())
        lr, seed = params["algo"]["lr"], params["seed"]
        seen.add((lr, seed))
        # Tune-style names that show the trial's own overrides
        lr_text = "0.001" if lr == pytest.approx(1e-3) else "0.0003"
        assert trial.name.startswith(f"PPO_CartPole-v1_lr={lr_text},seed={seed}_"), trial.name
        assert len((trial / "result.json").read_text().splitlines()) == 2
    assert seen == {(1e-3, 0), (1e-3, 1), (3e-4, 0), (3e-4, 1)}
    assert (exp / "multirun.yaml").is_file()  # Hydra's own record of the sweep
    rows = summary(exp)
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows)
    values = [float(r["value"]) for r in rows]
    assert values == sorted(values, reverse=True), "best first"
    assert {r["overrides"] for r in rows} == {
        "lr=0.001,seed=0",
        "lr=0.001,seed=1",
        "lr=0.0003,seed=0",
        "lr=0.0003,seed=1",
    }
    assert "sweep: 4 trials" in run.stdout and "lr=0.0003,seed=1" in run.stdout


def test_a_failed_trial_is_listed_and_the_others_run(tmp_path: Path) -> None:
    run, exp = sweep(
        tmp_path,
        "env=rlrun.env.debug_envs:FaultyEnv",
        "env.env_config.fail_at_step=30,1000000,2000000",
    )
    assert run.rc == 1, run.explain()
    rows = summary(exp)
    assert [r["status"] for r in rows] == ["ok", "ok", "failed"]
    failed = rows[-1]
    assert failed["overrides"] == "fail_at_step=30"
    assert "deliberate failure at step 30" in failed["error"]
    trial = exp / failed["trial"]
    assert "RuntimeError" in (trial / "error.txt").read_text()
    assert "1 failed" in run.stdout


def test_optuna_search(tmp_path: Path) -> None:
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    run, exp = sweep(
        tmp_path,
        "hydra/sweeper=optuna",
        "hydra.sweeper.n_trials=3",
        "hydra.sweeper.sampler.seed=1",
        "algo.lr=interval(1e-4,1e-2)",
        "algo.num_epochs=choice(1,2)",
    )
    assert run.rc == 0, run.explain()
    rows = summary(exp)
    assert len(rows) == 3
    for row in rows:
        trial = json.loads((exp / row["trial"] / "params.json").read_text())
        assert 1e-4 <= trial["algo"]["lr"] <= 1e-2
        assert trial["algo"]["num_epochs"] in (1, 2)
    results = (exp / "optimization_results.yaml").read_text()
    assert "best_value" in results
    best = max(float(r["value"]) for r in rows)
    assert f"{best:.4f}"[:5] in results  # Optuna maximized the stop metric rlrun reported


def test_resume_skips_finished_trials_and_resumes_the_interrupted_one(tmp_path: Path) -> None:
    """SIGINT mid-sweep, then the same `-m` command with --resume: the finished trial is not
    run again, the interrupted one goes on from its newest checkpoint, the summary has both."""
    import signal
    import time

    args = ["seed=0,1", "checkpoint.frequency=1"]
    base = [*TINY[:-2], "stop.iterations=40", "console=off", "env.id=CartPole-v1"]
    exp = tmp_path / "sw"
    proc = start("train", "-m", f"results_dir={tmp_path}", "name=sw", *base, *args)
    deadline = time.monotonic() + 150
    # Wait for the second trial's second checkpoint (the first trial has finished by then).
    while time.monotonic() < deadline and proc.poll() is None:
        trials = sorted(p for p in exp.glob("PPO_*") if p.is_dir())
        if len(trials) == 2 and (trials[1] / "checkpoint_000002").exists():
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    first = Run(proc, None)
    assert first.rc == 130, first.stderr[-2000:]
    before = sorted(p.name for p in exp.glob("PPO_*"))
    assert len(before) == 2

    again = Run(
        start("train", "-m", "--resume", f"results_dir={tmp_path}", "name=sw", *base, *args), None
    )
    assert again.rc == 0, again.stderr[-2000:]
    after = sorted(p.name for p in exp.glob("PPO_*"))
    new = [name for name in after if name not in before]
    assert len(new) == 1, after  # only the interrupted trial ran again
    results = [json.loads(line) for line in (exp / new[0] / "result.json").read_text().splitlines()]
    assert results[0]["training_iteration"] > 2  # it went on from its checkpoint
    assert results[-1]["training_iteration"] == 40
    rows = summary(exp)
    assert sorted(r["status"] for r in rows) == ["ok", "ok"]
