"""The debug envs of rlrun.env.debug_envs: CPU burning for benchmarks, deliberate failures."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import pytest

from rlrun.env.debug_envs import BurnCPUEnv, FaultyEnv
from rlrun.env.make_env import make_single_env


def test_burn_cpu_env_burns_the_asked_cpu_time_per_step():
    env = BurnCPUEnv(burn_us=2000.0)
    env.reset(seed=0)
    start = time.thread_time_ns()
    for _ in range(20):
        _, _, terminated, truncated, _ = env.step(0)
        if terminated or truncated:
            env.reset()
    burned_us = (time.thread_time_ns() - start) / 1000
    assert burned_us >= 0.9 * 20 * 2000.0
    env.close()


def test_burn_cpu_env_has_the_inner_spaces_and_zero_burn_works():
    inner = gym.make("CartPole-v1")
    env = BurnCPUEnv("CartPole-v1", burn_us=0)
    assert env.observation_space == inner.observation_space
    assert env.action_space == inner.action_space
    assert env.spec is not None and env.spec.id == "CartPole-v1"
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    env.step(1)
    with pytest.raises(ValueError, match="burn_us"):
        BurnCPUEnv(burn_us=-1)


def test_debug_envs_load_from_a_class_path_with_env_config():
    env = make_single_env({"id": "rlrun.env.debug_envs:BurnCPUEnv", "env_config": {"burn_us": 10}})
    env.reset(seed=0)
    env.step(0)
    assert isinstance(env, BurnCPUEnv) and env.burn_us == 10


def test_faulty_env_raises_at_exactly_the_given_step():
    env = FaultyEnv(fail_at_step=3)
    env.reset(seed=0)
    env.step(0)
    env.step(0)
    with pytest.raises(RuntimeError, match=r"deliberate failure at step 3 \(pid \d+\)"):
        env.step(0)
    env.step(0)  # only that one step fails


def test_faulty_env_counts_steps_across_episodes():
    env = FaultyEnv(fail_at_step=4)
    env.reset(seed=0)
    env.step(0)
    env.step(0)
    env.reset()
    env.step(0)
    with pytest.raises(RuntimeError):
        env.step(0)


def test_fail_once_file_fails_once_over_all_instances(tmp_path: Path):
    flag = str(tmp_path / "failed")
    first = FaultyEnv(fail_at_step=1, fail_once_file=flag)
    first.reset(seed=0)
    with pytest.raises(RuntimeError):
        first.step(0)
    assert Path(flag).exists()
    second = FaultyEnv(fail_at_step=1, fail_once_file=flag)
    second.reset(seed=0)
    second.step(0)  # the file exists: this instance keeps working


def test_fail_on_reset(tmp_path: Path):
    env = FaultyEnv(fail_on_reset=True, fail_at_step=1)
    with pytest.raises(RuntimeError, match="on reset"):
        env.reset()
    flag = str(tmp_path / "failed")
    once = FaultyEnv(fail_on_reset=True, fail_at_step=1, fail_once_file=flag)
    with pytest.raises(RuntimeError, match="on reset"):
        once.reset()
    once.reset(seed=0)  # the failure was claimed already
    once.step(0)  # with fail_on_reset, step() never fails


def test_fail_mode_exit_kills_the_process():
    code = (
        "from rlrun.env.debug_envs import FaultyEnv\n"
        "env = FaultyEnv(fail_at_step=2, fail_mode='exit')\n"
        "env.reset(seed=0)\n"
        "env.step(0)\n"
        "print('stepped once', flush=True)\n"
        "env.step(0)\n"
        "print('survived')\n"
    )
    repo_root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1, proc.stderr
    assert "stepped once" in proc.stdout
    assert "survived" not in proc.stdout


def test_bad_fail_mode_is_a_value_error():
    with pytest.raises(ValueError, match="raise, exit"):
        FaultyEnv(fail_mode="segfault")
