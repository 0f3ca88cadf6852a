"""ReplayBuffer: n-step targets across episode ends, fragments and restarts, the ring's
wrap-around, prioritized weights and checkpoint round trips, on hand-built Rollouts.

Observations are 1-D with one number that names the row, so a test can read off which
observation a target bootstraps from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rlrun.core import columns as C
from rlrun.env.rollout import Rollout
from rlrun.replay.buffer import ReplayBuffer

GAMMA, N_STEP = 0.9, 3


def make_rollout(
    obs: list[float],
    rewards: list[float],
    bootstrap: float,
    term: list[int] | None = None,
    trunc: list[int] | None = None,
    valid: list[int] | None = None,
) -> Rollout:
    """A one-sub-env rollout (N=1); action = 10 * obs so actions are checkable too."""
    t = len(obs)
    col = np.asarray(obs, np.float32).reshape(t, 1, 1)
    data = {
        C.OBS: col,
        C.ACTIONS: (10 * col[..., 0]).astype(np.int64),
        C.REWARDS: np.asarray(rewards, np.float32).reshape(t, 1),
        C.TERMINATEDS: np.asarray(term or [0] * t, bool).reshape(t, 1),
        C.TRUNCATEDS: np.asarray(trunc or [0] * t, bool).reshape(t, 1),
        C.VALID: np.asarray(valid or [1] * t, bool).reshape(t, 1),
    }
    return Rollout(data, bootstrap_obs=np.array([[bootstrap]], np.float32))


def make_buffer(capacity: int = 16, num_columns: int = 1, **kw: Any) -> ReplayBuffer:
    return ReplayBuffer(capacity, num_columns, (1,), np.float32, (), np.int64, seed=0, **kw)


def targets_by_obs(
    buf: ReplayBuffer, batch: int = 512
) -> dict[float, tuple[float, float, bool, float]]:
    """Every stored transition's n-step target, keyed by its obs (a big batch hits them all)."""
    s = buf.sample(batch, N_STEP, GAMMA)
    assert np.all(s["actions"] == (10 * s["obs"][:, 0]).astype(np.int64))
    out = {}
    for i in range(batch):
        out[float(s["obs"][i, 0])] = (
            round(float(s["rewards"][i]), 4),
            float(s["next_obs"][i, 0]),
            bool(s["terminateds"][i]),
            round(float(s["discounts"][i]), 4),
        )
    return out


def test_n_step_across_terminal_truncation_autoreset_and_fragments() -> None:
    buf = make_buffer()
    # Fragment 1 (gamma 0.9, n 3). Rows: obs, reward, flags:
    #   0: obs 0,  r 1                  -> stored, next_obs 1
    #   1: obs 1,  r 2, terminated      -> stored, next_obs 11 (the final obs, from row 2)
    #   2: obs 11, r 100, VALID=False   -> autoreset row: dropped, its reward never counted
    #   3: obs 20, r 3                  -> stored, next_obs 21
    #   4: obs 21, r 4, truncated       -> stored, next_obs 22
    #   5: obs 22, r 100, VALID=False   -> dropped
    #   6: obs 30, r 5                  -> stored, next_obs 31 (bootstrap_obs), the newest
    ro1 = make_rollout(
        [0, 1, 11, 20, 21, 22, 30],
        [1, 2, 100, 3, 4, 100, 5],
        bootstrap=31,
        term=[0, 1, 0, 0, 0, 0, 0],
        trunc=[0, 0, 0, 0, 1, 0, 0],
        valid=[1, 1, 0, 1, 1, 0, 1],
    )
    assert buf.add(ro1) == 5 and len(buf) == 5
    # Targets (G, next_obs, terminated, discount = 0.9 ** steps used):
    #   obs 0:  1 + .9*2 = 2.8, stops at the termination: next 11, terminated, .81
    #   obs 1:  2,              next 11, terminated, .9
    #   obs 20: 3 + .9*4 = 6.6, stops at the truncation: bootstrap from 22, .81
    #   obs 21: 4,              next 22, not terminated, .9
    #   obs 30: 5,              the newest (next data not here yet): next 31, .9
    assert targets_by_obs(buf) == {
        0.0: (2.8, 11.0, True, 0.81),
        1.0: (2.0, 11.0, True, 0.9),
        20.0: (6.6, 22.0, False, 0.81),
        21.0: (4.0, 22.0, False, 0.9),
        30.0: (5.0, 31.0, False, 0.9),
    }
    # Fragment 2 continues the episode of obs 30: obs 31 r 6, obs 32 r 7, obs 33 r 8 terminated
    # (next_obs 40 = bootstrap_obs). The window from obs 30 now runs into this fragment:
    #   obs 30: 5 + .9*6 + .81*7 = 16.07, next 33, .729 (full n steps)
    #   obs 31: 6 + .9*7 + .81*8 = 18.78, terminates on step 3: next 40, terminated, .729
    #   obs 32: 7 + .9*8 = 14.2,           next 40, terminated, .81
    #   obs 33: 8,                         next 40, terminated, .9
    assert buf.add(make_rollout([31, 32, 33], [6, 7, 8], bootstrap=40, term=[0, 0, 1])) == 3
    got = targets_by_obs(buf)
    assert got[30.0] == (16.07, 33.0, False, 0.729)
    assert got[31.0] == (18.78, 40.0, True, 0.729)
    assert got[32.0] == (14.2, 40.0, True, 0.81)
    assert got[33.0] == (8.0, 40.0, True, 0.9)
    assert got[0.0] == (2.8, 11.0, True, 0.81)  # unchanged


def test_fresh_cuts_the_window_and_columns_stay_apart() -> None:
    # Two columns: column 1 gets the same stream twice, once as a continuation and once fresh.
    def both(obs: list[float], rewards: list[float], bootstrap: float) -> Rollout:
        one = make_rollout(obs, rewards, bootstrap)
        data = {k: np.concatenate([v, v], axis=1) for k, v in one.data.items()}
        return Rollout(data, bootstrap_obs=np.concatenate([one.bootstrap_obs] * 2))

    cont, cut = make_buffer(16, 2), make_buffer(16, 2)
    for buf in (cont, cut):
        buf.add(both([0, 1], [1, 2], bootstrap=2))
    cont.add(both([2, 3], [3, 4], bootstrap=4))
    # The restarted runner's stream: column 0 untouched, column 1 via column_offset.
    assert cut.add(make_rollout([50, 51], [10, 20], bootstrap=52), column_offset=1, fresh=True) == 2
    # Continuation: obs 0: 1 + .9*2 + .81*3 = 5.23, next 3.
    assert targets_by_obs(cont)[0.0] == (5.23, 3.0, False, 0.729)
    # Fresh: the old stream's newest (obs 1) is now truncated and bootstraps from its own next
    # obs 2; column 0 (no fresh data) still ends at its newest (obs 1, next 2).
    s = cut.sample(512, N_STEP, GAMMA)
    cols = s["indices"] // cut.slots_per_column
    for i in range(512):
        o, g, nxt = s["obs"][i, 0], s["rewards"][i], s["next_obs"][i, 0]
        if o == 0:
            assert (round(float(g), 4), nxt, s["discounts"][i]) == (2.8, 2.0, pytest.approx(0.81))
        elif o == 1:
            assert (g, nxt) == (2.0, 2.0)
        elif o == 50:
            assert cols[i] == 1 and (round(float(g), 4), nxt) == (28.0, 52.0)
    assert not s["terminateds"].any()
    assert set(s["obs"][cols == 0, 0]) == {0.0, 1.0}


def test_ring_wraps_and_never_reads_across_the_write_head() -> None:
    buf = make_buffer(capacity=4)
    # 6 rows into 4 slots: obs 0 and 1 are overwritten; slots hold [4, 5, 2, 3], head at 2.
    assert buf.add(make_rollout([0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6], bootstrap=6)) == 6
    assert len(buf) == 4 and buf.capacity == 4
    assert buf.get_state()["obs"][0, :, 0].tolist() == [4, 5, 2, 3]
    # obs 2: 3 + .9*4 + .81*5 = 10.65 (slots 2, 3, 0), next 5
    # obs 3: 4 + .9*5 + .81*6 = 13.36 (slots 3, 0, 1), next 6
    # obs 4: 5 + .9*6 = 10.4, stops at the newest (slot 1) instead of wrapping to obs 2
    # obs 5: 6, the newest
    assert targets_by_obs(buf) == {
        2.0: (10.65, 5.0, False, 0.729),
        3.0: (13.36, 6.0, False, 0.729),
        4.0: (10.4, 6.0, False, 0.81),
        5.0: (6.0, 6.0, False, 0.9),
    }
    buf.add(make_rollout([6], [7], bootstrap=7))  # overwrites obs 2 at slot 2
    assert set(targets_by_obs(buf)) == {3.0, 4.0, 5.0, 6.0}
    assert targets_by_obs(buf)[5.0] == (6 + 0.9 * 7, 7.0, False, 0.81)


def make_multi_buffer(n_envs: int, slots: int, prioritized: bool) -> ReplayBuffer:
    """Columns 1..n_envs take the rollouts; column 0 stays empty."""
    return make_buffer(
        capacity=(n_envs + 1) * slots, num_columns=n_envs + 1, prioritized=prioritized
    )


def row(
    data: dict[str, np.ndarray], n: int, t: int, next_obs: np.ndarray, valid: bool = True
) -> Rollout:
    """Row t of sub-env n as a one-step rollout, bootstrapping from its next observation."""
    one = {k: v[t : t + 1, n : n + 1].copy() for k, v in data.items()}
    one[C.VALID][:] = valid
    return Rollout(one, bootstrap_obs=next_obs[t : t + 1])


@pytest.mark.parametrize("prioritized", [False, True])
def test_multi_column_add_matches_one_row_at_a_time(prioritized: bool) -> None:
    """add() scatters every column at once; that must land each valid row where appending the
    rows one by one, column by column, would (ragged VALID masks, ring overflow, fresh)."""
    rng = np.random.default_rng(0)
    n_envs, slots = 3, 5
    whole = make_multi_buffer(n_envs, slots, prioritized)
    one_by_one = make_multi_buffer(n_envs, slots, prioritized)
    counter = 0.0
    for length, fresh in [(4, False), (2, False), (8, True), (1, False), (6, True)]:
        obs = counter + np.arange(length * n_envs, dtype=np.float32).reshape(length, n_envs, 1)
        counter += length * n_envs
        data = {
            C.OBS: obs,
            C.ACTIONS: rng.integers(0, 4, (length, n_envs)),
            C.REWARDS: rng.random((length, n_envs), dtype=np.float32),
            C.TERMINATEDS: rng.random((length, n_envs)) < 0.2,
            C.TRUNCATEDS: rng.random((length, n_envs)) < 0.1,
            C.VALID: rng.random((length, n_envs)) < 0.7,
        }
        bootstrap = obs[-1] + 1000
        added = whole.add(Rollout(data, bootstrap_obs=bootstrap), column_offset=1, fresh=fresh)
        assert added == int(data[C.VALID].sum())
        for n in range(n_envs):
            next_obs = np.concatenate([obs[1:, n], bootstrap[n : n + 1]])
            if fresh:  # the restart mark alone: a rollout whose only row is not valid
                one_by_one.add(row(data, n, 0, next_obs, valid=False), 1 + n, fresh=True)
            for t in np.flatnonzero(data[C.VALID][:, n]):
                one_by_one.add(row(data, n, t, next_obs), 1 + n)
    for key, value in one_by_one.get_state().items():
        np.testing.assert_array_equal(whole.get_state()[key], value, err_msg=key)


def test_prioritized_weights_frequencies_and_max_priority() -> None:
    buf = make_buffer(capacity=8, prioritized=True, alpha=0.5, eps=0.0)
    buf.add(make_rollout([0, 1, 2, 3], [0, 0, 0, 0], bootstrap=4))
    s = buf.sample(64, 1, GAMMA, beta=0.5)
    np.testing.assert_array_equal(s["weights"], 1.0)  # new items all at max priority 1
    # |td| = 1, 4, 9, 16 -> p^alpha = 1, 2, 3, 4 -> P = .1, .2, .3, .4 (N = 4).
    # (N * P)^-beta / max = (P / P_min)^-0.5 = 1, 1/sqrt(2), 1/sqrt(3), 1/2.
    buf.update_priorities(np.arange(4), np.array([-1.0, 4.0, -9.0, 16.0]))
    s = buf.sample(40_000, 1, GAMMA, beta=0.5)
    freq = np.bincount(s["indices"], minlength=8) / 40_000
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.3, 0.4, 0, 0, 0, 0], atol=0.01)
    expected_w = np.array([1, 2**-0.5, 3**-0.5, 0.5], np.float32)
    np.testing.assert_allclose(s["weights"], expected_w[s["indices"]], rtol=1e-6)
    # A new transition gets the max priority so far (16 -> leaf 4): P = 4/14, weight 1/2.
    buf.add(make_rollout([4], [0], bootstrap=5))
    s = buf.sample(40_000, 1, GAMMA, beta=0.5)
    freq = np.bincount(s["indices"], minlength=8) / 40_000
    np.testing.assert_allclose(freq[:5], np.array([1, 2, 3, 4, 4]) / 14, atol=0.01)
    np.testing.assert_allclose(s["weights"][s["indices"] == 4], 0.5)
    with pytest.raises(IndexError):
        buf.update_priorities(np.array([5]), np.array([1.0]))  # slot 5 holds nothing yet


def test_uniform_buffer_ignores_priority_updates() -> None:
    buf = make_buffer(capacity=8)
    buf.add(make_rollout([0, 1, 2], [0, 0, 0], bootstrap=3))
    buf.update_priorities(np.array([0]), np.array([100.0]))
    s = buf.sample(30_000, 1, GAMMA)
    np.testing.assert_allclose(np.bincount(s["indices"]) / 30_000, [1 / 3] * 3, atol=0.01)
    np.testing.assert_array_equal(s["weights"], 1.0)


def test_save_load_round_trip(tmp_path: Path) -> None:
    buf = make_buffer(capacity=8, num_columns=2, prioritized=True)
    ro = make_rollout([0, 1, 2, 3, 4], [1, 2, 3, 4, 5], bootstrap=5, term=[0, 1, 0, 0, 0])
    buf.add(ro, column_offset=0)
    buf.add(ro, column_offset=1)
    s = buf.sample(16, N_STEP, GAMMA)
    buf.update_priorities(s["indices"], np.arange(16.0))
    path = tmp_path / "replay.npz"
    buf.save(path)

    other = ReplayBuffer(8, 2, (1,), np.float32, (), np.int64, prioritized=True, seed=123)
    other.load(path)
    for key, arr in buf.get_state().items():
        np.testing.assert_array_equal(other.get_state()[key], arr, err_msg=key)
    a, b = buf.sample(32, N_STEP, GAMMA), other.sample(32, N_STEP, GAMMA)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    with np.load(path, allow_pickle=False) as npz:  # plain arrays only
        assert "obs" in npz.files

    with pytest.raises(ValueError, match="shape"):
        make_buffer(capacity=16, num_columns=2).load(path)
    with pytest.raises(ValueError, match="obs"):
        ReplayBuffer(8, 2, (2,), np.float32, (), np.int64).load(path)


def test_bad_construction_and_empty_sample() -> None:
    with pytest.raises(ValueError, match="capacity"):
        make_buffer(capacity=3, num_columns=4)
    with pytest.raises(ValueError, match="empty"):
        make_buffer().sample(4, N_STEP, GAMMA)
    with pytest.raises(ValueError, match="columns"):
        make_buffer(num_columns=1).add(make_rollout([0], [0], bootstrap=1), column_offset=1)
