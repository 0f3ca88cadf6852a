"""The debug envs of rlrun.env.debug_envs: CPU burning for benchmarks, deliberate failures, the
small envs for memory, Dict observations, action masks and images, and a 2-D reaching task with
Box actions (checked with scripted oracle and random policies against each reward_threshold)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rlrun.env.debug_envs import (
    ActionMaskEnv,
    BurnCPUEnv,
    DictCartPole,
    FaultyEnv,
    PointReach,
    StatelessCartPole,
    TinyImageEnv,
)
from rlrun.env.make_env import make_single_env, make_vector_env, reward_threshold


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


# --- envs for model features ---------------------------------------------------------------------

Policy = Callable[[gym.Env, Any, Any, np.random.Generator], int]
FEATURE_ENVS: dict[str, Callable[[], gym.Env]] = {
    "StatelessCartPole": StatelessCartPole,
    "DictCartPole": DictCartPole,
    "ActionMaskEnv": ActionMaskEnv,
    "ActionMaskEnv-pettingzoo": lambda: ActionMaskEnv(pettingzoo_names=True),
    "TinyImageEnv": TinyImageEnv,
    "TinyImageEnv-chw": lambda: TinyImageEnv(size=8, channels=1, channels_first=True),
}


def mean_return(env: gym.Env, policy: Policy, episodes: int, seed: int = 0) -> float:
    """Average return of `policy(env, obs, previous_obs, rng)` over seeded episodes."""
    rng = np.random.default_rng(seed)
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed * 1000 + episode)
        prev, total, done = obs, 0.0, False
        while not done:
            action = policy(env, obs, prev, rng)
            prev = obs
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


def balance(x: float, x_dot: float, theta: float, theta_dot: float) -> int:
    """A linear controller that holds CartPole up for all 500 steps."""
    return int(0.05 * x + 0.1 * x_dot + theta + 0.3 * theta_dot > 0)


def random_action(env: gym.Env, obs: Any, prev: Any, rng: np.random.Generator) -> int:
    return int(rng.integers(env.action_space.n))


def stateless_oracle(env: gym.Env, obs: Any, prev: Any, rng: np.random.Generator) -> int:
    # Velocities from two successive observations (CartPole's time step is 0.02 s): memory.
    x_dot, theta_dot = (obs - prev) / 0.02
    return balance(obs[0], x_dot, obs[1], theta_dot)


def masked_random(env: gym.Env, obs: Any, prev: Any, rng: np.random.Generator) -> int:
    return int(rng.choice(np.flatnonzero(obs["action_mask"])))


@pytest.mark.filterwarnings("ignore:.*infinity:UserWarning")  # CartPole's velocities, as in v1
@pytest.mark.parametrize("name", list(FEATURE_ENVS))
def test_feature_envs_pass_gymnasiums_checker(name: str) -> None:
    env = FEATURE_ENVS[name]()
    check_env(env, skip_render_check=True)
    assert env.unwrapped is env and env.reward_threshold is not None


@pytest.mark.parametrize("name", list(FEATURE_ENVS))
def test_feature_envs_are_deterministic_under_a_seed(name: str) -> None:
    def rollout(seed: int) -> list[Any]:
        env = FEATURE_ENVS[name]()
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for step in range(30):
            obs, reward, terminated, truncated, _ = env.step(step % env.action_space.n)
            out.append((obs, reward, terminated, truncated))
            if terminated or truncated:
                out.append(env.reset()[0])
        return out

    def flatten(xs: list[Any]) -> np.ndarray:
        return np.concatenate([np.ravel(leaf) for x in xs for leaf in _leaves(x)])

    assert np.array_equal(flatten(rollout(3)), flatten(rollout(3)))
    assert not np.array_equal(flatten(rollout(3)), flatten(rollout(4)))


def _leaves(x: Any) -> list[Any]:
    if isinstance(x, dict):
        return [leaf for key in sorted(x) for leaf in _leaves(x[key])]
    if isinstance(x, tuple):
        return [leaf for item in x for leaf in _leaves(item)]
    return [np.asarray(x, np.float64)]


def test_stateless_cartpole_hides_the_velocities_and_needs_memory() -> None:
    env = StatelessCartPole()
    assert env.observation_space.shape == (2,) and env.action_space == gym.spaces.Discrete(2)
    threshold = StatelessCartPole.reward_threshold
    assert mean_return(env, stateless_oracle, 5) == 500.0  # the 500-step limit
    assert mean_return(env, random_action, 30) < threshold / 3
    # The best a memoryless policy does is far below the threshold, too.
    assert mean_return(env, lambda e, o, p, r: int(o[1] > 0), 30) < threshold / 2


def test_dict_cartpole_holds_cartpoles_state_in_two_parts() -> None:
    env, ref = DictCartPole(), gym.make("CartPole-v1").unwrapped
    obs, _ = env.reset(seed=5)
    state, _ = ref.reset(seed=5)
    np.testing.assert_array_equal(np.concatenate([obs["cart"], obs["pole"]]), state)
    assert set(env.observation_space.spaces) == {"cart", "pole"}

    def oracle(e: gym.Env, o: Any, p: Any, r: np.random.Generator) -> int:
        return balance(*o["cart"], *o["pole"])

    assert mean_return(env, oracle, 3) >= DictCartPole.reward_threshold
    assert mean_return(env, random_action, 30) < 100


def test_action_mask_env_rewards_the_closest_legal_action() -> None:
    env = ActionMaskEnv()
    threshold = ActionMaskEnv.reward_threshold

    def oracle(e: gym.Env, o: Any, p: Any, r: np.random.Generator) -> int:
        # From the observation alone: the legal action nearest the one-hot target.
        legal = np.flatnonzero(o["action_mask"])
        return int(legal[np.argmin(np.abs(legal - np.argmax(o["observations"])))])

    assert mean_return(env, oracle, 50) == 10.0 >= threshold
    masked = mean_return(env, masked_random, 200)
    assert 4.5 < masked < threshold - 2  # clearly below what a trained agent gets
    assert mean_return(env, random_action, 200) < -8  # ignoring the mask is ruinous


def test_action_mask_env_counts_and_punishes_illegal_actions() -> None:
    env = ActionMaskEnv(num_actions=6, p_legal=0.3)
    for seed in range(20):
        obs, info = env.reset(seed=seed)
        assert info["illegal_actions"] == 0 and obs["action_mask"].sum() >= 1
        illegal = np.flatnonzero(obs["action_mask"] == 0)
        if len(illegal):
            break
    _, reward, terminated, _, info = env.step(int(illegal[0]))
    assert reward == -10.0 and terminated and info["illegal_actions"] == 1
    # A masked policy never takes one over whole episodes.
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=1)
    done = False
    while not done:
        obs, _, terminated, truncated, info = env.step(masked_random(env, obs, None, rng))
        done = terminated or truncated
    assert info["illegal_actions"] == 0


def test_action_mask_env_pettingzoo_names() -> None:
    env = ActionMaskEnv(pettingzoo_names=True, num_actions=3)
    assert set(env.observation_space.spaces) == {"action_mask", "observation"}
    obs, _ = env.reset(seed=0)
    assert obs["action_mask"].dtype == np.int8 and obs["observation"].shape == (3,)
    with pytest.raises(ValueError, match="num_actions"):
        ActionMaskEnv(num_actions=1)


def test_tiny_image_env_answer_is_in_the_picture() -> None:
    env = TinyImageEnv()
    assert env.observation_space == gym.spaces.Box(0, 255, (12, 12, 3), np.uint8)
    threshold = TinyImageEnv.reward_threshold

    def oracle(e: gym.Env, o: Any, p: Any, r: np.random.Generator) -> int:
        # Read the dot's edge from the picture only: where the 255s are.
        rows, cols = np.nonzero(o.min(axis=2) == 255)
        row, col = rows.mean(), cols.mean()
        dists = [col, o.shape[1] - 1 - col, row, o.shape[0] - 1 - row]  # left, right, top, bottom
        return int(np.argmin(dists))

    assert mean_return(env, oracle, 30) == 20.0 >= threshold
    assert mean_return(env, random_action, 100) < threshold / 2


def test_tiny_image_env_channels_first() -> None:
    env = TinyImageEnv(size=10, channels=1, channels_first=True)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (1, 10, 10) and obs.dtype == np.uint8 and obs.flags.c_contiguous
    assert (obs == 255).sum() == 4  # the 2x2 dot; the noise stays below 64


@pytest.mark.parametrize(
    "name", ["StatelessCartPole", "DictCartPole", "ActionMaskEnv", "TinyImageEnv"]
)
def test_feature_envs_load_by_class_path_with_their_thresholds(name: str) -> None:
    cfg = {"id": f"rlrun.env.debug_envs:{name}"}
    env = make_single_env(cfg)
    env.reset(seed=0)
    assert reward_threshold(cfg) == type(env).reward_threshold
    vec = make_vector_env(cfg, num_envs=2)
    obs, _ = vec.reset(seed=0)
    assert vec.single_observation_space == env.observation_space
    vec.step(np.zeros(2, np.int64))
    vec.close()


# --- PointReach: continuous control ---------------------------------------------------------------


def reach_oracle(env: gym.Env, obs: Any, prev: Any, rng: np.random.Generator) -> np.ndarray:
    # Straight at the goal, read from the observation (position, goal) alone.
    return np.clip((obs[2:] - obs[:2]) / env.step_size, -1.0, 1.0)


def test_point_reach_moves_by_the_clipped_action_and_pays_the_distance() -> None:
    env = PointReach()
    check_env(env, skip_render_check=True)
    assert env.observation_space == gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    obs, _ = env.reset(seed=0)
    pos, goal = obs[:2].astype(np.float64), obs[2:].copy()
    # Hand-computed: (3, -0.5) clips to (1, -0.5), times the step size 0.1.
    obs, reward, terminated, truncated, _ = env.step(np.array([3.0, -0.5]))
    moved = np.clip(pos + np.array([0.1, -0.05]), -1.0, 1.0)
    np.testing.assert_allclose(obs[:2], moved, atol=1e-6)
    np.testing.assert_array_equal(obs[2:], goal)  # the goal stays put
    assert reward == pytest.approx(-np.linalg.norm(moved - goal), abs=1e-6)
    assert not terminated and not truncated
    for _ in range(48):
        assert not env.step(np.ones(2))[3]
    obs, _, terminated, truncated, _ = env.step(np.ones(2))  # the 50th step: a time limit
    assert truncated and not terminated and np.all(obs[:2] <= 1.0)


def test_point_reach_oracle_reaches_the_threshold_and_random_does_not() -> None:
    env, threshold = PointReach(), PointReach.reward_threshold
    assert mean_return(env, reach_oracle, 30) >= threshold
    assert mean_return(env, lambda e, o, p, r: r.uniform(-1, 1, 2), 30) < 3 * threshold
    assert mean_return(env, lambda e, o, p, r: np.zeros(2), 30) < 3 * threshold


def test_point_reach_is_seeded_loads_by_class_path_and_checks_its_args() -> None:
    a, b = PointReach(), PointReach()
    np.testing.assert_array_equal(a.reset(seed=7)[0], b.reset(seed=7)[0])
    assert not np.array_equal(a.reset(seed=7)[0], b.reset(seed=8)[0])
    cfg = {"id": "rlrun.env.debug_envs:PointReach", "env_config": {"step_size": 0.2}}
    env = make_single_env(cfg)
    assert isinstance(env, PointReach) and env.step_size == 0.2
    assert reward_threshold(cfg) == PointReach.reward_threshold
    with pytest.raises(ValueError, match="step_size"):
        PointReach(step_size=0)
