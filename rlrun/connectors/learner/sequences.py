"""Cutting time-major [T, N] fragments into padded [B, L] sequences for recurrent modules.

Each sub-env's time line is cut where an episode starts (the row after a masked autoreset row:
the runner reset that sub-env's state there) and every `max_seq_len` rows after a cut, so no
sequence runs across an episode start. A sequence starts from the state the runner stored for
its first row; shorter sequences are zero-padded to `max_seq_len`, and their padding is False in
the mask. Sequences are ordered by sub-env, then time; `gather` and `scatter` move any [T, N]
column into that layout and back (values computed on sequences go back for GAE).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rlrun.core import tree


@dataclass
class SequenceIndex:
    t: np.ndarray  # [B, L] int64: the time row of each position (padding: the sequence's first)
    n: np.ndarray  # [B, L] int64: the sub-env column of each position
    valid: np.ndarray  # [B, L] bool: a real row (False: padding)

    @property
    def num_sequences(self) -> int:
        return int(self.t.shape[0])

    @property
    def starts(self) -> tuple[np.ndarray, np.ndarray]:
        """(t, n) of each sequence's first row, where its state_in comes from."""
        return self.t[:, 0], self.n[:, 0]


def sequence_index(mask: np.ndarray, max_seq_len: int) -> SequenceIndex:
    """Cut each column of a [T, N] fragment whose rows are marked by `mask` (False: autoreset
    row) into sequences of at most `max_seq_len` rows."""
    T, N = mask.shape
    L = int(max_seq_len)
    starts_t: list[np.ndarray] = []
    starts_n: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    for n in range(N):
        # Episode starts: row 0, and every row right after an autoreset row.
        cuts = np.concatenate([[0], np.flatnonzero(~mask[:-1, n]) + 1])
        ends = np.append(cuts[1:], T)
        for a, b in zip(cuts, ends, strict=True):
            s = np.arange(a, b, L)
            starts_t.append(s)
            starts_n.append(np.full(len(s), n))
            lengths.append(np.minimum(L, b - s))
    t0 = np.concatenate(starts_t).astype(np.int64)
    n0 = np.concatenate(starts_n).astype(np.int64)
    length = np.concatenate(lengths).astype(np.int64)
    offs = np.arange(L)
    valid = offs[None, :] < length[:, None]
    t = np.where(valid, t0[:, None] + offs[None, :], t0[:, None])
    return SequenceIndex(t=t, n=np.broadcast_to(n0[:, None], t.shape).copy(), valid=valid)


def gather(column: tree.Tree, idx: SequenceIndex) -> tree.Tree:
    """[T, N, ...] leaves -> [B, L, ...], zeros at padding."""

    def take(x: np.ndarray) -> np.ndarray:
        out = x[idx.t, idx.n]
        out[~idx.valid] = 0
        return out

    return tree.map_structure(take, column)


def gather_starts(column: tree.Tree, idx: SequenceIndex) -> tree.Tree:
    """[T, N, ...] leaves -> [B, ...]: the row each sequence starts at (its state_in)."""
    t, n = idx.starts
    return tree.map_structure(lambda x: x[t, n], column)


def scatter(values: np.ndarray, idx: SequenceIndex, shape: tuple[int, int]) -> np.ndarray:
    """[B, L, ...] -> [T, N, ...]: the inverse of `gather` on the real rows."""
    out = np.zeros((*shape, *values.shape[2:]), values.dtype)
    out[idx.t[idx.valid], idx.n[idx.valid]] = values[idx.valid]
    return out
