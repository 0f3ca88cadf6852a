"""Small environments for tests, benchmarks and tuned examples.

Use them as `env.id=rlrun.env.debug_envs:ClassName`, with `env.env_config` as constructor
kwargs; nothing is registered globally. They live in the package (not in tests/) so that Ray
workers, which import them in fresh processes, find them wherever rlrun is installed.

- BurnCPUEnv, FaultyEnv: a real Gymnasium env made slow or failing, for benchmarks and
  fault-tolerance tests.
- StatelessCartPole, DictCartPole, ActionMaskEnv, TinyImageEnv: each exercises one model feature
  (memory, Dict observations, action masking, a CNN). Each is pure numpy, seeded through
  `reset(seed=...)`, and has a `reward_threshold` class attribute that `reward_threshold()` in
  rlrun.env.make_env reads: an oracle policy reaches it and a random one stays clearly below.
- PointReach: a 2-D reaching task with Box actions, a cheap continuous-control check for SAC
  (benchmarks/sac_reach.py), held to the same contract.
"""

from __future__ import annotations

import os
import time
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

FAIL_MODES = ("raise", "exit")


class BurnCPUEnv(gym.Wrapper):
    """The inner env, with each `step()` first burning `burn_us` microseconds of CPU time.

    The cost is measured in this thread's CPU time, not wall time, so it does not shrink when
    the process is descheduled: N processes on N free cores get N times the steps per second,
    which is what a sampling-scaling benchmark needs to see, however cheap the inner env is.
    """

    def __init__(self, env: str = "CartPole-v1", burn_us: float = 1000.0, **kwargs: Any) -> None:
        if burn_us < 0:
            raise ValueError(f"BurnCPUEnv: burn_us must be >= 0, got {burn_us}")
        super().__init__(gym.make(env, **kwargs))
        self.burn_us = float(burn_us)
        self._burn_ns = int(self.burn_us * 1000)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._burn_ns > 0:
            deadline = time.thread_time_ns() + self._burn_ns
            while time.thread_time_ns() < deadline:
                pass
        return self.env.step(action)


class FaultyEnv(gym.Wrapper):
    """The inner env, failing on purpose at its `fail_at_step`-th `step()` call.

    Steps are counted per instance over its whole life, across episodes. `fail_mode="raise"`
    raises a RuntimeError (a bug in the env); `fail_mode="exit"` ends the process at once with
    `os._exit(1)`, flushing nothing (a crash: segfault, OOM kill).

    `fail_once_file`: fail only if this call is the one that creates that file (O_EXCL), so the
    failure happens at most once over all processes and instances; the restarted runner or
    recreated env that follows keeps working, which lets a test check recovery.

    `fail_on_reset=True`: every `reset()` fails instead (in `fail_mode`), and `step()` never
    does; with `fail_once_file` only the first reset to claim the file fails. This is the env
    that cannot even start.
    """

    def __init__(
        self,
        env: str = "CartPole-v1",
        fail_at_step: int = 100,
        fail_mode: str = "raise",
        fail_once_file: str | None = None,
        fail_on_reset: bool = False,
        **kwargs: Any,
    ) -> None:
        if fail_mode not in FAIL_MODES:
            raise ValueError(
                f"FaultyEnv: fail_mode must be one of {', '.join(FAIL_MODES)}; got {fail_mode!r}"
            )
        super().__init__(gym.make(env, **kwargs))
        self.fail_at_step = int(fail_at_step)
        self.fail_mode = fail_mode
        self.fail_once_file = fail_once_file
        self.fail_on_reset = bool(fail_on_reset)
        self.num_steps = 0

    def _claim_failure(self) -> bool:
        """Whether this call may fail: always, or only as the first creator of fail_once_file."""
        if self.fail_once_file is None:
            return True
        try:
            fd = os.open(self.fail_once_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def _fail(self, where: str) -> None:
        if self.fail_mode == "exit":
            os._exit(1)
        raise RuntimeError(f"FaultyEnv: deliberate failure {where} (pid {os.getpid()})")

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if self.fail_on_reset and self._claim_failure():
            self._fail("on reset")
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        self.num_steps += 1
        if not self.fail_on_reset and self.num_steps == self.fail_at_step and self._claim_failure():
            self._fail(f"at step {self.num_steps}")
        return self.env.step(action)


# --- envs for model features ---------------------------------------------------------------------


class _CartPoleView(gym.Env):
    """CartPole-v1's dynamics, reward and 500-step limit, with the observation re-shaped by
    `_observe`. It holds a CartPoleEnv rather than wrapping it so that `env.unwrapped` is this
    env and its observation space is the one the agent sees."""

    metadata: ClassVar[dict[str, Any]] = CartPoleEnv.metadata
    max_episode_steps = 500

    def __init__(self, render_mode: str | None = None) -> None:
        self._cartpole = CartPoleEnv(render_mode=render_mode)
        self.render_mode = render_mode
        self.action_space = self._cartpole.action_space
        self._steps = 0

    def _observe(self, state: np.ndarray) -> Any:
        raise NotImplementedError

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        state, info = self._cartpole.reset(seed=seed, options=options)
        self._steps = 0
        return self._observe(state), info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        state, reward, terminated, _, info = self._cartpole.step(action)
        self._steps += 1
        truncated = self._steps >= self.max_episode_steps
        return self._observe(state), reward, terminated, truncated, info

    def render(self) -> Any:
        return self._cartpole.render()

    def close(self) -> None:
        self._cartpole.close()


class StatelessCartPole(_CartPoleView):
    """CartPole-v1 without the velocities: obs = [x, theta], Box(2) float32.

    Velocities must be inferred from successive observations, so only a model with memory (or
    stacked observations) solves it. A finite-difference oracle scores 500, the best memoryless
    linear policy about 50, random about 23.
    """

    reward_threshold: ClassVar[float] = 150.0

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(render_mode)
        full = self._cartpole.observation_space
        self.observation_space = gym.spaces.Box(
            full.low[[0, 2]], full.high[[0, 2]], dtype=np.float32
        )

    def _observe(self, state: np.ndarray) -> np.ndarray:
        return np.asarray(state, np.float32)[[0, 2]]


class DictCartPole(_CartPoleView):
    """CartPole-v1 with a Dict observation {"cart": [x, x_dot], "pole": [theta, theta_dot]}:
    the same information as CartPole-v1, so it learns like CartPole through a Dict encoder."""

    reward_threshold: ClassVar[float] = 475.0

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(render_mode)
        low, high = self._cartpole.observation_space.low, self._cartpole.observation_space.high
        self.observation_space = gym.spaces.Dict(
            {
                "cart": gym.spaces.Box(low[:2], high[:2], dtype=np.float32),
                "pole": gym.spaces.Box(low[2:], high[2:], dtype=np.float32),
            }
        )

    def _observe(self, state: np.ndarray) -> dict[str, np.ndarray]:
        state = np.asarray(state, np.float32)
        return {"cart": state[:2].copy(), "pole": state[2:].copy()}


class ActionMaskEnv(gym.Env):
    """Discrete(n) actions of which a random subset (at least one) is legal on each step.

    Observation (RLlib's keys): {"action_mask": Box(0, 1, (n,), int8), "observations": one-hot
    of a target action, Box(0, 1, (n,), float32)}; with `pettingzoo_names=True` the second key
    is "observation", as PettingZoo names it. A legal action earns 1.0 if no legal action is
    closer to the target (|a - target|), else 0.1; an illegal one earns `illegal_reward` and ends
    the episode. The target and mask are redrawn every step; episodes last `episode_len` steps.

    Logits that fall off with the distance from the target, masked, pick the closest legal
    action, so a masked agent learns it from the one-hot alone. With the defaults: oracle 10,
    masked random about 5.7, unmasked random about -9.6. `info["illegal_actions"]` counts this
    episode's illegal actions.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    reward_threshold: ClassVar[float] = 9.0

    def __init__(
        self,
        num_actions: int = 5,
        episode_len: int = 10,
        p_legal: float = 0.5,
        illegal_reward: float = -10.0,
        pettingzoo_names: bool = False,
    ) -> None:
        if num_actions < 2 or episode_len < 1 or not 0 < p_legal <= 1:
            raise ValueError(
                "ActionMaskEnv: needs num_actions >= 2, episode_len >= 1 and 0 < p_legal <= 1; "
                f"got {num_actions}, {episode_len}, {p_legal}"
            )
        self.num_actions = int(num_actions)
        self.episode_len = int(episode_len)
        self.p_legal = float(p_legal)
        self.illegal_reward = float(illegal_reward)
        self.obs_key = "observation" if pettingzoo_names else "observations"
        n = self.num_actions
        self.observation_space = gym.spaces.Dict(
            {
                "action_mask": gym.spaces.Box(0, 1, (n,), np.int8),
                self.obs_key: gym.spaces.Box(0.0, 1.0, (n,), np.float32),
            }
        )
        self.action_space = gym.spaces.Discrete(n)
        self._mask = np.ones(n, bool)
        self._target = 0
        self._steps = 0
        self._illegal = 0

    def _draw(self) -> dict[str, np.ndarray]:
        """A new target and mask; the observation that shows them."""
        n = self.num_actions
        self._target = int(self.np_random.integers(n))
        self._mask = self.np_random.random(n) < self.p_legal
        if not self._mask.any():
            self._mask[self.np_random.integers(n)] = True
        one_hot = np.zeros(n, np.float32)
        one_hot[self._target] = 1.0
        return {"action_mask": self._mask.astype(np.int8), self.obs_key: one_hot}

    def best_actions(self) -> np.ndarray:
        """The legal actions closest to the target now: what an oracle plays."""
        legal = np.flatnonzero(self._mask)
        dist = np.abs(legal - self._target)
        return legal[dist == dist.min()]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        self._steps = 0
        self._illegal = 0
        return self._draw(), {"illegal_actions": 0}

    def step(
        self, action: Any
    ) -> tuple[dict[str, np.ndarray], SupportsFloat, bool, bool, dict[str, Any]]:
        a = int(action)
        self._steps += 1
        if not self._mask[a]:
            self._illegal += 1
            return (
                self._draw(),
                self.illegal_reward,
                True,
                False,
                {"illegal_actions": self._illegal},
            )
        reward = 1.0 if a in self.best_actions() else 0.1
        # A fixed horizon is part of the task (not a time limit), hence terminated.
        done = self._steps >= self.episode_len
        return self._draw(), reward, done, False, {"illegal_actions": self._illegal}


class TinyImageEnv(gym.Env):
    """A uint8 picture with a bright 2x2 dot near one edge: the action names that edge.

    Actions: 0 left, 1 right, 2 top, 3 bottom; reward 1 if right, else 0; a new picture every
    step, `episode_len` (20) steps per episode. The background is noise below `noise`, and the
    dot (255 in every channel) stays away from the corners and the middle, so a CNN separates
    the edges easily, but no single pixel does. Observations are HWC (size, size, channels), or
    CHW with `channels_first=True`. Oracle 20, random about 5.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"]}
    reward_threshold: ClassVar[float] = 18.0

    def __init__(
        self,
        size: int = 12,
        channels: int = 3,
        episode_len: int = 20,
        channels_first: bool = False,
        noise: int = 64,
        render_mode: str | None = None,
    ) -> None:
        if size < 8 or channels < 1 or episode_len < 1 or not 1 <= noise <= 200:
            raise ValueError(
                "TinyImageEnv: needs size >= 8, channels >= 1, episode_len >= 1, 1 <= noise <= 200"
            )
        self.size, self.channels, self.noise = int(size), int(channels), int(noise)
        self.episode_len = int(episode_len)
        self.channels_first = bool(channels_first)
        self.render_mode = render_mode
        shape = (channels, size, size) if channels_first else (size, size, channels)
        self.observation_space = gym.spaces.Box(0, 255, shape, np.uint8)
        self.action_space = gym.spaces.Discrete(4)
        self.side = 0  # the right answer for the current picture
        self._image = np.zeros((size, size, channels), np.uint8)
        self._steps = 0

    def _draw(self) -> np.ndarray:
        rng, size = self.np_random, self.size
        self.side = int(rng.integers(4))
        band = size // 4
        along = int(rng.integers(band, size - band - 1))  # away from the corners
        across = int(rng.integers(0, band - 1))  # distance from the edge
        if self.side in (1, 3):  # right, bottom: measured from the far edge
            across = size - 2 - across
        row, col = (along, across) if self.side < 2 else (across, along)
        image = rng.integers(0, self.noise, (size, size, self.channels), dtype=np.uint8)
        image[row : row + 2, col : col + 2] = 255
        self._image = image
        return np.ascontiguousarray(image.transpose(2, 0, 1)) if self.channels_first else image

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._steps = 0
        return self._draw(), {}

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        reward = 1.0 if int(action) == self.side else 0.0
        self._steps += 1
        # A fixed horizon is part of the task (not a time limit), hence terminated.
        return self._draw(), reward, self._steps >= self.episode_len, False, {}

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        gray = self._image.max(axis=2, keepdims=True)
        return np.repeat(gray, 3, axis=2) if self.channels != 3 else self._image.copy()


# --- envs for continuous control ------------------------------------------------------------------


class PointReach(gym.Env):
    """A point in [-1, 1]^2 steered towards a goal: a cheap continuous-control task for SAC.

    Each episode draws the start and the goal uniformly in the square. obs = (position, goal),
    Box(-1, 1, (4,), float32); the action, Box(-1, 1, (2,)) and clipped to it, moves the point
    by `step_size` times itself (then the point is clipped to the square); reward = -distance
    to the goal after the move. Episodes are cut after `episode_len` (50) steps: a time limit,
    hence truncated, not terminated (nothing in the observation tells the time left).

    The far corner is at most about 20 steps away, so an oracle (move straight at the goal) sits
    on it for most of the episode: oracle about -5.4, random and a still point about -53.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    reward_threshold: ClassVar[float] = -10.0

    def __init__(self, step_size: float = 0.1, episode_len: int = 50) -> None:
        if not 0 < step_size <= 1 or episode_len < 1:
            raise ValueError(
                "PointReach: needs 0 < step_size <= 1 and episode_len >= 1; "
                f"got {step_size}, {episode_len}"
            )
        self.step_size = float(step_size)
        self.episode_len = int(episode_len)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self._pos = np.zeros(2)
        self._goal = np.zeros(2)
        self._steps = 0

    def _observe(self) -> np.ndarray:
        return np.concatenate([self._pos, self._goal]).astype(np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._pos = self.np_random.uniform(-1.0, 1.0, 2)
        self._goal = self.np_random.uniform(-1.0, 1.0, 2)
        self._steps = 0
        return self._observe(), {}

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        move = np.clip(np.asarray(action, np.float64).reshape(2), -1.0, 1.0) * self.step_size
        self._pos = np.clip(self._pos + move, -1.0, 1.0)
        self._steps += 1
        distance = float(np.linalg.norm(self._pos - self._goal))
        return self._observe(), -distance, False, self._steps >= self.episode_len, {}
