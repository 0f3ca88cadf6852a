"""MultiAgentLearner: one Learner per module of a multi-agent run, behind the Learner's calls.

Each module gets a learner of the algorithm's own class, built from its own `algo` settings
(per-module overrides applied), so it keeps its own optimizer state, schedules, target networks
and adaptive coefficients, and `compute_loss_for_module(module_id, batch)` runs once per module
on that module's batch. Modules outside `policies_to_train` get a learner too (it holds their
weights, which checkpoints save and runners receive) that is never updated.

Why per-module learners rather than one learner over a MultiRLModule: the algorithms' learners
(PPO's KL coefficient, SAC's alpha and target networks, DQN's targets) keep per-module state
already, as single-module learners; composing them reuses every line of that code and its
tests. Data-parallel learners (`num_learners > 1`) all-reduce module by module in the same
order, so each module's step is the one a single learner would take.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rlrun.core.learner import Learner
from rlrun.core.multi_rl_module import MultiRLModuleSpec, prefixed, split_weights
from rlrun.env.rollout import Rollout

Metrics = dict[str, float]


class MultiAgentLearner:
    def __init__(
        self,
        learner_cls: type[Learner],
        algo_cfg: dict[str, Any],
        learner_cfg: dict[str, Any],
        module_spec: MultiRLModuleSpec,
    ) -> None:
        del algo_cfg  # each module's own settings are in module_spec.algo_configs
        self.learners: dict[str, Learner] = {}
        for mid, spec in module_spec.module_specs.items():
            learner = learner_cls(module_spec.algo_configs[mid], learner_cfg, spec)
            learner.module_id = mid
            self.learners[mid] = learner
        self.trainable = [m for m in module_spec.module_ids if m in set(module_spec.trainable)]
        self.device = next(iter(self.learners.values())).device

    # --- updates -----------------------------------------------------------------------------

    def update_modules(
        self, rollouts: list[Rollout], env_steps_lifetime: int
    ) -> dict[str, Metrics]:
        """Each trainable module learns from its own fragments; metrics by module id."""
        by_module: dict[str, list[Rollout]] = {}
        for ro in rollouts:
            for part in ro.module_parts():
                by_module.setdefault(part.module_id, []).append(part)
        return {
            mid: self.learners[mid].update(by_module[mid], env_steps_lifetime)
            for mid in self.trainable
            if mid in by_module
        }

    def update_from_replay_modules(
        self, batches: dict[str, list[dict[str, np.ndarray]]], env_steps_lifetime: int
    ) -> tuple[dict[str, Metrics], dict[str, list[np.ndarray | None]]]:
        """Replayed batches by module id -> (metrics, TD errors) by module id."""
        metrics, tds = {}, {}
        for mid in self.trainable:
            if batches.get(mid):
                learner: Any = self.learners[mid]
                metrics[mid], tds[mid] = learner.update_from_replay(
                    batches[mid], env_steps_lifetime
                )
        return metrics, tds

    def join_process_group(self, world_size: int) -> None:
        for learner in self.learners.values():
            learner.join_process_group(world_size)

    # --- weights and state -------------------------------------------------------------------

    def get_weights(self, copy: bool = True) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        for mid, learner in self.learners.items():
            out.update(prefixed(mid, learner.get_weights(copy=copy)))
        return out

    def set_weights(self, weights: dict[str, torch.Tensor]) -> None:
        for mid, part in split_weights(weights, list(self.learners)).items():
            if part:
                self.learners[mid].set_weights(part)

    def set_module_weights(self, module_id: str, weights: dict[str, torch.Tensor]) -> None:
        self.learners[module_id].set_weights(weights)

    def get_state(self) -> dict[str, Any]:
        states = {mid: learner.get_state() for mid, learner in self.learners.items()}
        first = next(iter(states.values()))["extra"]
        return {
            "module": {
                k: v for mid, s in states.items() for k, v in prefixed(mid, s["module"]).items()
            },
            "optimizer": {
                f"{mid}/{k}": v for mid, s in states.items() for k, v in s["optimizer"].items()
            },
            "extra": {
                "env_steps_lifetime": first["env_steps_lifetime"],
                "num_updates_lifetime": sum(
                    s["extra"]["num_updates_lifetime"] for s in states.values()
                ),
                "modules": {mid: s["extra"] for mid, s in states.items()},
            },
        }

    def set_state(self, state: dict[str, Any]) -> None:
        modules = split_weights(state["module"], list(self.learners))
        extras = state["extra"].get("modules", {})
        for mid, learner in self.learners.items():
            prefix = f"{mid}/"
            learner.set_state(
                {
                    "module": modules[mid],
                    "optimizer": {
                        k[len(prefix) :]: v
                        for k, v in state["optimizer"].items()
                        if k.startswith(prefix)
                    },
                    "extra": extras.get(mid, {}),
                }
            )
