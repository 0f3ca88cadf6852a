"""The Algorithm's modules by id: a single-agent run is the one-module case of a multi-agent
one (docs/multi_agent.md). A mixin of Algorithm, so algorithm.py keeps to building, training and
saving: the module specs and settings per id, building a multi-agent run's specs, acting for one
agent, copying weights between modules (self-play) and loading one from another run."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from rlrun.config.sections import algo_section
from rlrun.core import tree
from rlrun.core.columns import DEFAULT_MODULE_ID
from rlrun.core.multi_rl_module import MultiRLModuleSpec
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.act_step import act, initial_state
from rlrun.env.rollout import Rollout


class ModulesById:
    """Needs from the Algorithm: `config`, `module_spec`, `learner_group`, `_weights`,
    `runner_config`, `_single_modules`, `_single_module_spec`, `module_model_config`."""

    config: dict[str, Any]
    algo_config: Any  # the algorithm's schema dataclass
    module_spec: Any
    learner_group: Any
    runner_config: Any  # rlrun.env.runner_config.RunnerConfig
    _possible_agents: list[Any]
    _env_obs_space: Any
    _single_modules: dict[str, tuple[Any, Any]]
    _single_connectors: Any

    @property
    def is_multi_agent(self) -> bool:
        return isinstance(self.module_spec, MultiRLModuleSpec)

    @property
    def module_specs(self) -> dict[str, RLModuleSpec]:
        if isinstance(self.module_spec, MultiRLModuleSpec):
            return self.module_spec.module_specs
        return {DEFAULT_MODULE_ID: self.module_spec}

    @functools.cached_property
    def algo_configs(self) -> dict[str, Any]:
        """Each module's algorithm settings (per-module overrides applied), typed by the
        algorithm's schema; the spec keeps them as plain (JSON-able) dicts."""
        if isinstance(self.module_spec, MultiRLModuleSpec):
            return {mid: algo_section(c) for mid, c in self.module_spec.algo_configs.items()}
        return {DEFAULT_MODULE_ID: self.algo_config}

    @property
    def trainable_module_ids(self) -> list[str]:
        if isinstance(self.module_spec, MultiRLModuleSpec):
            return list(self.module_spec.trainable)
        return [DEFAULT_MODULE_ID]

    @property
    def streams_per_env(self) -> int:
        """Experience streams per sub-env: one, or one per possible agent."""
        return len(self._possible_agents) if self.is_multi_agent else 1

    def count_steps(self, rollouts: list[Rollout]) -> int:
        """What `train_batch_size` and stop.timesteps count: env steps, or with
        multi_agent.count_steps_by=agent_steps, the steps of all agents."""
        if self.is_multi_agent and self.config["multi_agent"]["count_steps_by"] == "agent_steps":
            return sum(sum(ro.agent_steps.values()) for ro in rollouts)
        return sum(ro.env_steps for ro in rollouts)

    def get_module(self, module_id: str = DEFAULT_MODULE_ID) -> Any:
        """A module with the current weights (RLlib's Algorithm.get_module), for inference."""
        from rlrun.core.multi_rl_module import split_weights

        spec = self.module_specs[module_id]
        module = spec.build()
        weights = self._weights
        if self.is_multi_agent:
            weights = split_weights(weights, list(self.module_specs))[module_id]
        module.load_state_dict(weights)
        module.eval()
        return module

    def copy_module_weights(self, source: str, target: str) -> None:
        """Give module `target` the current weights of `source` (self-play's snapshot of the
        learning module into its frozen opponent), in the learners and every env runner."""
        from rlrun.core.multi_rl_module import split_weights

        weights = split_weights(self.learner_group.get_weights(), list(self.module_specs))
        self.learner_group.set_module_weights(target, weights[source])
        self.sync_weights()

    def _load_module_checkpoints(self) -> None:
        """Start modules from another run's weights: `algo.model.load_state_path` (RLlib's
        RLModuleSpec name; per module through multi_agent.policies.<id>.model), or
        multi_agent.policies.<id>.checkpoint (a pre-trained opponent or partner; frozen unless
        it is in policies_to_train)."""
        from rlrun.results.checkpoint import load_module_weights

        sources: dict[str, tuple[str, str]] = {}
        for mid, cfg in self.algo_configs.items():
            if cfg.model.load_state_path:
                where = (
                    "algo.model" if not self.is_multi_agent else f"multi_agent.policies.{mid}.model"
                )
                sources[mid] = (cfg.model.load_state_path, f"{where}.load_state_path")
        if self.is_multi_agent:
            from rlrun.algorithms.multi_agent import policies_of

            for mid, settings in policies_of(self.config["multi_agent"]).items():
                if settings.get("checkpoint"):
                    sources[mid] = (
                        settings["checkpoint"],
                        f"multi_agent.policies.{mid}.checkpoint",
                    )
        for mid, (path, key) in sources.items():
            weights = load_module_weights(path, self.module_specs[mid], key, mid)
            self.learner_group.set_module_weights(mid, weights)

    def _multi_agent_spec(self) -> MultiRLModuleSpec:
        """A multi-agent env: one spec per module in `multi_agent.policies` (docs/multi_agent.md)."""
        from rlrun.algorithms.multi_agent import build_spec
        from rlrun.env.multi_agent.env import agent_spaces, make_multi_agent_env
        from rlrun.errors import ConfigError

        pieces = self.runner_config.connectors.env_to_module
        if pieces:
            why = (
                "is single-agent only for now: pieces with per-episode state (frame stacks, "
                "previous actions) would need a history per agent; a multi-agent run takes "
                "env_runner.observation_filter=MeanStdFilter (one filter per module) and a "
                "module may preprocess observations itself (docs/multi_agent.md)"
            )
            raise ConfigError("connectors.env_to_module", pieces, why)
        if self.config.get("callbacks"):
            from rlrun.callbacks.hooks import CallbackList

            if CallbackList(self.config["callbacks"], "the driver").has_episode_hooks:
                raise ConfigError(
                    "callbacks", self.config["callbacks"], "episode hooks (on_episode_start, "
                    "on_episode_step, on_episode_end) are single-agent only for now; driver "
                    "hooks (on_train_result, on_algorithm_init, ...) work in multi-agent runs",
                )  # fmt: skip
        probe = make_multi_agent_env(self.config["env"])
        try:
            obs_spaces, act_spaces = agent_spaces(probe)
            self._possible_agents = list(probe.possible_agents)
        finally:
            probe.close()
        self._env_obs_space = None
        return build_spec(
            self.config,
            obs_spaces,
            act_spaces,
            lambda o, a, algo_cfg: self._single_module_spec(
                o, a, self.module_model_config(algo_section(algo_cfg))
            ),
        )

    def _multi_agent_filter(self, module_id: str) -> Any:
        """The module's env-to-module pipeline with the runner group's current statistics."""
        from rlrun.connectors.per_module import build_per_module

        if self._single_connectors is None:
            self._single_connectors = build_per_module(
                self.runner_config.observation_filter, self.module_spec
            )
        self._single_connectors.set_state(self.env_runner_group.get_state()["connector"])
        return self._single_connectors.pipelines[module_id]

    def _multi_agent_action(
        self, obs: Any, state: Any, explore: bool, policy_id: str | None
    ) -> Any:
        """compute_single_action for one agent of a multi-agent run: its module's observation
        filter (the runners' statistics, not updated) and act step."""
        from rlrun.connectors.module_to_env import build_module_to_env

        if policy_id is None and len(self.module_specs) == 1:
            policy_id = next(iter(self.module_specs))
        if policy_id not in self.module_specs:
            raise ValueError(
                f"a multi-agent run has several modules: name the one that acts with "
                f"policy_id= (one of {', '.join(self.module_specs)}), got {policy_id!r}"
            )
        # One module per id, rebuilt only when the weights changed since.
        weights = self._weights
        cached = self._single_modules.get(policy_id)
        if cached is None or cached[0] is not weights:
            cached = (weights, self.get_module(policy_id))
            self._single_modules[policy_id] = cached
        module = cached[1]
        stateful = module.is_stateful
        state_in = None
        if stateful:
            state_in = (
                initial_state(module.get_initial_state(), 1)
                if state is None
                else tree.map_structure(lambda x: torch.as_tensor(x)[None], state)
            )
        with torch.no_grad():
            batch = tree.as_batch(
                module.observation_space, tree.batch_of_one(module.observation_space, obs)
            )
            batch = self._multi_agent_filter(policy_id)(batch, update=False)
            action, _, state_out, _ = act(module, batch, state_in, explore)
        to_env = build_module_to_env(module.action_space, module.action_dist_cls)
        a = to_env(action)[0]
        a = int(a) if np.ndim(a) == 0 else a
        if stateful:
            return a, tree.map_structure(lambda x: x[0].clone(), state_out)
        return a
