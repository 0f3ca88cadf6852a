"""Making environments from `env.id`: a Gymnasium id, Gymnasium's "module:EnvId", or a user's
"pkg.module:Class".

Packages that register envs are imported lazily, only when one of their ids is asked for: ALE ids
(ALE/Pong-v5) import ale_py, and a namespaced id whose namespace is still unknown (MinAtar/...)
runs the package's "gymnasium.envs" entry point, the registration hook that old gym loaded itself.
"""

from __future__ import annotations

import copy
import importlib
import re
from importlib.metadata import entry_points
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from rlrun.env.recreate import RecreateOnFailure
from rlrun.errors import ConfigError

ALE_NAMESPACE = "ALE"
# After the colon of "module:X", X is an env id (not a class) if it has a namespace or a version.
_ENV_ID_AFTER_COLON = re.compile(r"/|-v\d+$")


def is_class_path(env_id: str) -> bool:
    """Whether `env_id` names a user's class ("pkg.module:Class") rather than a Gymnasium id,
    including Gymnasium's "module:Ns/Env-vN" / "module:Env-vN" (import module, then make the id)."""
    if ":" not in env_id or env_id.startswith(":"):
        return False
    return not _ENV_ID_AFTER_COLON.search(env_id.partition(":")[2])


def ensure_registered(env_id: str) -> str:
    """Import whatever registers `env_id` (a Gymnasium id, maybe "module:" prefixed); return the
    id without the module prefix. Unknown ids are left for gym.spec/gym.make to report.

    Imports no torch, so config validation can call it.
    """
    module_name, _, plain = env_id.rpartition(":")
    if module_name:
        try:
            importlib.import_module(module_name)
        except ImportError as e:
            raise ConfigError(
                "env.id", env_id, f"cannot import module '{module_name}': {e}."
            ) from None
    namespace = plain.partition("/")[0] if "/" in plain else None
    if namespace is None or any(k.startswith(namespace + "/") for k in gym.registry):
        return plain
    if namespace == ALE_NAMESPACE:
        try:
            import ale_py
        except ImportError:
            raise ConfigError(
                "env.id", env_id, "is an Atari env and needs ale-py: pip install 'rlrun[atari]'."
            ) from None
        gym.register_envs(ale_py)  # a no-op: the import registered them; it marks ale_py as used
        return plain
    # Gymnasium 1.x no longer runs the "gymnasium.envs" entry points (MinAtar's registration).
    for ep in entry_points(group="gymnasium.envs"):
        if ep.name == namespace:
            ep.load()()
    return plain


def _spec(env_id: str) -> gym.envs.registration.EnvSpec:
    """The registry's spec of a (registered, prefix-free) id, or the usual friendly error."""
    try:
        return gym.spec(env_id)
    except (gym.error.Error, ValueError) as e:
        raise ConfigError(
            "env.id",
            env_id,
            f"not a registered Gymnasium environment (Gymnasium says: {str(e).strip().rstrip('.')}). "
            "For your own class use env=pkg.module:Class; for an env that a package registers on "
            "import, use env=package:EnvId.",
        ) from None


def wants_atari_preprocessing(env_cfg: dict[str, Any]) -> bool:
    """`env.atari_preprocessing`: None is on for ALE ids; True on anything else is an error."""
    env_id: str = env_cfg["id"]
    is_ale = not is_class_path(env_id) and env_id.rpartition(":")[2].startswith(ALE_NAMESPACE + "/")
    flag = env_cfg.get("atari_preprocessing")
    if flag is None:
        return is_ale
    if flag and not is_ale:
        raise ConfigError(
            "env.atari_preprocessing",
            True,
            f"applies to Atari (ALE/...) ids only, and env.id={env_id} is not one.",
            allowed="null (auto) or false for this env",
        )
    return bool(flag)


def make_single_env(env_cfg: dict[str, Any], render_mode: str | None = None) -> gym.Env:
    """One environment, with the registered time limit (or `max_episode_steps`)."""
    env_id: str = env_cfg["id"]
    # A deep copy per env: an env that takes values out of a nested dict of its config (RLlib's
    # example envs do) must not take them from the next sub-env's.
    kwargs = copy.deepcopy(dict(env_cfg.get("env_config") or {}))
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    max_steps = env_cfg.get("max_episode_steps")
    if is_class_path(env_id):
        from rlrun.algorithms.registry import load_attr

        env = load_attr(env_id)(**kwargs)
        if max_steps:
            env = gym.wrappers.TimeLimit(env, max_episode_steps=max_steps)
    elif wants_atari_preprocessing(env_cfg):
        env = _make_atari(env_cfg, kwargs)
    else:
        env = _gym_make(ensure_registered(env_id), kwargs, max_steps)
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


def _gym_make(env_id: str, kwargs: dict[str, Any], max_steps: int | None) -> gym.Env:
    _spec(env_id)  # an unknown id gets the friendly error, not gymnasium's traceback
    try:
        return gym.make(env_id, max_episode_steps=max_steps, **kwargs)
    except TypeError as e:
        raise ConfigError("env.env_config", kwargs, f"was rejected by {env_id}: {e}") from None


def _make_atari(env_cfg: dict[str, Any], kwargs: dict[str, Any]) -> gym.Env:
    """DeepMind-style Atari from Gymnasium's own wrappers: [4, 84, 84] uint8 observations."""
    if kwargs.setdefault("frameskip", 1) != 1:
        raise ConfigError(
            "env.env_config.frameskip",
            kwargs["frameskip"],
            "must be 1 with env.atari_preprocessing, which skips 4 frames itself.",
        )
    # No time limit inside: it would count emulator frames; it goes outside, counting agent steps.
    env = _gym_make(ensure_registered(env_cfg["id"]), kwargs, None)
    try:
        env = gym.wrappers.AtariPreprocessing(
            env,
            noop_max=30,
            frame_skip=4,
            screen_size=84,
            terminal_on_life_loss=False,
            grayscale_obs=True,
            scale_obs=False,  # uint8 travels and stores 4x smaller; the model scales
        )
    except gym.error.DependencyNotInstalled as e:
        raise ConfigError(
            "env.atari_preprocessing", True, f"needs opencv: pip install 'rlrun[atari]' ({e})"
        ) from None
    env = gym.wrappers.FrameStackObservation(env, 4)
    if env_cfg.get("max_episode_steps"):
        env = gym.wrappers.TimeLimit(env, max_episode_steps=env_cfg["max_episode_steps"])
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
        # ALE's native vector env preprocesses its own way; ours is Gymnasium's wrappers.
        and not wants_atari_preprocessing(env_cfg)
        and render_mode is None
        and not env_cfg.get("env_config")
        and env_cfg.get("max_episode_steps") is None
        and _spec(ensure_registered(env_id)).vector_entry_point is not None
    )
    if native:
        # Natively vectorized envs (numpy over all sub-envs at once) are several times faster.
        env = gym.make_vec(
            ensure_registered(env_id), num_envs=num_envs, vectorization_mode="vector_entry_point"
        )
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
    """The return at which the env counts as solved: the config's, else a user class's
    `reward_threshold` attribute (the debug envs have one), else Gymnasium's registry."""
    if env_cfg.get("reward_threshold") is not None:
        return float(env_cfg["reward_threshold"])
    if is_class_path(env_cfg["id"]):
        from rlrun.algorithms.registry import load_attr

        value = getattr(load_attr(env_cfg["id"]), "reward_threshold", None)
        return float(value) if isinstance(value, int | float) else None
    spec = _spec(ensure_registered(env_cfg["id"]))
    return None if spec.reward_threshold is None else float(spec.reward_threshold)


def check_spaces(observation_space: gym.Space, action_space: gym.Space) -> None:
    """Refuse action spaces rlrun cannot act in, naming the space."""
    # Observation spaces are the model catalog's call (rlrun/models/catalog.py), not this one's.
    del observation_space
    if not isinstance(
        action_space, gym.spaces.Discrete | gym.spaces.Box | gym.spaces.MultiDiscrete
    ):
        raise ConfigError(
            "env.id",
            str(action_space),
            "has an unsupported action space; Discrete, Box and MultiDiscrete are supported",
        )
    if isinstance(action_space, gym.spaces.Box) and not (
        np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))
    ):
        raise ConfigError("env.id", str(action_space), "needs finite action bounds to clip actions")
