"""RecreateOnFailure (rlrun.env.recreate) alone and inside make_vector_env's vector envs."""

from __future__ import annotations

import logging
import time

import gymnasium as gym
import numpy as np
import pytest

from rlrun.env.debug_envs import FaultyEnv
from rlrun.env.make_env import make_vector_env
from rlrun.env.recreate import SUB_ENV_FAILED, SUB_ENV_TRACEBACK, RecreateOnFailure

FAULTY = "rlrun.env.debug_envs:FaultyEnv"


class Factory:
    """Makes FaultyEnvs and remembers them, to check which were closed."""

    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs
        self.made: list[FaultyEnv] = []
        self.closed: list[FaultyEnv] = []

    def __call__(self) -> gym.Env:
        env = FaultyEnv(**self.kwargs)
        inner_close = env.close

        def close() -> None:
            self.closed.append(env)
            inner_close()

        env.close = close
        self.made.append(env)
        return env


def test_failing_step_recreates_the_env_and_truncates(caplog: pytest.LogCaptureFixture):
    factory = Factory(fail_at_step=3)
    env = RecreateOnFailure(factory)
    env.reset(seed=0)
    for _ in range(2):
        _, _, _, _, info = env.step(0)
        assert SUB_ENV_FAILED not in info
    with caplog.at_level(logging.DEBUG, logger="rlrun.fault"):
        obs, reward, terminated, truncated, info = env.step(0)
    assert (reward, terminated, truncated) == (0.0, False, True)
    assert info[SUB_ENV_FAILED] is True
    assert "deliberate failure at step 3" in info[SUB_ENV_TRACEBACK]  # travels to the driver
    assert env.num_restarts == 1
    assert env.observation_space.contains(obs)
    assert len(factory.made) == 2 and factory.closed == [factory.made[0]]
    assert env.env is factory.made[1]
    (record,) = [r for r in caplog.records if r.name == "rlrun.fault"]
    assert record.levelno == logging.DEBUG
    assert record.getMessage().startswith("sub-environment failed and is being recreated")
    assert "deliberate failure at step 3" in caplog.text  # the traceback is logged

    # The new env counts its own steps: it fails at its 3rd, not before.
    env.reset()
    for _ in range(2):
        _, _, _, truncated, info = env.step(0)
        assert not truncated and SUB_ENV_FAILED not in info
    env.step(0)
    assert env.num_restarts == 2


def test_a_failing_close_does_not_stop_recovery():
    def broken_close() -> None:
        raise OSError("close failed too")

    made: list[gym.Env] = []

    def env_fn() -> gym.Env:
        env = FaultyEnv(fail_at_step=1)
        if not made:
            env.close = broken_close
        made.append(env)
        return env

    env = RecreateOnFailure(env_fn)
    env.reset(seed=0)
    _, _, _, truncated, _ = env.step(0)
    assert truncated and env.num_restarts == 1


def test_a_failing_reset_propagates():
    env = RecreateOnFailure(lambda: FaultyEnv(fail_on_reset=True))
    with pytest.raises(RuntimeError, match="on reset"):
        env.reset()

    # A recreated env that cannot reset is not retried either.
    calls = []

    def env_fn() -> gym.Env:
        calls.append(1)
        return FaultyEnv(fail_at_step=1, fail_on_reset=len(calls) > 1)

    env = RecreateOnFailure(env_fn)
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="on reset"):
        env.step(0)


def step_vector(vec: gym.vector.VectorEnv, num_steps: int) -> list[tuple]:
    vec.reset(seed=0)
    out = []
    for _ in range(num_steps):
        out.append(vec.step(np.zeros(vec.num_envs, np.int64)))
    return out


def check_flag_on_step_5(steps: list[tuple]) -> None:
    # Both sub-envs fail at their own 5th step() call: the first 5 vector steps are real steps
    # for both (CartPole lasts longer than that), so both fail on vector step 5.
    for t, (_, rewards, terminated, truncated, infos) in enumerate(steps, start=1):
        if t == 5:
            np.testing.assert_array_equal(infos[SUB_ENV_FAILED], [True, True])
            np.testing.assert_array_equal(infos["_" + SUB_ENV_FAILED], [True, True])
            np.testing.assert_array_equal(truncated, [True, True])
            np.testing.assert_array_equal(terminated, [False, False])
            np.testing.assert_array_equal(rewards, [0.0, 0.0])
        else:
            assert SUB_ENV_FAILED not in infos, t
            assert not truncated.any(), t


def test_sync_vector_env_reports_the_failed_sub_env():
    env_cfg = {"id": FAULTY, "env_config": {"fail_at_step": 5}}
    vec = make_vector_env(env_cfg, 2, "sync", recreate_failed_sub_envs=True)
    assert isinstance(vec, gym.vector.SyncVectorEnv)
    steps = step_vector(vec, 8)
    check_flag_on_step_5(steps)
    assert [e.num_restarts for e in vec.envs] == [1, 1]
    vec.close()


def test_only_the_failing_sub_env_is_flagged(tmp_path):
    env_cfg = {
        "id": FAULTY,
        "env_config": {"fail_at_step": 5, "fail_once_file": str(tmp_path / "failed")},
    }
    vec = make_vector_env(env_cfg, 2, "sync", recreate_failed_sub_envs=True)
    steps = step_vector(vec, 8)
    _, _, _, truncated, infos = steps[4]
    np.testing.assert_array_equal(infos["_" + SUB_ENV_FAILED], [True, False])
    assert infos[SUB_ENV_FAILED][0]
    np.testing.assert_array_equal(truncated, [True, False])
    # Sub-env 0 only: it was first to create the fail-once file. The step after is its usual
    # NEXT_STEP autoreset row (reward 0); then both sub-envs carry on stepping normally.
    np.testing.assert_array_equal(steps[5][1], [0.0, 1.0])
    np.testing.assert_array_equal(steps[6][1], [1.0, 1.0])
    for t, (_, _, _, truncated, infos) in enumerate(steps, start=1):
        if t != 5:
            assert SUB_ENV_FAILED not in infos and not truncated.any(), t
    assert [e.num_restarts for e in vec.envs] == [1, 0]
    vec.close()


def test_without_recreation_the_failure_propagates():
    env_cfg = {"id": FAULTY, "env_config": {"fail_at_step": 2}}
    vec = make_vector_env(env_cfg, 2, "sync")
    with pytest.raises(RuntimeError, match="deliberate failure"):
        step_vector(vec, 3)
    vec.close()


def test_recreation_turns_off_native_vectorization():
    vec = make_vector_env({"id": "CartPole-v1"}, 2, "sync", recreate_failed_sub_envs=True)
    assert isinstance(vec, gym.vector.SyncVectorEnv)
    assert all(isinstance(e, RecreateOnFailure) for e in vec.envs)
    vec.close()


def test_async_vector_env_reports_the_failed_sub_env():
    start = time.perf_counter()
    env_cfg = {"id": FAULTY, "env_config": {"fail_at_step": 5}}
    vec = make_vector_env(env_cfg, 2, "async", recreate_failed_sub_envs=True)
    try:
        assert isinstance(vec, gym.vector.AsyncVectorEnv)
        steps = step_vector(vec, 8)
    finally:
        vec.close()
    check_flag_on_step_5(steps)
    if time.perf_counter() - start > 3.0:
        pytest.skip("async vector env start-up was slow here; the check passed anyway")
