"""Sequence cutting and padding (rlrun.connectors.learner.sequences) against worked examples."""

from __future__ import annotations

import numpy as np

from rlrun.connectors.learner.sequences import gather, gather_starts, scatter, sequence_index

# T=7, N=2. Sub-env 0: an episode ends at row 2, row 3 is its autoreset row (mask False), a new
# episode starts at row 4. Sub-env 1: no episode end.
MASK = np.array(
    [[1, 1], [1, 1], [1, 1], [0, 1], [1, 1], [1, 1], [1, 1]],
    bool,
)


def test_cuts_at_episode_starts_and_every_max_seq_len_rows():
    idx = sequence_index(MASK, max_seq_len=3)
    # Sub-env 0: rows 0-3 (the episode and its autoreset row) -> [0,1,2], [3]; rows 4-6 -> [4,5,6].
    # Sub-env 1: rows 0-6 -> [0,1,2], [3,4,5], [6].
    assert idx.t.tolist() == [[0, 1, 2], [3, 3, 3], [4, 5, 6], [0, 1, 2], [3, 4, 5], [6, 6, 6]]
    assert idx.n.tolist() == [[0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 1, 1], [1, 1, 1], [1, 1, 1]]
    assert idx.valid.tolist() == [
        [True, True, True],
        [True, False, False],
        [True, True, True],
        [True, True, True],
        [True, True, True],
        [True, False, False],
    ]


def test_gather_pads_with_zeros_and_scatter_inverts_it():
    idx = sequence_index(MASK, max_seq_len=3)
    values = np.arange(14, dtype=np.float32).reshape(7, 2) + 1.0  # never zero
    seqs = gather(values, idx)
    assert seqs.shape == (6, 3)
    assert seqs[1].tolist() == [values[3, 0], 0.0, 0.0]
    assert seqs[5].tolist() == [values[6, 1], 0.0, 0.0]
    np.testing.assert_array_equal(scatter(seqs, idx, (7, 2)), values)


def test_tree_columns_and_trailing_dims():
    idx = sequence_index(MASK, max_seq_len=4)
    obs = {"img": np.ones((7, 2, 3, 3), np.uint8), "vec": np.ones((7, 2, 5), np.float32)}
    seqs = gather(obs, idx)
    assert seqs["img"].dtype == np.uint8 and seqs["img"].shape == (idx.num_sequences, 4, 3, 3)
    assert (seqs["vec"][~idx.valid] == 0).all() and (seqs["vec"][idx.valid] == 1).all()


def test_state_at_each_sequence_start():
    idx = sequence_index(MASK, max_seq_len=3)
    state = {"h": np.arange(14).reshape(7, 2)}  # the state the runner used at each row
    starts = gather_starts(state, idx)["h"]
    assert starts.tolist() == [0, 6, 8, 1, 7, 13]  # rows (0,0) (3,0) (4,0) (0,1) (3,1) (6,1)


def test_one_long_sequence_without_cuts():
    idx = sequence_index(np.ones((5, 1), bool), max_seq_len=10)
    assert idx.t.tolist() == [[0, 1, 2, 3, 4, 0, 0, 0, 0, 0]]
    assert idx.valid.sum() == 5
