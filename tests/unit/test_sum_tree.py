"""SumTree: proportional sampling, last-write-wins updates and the edges of find_prefix, since
prioritized replay silently learns from the wrong data when any of them is off."""

from __future__ import annotations

import numpy as np
import pytest

from rlrun.replay.sum_tree import SumTree


def test_sampling_proportions_and_zero_priority_never_drawn() -> None:
    tree = SumTree(5)  # padded to 8 leaves inside
    tree.update(np.arange(5), np.array([1.0, 2.0, 3.0, 4.0, 0.0]))
    assert tree.total == pytest.approx(10.0)
    rng = np.random.default_rng(0)
    idx = tree.find_prefix(rng.random(200_000) * tree.total)
    freq = np.bincount(idx, minlength=5) / idx.size
    np.testing.assert_allclose(freq[:4], [0.1, 0.2, 0.3, 0.4], atol=0.01)
    assert freq[4] == 0.0


def test_find_prefix_edges() -> None:
    tree = SumTree(5)
    tree.update(np.arange(5), np.array([1.0, 2.0, 3.0, 4.0, 0.0]))
    eps = 1e-9
    got = tree.find_prefix(np.array([0.0, 1.0 - eps, 1.0, tree.total - eps, tree.total]))
    # v == total (round-off at the top) lands on the last non-zero leaf, never the empty one.
    np.testing.assert_array_equal(got, [0, 0, 1, 3, 3])
    # A zero leaf at the front is skipped even for v == 0.
    tree.update(np.array([0]), np.array([0.0]))
    np.testing.assert_array_equal(tree.find_prefix(np.array([0.0])), [1])


def test_update_with_duplicate_indices_last_write_wins() -> None:
    tree = SumTree(4)
    tree.update(np.array([0, 2, 0, 3, 0]), np.array([5.0, 1.0, 9.0, 2.0, 7.0]))
    np.testing.assert_array_equal(tree.leaves, [7.0, 0.0, 1.0, 2.0])
    assert tree.total == pytest.approx(10.0)
    assert tree.min == 1.0
    tree.update(np.array([2, 2]), np.array([3.0, 0.0]))
    assert tree.total == pytest.approx(9.0)
    assert tree.min == 2.0  # zero leaves don't count


def test_find_prefix_matches_cumsum_search() -> None:
    rng = np.random.default_rng(1)
    cap = 1000
    pri = rng.random(cap) * (rng.random(cap) > 0.3)  # ~30% zeros
    tree = SumTree(cap)
    tree.update(np.arange(cap), pri)
    assert tree.total == pytest.approx(pri.sum())
    assert tree.min == pytest.approx(pri[pri > 0].min())
    vals = rng.random(5000) * tree.total
    expected = np.searchsorted(np.cumsum(pri), vals, side="right")
    np.testing.assert_array_equal(tree.find_prefix(vals), expected)


def test_state_round_trip_and_bad_input() -> None:
    tree = SumTree(3)
    tree.update(np.array([0, 1, 2]), np.array([1.0, 0.5, 2.0]))
    other = SumTree(3)
    other.set_state(tree.get_state())
    assert other.total == tree.total and other.min == tree.min
    with pytest.raises(ValueError, match="shape"):
        SumTree(4).set_state(tree.get_state())
    with pytest.raises(ValueError):
        tree.update(np.array([0]), np.array([-1.0]))
    with pytest.raises(IndexError):
        tree.update(np.array([3]), np.array([1.0]))
    with pytest.raises(ValueError, match="all 0"):
        SumTree(2).find_prefix(np.array([0.0]))
