"""Agents' experience streams ("lanes") and how they become per-module Rollouts.

A lane is one agent slot of one sub-env: column `env_index * num_agents + agent_index`, the
same in every fragment, so a replay buffer keeps each lane's transitions in time order, as it
does a sub-env's in single-agent runs. A lane holds the rows of the module its agent maps to
in the current episode, in the single-agent layout:

- a row is added when the agent acts (its observation, action, distribution inputs, state);
- rewards that reach the agent before it acts again are added to its last row, including
  rewards for steps it did not act in (turn-based games);
- when the agent's episode ends, its last row gets the terminated/truncated flag, and a masked
  row follows holding the final observation: the next row's observation is always the one
  after the step, which is what GAE's and the replay buffer's bootstrap read (the same as the
  autoreset row of a NEXT_STEP vector env).

A row is *closed* once the observation after it is known (the agent's next observation, or
the episode's end). A fragment takes only closed rows; an open one (an agent that acted and
waits for its next turn) stays in the lane for the next fragment, so a reward that arrives
later still reaches its row. Lanes of unequal length are front-padded with masked rows, so
every lane's last row sits at T-1, where the bootstrap value joins it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.env.rollout import Rollout

# Row fields, by position (a row is a small list: appending one per step stays cheap).
OBS, ACTION, DIST, STATE, REWARD, TERM, TRUNC, MASK = range(8)


@dataclass
class Lane:
    column: int
    module_id: str | None = None
    rows: list[list[Any]] = field(default_factory=list)
    n_closed: int = 0  # rows[:n_closed] have their next observation
    pending_obs: Any = None  # the observation the agent acts on next (None: none yet)
    state: Any = None  # recurrent modules: the state the next act starts from ({k: [...]})
    acted: bool = False  # the agent acted in the current episode

    def close_rows(self) -> None:
        self.n_closed = len(self.rows)

    def end_episode(self, terminated: bool, final_obs: Any) -> None:
        """The agent's episode ended: flag its last row, append the masked final row."""
        if self.acted and self.rows:
            last = self.rows[-1]
            last[TERM], last[TRUNC] = terminated, not terminated
            self.rows.append(
                [final_obs, last[ACTION], np.zeros_like(last[DIST]), last[STATE],
                 0.0, False, False, False]
            )  # fmt: skip
        self.close_rows()
        self.pending_obs = None
        self.acted = False


@dataclass
class Segment:
    """Closed rows of one lane for one module, with what values their tail."""

    column: int
    rows: list[list[Any]]
    bootstrap_obs: Any
    bootstrap_state: Any


def take_closed(lane: Lane, initial_state: Any) -> Segment | None:
    """The lane's closed rows as a segment (removed from the lane); None if it has none."""
    if lane.n_closed == 0:
        return None
    rows, lane.rows = lane.rows[: lane.n_closed], lane.rows[lane.n_closed :]
    lane.n_closed = 0
    # The observation after the segment's last row: an open row's own (the agent acted on it
    # again), else the one it waits to act on, else (its episode ended) the final row's.
    if lane.rows:
        boot_obs = lane.rows[0][OBS]
    elif lane.pending_obs is not None:
        boot_obs = lane.pending_obs
    else:
        boot_obs = rows[-1][OBS]
    if initial_state is None:
        boot_state = None
    elif lane.rows:  # an open row stays: the state its act started from follows the segment
        boot_state = lane.rows[0][STATE]
    else:
        boot_state = lane.state if lane.state is not None else initial_state
    return Segment(lane.column, rows, boot_obs, boot_state)


def segments_to_rollouts(
    module_id: str, segments: list[Segment], obs_space: gym.Space, action_space: gym.Space
) -> list[Rollout]:
    """One Rollout per wave of segments whose columns differ (a lane that came back to the same
    module within a fragment gets a second wave, so no buffer column is written twice in one
    add)."""
    waves: list[list[Segment]] = []
    for seg in segments:
        for wave in waves:
            if all(s.column != seg.column for s in wave):
                wave.append(seg)
                break
        else:
            waves.append([seg])
    return [_to_rollout(module_id, w, obs_space, action_space) for w in waves]


def _to_rollout(
    module_id: str, segs: list[Segment], obs_space: gym.Space, action_space: gym.Space
) -> Rollout:
    T, L = max(len(s.rows) for s in segs), len(segs)
    dist_dim = np.shape(segs[0].rows[0][DIST])
    data: dict[str, Any] = {
        C.OBS: tree.alloc(obs_space, (T, L), fill=0),
        C.ACTIONS: tree.alloc(action_space, (T, L), fill=0),
        C.REWARDS: np.zeros((T, L), np.float32),
        C.TERMINATEDS: np.zeros((T, L), bool),
        C.TRUNCATEDS: np.zeros((T, L), bool),
        C.MASK: np.zeros((T, L), bool),
        C.ACTION_DIST_INPUTS: np.zeros((T, L, *dist_dim), np.float32),
    }
    stateful = segs[0].rows[0][STATE] is not None
    if stateful:
        data[C.STATE_IN] = {
            k: np.zeros((T, L, *v.shape), np.float32) for k, v in segs[0].rows[0][STATE].items()
        }
    boot_obs = tree.alloc(obs_space, (L,), fill=0)
    for col, seg in enumerate(segs):
        rows, start = seg.rows, T - len(seg.rows)
        at = (slice(start, None), col)
        tree.assign(data[C.OBS], at, tree.stack([r[OBS] for r in rows]))
        data[C.ACTIONS][at] = np.stack([r[ACTION] for r in rows])
        data[C.ACTION_DIST_INPUTS][at] = np.stack([r[DIST] for r in rows])
        for key, pos in ((C.REWARDS, REWARD), (C.TERMINATEDS, TERM), (C.TRUNCATEDS, TRUNC),
                         (C.MASK, MASK)):  # fmt: skip
            data[key][at] = [r[pos] for r in rows]
        if stateful:
            for k, arr in data[C.STATE_IN].items():
                arr[at] = torch.stack([r[STATE][k] for r in rows]).numpy()
        tree.assign(boot_obs, col, seg.bootstrap_obs)
    boot_state = None
    if stateful:
        boot_state = {
            k: torch.stack([s.bootstrap_state[k] for s in segs]).numpy() for k in data[C.STATE_IN]
        }
    return Rollout(
        data,
        bootstrap_obs=boot_obs,
        bootstrap_state=boot_state,
        module_id=module_id,
        columns=np.array([s.column for s in segs], np.int64),
    )
