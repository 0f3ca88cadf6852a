"""Evaluation by timesteps or by time, for either runner (single- or multi-agent): both keep
episodes running across `sample()` calls and start fresh ones after `restart_episodes()`.

Each returns (episode returns, episode lengths, env steps): the steps are counted whether or
not an episode finished in them, so a budget shorter than an episode reports its steps (and no
return) instead of nothing.
"""

from __future__ import annotations

import math
import time
from typing import Any

EvalRun = tuple[list[float], list[int], int]


def sample_timesteps(runner: Any, num_steps: int) -> EvalRun:
    """About `num_steps` env steps from fresh episodes; the episodes that finished in them."""
    runner.restart_episodes()
    ro = runner.sample(max(1, math.ceil(num_steps / runner.num_envs)))
    runner.restart_episodes()
    runner.metrics.merge(ro.custom_metrics)  # kept for pop_metrics(), as evaluation asks
    return ro.episode_returns, ro.episode_lengths, ro.env_steps


def sample_for_seconds(runner: Any, seconds: float, chunk: int = 16) -> EvalRun:
    """Fresh episodes for about `seconds` of wall time (`evaluation.duration=auto`: as long as
    a training step), in `chunk`-step fragments, at least one; episodes carry across chunks."""
    runner.restart_episodes()
    deadline = time.perf_counter() + float(seconds)
    returns: list[float] = []
    lengths: list[int] = []
    steps = 0
    while True:
        ro = runner.sample(chunk)
        returns += ro.episode_returns
        lengths += ro.episode_lengths
        steps += ro.env_steps
        runner.metrics.merge(ro.custom_metrics)
        if time.perf_counter() >= deadline:
            break
    runner.restart_episodes()
    return returns, lengths, steps
