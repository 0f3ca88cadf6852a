"""Curriculum (`env.task_fn`, rlrun.callbacks.curriculum) in one process."""

from __future__ import annotations

import pytest

import rlrun
from rlrun.callbacks import CallbackFailed
from rlrun.callbacks.curriculum import load_task_fn
from rlrun.errors import ConfigError

H = "tests.helpers.callbacks"
TASKS = [
    f"env.id={H}:TaskEnv",
    "env.env_config={task:3}",
    "algo.train_batch_size_per_learner=32",
    "algo.minibatch_size=32",
    "algo.num_epochs=1",
    "env_runner.num_envs_per_env_runner=2",
    f"callbacks=[{H}:TaskSeenCallbacks]",
]


def test_the_task_reaches_every_sub_env_and_is_recorded_and_checkpointed(tmp_path):
    algo = rlrun.build([*TASKS, f"env.task_fn={H}:grow"])
    try:
        results = [algo.train() for _ in range(3)]
        # The first task is the env's own get_task(); each iteration then grows it by one.
        assert [r["env_runners"]["task"] for r in results] == [3, 4, 5]
        for r in results:
            er = r["env_runners"]
            # Every episode that started in the iteration ran the task it reports.
            assert er["task_min"] == er["task_max"] == er["task"]
        assert algo.env_runner_group.local_runner.env.call("get_task") == (6, 6)
        algo.save(tmp_path / "ckpt")
    finally:
        algo.stop()

    resumed = rlrun.build([*TASKS, f"env.task_fn={H}:grow"])
    try:
        resumed.restore(tmp_path / "ckpt")
        assert resumed.callbacks.curriculum.task == 6
        assert resumed.env_runner_group.local_runner.get_task() == 6
        assert resumed.train()["env_runners"]["task"] == 6
    finally:
        resumed.stop()


def test_positional_and_one_argument_task_functions():
    assert load_task_fn(f"{H}:grow_positional")({"training_iteration": 1}, 3) == 4
    assert load_task_fn(f"{H}:from_iteration")({"training_iteration": 4}, 3) == 6
    assert load_task_fn(f"{H}:grow")({}, 7) == 8
    algo = rlrun.build([*TASKS, f"env.task_fn={H}:from_iteration"])
    try:
        results = [algo.train() for _ in range(2)]
        assert [r["env_runners"]["task"] for r in results] == [3, 3]  # 2 + iteration 1
        assert results[1]["env_runners"]["task_min"] == 3
    finally:
        algo.stop()


def test_an_env_without_set_task_is_a_config_error():
    with pytest.raises(ConfigError, match="needs an env with a set_task") as info:
        rlrun.build(["env.id=tests.helpers.envs:FixedLengthEnv", f"env.task_fn={H}:grow"])
    assert info.value.key == "env.task_fn"


def test_a_task_fn_path_that_cannot_be_used_is_a_config_error():
    with pytest.raises(ConfigError, match="function path pkg.module:fn"):
        rlrun.build([*TASKS, "env.task_fn=grow"])
    with pytest.raises(ConfigError, match="has no attribute 'grw'. Did you mean 'grow'"):
        load_task_fn(f"{H}:grw")


def test_a_raising_task_fn_fails_the_run():
    algo = rlrun.build([*TASKS, f"env.task_fn={H}:broken_task_fn"])
    try:
        with pytest.raises(CallbackFailed, match=f"{H}:broken_task_fn failed in task_fn"):
            algo.train()
    finally:
        algo.stop()
