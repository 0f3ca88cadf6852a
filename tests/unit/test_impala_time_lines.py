"""IMPALA's batch layout (rlrun.algorithms.impala.time_lines) and circular buffer."""

from __future__ import annotations

import numpy as np

from rlrun.algorithms.impala.circular_buffer import CircularBuffer
from rlrun.algorithms.impala.time_lines import time_lines
from rlrun.core import columns as C
from rlrun.env.rollout import Rollout

T, N = 5, 2


def fragment(stateful: bool = False) -> Rollout:
    """Sub-env 1's episode ends at row 1; row 2 is its autoreset row (mask False)."""
    obs = np.arange(T * N, dtype=np.float32).reshape(T, N, 1)  # obs[t, n] = 2t + n
    mask = np.ones((T, N), bool)
    mask[2, 1] = False
    term = np.zeros((T, N), bool)
    term[1, 1] = True
    data = {
        C.OBS: obs,
        C.ACTIONS: np.zeros((T, N), np.int64),
        C.REWARDS: np.ones((T, N), np.float32),
        C.TERMINATEDS: term,
        C.TRUNCATEDS: np.zeros((T, N), bool),
        C.MASK: mask,
        C.ACTION_DIST_INPUTS: np.zeros((T, N, 2), np.float32),
    }
    boot_state = None
    if stateful:
        data[C.STATE_IN] = {"h": 100.0 + obs}  # state at row t: 100 + its obs
        boot_state = {"h": np.array([[200.0], [201.0]], np.float32)}
    return Rollout(data, bootstrap_obs=np.array([[90.0], [91.0]], np.float32),
                   bootstrap_state=boot_state)  # fmt: skip


def test_feed_forward_lines_are_whole_columns_plus_the_bootstrap_row():
    ro = fragment()
    lines = time_lines(ro, ro.data, None)
    assert lines[C.OBS].shape == (N, T + 1, 1)
    np.testing.assert_array_equal(lines[C.OBS][1, :, 0], [1, 3, 5, 7, 9, 91])
    # The bootstrap row and the autoreset row do not count; V-trace cuts at the termination.
    np.testing.assert_array_equal(lines[C.MASK][1], [1, 1, 0, 1, 1, 0])
    np.testing.assert_array_equal(lines[C.TERMINATEDS][1], [0, 1, 0, 0, 0, 0])
    assert lines[C.STATE_IN] == {}


def test_recurrent_lines_are_sequences_each_followed_by_the_next_row():
    ro = fragment(stateful=True)
    lines = time_lines(ro, ro.data, max_seq_len=2)
    # Column 0: rows 0-1, 2-3, 4; column 1 (a new episode at row 3): 0-1, 2, 3-4.
    # Each sequence is followed by the observation after it; padding is zero and masked.
    obs = lines[C.OBS][..., 0]
    np.testing.assert_array_equal(obs[0], [0, 2, 4])
    np.testing.assert_array_equal(obs[2], [8, 90, 0])  # row 4, then the bootstrap obs
    np.testing.assert_array_equal(obs[4], [5, 7, 0])  # the autoreset row, then row 3's obs
    np.testing.assert_array_equal(lines[C.MASK][4], [0, 0, 0])
    np.testing.assert_array_equal(lines[C.MASK][5], [1, 1, 0])
    # state_in is the runner's state at each sequence's first row.
    np.testing.assert_array_equal(lines[C.STATE_IN]["h"][:, 0], 100 + obs[:, 0])
    assert lines[C.OBS].shape == (6, 3, 1)


def test_circular_buffer_trains_each_batch_in_up_to_k_updates_and_keeps_n():
    buf = CircularBuffer(num_batches=4, iterations_per_batch=2, seed=0)
    buf.add("a")
    assert buf.draw() == ["a"]
    buf.add("b")
    assert sorted(buf.draw()) == ["a", "b"]  # "a" used twice: gone
    buf.add("c")
    assert sorted(buf.draw()) == ["b", "c"]
    assert len(buf) == 1
    small = CircularBuffer(num_batches=2, iterations_per_batch=5, seed=0)
    for x in "abc":
        small.add(x)
    assert sorted(small.draw()) == ["b", "c"]  # the oldest went when the third came
