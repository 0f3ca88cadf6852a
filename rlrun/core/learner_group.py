"""LearnerGroup: the learner(s) an Algorithm updates.

`num_learners=0` keeps one learner in the driver. `N >= 1` runs N Ray actors
(rlrun.core.remote_learner); with N > 1 each gets an equal shard of the train batch and they
average gradients with torch.distributed, so together they take the step one learner would take
on the whole batch. Algorithms call the same four methods either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from rlrun.config.schema import LearnerConfig
from rlrun.config.sections import typed
from rlrun.core import tree
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.rollout import Rollout, shard_rollouts


class LearnerGroup:
    def __init__(
        self,
        learner_cls: Callable[..., Any],
        algo_cfg: Any,
        learner_cfg: LearnerConfig | Mapping[str, Any],
        module_spec: RLModuleSpec,
        seed: int | None = None,
        learner_pieces: Sequence[Any] = (),
    ) -> None:
        learner_cfg = typed(LearnerConfig, learner_cfg)
        self.num_learners = learner_cfg.num_learners
        self.local_learner: Any = None  # a Learner, or a MultiAgentLearner
        self.actors: list[Any] = []
        args = (algo_cfg, learner_cfg, module_spec, list(learner_pieces))
        if self.num_learners == 0:
            self.local_learner = learner_cls(*args)
        else:
            from rlrun.core.remote_learner import start_learner_actors

            self.actors = start_learner_actors(learner_cls, args, seed, self.num_learners)

    def update(
        self, rollouts: list[Rollout], env_steps_lifetime: int
    ) -> dict[str, dict[str, float]]:
        """One update from freshly sampled rollouts; metrics by module id."""
        if self.local_learner is not None:
            return self.local_learner.update_modules(rollouts, env_steps_lifetime)
        parts = [part for ro in rollouts for part in ro.module_parts()]
        shards = shard_rollouts(parts, len(self.actors))
        results = self._get(
            [
                a.update_modules.remote(s, env_steps_lifetime)
                for a, s in zip(self.actors, shards, strict=True)
            ]
        )
        # The learners all-reduced their metrics already: rank 0 speaks for all.
        return results[0]

    def update_from_replay(
        self, batches: dict[str, list[dict[str, np.ndarray]]], env_steps_lifetime: int
    ) -> tuple[dict[str, dict[str, float]], dict[str, list[np.ndarray | None]]]:
        """One gradient step per replayed batch, batches by module id; returns metrics and, per
        batch, the |TD errors| for its priorities, both by module id. Data-parallel learners
        each take an equal slice of every batch."""
        if self.local_learner is not None:
            return self.local_learner.update_from_replay_modules(batches, env_steps_lifetime)
        n = len(self.actors)
        slices: list[dict[str, list[dict[str, np.ndarray]]]] = [{} for _ in range(n)]
        for mid, mbatches in batches.items():
            for k, idx in enumerate(np.array_split(np.arange(len(mbatches[0]["indices"])), n)):
                slices[k][mid] = [
                    {key: tree.index(v, idx) for key, v in b.items()} for b in mbatches
                ]
        results = self._get(
            [
                a.update_from_replay_modules.remote(s, env_steps_lifetime)
                for a, s in zip(self.actors, slices, strict=True)
            ]
        )
        metrics = results[0][0]
        td_errors = {
            mid: [
                None if parts[0] is None else np.concatenate(parts)
                for parts in zip(*(tds[mid] for _, tds in results), strict=True)
            ]
            for mid in results[0][1]
        }
        return metrics, td_errors

    def set_module_weights(self, module_id: str, weights: dict[str, torch.Tensor]) -> None:
        """Load one module's weights (e.g. a pre-trained opponent, or self-play's copy)."""
        if self.local_learner is not None:
            self.local_learner.set_module_weights(module_id, weights)
            return
        self._get([a.set_module_weights.remote(module_id, weights) for a in self.actors])

    def get_weights(self, copy: bool = True) -> dict[str, torch.Tensor]:
        """The current weights; `copy=False` lets a local learner hand out its live tensors."""
        if self.local_learner is not None:
            return self.local_learner.get_weights(copy=copy)
        return self._get(self.actors[0].get_weights.remote())

    def get_state(self) -> dict[str, Any]:
        if self.local_learner is not None:
            return self.local_learner.get_state()
        return self._get(self.actors[0].get_state.remote())

    def set_state(self, state: dict[str, Any]) -> None:
        if self.local_learner is not None:
            self.local_learner.set_state(state)
            return
        import ray

        ref = ray.put(state)
        self._get([a.set_state.remote(ref) for a in self.actors])

    def stop(self) -> None:
        if self.actors:
            import ray

            for a in self.actors:
                ray.kill(a, no_restart=True)
            self.actors = []

    @staticmethod
    def _get(refs: Any) -> Any:
        import ray

        from rlrun.errors import TrainingFailed

        try:
            return ray.get(refs)
        except ray.exceptions.RayError as e:
            # Learners hold the only copy of the optimizer state: no restart, stop the run.
            lines = [ln for ln in str(e).strip().splitlines() if ln.strip()]
            raise TrainingFailed(
                f"a remote learner failed: {lines[-1] if lines else e}. The traceback is in the "
                "trial's error.txt; the last checkpoint is intact"
            ) from e
