"""Fault tolerance of remote env runners, with rlrun.env.debug_envs:FaultyEnv.

Each runner has 2 sub-envs and samples 100 steps per sub-env per iteration, so with
fail_at_step=150 the first failure comes in the second iteration. `fail_once_file` makes it
happen once over all processes, so exactly one restart is expected.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import rlrun
from rlrun.errors import TrainingFailed

pytestmark = pytest.mark.usefixtures("ray_session")

FAULTY = "rlrun.env.debug_envs:FaultyEnv"


def build(tmp_path: Path, *overrides: str, fail_once: bool = True, **env_config):
    env_config = {"fail_at_step": 150, **env_config}
    if fail_once:
        env_config["fail_once_file"] = str(tmp_path / "failed-once")
    conf = ",".join(
        f"{k}:{v!r}" if isinstance(v, str) else f"{k}:{v}" for k, v in env_config.items()
    )
    return rlrun.build(
        [
            f"env.id={FAULTY}",
            f"env.env_config={{{conf}}}",
            "env_runner.num_env_runners=2",
            "env_runner.num_envs_per_env_runner=2",
            "algo.train_batch_size_per_learner=400",
            "algo.minibatch_size=200",
            "algo.num_epochs=1",
            *overrides,
        ]
    )


def train(algo, iterations: int) -> dict:
    try:
        for _ in range(iterations):
            result = algo.train()
        return result
    finally:
        algo.stop()


@pytest.mark.parametrize("mode", ["raise", "exit"])
def test_a_failed_runner_is_restarted_and_training_goes_on(
    tmp_path: Path, mode: str, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.WARNING, logger="rlrun.fault"):
        result = train(build(tmp_path, fail_mode=mode), 4)
    runners = result["env_runners"]
    assert runners["num_env_runner_restarts"] == 1
    assert runners["num_healthy_env_runners"] == 2
    assert result["training_iteration"] == 4
    # The iteration that lost a fragment sampled again: every iteration trained on a full batch.
    assert result["num_env_steps_sampled_lifetime"] >= 4 * 400 * 0.9
    text = caplog.text
    assert "env runner" in text and "restarted" in text
    if mode == "raise":
        assert "FaultyEnv: deliberate failure at step 150" in text  # the env's own traceback
        assert 'debug_envs/wrappers.py", line' in text and "\x1b[" not in text
    else:
        assert "died" in text.lower() or "exit" in text.lower()


def test_ignoring_failures_goes_on_with_the_healthy_runners(tmp_path: Path):
    algo = build(
        tmp_path,
        "fault_tolerance.restart_failed_env_runners=false",
        "fault_tolerance.ignore_env_runner_failures=true",
    )
    try:
        for _ in range(4):
            result = algo.train()
        assert result["env_runners"]["num_healthy_env_runners"] == 1
        assert result["env_runners"]["num_env_runner_restarts"] == 0
        # The survivor's fragments grow to fill the batch alone.
        assert algo.env_runner_group.num_envs_total == 2
        assert algo.fragment_length() == 200
        assert result["env_runners"]["num_env_steps_sampled"] >= 0.9 * 400
    finally:
        algo.stop()


def test_without_fault_tolerance_the_run_stops_with_the_env_error(tmp_path: Path):
    algo = build(tmp_path, "fault_tolerance.restart_failed_env_runners=false")
    with pytest.raises(TrainingFailed) as e:
        train(algo, 4)
    assert e.value.exit_code == 1
    message = str(e.value)
    assert "FaultyEnv: deliberate failure at step 150" in message
    assert "restart_failed_env_runners=false" in message and "error.txt" in message


def test_a_runner_failing_past_its_restart_limit_stops_the_run(tmp_path: Path):
    # No fail_once_file: every runner fails at its 150th step, in its second sample, again
    # after each restart (each fresh runner completes one sample first: no crash loop).
    algo = build(
        tmp_path,
        "fault_tolerance.max_num_env_runner_restarts=1",
        "fault_tolerance.delay_between_env_runner_restarts_s=0",
        fail_once=False,
    )
    with pytest.raises(TrainingFailed, match=r"after 1 restarts .*max_num_env_runner_restarts=1"):
        train(algo, 3)


def test_a_failed_sub_env_is_recreated_without_restarting_its_runner(tmp_path: Path):
    result = train(build(tmp_path, "fault_tolerance.restart_failed_sub_environments=true"), 3)
    runners = result["env_runners"]
    assert runners["num_sub_env_restarts"] == 1
    assert runners["num_env_runner_restarts"] == 0
    assert runners["num_healthy_env_runners"] == 2


def test_a_crash_loop_of_every_runner_ends_the_run_at_once(tmp_path: Path, caplog):
    """An env that fails at the same step in every fresh process: every runner fails in the
    first round before completing a sample; the run ends (exit 1) instead of restarting them
    forever, naming the env's error."""
    import time

    algo = build(tmp_path, fail_once=False, fail_at_step=40)
    t0 = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="rlrun.fault"), pytest.raises(TrainingFailed) as e:
        train(algo, 3)
    assert time.monotonic() - t0 < 60
    assert e.value.exit_code == 1
    assert "crash loop" in str(e.value) and "deliberate failure at step 40" in str(e.value)


def test_one_runner_in_a_crash_loop_ends_the_run_and_logs_its_traceback_once(
    tmp_path: Path, caplog
):
    algo = build(
        tmp_path,
        "env_runner.num_env_runners=1",
        "fault_tolerance.delay_between_env_runner_restarts_s=0.1",
        fail_once=False,
        fail_at_step=40,
    )
    with caplog.at_level(logging.WARNING, logger="rlrun.fault"), pytest.raises(TrainingFailed) as e:
        train(algo, 3)
    assert "failed 3 times in a row without completing a sample" in str(e.value)
    assert "max_consecutive_env_runner_failures=3" in str(e.value)
    failures = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    full = [m for m in failures if "\n" in m]  # with the env's traceback
    again = [m for m in failures if "same error" in m]
    assert len(full) == 1, failures  # the same traceback once ...
    assert len(again) == 2 and "seen 3 times" in again[-1]  # ... then a count
    restarts = [r.getMessage() for r in caplog.records if "restarts in" in r.getMessage()]
    assert restarts == ["env runner 1 restarts in 0.1 s", "env runner 1 restarts in 0.2 s"]
