"""Callbacks and curriculum with a remote env runner: hooks run in the Ray actor, what they log
arrives in the driver's results exactly as a local run reports it, and a raising hook ends the
run (no restart) with its traceback.
"""

from __future__ import annotations

import traceback

import pytest

import rlrun
from rlrun.callbacks import CallbackFailed
from rlrun.callbacks.hooks import RemoteTraceback
from tests.helpers.callbacks import CYCLE, check_counting
from tests.helpers.cli import Run, train

H = "tests.helpers.callbacks"

REMOTE = ["env_runner.num_env_runners=1", "env_runner.num_cpus_per_env_runner=0.5"]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory) -> Run:
    """A subprocess run whose remote runner's callback raises (it starts its own Ray)."""
    root = tmp_path_factory.mktemp("callbacks_ray_cli")
    args = [*REMOTE, "env.id=tests.helpers.envs:FixedLengthEnv", "env.env_config={length:5}",
            f"callbacks=[{H}:RaiseOnEpisodeEnd]", "stop.iterations=2"]  # fmt: skip
    return Run(train(root, *args), root)


@pytest.mark.usefixtures("ray_session")
def test_episode_hook_metrics_from_a_remote_runner_match_a_local_run():
    algo = rlrun.build([*CYCLE, *REMOTE, f"callbacks=[{H}:CountingCallbacks]"])
    try:
        results = [algo.train() for _ in range(3)]
    finally:
        algo.stop()
    assert all(r["env_runners"]["num_healthy_env_runners"] == 1 for r in results)
    check_counting(results)  # the same numbers as tests/unit/test_callbacks.py's local run


@pytest.mark.usefixtures("ray_session")
def test_the_curriculum_task_reaches_a_remote_runner():
    algo = rlrun.build([
        f"env.id={H}:TaskEnv", "env.env_config={task:3}", f"env.task_fn={H}:grow",
        "algo.train_batch_size_per_learner=32", "algo.minibatch_size=32", "algo.num_epochs=1",
        "env_runner.num_envs_per_env_runner=2", f"callbacks=[{H}:TaskSeenCallbacks]", *REMOTE,
    ])  # fmt: skip
    try:
        results = [algo.train() for _ in range(3)]
    finally:
        algo.stop()
    for task, r in zip([3, 4, 5], results, strict=True):
        er = r["env_runners"]
        assert er["task"] == er["task_min"] == er["task_max"] == task


@pytest.mark.usefixtures("ray_session")
def test_a_raising_hook_in_a_remote_runner_ends_the_run_without_restarts():
    algo = rlrun.build([*CYCLE, *REMOTE, f"callbacks=[{H}:RaiseOnEpisodeEnd]"])
    try:
        with pytest.raises(CallbackFailed) as info:
            algo.train()
        assert algo.env_runner_group.restarts == {1: 0}  # the user's code: not a runner fault
    finally:
        algo.stop()
    e = info.value
    assert "RaiseOnEpisodeEnd failed in on_episode_end (in env runner 1)" in str(e)
    assert isinstance(e.__cause__, RemoteTraceback)
    text = "".join(traceback.format_exception(e))
    assert "ValueError: deliberate failure in RaiseOnEpisodeEnd" in text
    assert 'tests/helpers/callbacks.py", line' in text


def test_a_raising_remote_hook_exits_1_with_its_traceback_in_error_txt(cli_run):
    run = cli_run
    assert run.rc == 1, run.explain()
    assert "RaiseOnEpisodeEnd failed in on_episode_end (in env runner 1)" in run.stderr
    assert "Traceback" not in run.stderr, run.explain()
    error = (run.trial_dir / "error.txt").read_text()
    assert "ValueError: deliberate failure in RaiseOnEpisodeEnd" in error
    assert 'tests/helpers/callbacks.py", line' in error
    assert "restarted" not in error  # not handled as a runner fault
