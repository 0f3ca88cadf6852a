"""TinyImageEnv: small uint8 pictures with a bright dot near one edge, a cheap check for CNN
encoders."""

from __future__ import annotations

from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np


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
