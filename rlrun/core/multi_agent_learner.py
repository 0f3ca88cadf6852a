"""MultiAgentLearner: one Learner per module of a multi-agent run, behind the Learner's calls.

Each module gets a learner of the algorithm's own class, built from its own `algo` settings
(per-module overrides applied), so it keeps its own optimizer state, schedules, target networks
and adaptive coefficients, and `compute_loss_for_module(module_id, batch)` runs once per module
on that module's batch. Modules outside `policies_to_train` are only held (their weights go to
runners and checkpoints): they get no optimizer, so a frozen module may be of any class, e.g.
rlrun.models.random_module:RandomModule, whatever the algorithm's learner expects.

Why per-module learners rather than one learner over a MultiRLModule: the algorithms' learners
(PPO's KL coefficient, SAC's alpha and target networks, DQN's targets) keep per-module state
already, as single-module learners; composing them reuses every line of that code and its
tests. Data-parallel learners (`num_learners > 1`) all-reduce module by module in the same
order, so each module's step is the one a single learner would take.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from rlrun.config.schema import LearnerConfig
from rlrun.config.sections import typed
from rlrun.core.learner import Learner
from rlrun.core.multi_rl_module import MultiRLModuleSpec, PrebuiltSpec, prefixed, split_weights
from rlrun.core.rl_module import RLModule
from rlrun.env.rollout import Rollout

Metrics = dict[str, float]


class MultiAgentLearner:
    def __init__(
        self,
        learner_cls: type[Learner],
        algo_cfg: Any,
        learner_cfg: LearnerConfig | Mapping[str, Any],
        module_spec: MultiRLModuleSpec,
        learner_pieces: Sequence[Any] = (),
    ) -> None:
        del algo_cfg  # each module's own settings are in module_spec.algo_configs
        learner_cfg = typed(LearnerConfig, learner_cfg)
        self.device = Learner._pick_device(learner_cfg)
        self.module_ids = module_spec.module_ids
        self.trainable = [m for m in self.module_ids if m in set(module_spec.trainable)]
        # Built together, so a MultiRLModule subclass can wire modules to share layers.
        multi = module_spec.build()
        self.learners: dict[str, Learner] = {}
        for mid in self.trainable:
            spec: Any = PrebuiltSpec(module_spec.module_specs[mid], multi[mid])
            learner = learner_cls(module_spec.algo_configs[mid], learner_cfg, spec, learner_pieces)
            learner.module_id = mid
            self.learners[mid] = learner
        self.frozen: dict[str, RLModule] = {
            mid: multi[mid].to(self.device) for mid in self.module_ids if mid not in self.learners
        }
        for module in self.frozen.values():
            module.requires_grad_(False)

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

    def _module_weights(self, module_id: str, copy: bool) -> dict[str, torch.Tensor]:
        if module_id in self.learners:
            return self.learners[module_id].get_weights(copy=copy)
        state = self.frozen[module_id].state_dict()
        return {k: v.detach().clone() if copy else v.detach() for k, v in state.items()}

    def get_weights(self, copy: bool = True) -> dict[str, torch.Tensor]:
        """Every module's tensors, in the MultiRLModule's names ("<module_id>.<name>")."""
        out: dict[str, torch.Tensor] = {}
        for mid in self.module_ids:
            out.update(prefixed(mid, self._module_weights(mid, copy)))
        return out

    def set_weights(self, weights: dict[str, torch.Tensor]) -> None:
        for mid, part in split_weights(weights, self.module_ids).items():
            if part:
                self.set_module_weights(mid, part)

    def set_module_weights(self, module_id: str, weights: dict[str, torch.Tensor]) -> None:
        if module_id in self.learners:
            self.learners[module_id].set_weights(weights)
        else:
            self.frozen[module_id].load_state_dict(weights)

    def get_state(self) -> dict[str, Any]:
        states = {mid: learner.get_state() for mid, learner in self.learners.items()}
        extras = [s["extra"] for s in states.values()]
        return {
            "module": self.get_weights(),
            "optimizer": {
                f"{mid}/{k}": v for mid, s in states.items() for k, v in s["optimizer"].items()
            },
            "extra": {
                "env_steps_lifetime": max((e["env_steps_lifetime"] for e in extras), default=0),
                "num_updates_lifetime": sum(e["num_updates_lifetime"] for e in extras),
                "modules": {mid: s["extra"] for mid, s in states.items()},
            },
        }

    def set_state(self, state: dict[str, Any]) -> None:
        modules = split_weights(state["module"], self.module_ids)
        for mid, module in self.frozen.items():
            module.load_state_dict(modules[mid])
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
