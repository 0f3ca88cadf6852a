"""EnvRunnerGroup: the runners an Algorithm samples from, in the driver or as Ray actors.

`make_env_runner_group` picks the local group (one runner in this process) or the remote one
(rlrun.env.remote_env_runner_group); both answer the same calls, so algorithms never learn where
sampling happens. Episode stats are kept here, in the driver, from what each Rollout reports.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

import gymnasium as gym
import torch

from rlrun.callbacks.hooks import CallbackFailed
from rlrun.config.schema import FaultToleranceConfig
from rlrun.config.sections import typed
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.env_runner import EnvRunner
from rlrun.env.episode_stats import EpisodeStats
from rlrun.env.rollout import Rollout
from rlrun.env.runner_config import RunnerConfig
from rlrun.env.runners import make_env_runner
from rlrun.errors import TrainingFailed

fault_log = logging.getLogger("rlrun.fault")


class RunnerGroup(Protocol):
    """What an Algorithm may ask of a runner group, local or remote."""

    stats: EpisodeStats

    def sample(self, num_steps_per_env: int) -> list[Rollout]: ...
    def sync_weights(self, weights: dict[str, torch.Tensor]) -> None: ...
    def get_metrics(self) -> dict[str, float]: ...
    def set_task(self, task: Any) -> None: ...
    def get_state(self) -> dict[str, Any]: ...
    def set_state(self, state: dict[str, Any]) -> None: ...
    @property
    def num_envs_total(self) -> int: ...
    @property
    def local_runner(self) -> EnvRunner: ...
    def stop(self) -> None: ...


def make_env_runner_group(
    env_cfg: dict[str, Any],
    runner_cfg: RunnerConfig | Mapping[str, Any],
    fault_cfg: FaultToleranceConfig | Mapping[str, Any],
    module_spec: RLModuleSpec,
    observation_space: gym.Space,
    seed: int | None,
) -> RunnerGroup:
    runner_cfg = typed(RunnerConfig, runner_cfg)
    if int(runner_cfg.num_env_runners) > 0:
        from rlrun.env.remote_env_runner_group import RemoteEnvRunnerGroup

        return RemoteEnvRunnerGroup(
            env_cfg, runner_cfg, fault_cfg, module_spec, observation_space, seed
        )
    return EnvRunnerGroup(env_cfg, runner_cfg, fault_cfg, module_spec, seed)


def report_sub_env_failures(rollouts: list[Rollout]) -> int:
    """Log each recreated sub-env's traceback (to the console and error.txt); return how many."""
    n = 0
    for ro in rollouts:
        for text in ro.sub_env_failures:
            fault_log.warning("a sub-environment failed and was recreated: %s", text)
            n += 1
    return n


class EnvRunnerGroup:
    """One runner in the driver process: no Ray, no copies. Its connector state is the master."""

    def __init__(
        self,
        env_cfg: dict[str, Any],
        runner_cfg: RunnerConfig | Mapping[str, Any],
        fault_cfg: FaultToleranceConfig | Mapping[str, Any],
        module_spec: RLModuleSpec,
        seed: int | None,
    ) -> None:
        runner_cfg = typed(RunnerConfig, runner_cfg)
        fault_cfg = typed(FaultToleranceConfig, fault_cfg)
        self._runner = make_env_runner(
            env_cfg,
            runner_cfg,
            module_spec,
            seed=seed,
            recreate_failed_sub_envs=bool(fault_cfg.restart_failed_sub_environments),
        )
        self.stats = EpisodeStats(int(runner_cfg.metrics_num_episodes_for_smoothing))
        self.num_sub_env_restarts = 0
        self.weights_seq_no = 0  # syncs so far: the version of the weights the runner holds

    @property
    def local_runner(self) -> EnvRunner:
        return self._runner

    def sample(self, num_steps_per_env: int) -> list[Rollout]:
        try:
            rollout = self._runner.sample(num_steps_per_env)
        except CallbackFailed:
            raise  # the user's callback, not the env: its own message says so
        except Exception as e:
            # The driver's runner cannot be restarted: the run ends, but as the env's failure
            # (its traceback in the log and error.txt), not as a crash of rlrun.
            fault_log.warning("the env runner in the driver failed", exc_info=True)
            raise TrainingFailed(
                f"the env failed while sampling in the driver: {type(e).__name__}: {e}. "
                "Its traceback is in the trial's error.txt. To survive such failures, set "
                "fault_tolerance.restart_failed_sub_environments=true (recreates the failing "
                "sub-env) or sample in Ray actors (env_runner=ray), which are restarted"
            ) from e
        rollout.weights_seq_no = self.weights_seq_no
        self.stats.add(rollout)
        self.num_sub_env_restarts += report_sub_env_failures([rollout])
        return [rollout]

    def sync_weights(self, weights: dict[str, torch.Tensor]) -> None:
        self._runner.set_weights(weights)
        self.weights_seq_no += 1

    def set_task(self, task: Any) -> None:
        """The curriculum's next task (env.task_fn), for every sub-env."""
        self._runner.set_task(task)

    def get_metrics(self) -> dict[str, float]:
        return {
            **self.stats.metrics(),
            "num_healthy_env_runners": 1,
            "num_env_runner_restarts": 0,
            "num_sub_env_restarts": self.num_sub_env_restarts,
        }

    def get_state(self) -> dict[str, Any]:
        return {
            "connector": self._runner.get_state()["connector"],
            "counters": self.stats.get_state(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self._runner.set_state({"connector": state.get("connector", {})})
        self.stats.set_state(state.get("counters", {}))

    @property
    def num_envs_total(self) -> int:
        return self._runner.num_envs

    def stop(self) -> None:
        self._runner.stop()
