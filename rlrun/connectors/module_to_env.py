"""Module-to-env pieces: turn sampled actions into what the env accepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from rlrun.core.distributions import SquashedGaussian

Actions = Callable[[np.ndarray], Any]


def build_module_to_env(
    action_space: gym.Space, dist_cls: type | None, specs: list[Any] | None = None
) -> Actions:
    """One callable from the module's actions to the env's: the user's `connectors.module_to_env`
        pieces (each `Class(**kwargs)`, called as piece(actions) -> actions) in order, then the
        built-in step. The built-in step: Discrete and MultiDiscrete actions pass through, shifted
    by the space's `start` (the module samples 0..n-1); Gaussian actions are
        clipped to the Box bounds (the unclipped sample is what the learner sees, so log-probs stay
        exact); squashed actions in (-1, 1) are rescaled to the bounds."""
    from rlrun.connectors.registry import build_pieces

    last = _builtin(action_space, dist_cls)
    pieces = [piece for _, piece in build_pieces("module_to_env", specs)]
    if not pieces:
        return last

    def run(actions: np.ndarray) -> Any:
        for piece in pieces:
            actions = piece(actions)
        return last(actions)

    return run


def _builtin(action_space: gym.Space, dist_cls: type | None) -> Actions:
    if isinstance(action_space, gym.spaces.Discrete | gym.spaces.MultiDiscrete):
        start = np.asarray(action_space.start)
        if start.any():
            return lambda a: a + start
        return _identity
    if not isinstance(action_space, gym.spaces.Box):
        return _identity
    low, high = action_space.low.astype(np.float32), action_space.high.astype(np.float32)
    if dist_cls is not None and issubclass(dist_cls, SquashedGaussian):
        return lambda a: low + (a + 1.0) * 0.5 * (high - low)
    return lambda a: np.clip(a, low, high)


def _identity(a: np.ndarray) -> np.ndarray:
    return a
