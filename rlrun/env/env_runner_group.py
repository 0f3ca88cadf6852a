"""EnvRunnerGroup: the set of runners an Algorithm samples from.

Today this is the local runner in the driver. Remote (Ray actor) runners plug in behind the same
four calls, so algorithms never learn where sampling happens.
"""

from __future__ import annotations

from typing import Any

import torch

from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.env_runner import EnvRunner
from rlrun.env.rollout import Rollout


class EnvRunnerGroup:
    def __init__(
        self,
        env_cfg: dict[str, Any],
        runner_cfg: dict[str, Any],
        module_spec: RLModuleSpec,
        seed: int | None,
    ) -> None:
        self.local_runner = EnvRunner(env_cfg, runner_cfg, module_spec, seed=seed)

    @property
    def runners(self) -> list[EnvRunner]:
        return [self.local_runner]

    def sample(self, num_steps_per_env: int) -> list[Rollout]:
        return [r.sample(num_steps_per_env) for r in self.runners]

    def sync_weights(self, weights: dict[str, torch.Tensor]) -> None:
        for r in self.runners:
            r.set_weights(weights)

    def get_metrics(self) -> dict[str, float]:
        return self.local_runner.get_metrics()

    def get_state(self) -> dict[str, Any]:
        return self.local_runner.get_state()

    def set_state(self, state: dict[str, Any]) -> None:
        for r in self.runners:
            r.set_state(state)

    @property
    def num_envs_total(self) -> int:
        return sum(r.num_envs for r in self.runners)

    def stop(self) -> None:
        for r in self.runners:
            r.stop()
