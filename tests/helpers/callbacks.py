"""Callback classes, curriculum functions and a task env for tests, used by path:
`callbacks=[tests.helpers.callbacks:CountingCallbacks]`, `env.task_fn=tests.helpers.callbacks:grow`.

Importable by path in the driver, in subprocesses (tests/helpers/cli.py puts the repository on
PYTHONPATH) and in Ray workers (which start in the repository root).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlrun.callbacks import Callbacks

CHECKPOINT_MARKER = "callback_saw_this_checkpoint"

# One sub-env whose episodes last 2, 4, 6, 2, 4, 6, ... steps, 16 rows per iteration; with
# NEXT_STEP autoreset the row after an episode ends is its reset, not a step. Iteration 1:
# episodes of 2, 4, 6 end (rows 1-2, 4-7, 9-14), a fourth starts at row 15; iteration 2 ends
# 2, 4, 6, 2; iteration 3 ends 4, 6, 2 and four start (rows 33, 38, 45, 48).
CYCLE = [
    "env.id=tests.helpers.envs:FixedLengthEnv",
    "env.env_config={lengths:[2,4,6]}",
    "algo.train_batch_size_per_learner=16",
    "algo.minibatch_size=16",
    "algo.num_epochs=1",
    "env_runner.num_envs_per_env_runner=1",
    "env_runner.metrics_num_episodes_for_smoothing=2",
]
EXPECTED = [  # per iteration: what the runners' hooks logged, reduced
    {"episodes_started": 4, "steps": 13, "len_mean": 4, "len_max": 6, "len_min": 2, "len_w2": 5,
     "ended": 3},
    {"episodes_started": 3, "steps": 13, "len_mean": 3.5, "len_max": 6, "len_min": 2,
     "len_w2": 4, "ended": 4},
    {"episodes_started": 4, "steps": 12, "len_mean": 4, "len_max": 6, "len_min": 2, "len_w2": 4,
     "ended": 3},
]  # fmt: skip


def check_counting(results: list[dict]) -> None:
    """The values CountingCallbacks logged, against the hand-counted EXPECTED."""
    for i, (r, want) in enumerate(zip(results, EXPECTED, strict=True)):
        er = r["env_runners"]
        got = {k: er[k] for k in want if k != "ended"} | {"ended": er["nested"]["episodes_ended"]}
        assert got == want, i
        # The windowed mean agrees with the built-in return/length window of the same size.
        assert er["len_w2"] == er["episode_len_mean"]
        assert er["in_evaluation"] == 0.0
        assert r["callback_train_results"] == i + 1  # on_train_result added a key
    # Driver hooks: a sum reported per iteration, a mean over a 2-iteration window.
    assert [r["algorithm_inits"] for r in results] == [1, 0, 0]
    assert [r["iteration_w2"] for r in results] == [1, 1.5, 2.5]
    assert (
        sum(r["env_runners"]["steps"] for r in results)
        == results[-1]["num_env_steps_sampled_lifetime"]
    )


class CountingCallbacks(Callbacks):
    """Counts hooks through the metrics logger, one reduction of each kind, windowed or not."""

    def __init__(self) -> None:
        self.train_results = 0

    def on_algorithm_init(self, *, algorithm: Any, metrics_logger: Any) -> None:
        metrics_logger.log_value("algorithm_inits", 1, reduce="sum")

    def on_train_result(self, *, algorithm: Any, result: dict, metrics_logger: Any) -> None:
        self.train_results += 1
        result["callback_train_results"] = self.train_results
        metrics_logger.log_value("iteration_w2", result["training_iteration"], window=2)

    def on_evaluate_start(self, *, algorithm: Any, metrics_logger: Any) -> None:
        metrics_logger.log_value("evaluations_started", 1, reduce="sum")

    def on_evaluate_end(self, *, algorithm: Any, evaluation_metrics: dict, **kwargs: Any) -> None:
        evaluation_metrics["callback_saw_evaluation"] = True

    def on_checkpoint_saved(self, *, checkpoint_dir: Path, **kwargs: Any) -> None:
        (Path(checkpoint_dir) / CHECKPOINT_MARKER).write_text("1")

    def on_episode_start(self, *, episode: Any, metrics_logger: Any, **kwargs: Any) -> None:
        episode.custom_data["started"] = True
        metrics_logger.log_value("episodes_started", 1, reduce="sum")

    def on_episode_step(self, *, episode: Any, metrics_logger: Any, **kwargs: Any) -> None:
        assert episode.custom_data["started"]  # kept across steps (and fragments)
        metrics_logger.log_value("steps", 1, reduce="sum")

    def on_episode_end(
        self, *, episode: Any, env_runner: Any, metrics_logger: Any, env: Any, env_index: int,
        rl_module: Any,
    ) -> None:  # fmt: skip
        assert episode.is_done and episode.env_index == env_index and rl_module is not None
        assert len(episode.get_observations()) == len(episode) + 1 == len(episode.get_actions()) + 1
        assert episode.get_return() == sum(episode.get_rewards())
        n = len(episode)
        metrics_logger.log_value("len_mean", n)
        metrics_logger.log_value("len_max", n, reduce="max")
        metrics_logger.log_value("len_min", n, reduce="min")
        metrics_logger.log_value("len_w2", n, reduce="mean", window=2)
        metrics_logger.log_value("nested/episodes_ended", 1, reduce="sum")
        metrics_logger.log_value("in_evaluation", float(env_runner.in_evaluation), reduce="max")


class MinimalCallbacks:
    """A plain class with one hook and the smallest signature; counts in the class."""

    episodes_ended = 0

    def on_episode_end(self, episode: Any) -> None:
        type(self).episodes_ended += 1


class KeepEndedEpisodes:
    """Keeps every episode its runner ended, in the order the hooks saw them (in the class)."""

    ended: list[Any] = []

    def on_episode_end(self, episode: Any) -> None:
        type(self).ended.append(episode)


class TaskSeenCallbacks:
    """Logs the task each episode started with (TaskEnv shows it in its observation)."""

    def on_episode_start(self, episode: Any, metrics_logger: Any) -> None:
        task = float(episode.get_observations(0)[1])
        metrics_logger.log_value("task_min", task, reduce="min")
        metrics_logger.log_value("task_max", task, reduce="max")


class _Raises:
    def _boom(self) -> None:
        raise ValueError(f"deliberate failure in {type(self).__name__}")


class RaiseOnEpisodeEnd(_Raises):
    def on_episode_end(self, episode: Any) -> None:
        if len(episode) > 0:
            self._boom()


class RaiseOnTrainResult(_Raises):
    def on_train_result(self, result: dict) -> None:
        self._boom()


class RaiseOnAlgorithmInit(_Raises):
    def on_algorithm_init(self) -> None:
        self._boom()


class RaiseOnCheckpointSaved(_Raises):
    def on_checkpoint_saved(self, checkpoint_dir: Path) -> None:
        self._boom()


class TypoedHook:
    def on_episode_ended(self, episode: Any) -> None: ...


class UnknownArgument:
    def on_episode_end(self, episode: Any, episode_number: int) -> None: ...


class TaskEnv(gym.Env):
    """Episodes last `task` steps; `set_task` takes effect at the next reset. The observation is
    [steps taken, the task this episode runs]."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, task: int = 3) -> None:
        self.task = int(task)
        self.length = self.task
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self._t = 0

    def set_task(self, task: int) -> None:
        self.task = int(task)

    def get_task(self) -> int:
        return self.task

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.length, self._t = self.task, 0
        return np.array([0, self.length], np.float32), {}

    def step(self, action: Any):
        self._t += 1
        obs = np.array([self._t, self.length], np.float32)
        return obs, 1.0, self._t >= self.length, False, {}


def grow(*, result: dict, task: int) -> int:
    """Keyword form: one step longer each iteration."""
    return task + 1


def grow_positional(last_result: dict, current: int, /) -> int:
    return current + 1


def from_iteration(result: dict) -> int:
    """One-argument form: the task follows the iteration number."""
    return 2 + int(result["training_iteration"])


def broken_task_fn(result: dict, task: int) -> int:
    return result["no_such_metric"]
