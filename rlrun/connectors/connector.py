"""Connector pieces and the env-to-module pipeline: small transforms with one job each.

Observations are trees (rlrun/core/tree.py): an array [N, ...] for a Box/Discrete space, a dict
or tuple of them for Dict/Tuple spaces. Every piece, built-in or a user's, implements the
`Connector` interface below; docs/connectors.md is the user's side of it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from rlrun.core.tree import Tree

# The Dict observation key of a legal-action mask: pieces leave it as it is (never stacked,
# filtered or flattened) and keep it at the top level, where the model looks for it.
ACTION_MASK_KEY = "action_mask"


class Connector:
    """A piece of an env-to-module pipeline: an observation batch in, an observation batch out.

    The life of a piece: `Class(**kwargs)` from the YAML entry, then `setup(space,
    action_space)` once with the space of what it will receive, then one call per env step.
    Pieces with statistics (filters) expose them as a dict of numpy arrays so they can be saved
    in a checkpoint (safetensors, never pickle) and merged across remote runners. Per-episode
    state (frame history, previous actions) is not part of that state: environments restart
    from fresh episodes on resume, and such state is rebuilt at each episode start.
    """

    input_observation_space: gym.Space | None = None
    action_space: gym.Space | None = None

    def setup(self, input_observation_space: gym.Space, action_space: gym.Space | None) -> None:
        """Told the space this piece receives (the previous piece's output) and the env's action
        space, once, before the first call. Raise ValueError for a space the piece cannot take."""
        self.input_observation_space = input_observation_space
        self.action_space = action_space

    def observation_space(self, space: gym.Space) -> gym.Space:
        """The space of what this piece outputs, given the space of what it receives."""
        return space

    def __call__(
        self,
        obs: Tree,
        update: bool = True,
        starts: np.ndarray | None = None,
        actions: np.ndarray | None = None,
        rewards: np.ndarray | None = None,
    ) -> Tree:
        """Transform a batch of N observations (one per sub-env).

        update: whether statistics learn from this batch. starts: [N] bool, True where the
        observation begins an episode (reset per-episode state there first). actions, rewards:
        the module's actions and the rewards of the step that produced `obs`; None right after
        a reset.
        """
        raise NotImplementedError

    def get_state(self) -> dict[str, np.ndarray]:
        return {}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        pass

    def pop_delta(self) -> dict[str, np.ndarray]:
        """What this piece learned since the last pop (remote runners ship it to the driver)."""
        return {}

    def merge_delta(self, delta: dict[str, np.ndarray]) -> None:
        """Fold another runner's `pop_delta()` into this piece's state."""


class CompositeConnector(Connector):
    """Connectors holding others: their states, deltas and merges as one flat dict, each
    part's keys under its prefix (a pipeline's "0." per piece, a multi-agent run's "p0/" per
    module), so runner groups and checkpoints treat any composite as one connector."""

    def parts(self) -> list[tuple[str, Connector]]:
        """(key prefix, connector) of each part, in a fixed order."""
        raise NotImplementedError

    def get_state(self) -> dict[str, np.ndarray]:
        return {pre + k: v for pre, c in self.parts() for k, v in c.get_state().items()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        for pre, c in self.parts():
            c.set_state(_strip(state, pre))

    def pop_delta(self) -> dict[str, np.ndarray]:
        return {pre + k: v for pre, c in self.parts() for k, v in c.pop_delta().items()}

    def merge_delta(self, delta: dict[str, np.ndarray]) -> None:
        for pre, c in self.parts():
            part = _strip(delta, pre)
            if part:
                c.merge_delta(part)

    @property
    def stateful(self) -> bool:
        return bool(self.get_state())


def _strip(state: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


class ConnectorPipeline(CompositeConnector):
    """Pieces run in order; state keys are prefixed with the piece's index ("0.mean")."""

    def __init__(self, pieces: list[Connector]) -> None:
        self.pieces = pieces

    def parts(self) -> list[tuple[str, Connector]]:
        return [(f"{i}.", p) for i, p in enumerate(self.pieces)]

    def setup(self, input_observation_space: gym.Space, action_space: gym.Space | None) -> None:
        super().setup(input_observation_space, action_space)
        space = input_observation_space
        for p in self.pieces:
            p.setup(space, action_space)
            space = p.observation_space(space)

    def __call__(
        self,
        obs: Tree,
        update: bool = True,
        starts: np.ndarray | None = None,
        actions: np.ndarray | None = None,
        rewards: np.ndarray | None = None,
    ) -> Tree:
        for p in self.pieces:
            obs = p(obs, update=update, starts=starts, actions=actions, rewards=rewards)
        return obs

    def observation_space(self, space: gym.Space) -> gym.Space:
        for p in self.pieces:
            space = p.observation_space(space)
        return space


def build_env_to_module(
    observation_filter: str,
    entries: Sequence[Any],
    obs_space: gym.Space,
    action_space: gym.Space | None,
) -> ConnectorPipeline:
    """The env-to-module pipeline: the `connectors.env_to_module` `entries` in order, set up
    with the spaces; `observation_filter` (env_runner's) MeanStdFilter appends a filter at the
    end unless the list has one."""
    from rlrun.connectors.mean_std_filter import MeanStdFilter
    from rlrun.connectors.registry import build_pieces, piece_key
    from rlrun.errors import ConfigError

    built = build_pieces("env_to_module", list(entries))
    if observation_filter == "MeanStdFilter" and not any(
        isinstance(p, MeanStdFilter) for _, p in built
    ):
        built.append(("mean_std_filter", MeanStdFilter()))
    space = obs_space
    for i, (entry, piece) in enumerate(built):
        try:
            piece.setup(space, action_space)
            out = piece.observation_space(space)
        except (ValueError, TypeError) as e:
            raise ConfigError(
                piece_key("env_to_module", i),
                entry,
                f"cannot take the observation space {space}: {e}",
            ) from None
        space = out
    pipeline = ConnectorPipeline([p for _, p in built])
    # The pieces are set up already; only record the spaces on the pipeline itself.
    Connector.setup(pipeline, obs_space, action_space)
    return pipeline


# --- helpers the built-in pieces share -----------------------------------------------------


def is_action_mask(path: str) -> bool:
    """Whether a leaf path ("action_mask", "obs/action_mask") names an action mask."""
    return path.rsplit("/", 1)[-1] == ACTION_MASK_KEY


def map_space_with_paths(
    fn: Callable[[str, gym.Space], gym.Space], space: gym.Space, prefix: str = ""
) -> gym.Space:
    """fn(path, leaf space) on every leaf of a Dict/Tuple space; paths as in
    `rlrun.core.tree.flatten_with_paths`, key order kept (gym's Dict sorts a plain dict)."""
    if isinstance(space, gym.spaces.Dict):
        return gym.spaces.Dict(
            OrderedDict(
                (k, map_space_with_paths(fn, s, _join(prefix, k))) for k, s in space.spaces.items()
            )
        )
    if isinstance(space, gym.spaces.Tuple):
        return gym.spaces.Tuple(
            [map_space_with_paths(fn, s, _join(prefix, i)) for i, s in enumerate(space.spaces)]
        )
    return fn(prefix, space)


def space_leaves(space: gym.Space, prefix: str = "") -> list[tuple[str, gym.Space]]:
    """(path, leaf space) pairs in the order of `rlrun.core.tree.leaves`."""
    if isinstance(space, gym.spaces.Dict):
        return [p for k, s in space.spaces.items() for p in space_leaves(s, _join(prefix, k))]
    if isinstance(space, gym.spaces.Tuple):
        return [p for i, s in enumerate(space.spaces) for p in space_leaves(s, _join(prefix, i))]
    return [(prefix, space)]


def map_obs_with_paths(fn: Callable[[str, Any], Any], obs: Tree, prefix: str = "") -> Tree:
    """fn(path, leaf) on every leaf of an observation tree, same paths as the space's."""
    if isinstance(obs, dict):
        return {k: map_obs_with_paths(fn, v, _join(prefix, k)) for k, v in obs.items()}
    if isinstance(obs, tuple | list):
        return type(obs)(map_obs_with_paths(fn, v, _join(prefix, i)) for i, v in enumerate(obs))
    return fn(prefix, obs)


def episode_starts(starts: np.ndarray | None, n: int, fresh: bool) -> np.ndarray:
    """[n] bool: where per-episode state restarts. All sub-envs when the piece's per-sub-env
    state is fresh (first call, or the number of sub-envs changed); else `starts` (None: none)."""
    if fresh:
        return np.ones(n, bool)
    if starts is None:
        return np.zeros(n, bool)
    return np.asarray(starts, bool).reshape(n)


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}/{key}" if prefix else str(key)
