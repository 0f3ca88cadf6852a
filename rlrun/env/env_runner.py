"""EnvRunner: steps a vector env with a copy of the module and returns time-major Rollouts.

It holds no learning code. Its hot loop is one batched forward pass and one vector-env step per
time step; everything else there is a write into a preallocated array, so it runs close to the
raw speed of env + network (see benchmarks/sampler_efficiency.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rlrun.callbacks.episode import Episode, EpisodeTracker
from rlrun.callbacks.hooks import CallbackList
from rlrun.callbacks.metrics_logger import MetricsLogger
from rlrun.config.sections import typed
from rlrun.connectors.connector import build_env_to_module
from rlrun.connectors.module_to_env import build_module_to_env
from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.act_step import RunnerSync, act, initial_state
from rlrun.env.episode_book import EpisodeBook
from rlrun.env.make_env import check_spaces, make_vector_env
from rlrun.env.recreate import SUB_ENV_FAILED, SUB_ENV_TRACEBACK
from rlrun.env.rollout import Rollout
from rlrun.env.runner_config import RunnerConfig


class EnvRunner(RunnerSync):
    def __init__(
        self,
        env_cfg: dict[str, Any],
        runner_cfg: RunnerConfig | Mapping[str, Any],
        module_spec: RLModuleSpec | None = None,
        seed: int | None = None,
        worker_index: int = 0,
        num_envs: int | None = None,
        render_mode: str | None = None,
        update_filters: bool = True,
        recreate_failed_sub_envs: bool = False,
    ) -> None:
        self.runner_cfg = runner_cfg = typed(RunnerConfig, runner_cfg)
        self.worker_index = worker_index
        self.num_envs = int(num_envs or runner_cfg.num_envs_per_env_runner)
        self.env = make_vector_env(
            env_cfg,
            self.num_envs,
            runner_cfg.vectorize_mode,
            render_mode,
            recreate_failed_sub_envs=recreate_failed_sub_envs,
        )
        self.observation_space: gym.Space = self.env.single_observation_space
        self.action_space: gym.Space = self.env.single_action_space
        check_spaces(self.observation_space, self.action_space)
        self.explore = bool(runner_cfg.explore)
        self.update_filters = update_filters
        self.seed = None if seed is None else int(seed) + 10_000 * worker_index
        self._build_pipeline(runner_cfg, module_spec)
        self._obs: Any = None  # module input (after connectors) of the next step, per sub-env
        self._prev_done = np.zeros(self.num_envs, bool)  # these sub-envs reset on the next step
        # Sub-env failures since the last sample() returned; they ride along in its Rollout
        # with the episodes that finished, and the runner group keeps the windowed stats.
        self._sub_env_failures: list[str] = []
        self.num_env_steps_lifetime = 0
        self._weight_targets: dict[str, torch.Tensor] | None = None  # the module's own tensors
        self.in_evaluation = runner_cfg.in_evaluation
        self._build_hooks(runner_cfg.callbacks)

    def _build_pipeline(self, runner_cfg: RunnerConfig, module_spec: RLModuleSpec | None) -> None:
        """Connectors and module: every runner (local, remote or evaluating) builds the same
        ones from its RunnerConfig."""
        self.env_to_module = build_env_to_module(
            runner_cfg.observation_filter,
            runner_cfg.connectors.env_to_module,
            self.observation_space,
            self.action_space,
        )
        # What the module sees, after connectors (e.g. stacked frames, previous actions).
        self.module_observation_space = self.env_to_module.observation_space(self.observation_space)
        self.module = module_spec.build() if module_spec is not None else None
        self.module_to_env = build_module_to_env(
            self.action_space,
            None if self.module is None else self.module.action_dist_cls,
            runner_cfg.connectors.module_to_env,
        )
        # Recurrent modules: one state per sub-env, reset where an episode starts.
        self._initial_state: dict[str, torch.Tensor] = (
            self.module.get_initial_state() if self.module is not None else {}
        )
        self.stateful = bool(self._initial_state)
        self._state: Any = None

    def _build_hooks(self, callbacks: list[str]) -> None:
        """Callbacks (`callbacks=[...]`): their episode hooks, and what they log, shipped with
        each Rollout. Without episode hooks there is no tracker and sampling pays one `is None`
        check per step. The episode book keeps every episode's return, length and (with hooks)
        Episode object, for sampling and evaluation alike."""
        self.metrics = MetricsLogger()
        index = self.worker_index
        self.callbacks = CallbackList(
            callbacks, "in the driver's env runner" if index == 0 else f"in env runner {index}"
        )
        self._tracker: EpisodeTracker | None = None
        if self.callbacks.has_episode_hooks:
            self._tracker = EpisodeTracker(self.num_envs, self._call_episode_hook)
        self.episodes = EpisodeBook(self.num_envs, self._tracker)
        self._task: tuple[Any, ...] = ()  # (task,) once the curriculum set one

    # --- the act step ------------------------------------------------------------------------

    def act(self, obs: Any, explore: bool) -> tuple[np.ndarray, torch.Tensor, torch.Tensor | None]:
        """`act` (above) with this runner's module and per-sub-env state, which it advances."""
        assert self.module is not None, "acting needs a module"
        actions, dist_inputs, self._state, values = act(self.module, obs, self._state, explore)
        return actions, dist_inputs, values

    def _reset_state(self, starts: np.ndarray) -> None:
        """Recurrent modules: sub-envs in `starts` begin episodes from the initial state."""
        if self._state is None or starts.all():
            self._state = initial_state(self._initial_state, self.num_envs)
        elif starts.any():
            rows = torch.from_numpy(starts)
            for k, v in self._state.items():
                v[rows] = self._initial_state[k]

    def _connect(
        self, raw_obs: Any, update: bool, starts: np.ndarray, actions: Any, rewards: Any
    ) -> Any:
        """Env observations -> module inputs through env-to-module, resetting state at starts."""
        if self.stateful:
            self._reset_state(starts)
        if not self.env_to_module.pieces:
            return raw_obs
        return self.env_to_module(
            raw_obs, update=update, starts=starts, actions=actions, rewards=rewards
        )

    # --- sampling --------------------------------------------------------------------------

    def _reset(self) -> Any:
        """Fresh episodes in every sub-env; returns the raw observations."""
        raw, _ = self.env.reset(seed=self.seed)
        self._prev_done[:] = False
        return raw

    def sample(self, num_steps: int) -> Rollout:
        """Step every sub-env `num_steps` times; episodes carry on into the next call."""
        assert self.module is not None, "sample() needs a module"
        fresh = self._obs is None
        book = self.episodes
        if fresh:
            raw = self._reset()
            book.begin(raw)
            self._obs = self._connect(raw, self.update_filters, np.ones(self.num_envs, bool),
                                      None, None)  # fmt: skip
        T = int(num_steps)
        data = self._alloc_columns(T)
        obs_buf, act_buf, rew_buf = data[C.OBS], data[C.ACTIONS], data[C.REWARDS]
        term_buf, trunc_buf, valid_buf = data[C.TERMINATEDS], data[C.TRUNCATEDS], data[C.MASK]
        state_buf = data.get(C.STATE_IN)  # recurrent modules only
        dist_buf: np.ndarray | None = None
        vf_buf: np.ndarray | None = None  # V(s) where the module's forward gave it
        to_env, update, explore = self.module_to_env, self.update_filters, self.explore
        obs = self._obs
        plain = isinstance(obs_buf, np.ndarray)  # not a Dict/Tuple tree: index it directly
        with torch.no_grad():
            for t in range(T):
                if plain:
                    obs_buf[t] = obs
                else:
                    tree.assign(obs_buf, t, obs)
                if state_buf is not None:
                    for k, v in self._state.items():
                        state_buf[k][t] = v.numpy()
                # The buffer's row: the observation in its column dtype, without a copy.
                actions, dist_inputs, values = self.act(
                    obs_buf[t] if plain else tree.index(obs_buf, t), explore
                )
                if dist_buf is None:
                    dist_buf = data[C.ACTION_DIST_INPUTS] = np.empty(
                        (T, *dist_inputs.shape), np.float32
                    )
                    if values is not None:
                        vf_buf = data[C.VF_PREDS] = np.empty((T, self.num_envs), np.float32)
                dist_buf[t] = dist_inputs.numpy()
                if vf_buf is not None:
                    vf_buf[t] = values.float().numpy()
                act_buf[t] = actions
                env_actions = to_env(actions)
                raw_obs, rewards, terminated, truncated, infos = self.env.step(env_actions)
                valid = ~self._prev_done
                failed = None
                if infos and SUB_ENV_FAILED in infos:
                    failed = self._sub_envs_failed(infos, t, valid_buf, trunc_buf)
                    valid &= ~failed
                valid_buf[t] = valid
                rew_buf[t] = rewards
                term_buf[t] = terminated
                trunc_buf[t] = truncated
                step = (raw_obs, env_actions, rewards, terminated, truncated, infos)
                book.step(step, valid, self._prev_done, failed)
                self._prev_done = terminated | truncated
                # A row that was not a real step (an autoreset or a recreated sub-env) brought
                # a new episode's first observation.
                obs = self._connect(raw_obs, update, ~valid, actions, rewards)
        self._obs = obs
        return self._rollout(data, fresh)

    def _alloc_columns(self, T: int) -> dict[str, Any]:
        """Empty [T, N] columns for one fragment (the module's outputs are added on the first
        step, when their shapes are known)."""
        n = self.num_envs
        data: dict[str, Any] = {
            C.OBS: tree.alloc(self.module_observation_space, (T, n)),
            C.ACTIONS: tree.alloc(self.action_space, (T, n)),
            C.REWARDS: np.empty((T, n), np.float32),
            C.TERMINATEDS: np.empty((T, n), bool),
            C.TRUNCATEDS: np.empty((T, n), bool),
            C.MASK: np.empty((T, n), bool),
        }
        if self.stateful:
            data[C.STATE_IN] = {
                k: np.empty((T, n, *v.shape), np.float32) for k, v in self._initial_state.items()
            }
        return data

    def _rollout(self, data: dict[str, Any], fresh: bool) -> Rollout:
        """The fragment with what the runner learned meanwhile: finished episodes, connector
        deltas, recreated sub-envs, metrics; the observation (and state) to bootstrap from."""
        finished_returns, finished_lengths = self.episodes.pop_finished()
        rollout = Rollout(
            data,
            bootstrap_obs=tree.map_structure(
                np.array, tree.as_batch(self.module_observation_space, self._obs)
            ),
            bootstrap_state=None
            if C.STATE_IN not in data
            else tree.to_numpy(tree.map_structure(torch.clone, self._state)),
            episode_returns=finished_returns,
            episode_lengths=finished_lengths,
            connector_delta=self.env_to_module.pop_delta(),
            sub_env_failures=self._sub_env_failures,
            runner_index=self.worker_index,
            fresh=fresh,
            custom_metrics=self.metrics.pop_logged(),
        )
        self._sub_env_failures = []
        self.num_env_steps_lifetime += rollout.env_steps
        return rollout

    def _sub_envs_failed(
        self, infos: dict[str, Any], t: int, valid_buf: np.ndarray, trunc_buf: np.ndarray
    ) -> np.ndarray:
        """Sub-envs whose step raised and were recreated (see rlrun.env.recreate).

        Their step at `t` is made up, so it is dropped; their episode ends at the last real
        observation (row t's), so the row before is marked truncated and bootstraps from it. A
        cut-off episode is not a finished one and stays out of the return statistics.
        """
        failed = np.asarray(infos["_" + SUB_ENV_FAILED], bool) & np.asarray(
            infos[SUB_ENV_FAILED], bool
        )
        if t > 0:
            trunc_buf[t - 1] |= failed & valid_buf[t - 1]
        for i in np.flatnonzero(failed):
            self._sub_env_failures.append(
                f"env runner {self.worker_index}, sub-environment {i}:\n"
                f"{infos[SUB_ENV_TRACEBACK][i]}"
            )
        if self._task and failed.any():  # a recreated sub-env starts with its default task
            self.set_task(*self._task)
        return failed

    def sample_episodes(self, num_episodes: int) -> tuple[list[float], list[int]]:
        """Run exactly `num_episodes` fresh episodes (evaluation), spread over the sub-envs.

        Each sub-env gets a fixed quota decided up front, so short episodes are not
        over-represented the way "first N to finish" would make them.
        """
        assert self.module is not None
        raw = self._reset()
        quota = np.full(self.num_envs, num_episodes // self.num_envs)
        quota[: num_episodes % self.num_envs] += 1
        done_count = np.zeros(self.num_envs, np.int64)
        book = self.episodes
        book.pop_finished()
        book.begin(raw, quota > 0)  # episode hooks see only the episodes that count
        obs = self._connect(raw, False, np.ones(self.num_envs, bool), None, None)
        prev_done = np.zeros(self.num_envs, bool)
        space = self.module_observation_space
        with torch.no_grad():
            while (done_count < quota).any():
                actions, _, _ = self.act(tree.as_batch(space, obs), self.explore)
                env_actions = self.module_to_env(actions)
                raw, r, term, trunc, infos = self.env.step(env_actions)
                valid = ~prev_done
                # A recreated sub-env's episode was cut off: it does not count, it is re-run.
                failed = None
                if infos and SUB_ENV_FAILED in infos:
                    failed = np.asarray(infos["_" + SUB_ENV_FAILED], bool)
                counts = done_count < quota
                step = (raw, env_actions, r, term, trunc, infos)
                done_count += book.step(step, valid, prev_done & counts, failed, counts)
                prev_done = term | trunc
                starts = ~valid if failed is None else ~valid | failed
                obs = self._connect(raw, False, starts, actions, r)
        self._obs = None  # the next sample() starts from fresh episodes
        return book.pop_finished()

    def restart_episodes(self) -> None:
        """The next sample() starts fresh episodes in every sub-env."""
        self._obs = None

    def sample_timesteps(self, num_steps: int) -> tuple[list[float], list[int], int]:
        """About `num_steps` steps from fresh episodes (evaluation by timesteps): the returns
        and lengths of the episodes that finished within them, and the steps taken."""
        from rlrun.env.eval_sampling import sample_timesteps

        return sample_timesteps(self, num_steps)

    def sample_for_seconds(self, seconds: float) -> tuple[list[float], list[int], int]:
        """Fresh episodes for about `seconds` (evaluation.duration=auto)."""
        from rlrun.env.eval_sampling import sample_for_seconds

        return sample_for_seconds(self, seconds)

    # --- callbacks and curriculum -----------------------------------------------------------

    def _call_episode_hook(self, hook: str, episode: Episode, env_index: int) -> None:
        if self.callbacks.has(hook):
            self.callbacks.call(
                hook,
                episode=episode,
                env_runner=self,
                metrics_logger=self.metrics,
                env=self.env,
                env_index=env_index,
                rl_module=self.module,
            )

    def pop_metrics(self) -> dict[str, Any]:
        """What callbacks logged here since the last Rollout (or call), for the driver."""
        return self.metrics.pop_logged()

    def set_task(self, task: Any) -> None:
        """The curriculum's task, on every sub-env that has `set_task` (through wrappers)."""
        self._task = (task,)
        self.env.call("set_task", task)

    def get_task(self) -> Any:
        return self.env.call("get_task")[0]

    def stop(self) -> None:
        self.env.close()
