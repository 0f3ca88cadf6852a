"""Connector pieces and pipelines: small transforms with one job each, some with state."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class Connector:
    """A piece of an env-to-module pipeline: obs batch in, obs batch out.

    Pieces with state (filters) expose it as a dict of numpy arrays so it can be saved in a
    checkpoint (safetensors, never pickle) and merged across remote runners.
    """

    def __call__(self, obs: np.ndarray, update: bool = True) -> np.ndarray:
        raise NotImplementedError

    def observation_space(self, space: gym.Space) -> gym.Space:
        """The space of what this piece outputs, given the space of what it receives."""
        return space

    def get_state(self) -> dict[str, np.ndarray]:
        return {}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        pass

    def pop_delta(self) -> dict[str, np.ndarray]:
        """What this piece learned since the last pop (remote runners ship it to the driver)."""
        return {}

    def merge_delta(self, delta: dict[str, np.ndarray]) -> None:
        """Fold another runner's `pop_delta()` into this piece's state."""


class ConnectorPipeline(Connector):
    def __init__(self, pieces: list[Connector]) -> None:
        self.pieces = pieces

    def __call__(self, obs: np.ndarray, update: bool = True) -> np.ndarray:
        for p in self.pieces:
            obs = p(obs, update)
        return obs

    def observation_space(self, space: gym.Space) -> gym.Space:
        for p in self.pieces:
            space = p.observation_space(space)
        return space

    def get_state(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, p in enumerate(self.pieces) for k, v in p.get_state().items()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        for i, p in enumerate(self.pieces):
            prefix = f"{i}."
            p.set_state({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})

    def pop_delta(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, p in enumerate(self.pieces) for k, v in p.pop_delta().items()}

    def merge_delta(self, delta: dict[str, np.ndarray]) -> None:
        for i, p in enumerate(self.pieces):
            prefix = f"{i}."
            part = {k[len(prefix) :]: v for k, v in delta.items() if k.startswith(prefix)}
            if part:
                p.merge_delta(part)

    @property
    def stateful(self) -> bool:
        return bool(self.get_state())


def build_env_to_module(runner_cfg: dict[str, Any], obs_space: gym.Space) -> ConnectorPipeline:
    """The env-to-module pipeline: one-hot for Discrete observations, then the filter."""
    from rlrun.connectors.mean_std_filter import MeanStdFilter
    from rlrun.connectors.one_hot import OneHotObservations

    pieces: list[Connector] = []
    if isinstance(obs_space, gym.spaces.Discrete):
        pieces.append(OneHotObservations(int(obs_space.n), int(obs_space.start)))
    if runner_cfg.get("observation_filter", "NoFilter") == "MeanStdFilter":
        shape = ConnectorPipeline(pieces).observation_space(obs_space).shape
        pieces.append(MeanStdFilter(shape))
    return ConnectorPipeline(pieces)
