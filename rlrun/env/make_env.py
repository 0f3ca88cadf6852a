"""Making environments from `env.id`: a Gymnasium id or a user's "pkg.module:Class"."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from rlrun.env.recreate import RecreateOnFailure
from rlrun.errors import ConfigError


def is_class_path(env_id: str) -> bool:
    return ":" in env_id and not env_id.startswith(":")


def make_single_env(env_cfg: dict[str, Any], render_mode: str | None = None) -> gym.Env:
    """One environment, with the registered time limit (or `max_episode_steps`)."""
    env_id: str = env_cfg["id"]
    kwargs = dict(env_cfg.get("env_config") or {})
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    max_steps = env_cfg.get("max_episode_steps")
    if is_class_path(env_id):
        from rlrun.algorithms.registry import load_attr

        env = load_attr(env_id)(**kwargs)
        if max_steps:
            env = gym.wrappers.TimeLimit(env, max_episode_steps=max_steps)
    else:
        try:
            env = gym.make(env_id, max_episode_steps=max_steps, **kwargs)
        except TypeError as e:
            raise ConfigError("env.env_config", kwargs, f"was rejected by {env_id}: {e}") from None
    if env_cfg.get("_video_dir"):
        # RecordVideo needs moviepy (the `render` extra); say so instead of a bare ImportError.
        try:
            env = gym.wrappers.RecordVideo(
                env, env_cfg["_video_dir"], episode_trigger=lambda _: True, disable_logger=True
            )
        except gym.error.DependencyNotInstalled as e:
            raise ConfigError(
                "video", env_cfg["_video_dir"], f"needs moviepy: pip install 'rlrun[render]' ({e})"
            ) from None
    return env


def make_vector_env(
    env_cfg: dict[str, Any],
    num_envs: int,
    vectorize_mode: str = "sync",
    render_mode: str | None = None,
    recreate_failed_sub_envs: bool = False,
) -> gym.vector.VectorEnv:
    """A Gymnasium vector env whose sub-envs reset on the step *after* they finish.

    NEXT_STEP autoreset is the one mode every Gymnasium vector env supports, including the
    natively vectorized ones (CartPole's `vector_entry_point`), and it leaves the final
    observation of a finished episode in the normal obs stream, where the learner can value it
    to bootstrap a truncated episode.

    `recreate_failed_sub_envs`: wrap each sub-env in RecreateOnFailure (rlrun.env.recreate), so
    a sub-env whose `step()` raises is rebuilt instead of failing the whole vector env. On that
    step sub-env i's row holds the new env's first obs, reward 0, terminated False, truncated
    True, and `infos["rlrun_sub_env_failed"][i]` is True with `infos["_rlrun_sub_env_failed"][i]`
    True (both keys are absent when no sub-env failed). The next step is the usual NEXT_STEP
    autoreset row for it (reset again, reward 0). Native vectorization is then off: it has no
    per-sub-env objects to rebuild.
    """
    env_id: str = env_cfg["id"]
    native = (
        not recreate_failed_sub_envs
        and vectorize_mode == "sync"
        and not is_class_path(env_id)
        and render_mode is None
        and not env_cfg.get("env_config")
        and env_cfg.get("max_episode_steps") is None
        and gym.spec(env_id).vector_entry_point is not None
    )
    if native:
        # Natively vectorized envs (numpy over all sub-envs at once) are several times faster.
        env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
        if env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP) == AutoresetMode.NEXT_STEP:
            return env
        env.close()

    def make_sub_env() -> gym.Env:
        return make_single_env(env_cfg, render_mode)

    if recreate_failed_sub_envs:
        fns = [lambda: RecreateOnFailure(make_sub_env) for _ in range(num_envs)]
    else:
        fns = [make_sub_env] * num_envs
    if vectorize_mode == "async":
        return gym.vector.AsyncVectorEnv(fns, autoreset_mode=AutoresetMode.NEXT_STEP)
    return gym.vector.SyncVectorEnv(fns, autoreset_mode=AutoresetMode.NEXT_STEP)


def reward_threshold(env_cfg: dict[str, Any]) -> float | None:
    """The return at which the env counts as solved: the config's, else Gymnasium's registry."""
    if env_cfg.get("reward_threshold") is not None:
        return float(env_cfg["reward_threshold"])
    if is_class_path(env_cfg["id"]):
        return None
    spec = gym.spec(env_cfg["id"])
    return None if spec.reward_threshold is None else float(spec.reward_threshold)


def check_spaces(observation_space: gym.Space, action_space: gym.Space) -> None:
    if not isinstance(observation_space, gym.spaces.Box | gym.spaces.Discrete):
        raise ConfigError(
            "env.id",
            str(observation_space),
            "has an observation space rlrun cannot feed to its MLP yet; Box and Discrete "
            "observations are supported",
        )
    if not isinstance(action_space, gym.spaces.Discrete | gym.spaces.Box):
        raise ConfigError(
            "env.id",
            str(action_space),
            "has an unsupported action space; Discrete and Box are supported",
        )
    if isinstance(action_space, gym.spaces.Box) and not np.all(np.isfinite(action_space.low)):
        raise ConfigError("env.id", str(action_space), "needs finite action bounds to clip actions")
