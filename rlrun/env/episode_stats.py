"""Episode statistics of a runner group: a moving window of returns and lengths, lifetime counts.

Runners only report the episodes they finished in each fragment (they ride along in the
Rollout); the window lives here, in the driver, so local and remote sampling report alike and a
checkpoint holds one window however many runners fed it.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from rlrun.callbacks.metrics_logger import MetricsLogger
from rlrun.env.rollout import Rollout


class EpisodeStats:
    def __init__(self, window: int) -> None:
        self.returns: deque[float] = deque(maxlen=window)
        self.lengths: deque[int] = deque(maxlen=window)
        self.num_episodes_lifetime = 0
        self.num_env_steps_lifetime = 0
        self._episodes_since_report = 0
        # What callbacks logged in the runners, reduced here (window state included), and
        # reported beside the built-in stats as env_runners/<key>.
        self.custom = MetricsLogger()
        # Multi-agent runs: windows per agent id and per module id, agent steps per agent id.
        self.window = window
        self.agent_returns: dict[str, deque[float]] = {}
        self.module_returns: dict[str, deque[float]] = {}
        self.agent_steps_lifetime: dict[str, int] = {}
        self.module_steps_lifetime: dict[str, int] = {}

    def add(self, rollout: Rollout) -> None:
        self.returns.extend(rollout.episode_returns)
        self.lengths.extend(rollout.episode_lengths)
        k = len(rollout.episode_returns)
        self.num_episodes_lifetime += k
        self._episodes_since_report += k
        self.num_env_steps_lifetime += rollout.env_steps
        if rollout.custom_metrics:
            self.custom.merge(rollout.custom_metrics)
        for windows, new in (
            (self.agent_returns, rollout.agent_episode_returns),
            (self.module_returns, rollout.module_episode_returns),
        ):
            for key, values in new.items():
                windows.setdefault(key, deque(maxlen=self.window)).extend(values)
        for counts, new_counts in (
            (self.agent_steps_lifetime, rollout.agent_steps),
            (self.module_steps_lifetime, rollout.module_steps),
        ):
            for key, n in new_counts.items():
                counts[key] = counts.get(key, 0) + n

    def metrics(self) -> dict[str, float]:
        """Stats over the window, and episodes finished since the last call."""
        rets, lens = self.returns, self.lengths
        nan = float("nan")
        out = {
            "episode_return_mean": float(np.mean(rets)) if rets else nan,
            "episode_return_min": float(np.min(rets)) if rets else nan,
            "episode_return_max": float(np.max(rets)) if rets else nan,
            "episode_len_mean": float(np.mean(lens)) if lens else nan,
            "num_episodes": self._episodes_since_report,
            "num_episodes_lifetime": self.num_episodes_lifetime,
            "num_env_steps_sampled_lifetime": self.num_env_steps_lifetime,
        }
        self._episodes_since_report = 0
        if self.agent_returns or self.agent_steps_lifetime:  # RLlib's multi-agent keys
            out["agent_episode_returns_mean"] = {
                k: float(np.mean(v)) for k, v in sorted(self.agent_returns.items())
            }
            out["module_episode_returns_mean"] = {
                k: float(np.mean(v)) for k, v in sorted(self.module_returns.items())
            }
            out["num_agent_steps_sampled_lifetime"] = dict(
                sorted(self.agent_steps_lifetime.items())
            )
            out["num_module_steps_sampled_lifetime"] = dict(
                sorted(self.module_steps_lifetime.items())
            )
        if self.custom:
            # A built-in stat keeps its name; a logged key of the same name is not reported.
            return {**self.custom.reduce(), **out}
        return out

    def get_state(self) -> dict[str, Any]:
        return {
            "num_env_steps_lifetime": self.num_env_steps_lifetime,
            "num_episodes_lifetime": self.num_episodes_lifetime,
            "returns_window": list(self.returns),
            "lengths_window": list(self.lengths),
            "custom_metrics": self.custom.get_state(),
            "agent_returns_window": {k: list(v) for k, v in self.agent_returns.items()},
            "module_returns_window": {k: list(v) for k, v in self.module_returns.items()},
            "agent_steps_lifetime": dict(self.agent_steps_lifetime),
            "module_steps_lifetime": dict(self.module_steps_lifetime),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.num_env_steps_lifetime = int(state.get("num_env_steps_lifetime", 0))
        self.num_episodes_lifetime = int(state.get("num_episodes_lifetime", 0))
        self.returns.clear()
        self.returns.extend(state.get("returns_window", []))
        self.lengths.clear()
        self.lengths.extend(state.get("lengths_window", []))
        self.custom.set_state(state.get("custom_metrics", {}))
        for windows, key in (
            (self.agent_returns, "agent_returns_window"),
            (self.module_returns, "module_returns_window"),
        ):
            windows.clear()
            for k, v in state.get(key, {}).items():
                windows[k] = deque(v, maxlen=self.window)
        self.agent_steps_lifetime = {
            k: int(v) for k, v in state.get("agent_steps_lifetime", {}).items()
        }
        self.module_steps_lifetime = {
            k: int(v) for k, v in state.get("module_steps_lifetime", {}).items()
        }
