"""make_env for image and packaged envs: Atari through Gymnasium's wrappers, MinAtar through
its "module:EnvId", which ids are class paths, the friendly errors, and check_spaces."""

from __future__ import annotations

import importlib.util

import gymnasium as gym
import numpy as np
import pytest

from rlrun.env.make_env import (
    check_spaces,
    ensure_registered,
    is_class_path,
    make_single_env,
    make_vector_env,
    reward_threshold,
    wants_atari_preprocessing,
)
from rlrun.errors import ConfigError

HAS_ALE = importlib.util.find_spec("ale_py") is not None and importlib.util.find_spec("cv2")
HAS_MINATAR = importlib.util.find_spec("minatar") is not None
needs_ale = pytest.mark.skipif(not HAS_ALE, reason="pip install 'rlrun[atari]'")
needs_minatar = pytest.mark.skipif(not HAS_MINATAR, reason="pip install 'rlrun[minatar]'")
MINATAR_BREAKOUT = "minatar.gym:MinAtar/Breakout-v1"


@pytest.mark.parametrize(
    ("env_id", "expected"),
    [
        ("rlrun.env.debug_envs:TinyImageEnv", True),
        ("my_pkg.envs:Maze", True),
        ("my_pkg.envs:Outer.Inner", True),
        ("CartPole-v1", False),
        ("ALE/Pong-v5", False),
        (MINATAR_BREAKOUT, False),  # Gymnasium's "module:EnvId": an id after the colon
        ("my_pkg.envs:Maze-v0", False),
        ("my_pkg:Ns/Maze", False),
        ("my_pkg:Maze-v12", False),
        (":CartPole-v1", False),
    ],
)
def test_is_class_path(env_id: str, expected: bool) -> None:
    assert is_class_path(env_id) is expected


def test_check_spaces_leaves_observations_to_the_catalog_and_checks_actions() -> None:
    image = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    nested = gym.spaces.Dict({"a": image, "b": gym.spaces.Tuple([gym.spaces.Discrete(3)])})
    for action_space in [
        gym.spaces.Discrete(3),
        gym.spaces.Box(-1.0, 1.0, (2,)),
        gym.spaces.MultiDiscrete([3, 4]),
    ]:
        check_spaces(nested, action_space)
        check_spaces(gym.spaces.Text(5), action_space)
    for bad in [
        gym.spaces.Tuple([gym.spaces.Discrete(2)]),
        gym.spaces.MultiBinary(3),
        gym.spaces.Dict({"a": gym.spaces.Discrete(2)}),
    ]:
        with pytest.raises(ConfigError, match=r"unsupported action space.*MultiDiscrete") as e:
            check_spaces(image, bad)
        assert str(bad) in str(e.value)
    for unbounded in [gym.spaces.Box(-np.inf, 1.0, (2,)), gym.spaces.Box(-1.0, np.inf, (2,))]:
        with pytest.raises(ConfigError, match="finite action bounds"):
            check_spaces(image, unbounded)


def test_unknown_ids_get_the_friendly_error() -> None:
    with pytest.raises(ConfigError, match=r"env.id=CartPol-v1: not a registered.*CartPole"):
        make_single_env({"id": "CartPol-v1"})
    with pytest.raises(ConfigError, match="cannot import module 'no_such_pkg'"):
        make_single_env({"id": "no_such_pkg:Foo-v0"})
    with pytest.raises(ConfigError, match="not a registered"):
        reward_threshold({"id": "Nope/Nothing-v0"})


def test_atari_preprocessing_is_only_for_ale_ids() -> None:
    assert wants_atari_preprocessing({"id": "ALE/Pong-v5"})
    assert not wants_atari_preprocessing({"id": "ALE/Pong-v5", "atari_preprocessing": False})
    assert not wants_atari_preprocessing({"id": "CartPole-v1"})
    with pytest.raises(ConfigError, match=r"env.atari_preprocessing=true.*CartPole-v1"):
        make_single_env({"id": "CartPole-v1", "atari_preprocessing": True})
    with pytest.raises(ConfigError, match="TinyImageEnv"):
        wants_atari_preprocessing(
            {"id": "rlrun.env.debug_envs:TinyImageEnv", "atari_preprocessing": True}
        )


def test_cartpole_keeps_its_native_vector_env() -> None:
    env = make_vector_env({"id": "CartPole-v1"}, num_envs=3)
    assert not isinstance(env, gym.vector.SyncVectorEnv)  # CartPole's own numpy vector env
    env.close()


@needs_ale
def test_pong_is_preprocessed_by_gymnasiums_wrappers() -> None:
    env = make_single_env({"id": "ALE/Pong-v5"})
    assert env.observation_space == gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    assert isinstance(env, gym.wrappers.FrameStackObservation)
    assert env.unwrapped.get_wrapper_attr("_frameskip") == 1  # AtariPreprocessing skips
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    for _ in range(10):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs)
    env.close()


@needs_ale
def test_pong_without_preprocessing_and_with_a_time_limit() -> None:
    raw = make_single_env({"id": "ALE/Pong-v5", "atari_preprocessing": False})
    assert raw.observation_space.shape == (210, 160, 3)
    raw.close()
    limited = make_single_env({"id": "ALE/Pong-v5", "max_episode_steps": 3})
    limited.reset(seed=0)
    truncated = [limited.step(0)[3] for _ in range(3)]
    assert truncated == [False, False, True]  # agent steps (4 frames each), not frames
    with pytest.raises(ConfigError, match="frameskip"):
        make_single_env({"id": "ALE/Pong-v5", "env_config": {"frameskip": 4}})


@needs_ale
def test_pong_vector_env_uses_our_wrappers_not_ales_vector_env() -> None:
    env = make_vector_env({"id": "ALE/Pong-v5"}, num_envs=2)
    assert isinstance(env, gym.vector.SyncVectorEnv)
    assert env.single_observation_space.shape == (4, 84, 84)
    env.close()


@needs_minatar
def test_minatar_id_is_made_by_gym_make() -> None:
    env = make_single_env({"id": MINATAR_BREAKOUT})
    # MinAtar's observations are bool channels, height x width x channels.
    space = env.observation_space
    assert isinstance(space, gym.spaces.Box)
    assert space.shape == (10, 10, 4) and space.dtype == np.bool_
    assert env.action_space == gym.spaces.Discrete(3)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.bool_ and obs.shape == (10, 10, 4)
    obs, *_ = env.step(1)
    assert env.observation_space.contains(obs)
    assert env.spec is not None and env.spec.id == "MinAtar/Breakout-v1"
    assert reward_threshold({"id": MINATAR_BREAKOUT}) is None  # MinAtar registers none
    # Without the module prefix too: the namespace's entry point registers it.
    assert ensure_registered("MinAtar/Breakout-v1") == "MinAtar/Breakout-v1"


@needs_minatar
def test_minatar_vector_env() -> None:
    env = make_vector_env({"id": MINATAR_BREAKOUT}, num_envs=2)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2, 10, 10, 4) and obs.dtype == np.bool_
    obs, reward, *_ = env.step(np.array([0, 2]))
    assert obs.shape == (2, 10, 10, 4) and reward.shape == (2,)
    env.close()
