"""Callbacks in one process (rlrun.callbacks): hooks, logged metrics, evaluation, failures."""

from __future__ import annotations

import sys

import pytest

import rlrun
from rlrun.callbacks import CallbackFailed, Callbacks
from rlrun.callbacks.hooks import CallbackList, check_user_code
from rlrun.config.compose import compose
from rlrun.config.validate import validate
from rlrun.env.env_runner import EnvRunner
from rlrun.errors import ConfigError
from tests.helpers import callbacks as helpers
from tests.helpers.callbacks import CYCLE, check_counting

H = "tests.helpers.callbacks"


def train(iterations: int, *overrides: str, base: list[str] = CYCLE) -> list[dict]:
    algo = rlrun.build([*base, *overrides])
    try:
        return [algo.train() for _ in range(iterations)]
    finally:
        algo.stop()


def test_hooks_fire_and_logged_values_reach_results_with_their_reductions():
    helpers.MinimalCallbacks.episodes_ended = 0
    results = train(3, f"callbacks=[{H}:CountingCallbacks,{H}:MinimalCallbacks]")
    check_counting(results)
    # A plain class with one minimal hook is called too, once per finished episode.
    assert helpers.MinimalCallbacks.episodes_ended == results[-1]["num_episodes_lifetime"] == 10


def test_evaluation_hooks_and_episode_metrics_of_eval_runners():
    (result,) = train(
        1,
        f"callbacks=[{H}:CountingCallbacks]",
        "evaluation.interval=1",
        "evaluation.duration=3",
        "evaluation.env_config={lengths:[7]}",
    )
    ev = result["evaluation"]
    assert ev["callback_saw_evaluation"] is True  # on_evaluate_end got the section itself
    assert result["evaluations_started"] == 1
    er = ev["env_runners"]
    # Only the episodes that count are followed: exactly the 3 evaluated, all of length 7.
    assert er["episodes_started"] == 3 and er["nested"]["episodes_ended"] == 3
    assert er["len_mean"] == er["len_max"] == 7 and er["steps"] == 21
    assert er["in_evaluation"] == 1.0
    assert result["env_runners"]["len_max"] == 6  # training's values are apart


def test_without_episode_hooks_the_runner_builds_no_episodes():
    env = {"id": "tests.helpers.envs:FixedLengthEnv", "env_config": {}}
    plain = EnvRunner(env, {"num_envs_per_env_runner": 2})
    driver_only = EnvRunner(
        env, {"num_envs_per_env_runner": 2, "callbacks": [f"{H}:RaiseOnTrainResult"]}
    )
    hooked = EnvRunner(env, {"num_envs_per_env_runner": 2, "callbacks": [f"{H}:MinimalCallbacks"]})
    try:
        assert plain._tracker is None and driver_only._tracker is None
        assert hooked._tracker is not None
    finally:
        for r in (plain, driver_only, hooked):
            r.stop()


def test_recreated_sub_env_cuts_its_episode_without_on_episode_end():
    helpers.MinimalCallbacks.episodes_ended = 0
    results = train(
        2,
        "env.id=rlrun.env.debug_envs:FaultyEnv",
        "env.env_config={fail_at_step:7}",
        "fault_tolerance.restart_failed_sub_environments=true",
        f"callbacks=[{H}:MinimalCallbacks]",
        base=["algo.train_batch_size_per_learner=64", "algo.minibatch_size=64"],
    )
    assert results[-1]["env_runners"]["num_sub_env_restarts"] >= 1
    assert helpers.MinimalCallbacks.episodes_ended == results[-1]["num_episodes_lifetime"]


# --- failures --------------------------------------------------------------------------------


def test_a_raising_episode_hook_fails_the_run_naming_class_and_hook():
    algo = rlrun.build([*CYCLE, f"callbacks=[{H}:RaiseOnEpisodeEnd]"])
    try:
        with pytest.raises(CallbackFailed) as info:
            algo.train()
    finally:
        algo.stop()
    e = info.value
    assert e.exit_code == 1
    assert f"{H}:RaiseOnEpisodeEnd failed in on_episode_end (in the driver's env runner)" in str(e)
    assert "ValueError: deliberate failure in RaiseOnEpisodeEnd" in str(e)
    assert isinstance(e.__cause__, ValueError)  # the traceback error.txt gets


def test_a_raising_driver_hook_fails_the_run():
    with pytest.raises(CallbackFailed, match="failed in on_algorithm_init"):
        rlrun.build([*CYCLE, f"callbacks=[{H}:RaiseOnAlgorithmInit]"])
    algo = rlrun.build([*CYCLE, f"callbacks=[{H}:RaiseOnTrainResult]"])
    try:
        with pytest.raises(CallbackFailed, match="failed in on_train_result"):
            algo.train()
    finally:
        algo.stop()


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("[nocolon]", "a list of class paths"),
        ("[a.b:C:D]", "a list of class paths"),
        ("[has space:C]", "a list of class paths"),
    ],
)
def test_a_malformed_callback_path_is_a_config_error(value: str, match: str):
    with pytest.raises(ConfigError, match=match) as info:
        validate(compose([f"callbacks={value}"]))
    assert info.value.key == "callbacks"


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("no_such_module_xyz:C", "cannot import module 'no_such_module_xyz'"),
        (f"{H}:CountingCallback", "Did you mean 'CountingCallbacks'"),
        (f"{H}:grow", "is a function, not a class"),
        (
            f"{H}:TypoedHook",
            "on_episode_ended is not a hook rlrun calls. Did you mean on_episode_end",
        ),
        (f"{H}:UnknownArgument", "asks for 'episode_number', which rlrun does not pass"),
    ],
)
def test_a_callback_that_cannot_be_used_is_a_config_error(path: str, match: str):
    cfg = compose([f"callbacks=[{path}]"])
    validate(cfg)
    with pytest.raises(ConfigError, match=match) as info:
        check_user_code(cfg)
    assert info.value.key == "callbacks"
    with pytest.raises(ConfigError, match=match):  # the same when built from Python
        CallbackList([path], "in the driver")


def test_hooks_get_only_the_arguments_they_name_in_list_order():
    calls: list[tuple[str, dict]] = []

    class Named:
        def on_train_result(self, result, metrics_logger=None):
            calls.append(("named", {"result": result, "metrics_logger": metrics_logger}))

    class Everything(Callbacks):
        def on_train_result(self, **kwargs):
            calls.append(("everything", kwargs))

    module = sys.modules[__name__]
    module.Named, module.Everything = Named, Everything  # importable by path for the test
    hooks = CallbackList([f"{__name__}:Named", f"{__name__}:Everything"], "in the driver")
    hooks.call("on_train_result", algorithm="A", result={"r": 1}, metrics_logger="M")
    assert calls == [
        ("named", {"result": {"r": 1}, "metrics_logger": "M"}),
        ("everything", {"algorithm": "A", "result": {"r": 1}, "metrics_logger": "M"}),
    ]
    # The base class's no-op hooks are not called (nor make episode objects be built).
    assert not hooks.has("on_episode_step") and not hooks.has_episode_hooks
