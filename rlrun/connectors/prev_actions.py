"""The `prev_actions_prev_rewards` piece: the last n actions and rewards beside the observation."""

from __future__ import annotations

from collections import OrderedDict

import gymnasium as gym
import numpy as np

from rlrun.connectors.connector import ACTION_MASK_KEY, Connector, episode_starts
from rlrun.core import columns as C
from rlrun.core.tree import Tree, lead_size


class PrevActionsPrevRewards(Connector):
    """The observation becomes a Dict: {"obs": the original observation, "prev_n_actions":
    Box [n_prev_actions * A] float32, "prev_n_rewards": Box [n_prev_rewards] float32}.

    Actions are the module's (before clipping to the env's bounds): one-hot for Discrete
    (A = n) and MultiDiscrete (A = sum of nvec) action spaces, flattened for Box ones (A = the
    action size). Oldest first, newest last; zeros at an episode start. A key whose count is 0
    is left out. An action mask in a Dict observation moves to the top level of the new Dict,
    where the model looks for it. The history is per-episode state: not saved.
    """

    def __init__(self, n_prev_actions: int = 1, n_prev_rewards: int = 1) -> None:
        for name, v in (("n_prev_actions", n_prev_actions), ("n_prev_rewards", n_prev_rewards)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
        if n_prev_actions == 0 and n_prev_rewards == 0:
            raise ValueError("n_prev_actions and n_prev_rewards are both 0: nothing to add")
        self.n_prev_actions = n_prev_actions
        self.n_prev_rewards = n_prev_rewards
        self._width = 0  # A: the size of one encoded action
        self._actions: np.ndarray | None = None  # [N, n_prev_actions, A]
        self._rewards: np.ndarray | None = None  # [N, n_prev_rewards]

    def setup(self, input_observation_space: gym.Space, action_space: gym.Space | None) -> None:
        super().setup(input_observation_space, action_space)
        if self.n_prev_actions:
            self._width = _action_width(action_space)
        self._actions = self._rewards = None

    def observation_space(self, space: gym.Space) -> gym.Space:
        inner, mask = _split_mask(space)
        out: OrderedDict[str, gym.Space] = OrderedDict([(C.OBS, inner)])
        if mask is not None:
            out[ACTION_MASK_KEY] = mask
        if self.n_prev_actions:
            # One-hot actions lie in [0, 1]; Box actions are the module's unclipped samples.
            one_hot = isinstance(self.action_space, gym.spaces.Discrete | gym.spaces.MultiDiscrete)
            lo, hi = (0.0, 1.0) if one_hot else (-np.inf, np.inf)
            out[C.PREV_ACTIONS] = gym.spaces.Box(
                lo, hi, (self.n_prev_actions * self._width,), np.float32
            )
        if self.n_prev_rewards:
            out[C.PREV_REWARDS] = gym.spaces.Box(
                -np.inf, np.inf, (self.n_prev_rewards,), np.float32
            )
        return gym.spaces.Dict(out)

    def __call__(
        self,
        obs: Tree,
        update: bool = True,
        starts: np.ndarray | None = None,
        actions: np.ndarray | None = None,
        rewards: np.ndarray | None = None,
    ) -> Tree:
        n = lead_size(obs)
        fresh = self._actions is None or len(self._actions) != n
        if fresh:  # first call, or a new number of sub-envs: start over
            self._actions = np.zeros((n, self.n_prev_actions, self._width), np.float32)
            self._rewards = np.zeros((n, self.n_prev_rewards), np.float32)
        assert self._actions is not None and self._rewards is not None
        restart = episode_starts(starts, n, fresh)
        inner, mask = _split_mask(obs)
        out: dict[str, np.ndarray] = {C.OBS: inner}
        if mask is not None:
            out[ACTION_MASK_KEY] = mask
        if self.n_prev_actions:
            new = (
                np.zeros((n, self._width), np.float32)
                if actions is None
                else self._encode(actions, n)
            )
            out[C.PREV_ACTIONS] = _push(self._actions, new, restart).reshape(n, -1)
        if self.n_prev_rewards:
            new = np.zeros(n, np.float32) if rewards is None else np.asarray(rewards).reshape(n)
            out[C.PREV_REWARDS] = _push(self._rewards, new, restart)
        return out

    def _encode(self, actions: np.ndarray, n: int) -> np.ndarray:
        """[N, A] float32: one-hot for (Multi)Discrete actions, the flattened action for Box."""
        space = self.action_space
        a = np.asarray(actions)
        if isinstance(space, gym.spaces.Discrete):
            return np.eye(int(space.n), dtype=np.float32)[a.astype(np.int64).reshape(n)]
        if isinstance(space, gym.spaces.MultiDiscrete):
            idx = a.astype(np.int64).reshape(n, -1)
            parts = [
                np.eye(int(m), dtype=np.float32)[idx[:, j]]
                for j, m in enumerate(space.nvec.ravel())
            ]
            return np.concatenate(parts, axis=1)
        return a.reshape(n, -1).astype(np.float32)


def _push(history: np.ndarray, new: np.ndarray, restart: np.ndarray) -> np.ndarray:
    """Shift `new` into the history's last slot, zero the rows that restart; return a copy."""
    history[:, :-1] = history[:, 1:]
    history[:, -1] = new
    history[restart] = 0.0
    return history.copy()


def _split_mask(obs: Tree) -> tuple[Tree, Tree | None]:
    """(the observation without its action mask, the mask or None), for a space or a batch."""
    entries = obs.spaces if isinstance(obs, gym.spaces.Dict) else obs
    if not isinstance(entries, dict) or ACTION_MASK_KEY not in entries:
        return obs, None
    rest = OrderedDict((k, v) for k, v in entries.items() if k != ACTION_MASK_KEY)
    inner = gym.spaces.Dict(rest) if isinstance(obs, gym.spaces.Dict) else dict(rest)
    return inner, entries[ACTION_MASK_KEY]


def _action_width(space: gym.Space | None) -> int:
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return int(np.sum(space.nvec))
    if isinstance(space, gym.spaces.Box):
        return int(np.prod(space.shape))
    raise ValueError(
        f"previous actions need a Discrete, MultiDiscrete or Box action space, not {space}"
    )
