"""N EnvRunners as Ray actors, sampling in parallel, with fault tolerance.

Each `sample()` is one remote call per runner carrying a whole fragment (thousands of steps);
episodes run on across calls, so nobody waits for an episode to end. Weights and the merged
connector state go out with one `ray.put` per sync, whatever the number of runners. Each
runner's filter reports only what it saw since its last fragment; the driver merges those deltas
into its own filter, which is the one saved in checkpoints and broadcast back.

A runner that fails (its env raised, its process died, or a sample took longer than
`env_runner.sample_timeout_s`) is replaced, dropped, or ends the run, as `fault_tolerance` says;
its traceback goes to the `rlrun.fault` logger, which the experiment runner also writes to
error.txt.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import torch

from rlrun.callbacks.hooks import raise_if_callback_failed
from rlrun.config.schema import FaultToleranceConfig
from rlrun.config.sections import typed
from rlrun.connectors.connector import build_env_to_module
from rlrun.connectors.per_module import build_per_module
from rlrun.core.multi_rl_module import MultiRLModuleSpec
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.env_runner import EnvRunner
from rlrun.env.env_runner_group import report_sub_env_failures
from rlrun.env.episode_stats import EpisodeStats
from rlrun.env.in_flight import InFlight
from rlrun.env.rollout import Rollout
from rlrun.env.runner_config import RunnerConfig
from rlrun.env.runner_failures import RunnerFailures, describe_failure, failure_cause
from rlrun.env.runners import make_env_runner
from rlrun.errors import TrainingFailed


class _Remote:
    """What an env runner inside a Ray actor adds: one torch thread (an 8-row forward gains
    nothing from more, and runners share the machine), weights plus filter state in one
    payload, and the weights' sequence number stamped on every fragment."""

    _weights_seq_no = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        torch.set_num_threads(1)
        super().__init__(*args, **kwargs)

    def sync_payload(self, payload: dict[str, Any]) -> None:
        self.sync(payload["weights"], payload["connector"])  # type: ignore[attr-defined]
        self._weights_seq_no = int(payload["weights_seq_no"])

    def sample(self, num_steps: int) -> Rollout:
        rollout: Rollout = super().sample(num_steps)  # type: ignore[misc]
        rollout.weights_seq_no = self._weights_seq_no
        return rollout


class RemoteEnvRunner(_Remote, EnvRunner):
    pass


def _remote_runner_class(module_spec: Any) -> type:
    if isinstance(module_spec, MultiRLModuleSpec):
        from rlrun.env.multi_agent.env_runner import MultiAgentEnvRunner

        return type("RemoteMultiAgentEnvRunner", (_Remote, MultiAgentEnvRunner), {})
    return RemoteEnvRunner


class RemoteEnvRunnerGroup(RunnerFailures):
    def __init__(
        self,
        env_cfg: dict[str, Any],
        runner_cfg: RunnerConfig | Mapping[str, Any],
        fault_cfg: FaultToleranceConfig | Mapping[str, Any],
        module_spec: RLModuleSpec,
        observation_space: gym.Space,
        seed: int | None,
        *,
        num_runners: int | None = None,
        update_filters: bool = True,
        num_cpus_per_runner: float | None = None,
    ) -> None:
        import ray

        self._ray = ray
        runner_cfg = typed(RunnerConfig, runner_cfg)
        fault_cfg = typed(FaultToleranceConfig, fault_cfg)
        self.env_cfg, self.runner_cfg, self.fault_cfg = env_cfg, runner_cfg, fault_cfg
        self.module_spec, self.seed, self.update_filters = module_spec, seed, update_filters
        self.num_runners = int(num_runners or runner_cfg.num_env_runners)
        self.num_cpus_per_runner = float(
            runner_cfg.num_cpus_per_env_runner
            if num_cpus_per_runner is None
            else num_cpus_per_runner
        )
        timeout = runner_cfg.sample_timeout_s
        self.sample_timeout_s: float | None = None if timeout is None else float(timeout)
        # The driver's copy of the connectors: remote runners' filter deltas merge into it.
        self.master = (
            build_per_module(runner_cfg.observation_filter, module_spec)
            if isinstance(module_spec, MultiRLModuleSpec)
            else build_env_to_module(
                runner_cfg.observation_filter,
                runner_cfg.connectors.env_to_module,
                observation_space,
                module_spec.action_space,
            )
        )
        self.stats = EpisodeStats(int(runner_cfg.metrics_num_episodes_for_smoothing))
        self.restarts = dict.fromkeys(range(1, self.num_runners + 1), 0)
        # Failures in a row since each runner last completed a sample (crash-loop detection),
        # and how often each distinct error was seen (the same traceback is logged once).
        self._failure_streak = dict.fromkeys(self.restarts, 0)
        self._sampled_since_start = dict.fromkeys(self.restarts, False)
        self._errors_seen: dict[str, int] = {}
        self.num_sub_env_restarts = 0
        self._actor_cls = ray.remote(_remote_runner_class(module_spec))
        self._sync_ref: Any = None  # the last (weights, connector) payload, for restarted runners
        self._weights: dict[str, torch.Tensor] | None = None
        self._local: EnvRunner | None = None
        self._local_stale = True
        self._task: tuple[Any, ...] = ()  # (task,) once the curriculum set one
        self.weights_seq_no = 0  # syncs so far; each fragment says which one it sampled with
        self._in_flight = InFlight(ray, self.sample_timeout_s)  # sample_async's calls
        self._lags: list[int] = []  # policy lag of each fragment sample_async took
        self.runners: dict[int, Any] = {i: self._spawn(i) for i in self.restarts}
        self._await_ready(list(self.runners))

    # --- actors -------------------------------------------------------------------------------

    def _spawn(self, index: int) -> Any:
        options = {
            "num_cpus": self.num_cpus_per_runner,
            "num_gpus": float(self.runner_cfg.num_gpus_per_env_runner),
            "max_restarts": 0,  # rlrun restarts runners itself, with state and counting
            # Ray's GCS keeps every call's task events (for its dashboard): a long run makes
            # hundreds of thousands of sample() calls, and the GCS grew 17% in 600k DQN steps.
            "enable_task_events": False,
        }
        # A restarted runner gets new seeds, or it would replay the episodes that broke it.
        seed = None if self.seed is None else self.seed + 1_000_003 * self.restarts[index]
        actor = self._actor_cls.options(**options).remote(
            self.env_cfg,
            self.runner_cfg,
            self.module_spec,
            seed=seed,
            worker_index=index,
            update_filters=self.update_filters,
            recreate_failed_sub_envs=self.fault_cfg.restart_failed_sub_environments,
        )
        if self._task:  # a restarted runner goes on with the curriculum's current task
            actor.set_task.remote(*self._task)
        return actor

    def _await_ready(self, indices: list[int]) -> None:
        """Wait until each runner is built; a constructor that raises is a failure like any."""
        pending = list(indices)
        while pending:
            i = pending.pop()
            try:
                self._ray.get(self.runners[i].ping.remote(), timeout=self.sample_timeout_s)
            except self._ray.exceptions.RayError as e:
                if self._on_failure(i, e):
                    pending.append(i)

    # --- the group's calls ------------------------------------------------------------------------

    def submit(
        self, method: str, per_runner: dict[int, tuple[Any, ...]] | None = None, *args: Any
    ) -> list[Any]:
        """Call `method` on the healthy runners: those in `per_runner` with their own arguments,
        or all with `args`. Returns the pending calls, for `gather`."""
        calls = per_runner if per_runner is not None else dict.fromkeys(self.runners, args)
        return [
            (getattr(self.runners[i], method).remote(*a), i)
            for i, a in sorted(calls.items())
            if i in self.runners
        ]

    def gather(self, pending: list[Any]) -> list[Any]:
        """The results of the calls that succeeded; failed runners are handled as
        `fault_tolerance` says (their share of the work is simply missing)."""
        results = []
        # One deadline for the round: the runners work at the same time.
        deadline = (
            None if self.sample_timeout_s is None else time.monotonic() + self.sample_timeout_s
        )
        failed_fresh = 0  # runners that failed before completing any sample since their start
        for ref, i in pending:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                results.append(self._ray.get(ref, timeout=left))
                # A call that did its work (a training fragment, evaluation episodes) ends any
                # run of failures: this runner is not in a crash loop.
                self._failure_streak[i] = 0
                self._sampled_since_start[i] = True
            except self._ray.exceptions.RayError as e:
                failed_fresh += not self._sampled_since_start.get(i, True)
                if len(pending) > 1 and failed_fresh == len(pending):
                    raise_if_callback_failed(e)
                    text = describe_failure(e, self.sample_timeout_s)
                    self._log_failure(i, text, failure_cause(text))
                    raise TrainingFailed(
                        f"every env runner failed in the same round before completing a "
                        f"sample, a crash loop; the env's error: {failure_cause(text)}. "
                        "Tracebacks are in the trial's error.txt; the last checkpoint is intact"
                    ) from e
                if i in self.runners and self._on_failure(i, e):
                    # Surface a replacement that cannot even start now, not at the next call.
                    self._await_ready([i])
        return results

    def sample(self, num_steps_per_env: int) -> list[Rollout]:
        rollouts: list[Rollout] = self.gather(self.submit("sample", None, num_steps_per_env))
        self._received(rollouts)
        return rollouts

    def sample_async(self, num_steps_per_env: int, max_in_flight: int) -> list[Rollout]:
        """Asynchronous sampling (IMPALA, APPO): keep up to `max_in_flight` sample calls queued
        on every healthy runner, wait until a fragment is done, and return every fragment done
        by then. Runners sample on meanwhile, with the weights of their last sync; each
        fragment's policy lag (syncs since its weights) goes into the metrics. Failed runners
        are handled as `fault_tolerance` says; a call running past `sample_timeout_s` fails."""
        rollouts: list[Rollout] = []
        while not rollouts:
            self._in_flight.fill(
                self.runners, max_in_flight, lambda a: a.sample.remote(num_steps_per_env)
            )
            done, late = self._in_flight.wait()
            if late is not None:
                error = self._ray.exceptions.GetTimeoutError("sample() timed out")
                self._runner_failed(late, error)
            failed: set[int] = set()
            for ref, i in done:
                if i in failed:
                    continue  # the failed actor's other calls, not its replacement's
                try:
                    ro = self._ray.get(ref)
                except self._ray.exceptions.RayError as e:
                    failed.add(i)
                    self._runner_failed(i, e)
                    continue
                self._failure_streak[i] = 0
                self._sampled_since_start[i] = True
                self._lags.append(self.weights_seq_no - ro.weights_seq_no)
                rollouts.append(ro)
        # Ask again at once: runners sample the next fragments while the learner trains.
        self._in_flight.fill(
            self.runners, max_in_flight, lambda a: a.sample.remote(num_steps_per_env)
        )
        self._received(rollouts)
        return rollouts

    def _runner_failed(self, index: int, error: BaseException) -> None:
        """A runner's call failed: its other calls are lost with it; replace or drop it."""
        self._in_flight.drop(index)
        if index in self.runners and self._on_failure(index, error):
            self._await_ready([index])

    def _received(self, rollouts: list[Rollout]) -> None:
        """Fragments in the driver: episode stats, filter deltas, sub-env failures."""
        for ro in rollouts:
            self.stats.add(ro)
            if ro.connector_delta:
                self.master.merge_delta(ro.connector_delta)
        self.num_sub_env_restarts += report_sub_env_failures(rollouts)

    def sync_weights(self, weights: dict[str, torch.Tensor]) -> None:
        self._weights = weights
        self.weights_seq_no += 1
        connector = self.master.get_state() if self.master.stateful else None
        self._sync_ref = self._ray.put(
            {"weights": weights, "connector": connector, "weights_seq_no": self.weights_seq_no}
        )
        for actor in self.runners.values():
            actor.sync_payload.remote(self._sync_ref)
        self._local_stale = True

    def set_task(self, task: Any) -> None:
        """The curriculum's next task (env.task_fn), for every runner's sub-envs; waits, so
        the next sample() runs on it."""
        self._task = (task,)
        self.gather(self.submit("set_task", None, task))

    def get_metrics(self) -> dict[str, float]:
        out = {
            **self.stats.metrics(),
            "num_healthy_env_runners": len(self.runners),
            "num_env_runner_restarts": sum(self.restarts.values()),
            "num_sub_env_restarts": self.num_sub_env_restarts,
        }
        if self._lags:  # asynchronous sampling: how stale the fragments taken since were
            out["weights_seq_no"] = self.weights_seq_no
            out["mean_policy_lag"] = sum(self._lags) / len(self._lags)
            out["max_policy_lag"] = max(self._lags)
            self._lags = []
        return out

    def get_state(self) -> dict[str, Any]:
        return {"connector": self.master.get_state(), "counters": self.stats.get_state()}

    def set_state(self, state: dict[str, Any]) -> None:
        # Runners receive the restored connector state with the next sync_weights().
        self.master.set_state(state.get("connector", {}))
        self.stats.set_state(state.get("counters", {}))
        self._local_stale = True

    @property
    def num_envs_total(self) -> int:
        return len(self.runners) * int(self.runner_cfg.num_envs_per_env_runner)

    @property
    def local_runner(self) -> EnvRunner:
        """A one-env runner in the driver, for compute_single_action; built on first use."""
        if self._local is None:
            self._local = make_env_runner(
                self.env_cfg, self.runner_cfg, self.module_spec, num_envs=1, update_filters=False
            )
        if self._local_stale and self._weights is not None:
            self._local.sync(self._weights, self.master.get_state())
            self._local_stale = False
        return self._local

    def stop(self) -> None:
        self._in_flight.clear()
        for actor in self.runners.values():
            with contextlib.suppress(Exception):
                self._ray.kill(actor, no_restart=True)
        self.runners.clear()
        if self._local is not None:
            self._local.stop()
