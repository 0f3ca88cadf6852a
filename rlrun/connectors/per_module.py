"""Env-to-module connectors of a multi-agent run: one pipeline per module.

Agents mapped to the same module share its pipeline (and so its filter statistics), as they
share its weights; RLlib keeps one observation filter per policy too. Observations arrive one
agent at a time (agents act at different steps), so `one()` filters a single observation.
Only pieces without per-episode state fit here (the observation filter): a frame stack or
previous actions would need a history per agent, which multi-agent runs do not keep (the
Algorithm refuses them with exit 2). State, deltas and merging follow the Connector interface,
keys prefixed by the module id ("p0/0.mean"; connector.CompositeConnector), so runner groups
and checkpoints handle it as they handle a single-agent pipeline.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlrun.connectors.connector import (
    CompositeConnector,
    Connector,
    ConnectorPipeline,
    build_env_to_module,
)
from rlrun.core import tree


class PerModuleConnectors(CompositeConnector):
    def __init__(self, pipelines: dict[str, ConnectorPipeline]) -> None:
        self.pipelines = pipelines

    def parts(self) -> list[tuple[str, Connector]]:
        return [(f"{m}/", p) for m, p in self.pipelines.items()]

    def one(self, module_id: str, obs: Any, update: bool) -> Any:
        """One agent's observation through its module's pipeline (unchanged if it is empty)."""
        pipe = self.pipelines[module_id]
        if not pipe.pieces:
            return obs
        batch = tree.map_structure(lambda x: np.asarray(x)[None], obs)
        return tree.index(pipe(batch, update=update), 0)


def build_per_module(observation_filter: str, module_spec: Any) -> PerModuleConnectors:
    """Each module's pipeline (`env_runner.observation_filter`) for a MultiRLModuleSpec, set
    up with the space the module sees."""
    return PerModuleConnectors(
        {
            m: build_env_to_module(observation_filter, [], s.observation_space, s.action_space)
            for m, s in module_spec.module_specs.items()
        }
    )
