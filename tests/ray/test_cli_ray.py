"""`rlrun train` on Ray, end to end in subprocesses (each starts and stops its own local Ray).

The runs start together (module fixture) and overlap; each is a few tiny PPO iterations.
"""

from __future__ import annotations

import pytest

from tests.helpers.cli import Run, train

FAULTY = "rlrun.env.debug_envs:FaultyEnv"
# 2 runners x 2 sub-envs x 100 steps per iteration: a sub-env reaches step 150 in iteration 2.
REMOTE = [
    "env_runner=ray",
    "env_runner.num_envs_per_env_runner=2",
    "env_runner.num_cpus_per_env_runner=0.5",
    "algo.train_batch_size_per_learner=400",
    "algo.minibatch_size=200",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    root = tmp_path_factory.mktemp("ray_cli")
    once = root / "failed-once"
    specs = {
        # Remote runners and learner, parallel remote evaluation, the filter, scored checkpoints.
        "remote": [
            "-v",  # INFO: "Ray started in ... s"
            *REMOTE,
            "learner.num_learners=1",
            "learner.num_cpus_per_learner=0.5",
            "evaluation.interval=2",
            "evaluation.num_env_runners=1",
            "evaluation.num_cpus_per_env_runner=0.5",
            "evaluation.parallel_to_training=true",
            "evaluation.duration=4",
            "env_runner.observation_filter=MeanStdFilter",
            "checkpoint.frequency=1",
            "checkpoint.num_to_keep=1",
            "checkpoint.score_attribute=evaluation/env_runners/episode_return_mean",
            "stop.iterations=4",
        ],
        "recovers": [
            *REMOTE,
            f"env.id={FAULTY}",
            f"env.env_config={{fail_at_step:150,fail_once_file:'{once}'}}",
            "stop.iterations=3",
        ],
        "cannot_go_on": [
            *REMOTE,
            f"env.id={FAULTY}",
            "env.env_config={fail_at_step:150,fail_mode:exit}",
            "fault_tolerance.restart_failed_env_runners=false",
            "checkpoint.frequency=1",
            "stop.iterations=4",
        ],
    }
    procs = {name: (train(root / name, *args), root / name) for name, args in specs.items()}
    return {name: Run(proc, rdir) for name, (proc, rdir) in procs.items()}


def test_remote_runners_learner_and_parallel_evaluation(runs):
    run = runs["remote"]
    assert run.rc == 0, run.explain()
    results = run.results()
    assert [r["training_iteration"] for r in results] == [1, 2, 3, 4]
    assert all(r["env_runners"]["num_healthy_env_runners"] == 2 for r in results)
    evals = [r.get("evaluation") for r in results]
    assert evals[0] is None and evals[2] is None
    for ev in (evals[1], evals[3]):
        assert ev["env_runners"]["num_episodes"] == 4
        assert ev["env_runners"]["episode_return_mean"] > 0
    # num_to_keep=1 by evaluation score, and the newest is always kept: the better of 2 and 4.
    kept = [p.name for p in run.checkpoints()]
    assert "checkpoint_000004" in kept and len(kept) <= 2
    assert "Ray started" in run.stderr


def test_a_run_recovers_from_a_runner_failure_and_keeps_its_traceback(runs):
    run = runs["recovers"]
    assert run.rc == 0, run.explain()
    last = run.results()[-1]
    assert last["training_iteration"] == 3
    assert last["env_runners"]["num_env_runner_restarts"] == 1
    error_txt = (run.trial_dir / "error.txt").read_text()
    assert "FaultyEnv: deliberate failure at step 150" in error_txt
    assert "restarted" in error_txt


def test_a_run_that_cannot_go_on_fails_clearly_with_results_and_checkpoint_intact(runs):
    run = runs["cannot_go_on"]
    assert run.rc == 1, run.explain()
    message = run.stderr.strip().splitlines()[-1]
    assert message.startswith("rlrun: error: env runner") and "Fault tolerance is off" in message
    assert "Traceback" not in run.stderr.split("rlrun: error:")[-1]
    # Iteration 1 finished and was written and checkpointed before iteration 2 failed.
    assert [r["training_iteration"] for r in run.results()] == [1]
    assert [p.name for p in run.checkpoints()] == ["checkpoint_000001"]
    error_txt = (run.trial_dir / "error.txt").read_text()
    assert "env runner" in error_txt and "TrainingFailed" in error_txt
