"""Evaluation during training: the current policy on fresh episodes, reported under evaluation/.

Eval runners are separate from the training runners: their own envs (with `evaluation.env_config`
merged over the training env's), the deterministic policy unless `evaluation.explore`, and the
training filter's statistics without updating them. They live in the driver
(`evaluation.num_env_runners=0`) or in Ray actors, which can run beside the next training
iteration (`parallel_to_training`), evaluating the weights that iteration started from.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rlrun.callbacks.metrics_logger import MetricsLogger
from rlrun.config.schema import EvaluationConfig, FaultToleranceConfig
from rlrun.config.sections import typed
from rlrun.core.multi_rl_module import MultiRLModuleSpec
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.env_runner import EnvRunner
from rlrun.env.runner_config import RunnerConfig
from rlrun.env.runners import make_env_runner

log = logging.getLogger(__name__)


class Evaluator:
    def __init__(
        self,
        eval_cfg: EvaluationConfig | Mapping[str, Any],
        env_cfg: dict[str, Any],
        runner_cfg: RunnerConfig | Mapping[str, Any],
        fault_cfg: FaultToleranceConfig | Mapping[str, Any],
        module_spec: RLModuleSpec,
        observation_space: gym.Space,
        seed: int | None,
    ) -> None:
        eval_cfg = typed(EvaluationConfig, eval_cfg)
        runner_cfg = typed(RunnerConfig, runner_cfg)
        fault_cfg = typed(FaultToleranceConfig, fault_cfg)
        self.cfg = eval_cfg
        self.interval = int(eval_cfg.interval)
        self.parallel = bool(eval_cfg.parallel_to_training)
        # duration=auto (parallel only): evaluate for as long as the training step beside it
        # took the last time (measured from start() to collect()); the first time for 1 s.
        self.auto = eval_cfg.duration == "auto"
        self.by_episodes = eval_cfg.duration_unit == "episodes" and not self.auto
        self.duration = 1 if self.auto else int(eval_cfg.duration)
        self._seconds = 1.0
        env = _eval_env_config(env_cfg, eval_cfg)
        rcfg = self._eval_runner_config(eval_cfg, runner_cfg)
        # What episode hooks log in eval runners, reported as evaluation/env_runners/<key>.
        # Multi-agent runners log per-agent and per-module returns there too.
        multi_agent = isinstance(module_spec, MultiRLModuleSpec)
        self.custom = MetricsLogger() if rcfg.callbacks or multi_agent else None
        # Far from the training seeds, so evaluation never replays training's episodes.
        eval_seed = None if seed is None else seed + 1_000_003
        self.local: Any = None  # an EnvRunner or a MultiAgentEnvRunner
        self.remote: Any = None
        self._make_runners(env, rcfg, fault_cfg, module_spec, observation_space, eval_seed)
        self._pending: tuple[list[Any], float] | None = None
        # evaluation.custom_evaluation_function (RLlib's name): fn(algorithm, evaluator) ->
        # the `evaluation` result section, in place of the built-in episodes.
        self.custom_function: Any = _custom_evaluation_function(eval_cfg)

    def _eval_runner_config(
        self, eval_cfg: EvaluationConfig, runner_cfg: RunnerConfig
    ) -> RunnerConfig:
        """The training runners' config with evaluation.config.env_runner over it, evaluation's
        exploration and policy mapping, and no more sub-envs than episodes to play."""
        runner_over = (eval_cfg.config or {}).get("env_runner") or {}
        runner_cfg = dataclasses.replace(runner_cfg, **runner_over)
        n_remote = eval_cfg.num_env_runners
        num_envs = eval_cfg.num_envs_per_env_runner or runner_cfg.num_envs_per_env_runner
        if self.by_episodes:  # no more sub-envs than episodes each runner plays
            num_envs = max(1, min(num_envs, math.ceil(self.duration / max(1, n_remote))))
        return dataclasses.replace(
            runner_cfg,
            # evaluation.config.env_runner.explore wins over evaluation.explore
            explore=bool(runner_over.get("explore", eval_cfg.explore)),
            num_envs_per_env_runner=num_envs,
            policy_mapping_fn=eval_cfg.policy_mapping_fn or runner_cfg.policy_mapping_fn,
            in_evaluation=True,  # env_runner.in_evaluation, for the user's episode hooks
        )

    def _make_runners(
        self,
        env: dict[str, Any],
        rcfg: RunnerConfig,
        fault_cfg: FaultToleranceConfig,
        module_spec: RLModuleSpec,
        observation_space: gym.Space,
        eval_seed: int | None,
    ) -> None:
        """The eval runners: Ray actors with evaluation.num_env_runners, else one in the driver."""
        n_remote = self.cfg.num_env_runners
        if n_remote:
            from rlrun.env.remote_env_runner_group import RemoteEnvRunnerGroup

            self.remote = RemoteEnvRunnerGroup(
                env,
                rcfg,
                fault_cfg,
                module_spec,
                observation_space,
                eval_seed,
                num_runners=n_remote,
                update_filters=False,
                num_cpus_per_runner=self.cfg.num_cpus_per_env_runner,
            )
        else:
            self.local = make_env_runner(
                env,
                rcfg,
                module_spec,
                seed=eval_seed,
                update_filters=False,
                recreate_failed_sub_envs=fault_cfg.restart_failed_sub_environments,
            )

    def due(self, iteration: int) -> bool:
        """Whether the iteration numbered `iteration` (1-based) ends with an evaluation."""
        return self.interval > 0 and iteration % self.interval == 0

    def start(
        self, weights: dict[str, torch.Tensor], connector_state: dict[str, np.ndarray]
    ) -> None:
        """Begin evaluating these weights; remote runners work while the caller goes on."""
        t0 = time.perf_counter()
        if self.remote is None:
            assert self.local is not None
            self.local.sync(weights, connector_state)
            runs = [self._run(self.local)]
            self._pending = (runs, t0)
            return
        group = self.remote
        group.master.set_state(connector_state)
        group.sync_weights(weights)
        indices = sorted(group.runners)
        if self.auto:
            per_runner: dict[int, tuple[Any, ...]] = {i: (self._seconds,) for i in indices}
            self._pending = (group.submit("sample_for_seconds", per_runner), t0)
            return
        shares = np.full(len(indices), self.duration // len(indices))
        shares[: self.duration % len(indices)] += 1
        method = "sample_episodes" if self.by_episodes else "sample_timesteps"
        per_runner = {i: (int(k),) for i, k in zip(indices, shares, strict=True) if k > 0}
        self._pending = (group.submit(method, per_runner), t0)

    def collect(self) -> dict[str, Any]:
        """The results of the evaluation `start` began, as the `evaluation` result section."""
        assert self._pending is not None, "collect() without start()"
        runs, t0 = self._pending
        self._pending = None
        if self.remote is not None:
            runs = self.remote.gather(runs)
        if self.auto:  # the next evaluation lasts as long as this training step did
            self._seconds = max(0.1, time.perf_counter() - t0)
        custom: dict[str, Any] = {}
        if self.custom is not None:
            if self.remote is not None:
                logged = self.remote.gather(self.remote.submit("pop_metrics"))
            else:
                logged = [self.local.pop_metrics()] if self.local is not None else []
            for part in logged:
                self.custom.merge(part)
            custom = self.custom.reduce()
        returns = [r for run in runs for r in run[0]]
        lengths = [n for run in runs for n in run[1]]
        # By episodes, the steps are the episodes'; by timesteps (or time) the runners count
        # them, finished episode or not.
        steps = sum(int(run[2]) for run in runs) if runs and len(runs[0]) > 2 else sum(lengths)
        if not returns:
            log.warning(
                "evaluation: no episode finished within %d env steps, so there is no return "
                "to report; raise evaluation.duration (or use duration_unit=episodes)",
                steps,
            )
        nan = float("nan")
        return {
            "env_runners": {
                **custom,
                "episode_return_mean": float(np.mean(returns)) if returns else nan,
                "episode_return_min": float(np.min(returns)) if returns else nan,
                "episode_return_max": float(np.max(returns)) if returns else nan,
                "episode_len_mean": float(np.mean(lengths)) if lengths else nan,
                "num_episodes": len(returns),
                "num_env_steps_sampled": int(steps),
            },
            "time_s": time.perf_counter() - t0,
        }

    def evaluate(
        self, weights: dict[str, torch.Tensor], connector_state: dict[str, np.ndarray]
    ) -> dict[str, Any]:
        self.start(weights, connector_state)
        return self.collect()

    def run_custom(self, algorithm: Any) -> dict[str, Any]:
        """The user's evaluation function: it may use this evaluator's runners (`self.local`,
        `self.remote`) or `algorithm.evaluate()`. RLlib's (metrics, env steps, agent steps)
        tuple is accepted too; its metrics become the section."""
        from rlrun.callbacks.hooks import failure

        t0 = time.perf_counter()
        name = str(self.cfg.custom_evaluation_function)
        try:
            out = self.custom_function(algorithm, self)
        except Exception as e:
            raise failure(name, "custom_evaluation_function", e, "the driver") from e
        metrics = out[0] if isinstance(out, tuple) else out
        if not isinstance(metrics, dict):
            from rlrun.errors import ConfigError

            raise ConfigError("evaluation.custom_evaluation_function", name,
                              f"returned {type(metrics).__name__}, not a dict of metrics")  # fmt: skip
        return {**metrics, "time_s": time.perf_counter() - t0}

    def _run(self, runner: EnvRunner) -> tuple[Any, ...]:
        if self.by_episodes:
            return runner.sample_episodes(self.duration)
        return runner.sample_timesteps(self.duration)

    def stop(self) -> None:
        if self.remote is not None:
            self.remote.stop()
        if self.local is not None:
            self.local.stop()


def _eval_env_config(env_cfg: dict[str, Any], eval_cfg: EvaluationConfig) -> dict[str, Any]:
    """The training env section with evaluation.config.env over it (RLlib's evaluation_config);
    evaluation.env_config stays a shorthand for env.env_config and wins over both."""
    env_over = (eval_cfg.config or {}).get("env") or {}
    return {
        **env_cfg,
        **env_over,
        "env_config": {
            **(env_cfg.get("env_config") or {}),
            **(env_over.get("env_config") or {}),
            **eval_cfg.env_config,
        },
    }


def _custom_evaluation_function(eval_cfg: EvaluationConfig) -> Any:
    """evaluation.custom_evaluation_function loaded, or None."""
    if not eval_cfg.custom_evaluation_function:
        return None
    from rlrun.callbacks.hooks import load_attr_path

    return load_attr_path(
        "evaluation.custom_evaluation_function",
        eval_cfg.custom_evaluation_function,
        "pkg.module:fn, fn(algorithm, evaluator) -> dict of metrics",
    )
