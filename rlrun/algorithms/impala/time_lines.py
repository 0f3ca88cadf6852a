"""IMPALA's learner connector: time-major Rollouts -> time lines [B, L+1] for V-trace.

V-trace needs the current policy, so it runs inside the loss; this only lays the data out
with its time axis kept. Each sub-env's fragment becomes one time line (feed-forward modules)
or, for recurrent modules, the `max_seq_len` sequences of rlrun.connectors.learner.sequences
(cut where an episode starts, with `state_in` at each start). Every line gets one more row
after its last: the observation that follows it (the next row's, or the Rollout's
bootstrap observation), so the loss values the bootstrap with the same forward pass, a
recurrent module from the state the line ends in. That row and the padding after it are False
in `mask`, as autoreset rows are. Feed-forward lines carry an empty `state_in` ({}: the
stateless case), which tells the learner to shuffle whole lines.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rlrun.connectors.learner import sequences as S
from rlrun.connectors.learner.pipeline import RolloutPipeline
from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.core.rl_module import RLModule
from rlrun.env.rollout import Rollout

TensorDict = dict[str, Any]

_KEPT = (C.OBS, C.ACTIONS, C.REWARDS, C.TERMINATEDS, C.TRUNCATEDS, C.MASK, C.ACTION_DIST_INPUTS)


class TimeLinePipeline(RolloutPipeline):
    """Fragments as time lines (rlrun.connectors.learner.pipeline.RolloutPipeline does the
    rest): whole sub-env columns, or `max_seq_len` sequences for recurrent modules."""

    def layout(
        self, module: RLModule, ro: Rollout, data: dict[str, Any], device: torch.device
    ) -> TensorDict:
        return time_lines(ro, data, self.max_seq_len if module.is_stateful else None)

    def combine(self, parts: list[TensorDict]) -> TensorDict:
        return tree.concat(_same_length(parts))


def time_lines(ro: Rollout, data: dict[str, Any], max_seq_len: int | None) -> TensorDict:
    """One fragment's columns as lines [B, L+1]: whole sub-env columns (`max_seq_len` None) or
    recurrent sequences; each line followed by the row after it, masked."""
    T, N = ro.num_steps, ro.num_envs
    if max_seq_len is None:
        t = np.broadcast_to(np.arange(T)[None], (N, T))
        n = np.broadcast_to(np.arange(N)[:, None], (N, T))
        idx = S.SequenceIndex(t=t, n=n, valid=np.ones((N, T), bool))
    else:
        idx = S.sequence_index(data[C.MASK], max_seq_len)
    length = idx.valid.sum(1)
    t0, n0 = idx.starts
    offs = np.arange(idx.t.shape[1] + 1)
    valid = offs[None] <= length[:, None]  # the line's rows and the one after
    ext = S.SequenceIndex(
        t=np.where(valid, t0[:, None] + offs[None], t0[:, None]),
        n=np.broadcast_to(n0[:, None], valid.shape).copy(),
        valid=valid,
    )
    # Row T of every column is what follows the fragment: the bootstrap observation (and state).
    cols = {k: _with_row(data[k], None) for k in _KEPT}
    cols[C.OBS] = _with_row(data[C.OBS], ro.bootstrap_obs)
    out = {k: S.gather(v, ext) for k, v in cols.items()}
    out[C.MASK] = out[C.MASK] & (offs[None] < length[:, None])
    if max_seq_len is None:
        out[C.STATE_IN] = {}
    else:
        state = _with_row(data[C.STATE_IN], ro.bootstrap_state)
        out[C.STATE_IN] = tree.map_structure(lambda x: x[t0, n0], state)
    return out


def _with_row(column: Any, row: Any) -> Any:
    """[T, N, ...] leaves -> [T+1, N, ...]: `row` ([N, ...]) appended, or zeros."""

    def add(x: np.ndarray, r: Any = None) -> np.ndarray:
        last = np.zeros_like(x[:1]) if r is None else np.asarray(r, x.dtype)[None]
        return np.concatenate([x, last], axis=0)

    if row is None:
        return tree.map_structure(add, column)
    return tree.map_structure(add, column, row)


def _same_length(parts: list[TensorDict]) -> list[TensorDict]:
    """Pad every part's lines to the longest (fragments of different lengths), masked."""
    width = max(tree.first_leaf(p[C.OBS]).shape[1] for p in parts)

    def pad(x: np.ndarray) -> np.ndarray:
        if x.shape[1] == width:
            return x
        extra = np.zeros((x.shape[0], width - x.shape[1], *x.shape[2:]), x.dtype)
        return np.concatenate([x, extra], axis=1)

    out = []
    for p in parts:
        state = p[C.STATE_IN]
        padded = {k: tree.map_structure(pad, v) for k, v in p.items() if k != C.STATE_IN}
        padded[C.STATE_IN] = state
        out.append(padded)
    return out
