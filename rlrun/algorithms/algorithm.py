"""Algorithm: builds runners and learners from the config, runs `training_step`, evaluates,
saves and restores. An algorithm subclass provides its learner class, its default module and
`training_step`; nothing else."""

from __future__ import annotations

import dataclasses
import functools
import math
import random
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlrun.algorithms.evaluation import Evaluator
from rlrun.algorithms.inference import Inference
from rlrun.algorithms.modules_by_id import ModulesById
from rlrun.algorithms.rllib_api import RLlibAPI, checkpoint_path
from rlrun.callbacks.driver import DriverCallbacks
from rlrun.cluster import check_resources, init_ray, needs_ray
from rlrun.config.schema import LearnerConfig
from rlrun.config.sections import algo_section, complete_config, typed
from rlrun.connectors.connector import build_env_to_module
from rlrun.core.columns import DEFAULT_MODULE_ID
from rlrun.core.learner import Learner
from rlrun.core.learner_group import LearnerGroup
from rlrun.core.multi_agent_learner import MultiAgentLearner
from rlrun.core.multi_rl_module import MultiRLModuleSpec
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.env_runner_group import make_env_runner_group
from rlrun.env.make_env import check_spaces, make_single_env, reward_threshold
from rlrun.env.rollout import Rollout
from rlrun.env.runner_config import RunnerConfig
from rlrun.results.episode_writer import EpisodeWriter, episode_writer_for


class Algorithm(ModulesById, Inference, RLlibAPI):
    learner_class: type[Learner]
    default_module_class: str

    def __init__(self, config: Any) -> None:
        self.config: dict[str, Any] = complete_config(config)
        cfg = self.config
        # The algorithm's settings, typed by its schema (PPOSchema, ...): what its learners
        # and training step read. `config` stays the plain tree users see and checkpoints keep.
        self.algo_config: Any = algo_section(cfg["algo"])
        self.seed: int | None = cfg.get("seed")
        _seed_everything(self.seed, int(cfg["learner"]["torch_num_threads"]))
        # User callbacks are loaded (and fail) before any runner or Ray actor starts.
        self.callbacks = DriverCallbacks(cfg)
        self.runner_config = self._runner_config()
        # compute_single_action's connectors and the last action it returned (built on first use).
        self._single_connectors: Any = None
        self._single_action_prev: np.ndarray | None = None
        self._single_modules: dict[str, tuple[Any, Any]] = {}  # multi-agent: (weights, module)
        if needs_ray(cfg):
            init_ray(cfg["ray"])
            check_resources(cfg)
        self.module_spec = self._module_spec()
        self.env_runner_group = make_env_runner_group(
            cfg["env"],
            self.runner_config,
            cfg["fault_tolerance"],
            self.module_spec,
            self._env_obs_space,
            self.seed,
        )
        self.learner_group = self._learner_group()
        self._load_module_checkpoints()
        self.evaluator: Evaluator | None = self._evaluator()
        self._weights_copy: dict[str, torch.Tensor] | None = None
        self._weights_stale = True
        self.sync_weights()
        # output=DIR: every sampled training episode is written there (None: no cost at all).
        self.episode_writer: EpisodeWriter | None = episode_writer_for(
            cfg, self._env_obs_space, self.module_spec
        )
        self.iteration = 0
        self.num_env_steps_sampled_lifetime = 0
        self.time_total_s = 0.0
        self._timers: dict[str, float] = {}
        try:
            self.callbacks.on_algorithm_init(self)
        except Exception:
            self.stop()  # the runners (and their actors) were started already
            raise

    # --- building ------------------------------------------------------------------------

    def _runner_config(self) -> RunnerConfig:
        """What every env runner of this run is built from: the env_runner section, the
        connector pieces, the callback classes (each runner imports them itself, for its
        episode hooks) and the agent-to-module mapping."""
        cfg = self.config
        return typed(
            RunnerConfig,
            {
                **cfg["env_runner"],
                "connectors": self.connectors_config(),
                "callbacks": list(cfg.get("callbacks") or []),
                "policy_mapping_fn": cfg["multi_agent"]["policy_mapping_fn"],
            },
        )

    def _learner_group(self) -> LearnerGroup:
        """The learner(s): the algorithm's Learner, or `algo.learner_class` (a subclass of it),
        one per learning module in a multi-agent run."""
        learner_cls: Any = self.learner_class
        if self.algo_config.learner_class:
            from rlrun.algorithms.registry import _subclass

            learner_cls = _subclass(
                "algo.learner_class", self.algo_config.learner_class, self.learner_class
            )
        if self.is_multi_agent:
            learner_cls = functools.partial(MultiAgentLearner, learner_cls)
        return LearnerGroup(
            learner_cls,
            self.algo_config,
            typed(LearnerConfig, self.config["learner"]),
            self.module_spec,
            self.seed,
            learner_pieces=self.runner_config.connectors.learner,
        )

    def _evaluator(self) -> Evaluator | None:
        cfg = self.config
        if int(cfg["evaluation"]["interval"]) <= 0:
            return None
        return Evaluator(
            cfg["evaluation"],
            cfg["env"],
            self.runner_config,
            cfg["fault_tolerance"],
            self.module_spec,
            self._env_obs_space,
            self.seed,
        )

    def connectors_config(self) -> dict[str, Any]:
        """The `connectors` section, plus the previous-action/reward piece that
        `algo.model.lstm_use_prev_action` / `lstm_use_prev_reward` stand for."""
        connectors = dict(self.config["connectors"])
        model = self.algo_config.model
        if model.use_lstm and (model.lstm_use_prev_action or model.lstm_use_prev_reward):
            piece = {
                "prev_actions_prev_rewards": {
                    "n_prev_actions": int(model.lstm_use_prev_action),
                    "n_prev_rewards": int(model.lstm_use_prev_reward),
                }
            }
            connectors["env_to_module"] = [*connectors["env_to_module"], piece]
        return connectors

    def _module_spec(self) -> RLModuleSpec | MultiRLModuleSpec:
        from rlrun.env.multi_agent.env import env_is_multi_agent

        if env_is_multi_agent(self.config["env"]):
            return self._multi_agent_spec()
        probe = make_single_env(self.config["env"])
        try:
            obs_space, act_space = probe.observation_space, probe.action_space
        finally:
            probe.close()
        check_spaces(obs_space, act_space)
        self._env_obs_space = obs_space
        pipeline = build_env_to_module(
            self.runner_config.observation_filter,
            self.runner_config.connectors.env_to_module,
            obs_space,
            act_space,
        )
        obs_space = pipeline.observation_space(obs_space)
        return self._single_module_spec(obs_space, act_space, self.module_model_config())

    def _single_module_spec(
        self, obs_space: Any, act_space: Any, model: dict[str, Any]
    ) -> RLModuleSpec:
        """One module's spec from the spaces it sees and its `model` settings."""
        from rlrun.models.catalog import action_mask_key, check_encodable

        check_spaces(obs_space, act_space)
        model = dict(model)
        model["action_mask_key"] = action_mask_key(
            obs_space, self.config["env"]["action_mask_key"], act_space
        )
        module_class = model.pop("module_class", None) or self.default_module_class
        if module_class == self.default_module_class:
            # A user's module decides for itself what it can take; ours are checked up front.
            check_encodable(obs_space, model, self.config["env"]["id"])
        return RLModuleSpec(module_class, obs_space, act_space, model)

    def module_model_config(self, algo_cfg: Any = None) -> dict[str, Any]:
        """What the module is built from: `algo.model` (of `algo_cfg`, one module's settings
        in a multi-agent run), plus what an algorithm's module also needs from its own
        settings (e.g. DQN's dueling heads)."""
        return dataclasses.asdict((self.algo_config if algo_cfg is None else algo_cfg).model)

    @property
    def reward_threshold(self) -> float | None:
        return reward_threshold(self.config["env"])

    @property
    def train_batch_size(self) -> int:
        """Env steps per iteration: each learner's share times the number of learners."""
        n = max(1, int(self.config["learner"]["num_learners"]))
        return int(self.algo_config.train_batch_size_per_learner) * n

    def fragment_length(self) -> int:
        """Steps per sub-env per sample(): "auto" splits the train batch over all sub-envs."""
        frag = self.config["env_runner"]["rollout_fragment_length"]
        if frag == "auto":
            return max(1, math.ceil(self.train_batch_size / self.env_runner_group.num_envs_total))
        return int(frag)

    def sample_train_batch(self) -> tuple[list[Rollout], int]:
        """Sample fragments until they hold `train_batch_size` steps (one round of remote calls
        when rollout_fragment_length is "auto"); returns them and the env steps they hold, which
        are also added to the lifetime count."""
        target = self.train_batch_size
        frag = self.fragment_length()
        rollouts: list[Rollout] = []
        rows = 0
        while rows < target:
            new = self.sample_fragments(frag)
            rollouts += new
            if self.is_multi_agent:
                rows += self.count_steps(new)
            else:  # autoreset rows count: a fragment of T steps is what the batch size means
                rows += sum(r.num_steps * r.num_envs for r in new)
        env_steps = sum(r.env_steps for r in rollouts)
        self.num_env_steps_sampled_lifetime += env_steps
        return rollouts, env_steps

    def sample_fragments(self, num_steps_per_env: int) -> list[Rollout]:
        """One `sample()` of the runner group; every algorithm samples through here, so the
        episodes reach `output=DIR` whichever runners sampled them."""
        rollouts = self.env_runner_group.sample(num_steps_per_env)
        if self.episode_writer is not None:
            self.episode_writer.write(rollouts, self.iteration + 1)
        return rollouts

    def sync_weights(self) -> None:
        """Send the learner's current weights (and the merged filter) to every env runner."""
        # Runners in this process copy the tensors in, Ray serializes them: no copy needed here.
        self.env_runner_group.sync_weights(self.learner_group.get_weights(copy=False))
        self._weights_stale = True

    @property
    def _weights(self) -> dict[str, torch.Tensor]:
        """A copy of the current weights, for evaluation (taken when first needed)."""
        if self._weights_stale or self._weights_copy is None:
            self._weights_copy = self.learner_group.get_weights()
            self._weights_stale = False
        return self._weights_copy

    # --- training --------------------------------------------------------------------------

    def training_step(self) -> dict[str, Any]:
        raise NotImplementedError

    @contextmanager
    def timer(self, name: str):  # noqa: ANN201 - a context manager
        t0 = time.perf_counter()
        yield
        # Summed: an off-policy iteration runs many sample/update rounds.
        self._timers[name] = self._timers.get(name, 0.0) + time.perf_counter() - t0

    def train(self) -> dict[str, Any]:
        """One iteration: `training_step` plus bookkeeping. Returns the nested result dict."""
        t0 = time.perf_counter()
        self._timers = {}
        ev = self.evaluator
        evaluate = ev is not None and ev.due(self.iteration + 1)
        custom = ev is not None and ev.custom_function is not None
        if evaluate and ev.parallel and not custom:
            self.callbacks.on_evaluate_start(self)
            ev.start(self._weights, self.env_runner_group.get_state()["connector"])
        step = self.training_step()
        if evaluate:
            with self.timer("evaluation_iteration_timer"):
                if custom:
                    self.callbacks.on_evaluate_start(self)
                    step["evaluation"] = ev.run_custom(self)
                else:
                    if not ev.parallel:
                        self.callbacks.on_evaluate_start(self)
                        ev.start(self._weights, self.env_runner_group.get_state()["connector"])
                    step["evaluation"] = ev.collect()
                self.callbacks.on_evaluate_end(self, step["evaluation"])
        dt = time.perf_counter() - t0
        self.iteration += 1
        self.time_total_s += dt
        runners = self.env_runner_group.get_metrics()
        sampled = int(step.pop("num_env_steps_sampled", 0))
        if self.episode_writer is not None:
            self.episode_writer.flush()
        result = {
            "training_iteration": self.iteration,
            "num_env_steps_sampled_lifetime": self.num_env_steps_sampled_lifetime,
            "num_episodes_lifetime": runners["num_episodes_lifetime"],
            "time_this_iter_s": dt,
            "time_total_s": self.time_total_s,
            "timestamp": int(time.time()),
            "env_runners": {
                **runners,
                "num_env_steps_sampled": sampled,
                "num_env_steps_sampled_lifetime": self.num_env_steps_sampled_lifetime,
                "env_steps_per_s": sampled / dt if dt > 0 else float("nan"),
            },
            "timers": dict(self._timers),
            **step,
        }
        self.callbacks.on_train_result(self, result)
        return result

    # --- state and checkpoints ------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        return {
            "learner": self.learner_group.get_state(),
            "env_runner": self.env_runner_group.get_state(),
            "counters": {
                "iteration": self.iteration,
                "num_env_steps_sampled_lifetime": self.num_env_steps_sampled_lifetime,
                "time_total_s": self.time_total_s,
                "callbacks": self.callbacks.get_state(),
            },
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.learner_group.set_state(state["learner"])
        self.env_runner_group.set_state(state["env_runner"])
        self.sync_weights()
        c = state["counters"]
        self.iteration = int(c["iteration"])
        self.num_env_steps_sampled_lifetime = int(c["num_env_steps_sampled_lifetime"])
        self.time_total_s = float(c["time_total_s"])
        self.callbacks.set_state(c.get("callbacks", {}), self)

    def restore(self, path: str | Path) -> None:
        from rlrun.errors import CheckpointError
        from rlrun.results.checkpoint import load_state

        state = load_state(Path(path), self.module_spec)
        try:
            self.set_state(state)
        except (ValueError, RuntimeError, KeyError) as e:
            # torch's load_state_dict lists every mismatched tensor: the start names the problem.
            detail = " ".join(str(e).split())
            detail = detail if len(detail) <= 240 else detail[:240] + "..."
            raise CheckpointError(
                f"{path}: the saved state does not fit this run's networks or optimizers "
                f"({detail}). A resumed run keeps the checkpoint's architecture: drop "
                "overrides of algo.model.*, algo.twin_q, algo.dueling or algo.num_atoms, or "
                "start a new run from scratch."
            ) from None
        self.restore_extra(Path(path))

    def save_extra(self, folder: Path) -> None:
        """Write algorithm-specific files into a checkpoint being written (e.g. a replay buffer)."""

    def restore_extra(self, folder: Path) -> None:
        """Read what `save_extra` wrote, if it is there."""

    @classmethod
    def from_checkpoint(cls, path: Any) -> Algorithm:
        """Rebuild the algorithm a checkpoint came from and restore its state."""
        from rlrun.algorithms.registry import algorithm_class_for
        from rlrun.results.checkpoint import read_checkpoint_config

        path = checkpoint_path(path)  # a folder, or RLlib's save().checkpoint
        config = read_checkpoint_config(path)
        algo = algorithm_class_for(config)(config)
        algo.restore(path)
        return algo

    def stop(self) -> None:
        """Close envs and end this algorithm's Ray actors (a Ray it started keeps running for
        the process; rlrun.cluster.shutdown_ray ends it)."""
        if self.episode_writer is not None:
            self.episode_writer.close()
        self.env_runner_group.stop()
        self.learner_group.stop()
        if self.evaluator is not None:
            self.evaluator.stop()

    @property
    def module_id(self) -> str:
        return DEFAULT_MODULE_ID


def _seed_everything(seed: int | None, torch_threads: int) -> None:
    torch.set_num_threads(torch_threads)
    if seed is not None:
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)
