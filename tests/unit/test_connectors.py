"""Env-to-module connectors: MeanStdFilter and ConnectorPipeline (rlrun.connectors)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from rlrun.connectors.connector import Connector, ConnectorPipeline, build_env_to_module
from rlrun.connectors.mean_std_filter import MeanStdFilter

# Observations arrive as float32 and the filter averages each batch in that precision, so its
# statistics agree with float64 references to ~1e-6 relative, not to the last bit.


def data(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal([5.0, -3.0, 0.0], [2.0, 0.5, 10.0], size=(n, 3)).astype(np.float32)


def test_filter_normalizes_to_zero_mean_unit_std():
    x = data(5000)
    f = MeanStdFilter((3,))
    out = f(x)  # updates with the batch, then normalizes it
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(0), 1.0, atol=1e-4)
    assert float(f.count) == 5000
    np.testing.assert_allclose(f.mean, x.astype(np.float64).mean(0), rtol=1e-5)
    np.testing.assert_allclose(f.m2 / f.count, x.astype(np.float64).var(0), rtol=1e-5)


def test_filter_streaming_updates_equal_one_batch():
    x = data(1000, seed=1)
    streaming = MeanStdFilter((3,))
    for chunk in np.array_split(x, 37):
        streaming(chunk)
    batch = MeanStdFilter((3,))
    batch(x)
    assert float(streaming.count) == float(batch.count) == 1000
    np.testing.assert_allclose(streaming.mean, batch.mean, rtol=1e-5)
    np.testing.assert_allclose(streaming.m2, batch.m2, rtol=1e-5)


def test_filter_without_update_keeps_state():
    f = MeanStdFilter((3,))
    f(data(100))
    before = f.get_state()
    out1 = f(data(50, seed=2), update=False)
    out2 = f(data(50, seed=2), update=False)
    np.testing.assert_array_equal(out1, out2)
    for k, v in f.get_state().items():
        np.testing.assert_array_equal(v, before[k])


def test_filter_normalizes_with_stored_statistics_and_clips():
    f = MeanStdFilter((2,), clip=5.0)
    f.set_state(
        {"count": np.array(4.0), "mean": np.array([1.0, -1.0]), "m2": np.array([16.0, 4.0])}
    )
    # std = sqrt(m2 / count) = [2, 1]
    out = f(np.array([[3.0, 0.0], [1.0, -1.0], [101.0, -100.0]], np.float32), update=False)
    np.testing.assert_allclose(out, [[1.0, 1.0], [0.0, 0.0], [5.0, -5.0]], atol=1e-6)


def test_merge_equals_one_filter_that_saw_all_data():
    a, b = data(300, seed=3), data(700, seed=4) * 3.0 + 1.0
    fa, fb, fall = MeanStdFilter((3,)), MeanStdFilter((3,)), MeanStdFilter((3,))
    for chunk in np.array_split(a, 4):
        fa(chunk)
    for chunk in np.array_split(b, 3):
        fb(chunk)
    fall(np.concatenate([a, b]))
    s = fb.get_state()
    fa.merge(s["count"], s["mean"], s["m2"])
    assert float(fa.count) == 1000
    np.testing.assert_allclose(fa.mean, fall.mean, rtol=1e-5)
    np.testing.assert_allclose(fa.m2, fall.m2, rtol=1e-5)
    ab = np.concatenate([a, b]).astype(np.float64)
    np.testing.assert_allclose(fa.mean, ab.mean(0), rtol=1e-5)
    np.testing.assert_allclose(fa.m2 / fa.count, ab.var(0), rtol=1e-5)


def test_merge_into_empty_filter_copies_statistics():
    src = MeanStdFilter((3,))
    src(data(200))
    dst = MeanStdFilter((3,))
    s = src.get_state()
    dst.merge(s["count"], s["mean"], s["m2"])
    for k, v in src.get_state().items():
        np.testing.assert_allclose(dst.get_state()[k], v, rtol=1e-12)


def test_get_state_set_state_round_trip():
    f = MeanStdFilter((3,))
    f(data(500))
    state = f.get_state()
    assert set(state) == {"count", "mean", "m2"}
    assert all(isinstance(v, np.ndarray) for v in state.values())
    g = MeanStdFilter((3,))
    g.set_state(state)
    x = data(20, seed=9)
    np.testing.assert_array_equal(f(x, update=False), g(x, update=False))
    # The state is a snapshot: updating the filter afterwards does not change it.
    mean_before = state["mean"].copy()
    f(data(500, seed=5) + 100.0)
    np.testing.assert_array_equal(state["mean"], mean_before)
    # Restored filters keep updating from where the state left off.
    g(data(500, seed=5) + 100.0)
    np.testing.assert_allclose(g.mean, f.mean, rtol=1e-5)
    assert float(g.count) == float(f.count) == 1000


def test_set_state_with_empty_dict_is_a_no_op():
    f = MeanStdFilter((3,))
    f(data(10))
    before = f.get_state()
    f.set_state({})
    np.testing.assert_array_equal(f.get_state()["mean"], before["mean"])


class AddOne(Connector):
    def __call__(self, obs, update=True):
        return obs + 1.0


def test_pipeline_applies_pieces_in_order():
    f = MeanStdFilter((2,))
    f.set_state({"count": np.array(1.0), "mean": np.zeros(2), "m2": np.array([4.0, 4.0])})
    pipe = ConnectorPipeline([AddOne(), f])
    out = pipe(np.array([[1.0, 3.0]], np.float32), update=False)
    np.testing.assert_allclose(out, [[1.0, 2.0]], atol=1e-6)  # (x + 1) / 2
    pipe2 = ConnectorPipeline([f, AddOne()])
    np.testing.assert_allclose(pipe2(np.array([[1.0, 3.0]], np.float32), False), [[1.5, 2.5]])


def test_pipeline_state_prefixes_and_round_trip():
    pieces = [MeanStdFilter((2,)), AddOne(), MeanStdFilter((2,))]
    pipe = ConnectorPipeline(pieces)
    pipe(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32))
    state = pipe.get_state()
    # Each stateful piece's keys are prefixed with its index; stateless pieces add nothing.
    assert set(state) == {"0.count", "0.mean", "0.m2", "2.count", "2.mean", "2.m2"}
    np.testing.assert_allclose(state["0.mean"], [2.0, 3.0])
    assert float(state["2.count"]) == 2
    other = ConnectorPipeline([MeanStdFilter((2,)), AddOne(), MeanStdFilter((2,))])
    other.set_state(state)
    for i in (0, 2):
        for k, v in pieces[i].get_state().items():
            np.testing.assert_array_equal(other.pieces[i].get_state()[k], v)
    x = np.array([[0.5, -0.5]], np.float32)
    np.testing.assert_array_equal(pipe(x, False), other(x, False))


def test_pipeline_with_ten_or_more_pieces_keeps_prefixes_apart():
    pieces = [MeanStdFilter((1,)) for _ in range(12)]
    for i, p in enumerate(pieces):
        p.set_state({"count": np.array(1.0), "mean": np.array([float(i)]), "m2": np.ones(1)})
    state = ConnectorPipeline(pieces).get_state()
    other = ConnectorPipeline([MeanStdFilter((1,)) for _ in range(12)])
    other.set_state(state)
    assert [float(p.mean[0]) for p in other.pieces] == [float(i) for i in range(12)]


@pytest.mark.parametrize("flt, n_pieces", [("NoFilter", 0), ("MeanStdFilter", 1)])
def test_build_env_to_module(flt, n_pieces):
    pipe = build_env_to_module({"observation_filter": flt}, gym.spaces.Box(-1.0, 1.0, (3,)))
    assert len(pipe.pieces) == n_pieces
    x = data(4)
    out = pipe(x)
    if n_pieces == 0:
        np.testing.assert_array_equal(out, x)
        assert pipe.get_state() == {}
    else:
        assert isinstance(pipe.pieces[0], MeanStdFilter)
        assert set(pipe.get_state()) == {"0.count", "0.mean", "0.m2"}


def test_discrete_observations_are_one_hot_then_filtered():
    space = gym.spaces.Discrete(4, start=1)
    pipe = build_env_to_module({"observation_filter": "MeanStdFilter"}, space)
    out_space = pipe.observation_space(space)
    assert isinstance(out_space, gym.spaces.Box) and out_space.shape == (4,)
    pipe.pieces[1].clip = np.inf  # look at the encoding itself, not the filter's clip
    raw = ConnectorPipeline(pipe.pieces[:1])(np.array([1, 4, 2]))
    np.testing.assert_array_equal(raw, np.eye(4, dtype=np.float32)[[0, 3, 1]])
    out = pipe(np.array([1, 4, 2]))
    assert out.shape == (3, 4) and out.dtype == np.float32
    assert pipe.pieces[1].count == 3  # the filter saw the one-hot vectors
