"""The Algorithm's evaluation and inference: `evaluate` (fresh episodes with the current
weights, in a runner of its own) and `compute_single_action` (one observation, through the same
connectors and act step as sampling). A mixin of rlrun.algorithms.algorithm.Algorithm."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from rlrun.connectors.connector import build_env_to_module
from rlrun.core import tree
from rlrun.env.act_step import act, initial_state
from rlrun.env.env_runner import EnvRunner
from rlrun.env.runners import make_env_runner

if TYPE_CHECKING:
    from rlrun.algorithms.algorithm import Algorithm


class Inference:
    """What `Algorithm` answers with its current weights, outside training."""

    def evaluate(
        self: Algorithm,
        episodes: int = 10,
        explore: bool = False,
        render_mode: str | None = None,
        video_dir: str | None = None,
        seed: int | None = None,
        output: str | None = None,
        output_format: str = "json",
    ) -> dict[str, float]:
        """Run `episodes` fresh episodes with the current policy (deterministic unless `explore`);
        `output=DIR` also writes them as `output=` does in training (rlrun.offline.recording)."""
        env_cfg = dict(self.config["env"])
        if video_dir is not None:
            env_cfg["_video_dir"] = str(video_dir)
            render_mode = "rgb_array"
        one_env = render_mode is not None
        runner_cfg = dataclasses.replace(
            self.runner_config,
            explore=explore,
            vectorize_mode="sync",
            policy_mapping_fn=self.config["evaluation"]["policy_mapping_fn"]
            or self.runner_config.policy_mapping_fn,
        )
        seed = (self.seed or 0) + 1_000_003 if seed is None else seed
        runner = make_env_runner(
            env_cfg,
            runner_cfg,
            self.module_spec,
            seed=seed,
            num_envs=1 if one_env else min(episodes, 8),
            render_mode=render_mode,
            update_filters=False,
        )
        try:
            runner.sync(self._weights, self.env_runner_group.get_state()["connector"])
            if output:
                from rlrun.offline.recording import record_evaluation

                rets, lens = record_evaluation(self, runner, episodes, output, output_format, seed)
            else:
                rets, lens = runner.sample_episodes(episodes)
            # Multi-agent runners log each agent's and module's returns.
            logged = runner.metrics.reduce()
            per_key = {
                f"{group}/{key}": value
                for group in ("agent_episode_returns_mean", "module_episode_returns_mean")
                for key, value in (logged.get(group) or {}).items()
            }
        finally:
            runner.stop()
        r = np.asarray(rets)
        return {
            **dict(sorted(per_key.items())),
            "episode_return_mean": float(r.mean()),
            "episode_return_std": float(r.std()),
            "episode_return_min": float(r.min()),
            "episode_return_max": float(r.max()),
            "episode_len_mean": float(np.mean(lens)),
            "episodes": len(rets),
        }

    def compute_single_action(
        self: Algorithm,
        obs: Any,
        state: Any = None,
        explore: bool | None = None,
        episode_start: bool = True,
        prev_reward: float = 0.0,
        policy_id: str | None = None,
    ) -> Any:
        """The action for one observation, as the env takes it: sampled with `explore=True`,
        the deterministic one with False; None (RLlib's default) takes env_runner.explore.

        Goes through the same connectors and act step as sampling. A recurrent module takes
        and returns its state: `action, state = algo.compute_single_action(obs, state)`, with
        `state=None` at an episode's start. `episode_start=False` continues the connectors'
        per-episode history (stacked frames, previous actions) from the last call;
        `prev_reward` is the reward the last action earned, for `prev_actions_prev_rewards`.
        In a multi-agent run `policy_id` (RLlib's name) says which module acts for the agent.
        """
        if explore is None:
            explore = bool(self.config["env_runner"]["explore"])
        if self.is_multi_agent:
            return self._multi_agent_action(obs, state, explore, policy_id)
        runner = self.env_runner_group.local_runner
        connectors = self._single_action_connectors(runner)
        start = episode_start or (runner.stateful and state is None)
        state_in = None
        if runner.stateful:
            state_in = (
                initial_state(runner._initial_state, 1)
                if state is None
                else tree.map_structure(lambda x: torch.as_tensor(x)[None], state)
            )
        prev_action = self._single_action_prev
        x = connectors(
            tree.batch_of_one(runner.observation_space, obs),
            update=False,
            starts=np.array([start]),
            actions=None if start else prev_action,
            rewards=None if start else np.array([prev_reward], np.float32),
        )
        with torch.no_grad():
            module_obs = tree.as_batch(runner.module_observation_space, x)
            action, _, state_out, _ = act(runner.module, module_obs, state_in, explore)
        self._single_action_prev = action
        a = runner.module_to_env(action)[0]
        a = int(a) if np.ndim(a) == 0 else a
        if runner.stateful:
            return a, tree.map_structure(lambda x: x[0].clone(), state_out)
        return a

    def _single_action_connectors(self: Algorithm, runner: EnvRunner) -> Any:
        """A one-env copy of the driver's env-to-module pipeline: its own per-episode history
        (stacked frames, previous actions), the runner's filter statistics."""
        if self._single_connectors is None:
            self._single_connectors = build_env_to_module(
                self.runner_config.observation_filter,
                self.runner_config.connectors.env_to_module,
                runner.observation_space,
                runner.action_space,
            )
        self._single_connectors.set_state(runner.env_to_module.get_state())
        return self._single_connectors
