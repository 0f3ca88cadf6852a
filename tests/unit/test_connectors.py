"""Connectors (rlrun.connectors, docs/connectors.md): MeanStdFilter, the pipeline, the built-in
pieces on worked examples, user pieces, and the YAML entries with their errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from rlrun.connectors.connector import Connector, ConnectorPipeline, build_env_to_module
from rlrun.connectors.flatten import FlattenObservations
from rlrun.connectors.frame_stack import FrameStack
from rlrun.connectors.mean_std_filter import MeanStdFilter
from rlrun.connectors.module_to_env import build_module_to_env
from rlrun.connectors.one_hot import OneHotObservations
from rlrun.connectors.prev_actions import PrevActionsPrevRewards
from rlrun.connectors.registry import build_learner_pieces, check_connectors, parse_entry
from rlrun.core.tree import index, map_structure
from rlrun.errors import ConfigError

Box, Dict, Discrete = gym.spaces.Box, gym.spaces.Dict, gym.spaces.Discrete

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
    def __call__(self, obs, update=True, starts=None, actions=None, rewards=None):
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


# --- building the env-to-module pipeline ---------------------------------------------------


def build(
    entries: list, obs_space: gym.Space, act_space: gym.Space | None = None, flt: str = "NoFilter"
):
    return build_env_to_module(flt, entries, obs_space, act_space or Discrete(2))


@pytest.mark.parametrize("flt, n_pieces", [("NoFilter", 0), ("MeanStdFilter", 1)])
def test_build_env_to_module(flt, n_pieces):
    pipe = build([], Box(-1.0, 1.0, (3,)), flt=flt)
    assert len(pipe.pieces) == n_pieces
    x = data(4)
    out = pipe(x)
    if n_pieces == 0:
        np.testing.assert_array_equal(out, x)
        assert pipe.get_state() == {}
    else:
        assert isinstance(pipe.pieces[0], MeanStdFilter)
        assert set(pipe.get_state()) == {"0.count", "0.mean", "0.m2"}


def test_discrete_observations_are_no_longer_one_hot_by_default():
    space = Discrete(4, start=1)
    pipe = build([], space, flt="MeanStdFilter")
    assert pipe.observation_space(space) == space  # the model catalog encodes it
    np.testing.assert_array_equal(pipe(np.array([1, 4, 2])), [1, 4, 2])  # ints: not filtered


def test_one_hot_by_name_then_the_filter():
    space = Discrete(4, start=1)
    pipe = build(["one_hot"], space, flt="MeanStdFilter")
    assert [type(p) for p in pipe.pieces] == [OneHotObservations, MeanStdFilter]
    assert pipe.observation_space(space).shape == (4,)
    raw = pipe.pieces[0](np.array([1, 4, 2]))
    np.testing.assert_array_equal(raw, np.eye(4, dtype=np.float32)[[0, 3, 1]])
    out = pipe(np.array([1, 4, 2]))
    assert out.shape == (3, 4) and out.dtype == np.float32
    assert float(pipe.pieces[1].count) == 3  # the filter saw the one-hot vectors


def test_observation_filter_shorthand_does_not_add_a_second_filter():
    pipe = build([{"mean_std_filter": {"clip": 5.0}}], Box(-1.0, 1.0, (3,)), flt="MeanStdFilter")
    assert len(pipe.pieces) == 1 and pipe.pieces[0].clip == 5.0
    pipe = build(["frame_stack"], Box(-1.0, 1.0, (3,)), flt="MeanStdFilter")
    assert [type(p) for p in pipe.pieces] == [FrameStack, MeanStdFilter]  # appended at the end
    assert pipe.observation_space(Box(-1.0, 1.0, (3,))).shape == (4, 3)


def test_connectors_cfg_may_be_the_list_itself():
    pipe = build_env_to_module("NoFilter", ["frame_stack"], Box(-1.0, 1.0, (3,)), Discrete(2))
    assert isinstance(pipe.pieces[0], FrameStack)


# --- frame_stack -------------------------------------------------------------------------------


def test_frame_stack_restarts_one_sub_env_but_not_the_other():
    space = Box(-100.0, 100.0, (1,), np.float32)
    pipe = build([{"frame_stack": {"num_frames": 3}}], space)
    assert pipe.observation_space(space).shape == (3, 1)

    def step(values, starts):
        obs = np.array(values, np.float32).reshape(2, 1)
        return pipe(obs, starts=np.array(starts))[..., 0].tolist()

    assert step([1, 10], [True, True]) == [[1, 1, 1], [10, 10, 10]]
    assert step([2, 11], [False, False]) == [[1, 1, 2], [10, 10, 11]]
    assert step([50, 12], [True, False]) == [[50, 50, 50], [10, 11, 12]]
    assert step([51, 13], [False, False]) == [[50, 50, 51], [11, 12, 13]]


def test_frame_stack_images_on_the_channel_axis_stay_uint8():
    space = Box(0, 255, (2, 2, 2), np.uint8)
    piece = build([{"frame_stack": {"num_frames": 2}}], space).pieces[0]
    assert piece.observation_space(space) == Box(0, 255, (2, 2, 4), np.uint8)
    frame = np.zeros((1, 2, 2, 2), np.uint8)
    frame[..., 0], frame[..., 1] = 10, 11  # channel c of frame t holds 10 * (t + 1) + c
    piece(frame, starts=np.array([True]))
    out = piece(frame + 10, starts=np.array([False]))
    assert out.dtype == np.uint8 and out.shape == (1, 2, 2, 4)
    np.testing.assert_array_equal(out[0, 0, 0], [10, 11, 20, 21])  # oldest first


def test_frame_stack_in_a_dict_leaves_the_mask_and_discrete_alone():
    space = Dict({"pos": Box(-1.0, 1.0, (2,)), "n": Discrete(3), "action_mask": Box(0, 1, (2,))})
    pipe = build([{"frame_stack": {"num_frames": 2}}], space)
    out_space = pipe.observation_space(space)
    assert out_space["pos"].shape == (2, 2) and out_space["action_mask"].shape == (2,)
    assert out_space["n"] == Discrete(3)
    obs = {"pos": np.ones((1, 2), np.float32), "n": np.array([2]), "action_mask": np.ones((1, 2))}
    out = pipe(obs)
    assert out["pos"].shape == (1, 2, 2) and out["n"] is obs["n"]
    assert out["action_mask"] is obs["action_mask"]


def test_frame_stack_starts_fresh_when_the_number_of_sub_envs_changes():
    piece = build(["frame_stack"], Box(-9.0, 9.0, (1,))).pieces[0]
    piece(np.ones((2, 1), np.float32), starts=np.array([True, True]))
    out = piece(np.full((3, 1), 5.0, np.float32), starts=np.zeros(3, bool))
    np.testing.assert_array_equal(out, np.full((3, 4, 1), 5.0))


# --- prev_actions_prev_rewards ------------------------------------------------------------------


def test_prev_actions_and_rewards_are_zero_at_episode_starts():
    space = Box(-1.0, 1.0, (1,), np.float32)
    entry = {"prev_actions_prev_rewards": {"n_prev_actions": 2, "n_prev_rewards": 1}}
    pipe = build([entry], space, Discrete(3))
    out_space = pipe.observation_space(space)
    assert list(out_space.spaces) == ["obs", "prev_n_actions", "prev_n_rewards"]
    assert out_space["prev_n_actions"].shape == (6,) and out_space["prev_n_rewards"].shape == (1,)
    obs = np.zeros((2, 1), np.float32)
    out = pipe(obs, starts=np.array([True, True]))  # right after a reset: no actions yet
    assert out["obs"] is obs and not out["prev_n_actions"].any() and not out["prev_n_rewards"].any()
    out = pipe(obs, starts=np.zeros(2, bool), actions=np.array([1, 2]), rewards=np.array([0.5, -1]))
    assert out["prev_n_actions"].tolist() == [[0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1]]
    assert out["prev_n_rewards"].tolist() == [[0.5], [-1.0]]
    out = pipe(obs, starts=np.array([False, True]), actions=np.array([2, 0]), rewards=np.ones(2))
    assert out["prev_n_actions"].tolist() == [[0, 1, 0, 0, 0, 1], [0] * 6]
    assert out["prev_n_rewards"].tolist() == [[1.0], [0.0]]


def test_prev_box_actions_and_the_mask_moves_to_the_top_level():
    space = Dict({"pos": Box(-1.0, 1.0, (2,)), "action_mask": Box(0, 1, (3,))})
    entry = {"prev_actions_prev_rewards": {"n_prev_actions": 1, "n_prev_rewards": 0}}
    pipe = build([entry], space, Box(-1.0, 1.0, (2,)))
    out_space = pipe.observation_space(space)
    assert list(out_space.spaces) == ["obs", "action_mask", "prev_n_actions"]
    assert list(out_space["obs"].spaces) == ["pos"]
    obs = {"pos": np.zeros((1, 2), np.float32), "action_mask": np.ones((1, 3), np.float32)}
    pipe(obs, starts=np.array([True]))
    out = pipe(obs, starts=np.array([False]), actions=np.array([[0.5, -2.0]]), rewards=np.ones(1))
    assert out["prev_n_actions"].tolist() == [[0.5, -2.0]]  # unclipped, as the module sampled
    assert set(out["obs"]) == {"pos"} and out["action_mask"] is obs["action_mask"]


# --- flatten_observations ------------------------------------------------------------------------


def test_flatten_a_nested_dict_with_discrete_leaves():
    space = Dict(
        {
            "a": Discrete(3),
            "b": Dict({"c": Box(-2.0, 2.0, (2,)), "d": gym.spaces.MultiDiscrete([2, 3])}),
            "t": gym.spaces.Tuple((Discrete(2, start=1), gym.spaces.MultiBinary(2))),
        }
    )
    piece = build(["flatten_observations"], space).pieces[0]
    assert isinstance(piece, FlattenObservations)
    out_space = piece.observation_space(space)
    assert out_space.shape == (3 + 2 + 5 + 2 + 2,) and out_space.dtype == np.float32
    obs = {
        "a": np.array([2]),
        "b": {"c": np.array([[0.5, -1.5]], np.float32), "d": np.array([[1, 0]])},
        "t": (np.array([2]), np.array([[1, 0]], np.int8)),
    }
    out = piece(obs)
    expected = [0, 0, 1] + [0.5, -1.5] + [0, 1, 1, 0, 0] + [0, 1] + [1, 0]
    np.testing.assert_array_equal(out, [expected])
    assert out.dtype == np.float32


def test_flatten_keeps_the_action_mask_apart():
    space = Dict({"action_mask": Box(0, 1, (2,)), "n": Discrete(2)})
    piece = build(["flatten_observations"], space).pieces[0]
    assert list(piece.observation_space(space).spaces) == ["obs", "action_mask"]
    mask = np.array([[1.0, 0.0]], np.float32)
    out = piece({"action_mask": mask, "n": np.array([1])})
    assert out["obs"].tolist() == [[0.0, 1.0]] and out["action_mask"] is mask


# --- mean_std_filter on trees --------------------------------------------------------------------

TREE_SPACE = Dict(
    {
        "img": Box(0, 255, (2, 2, 1), np.uint8),
        "pos": Box(-np.inf, np.inf, (3,), np.float32),
        "n": Discrete(4),
        "action_mask": Box(0.0, 1.0, (2,), np.float32),
    }
)


def tree_batch(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "img": rng.integers(0, 255, (n, 2, 2, 1), dtype=np.uint8),
        "pos": data(n, seed),
        "n": rng.integers(0, 4, n),
        "action_mask": np.ones((n, 2), np.float32) * 3.0,  # out of bounds: would change if filtered
    }


def test_filter_on_a_dict_normalizes_only_float_leaves():
    f = build(["mean_std_filter"], TREE_SPACE).pieces[0]
    obs = tree_batch(500, 0)
    out = f(obs)
    for key in ("img", "n", "action_mask"):
        assert out[key] is obs[key]
    np.testing.assert_allclose(out["pos"].mean(0), 0.0, atol=1e-4)
    assert set(f.get_state()) == {"pos/count", "pos/mean", "pos/m2"}
    out_space = f.observation_space(TREE_SPACE)
    assert out_space["pos"] == Box(-10.0, 10.0, (3,), np.float32)
    assert out_space["img"] == TREE_SPACE["img"]


def test_filter_deltas_on_a_dict_merge_like_one_filter():
    master, a, b, single = (build(["mean_std_filter"], TREE_SPACE) for _ in range(4))
    for i in range(4):
        batch = tree_batch(50, i)
        (a if i % 2 else b)(batch)
        single(batch)
    master.merge_delta(a.pop_delta())
    master.merge_delta(b.pop_delta())
    for k, v in single.get_state().items():
        np.testing.assert_allclose(master.get_state()[k], v, rtol=1e-10)
    assert a.pop_delta() == {}


# --- every piece's observation_space matches what it returns -------------------------------------

SPACE_CASES = [
    (["frame_stack"], Box(-1.0, 1.0, (3,), np.float32), Discrete(2)),
    ([{"frame_stack": {"num_frames": 2}}], Box(0, 255, (4, 4, 3), np.uint8), Discrete(2)),
    (["frame_stack"], TREE_SPACE, Discrete(2)),
    (["prev_actions_prev_rewards"], TREE_SPACE, Discrete(3)),
    (["prev_actions_prev_rewards"], Box(-1.0, 1.0, (2,)), gym.spaces.MultiDiscrete([2, 3])),
    (["prev_actions_prev_rewards"], Box(-1.0, 1.0, (2,)), Box(-1.0, 1.0, (2,))),
    (["flatten_observations"], TREE_SPACE, Discrete(2)),
    (["mean_std_filter"], TREE_SPACE, Discrete(2)),
    (["one_hot"], Dict({"n": Discrete(5, start=2), "x": Box(-1.0, 1.0, (1,))}), Discrete(2)),
    (
        ["frame_stack", "prev_actions_prev_rewards", "flatten_observations", "mean_std_filter"],
        TREE_SPACE,
        Discrete(2),
    ),
]


def batch_of(space: gym.Space, n: int):
    return map_structure(lambda *xs: np.stack(xs), *(space.sample() for _ in range(n)))


@pytest.mark.parametrize("entries, obs_space, act_space", SPACE_CASES)
def test_observation_space_contains_what_the_pieces_return(entries, obs_space, act_space):
    pipe = build(entries, obs_space, act_space)
    out_space = pipe.observation_space(obs_space)
    obs_space.seed(0)
    act_space.seed(0)
    for t in range(3):
        obs = batch_of(obs_space, 4)
        actions = None if t == 0 else batch_of(act_space, 4)
        rewards = None if t == 0 else np.arange(4, dtype=np.float32)
        out = pipe(obs, starts=np.array([t == 0] * 4), actions=actions, rewards=rewards)
        for i in range(4):
            assert out_space.contains(index(out, i)), (out_space, index(out, i))


# --- YAML entries, user pieces and their errors --------------------------------------------------

USER_PIECES = """
import numpy as np
from rlrun.connectors.connector import Connector


class Double(Connector):
    def __init__(self, factor=2.0):
        self.factor = factor

    def __call__(self, obs, update=True, starts=None, actions=None, rewards=None):
        return obs * self.factor


class Scale:
    def __init__(self, factor):
        self.factor = factor

    def __call__(self, actions):
        return actions * self.factor


class RewardScale:
    def __init__(self, scale=0.1):
        self.scale = scale

    def __call__(self, module_id, data):
        return {**data, "rewards": data["rewards"] * self.scale}


class NotAPiece:
    pass
"""


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module of user pieces on sys.path, under a name no other test uses."""
    name = f"user_pieces_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(USER_PIECES)
    (tmp_path / "broken_pieces.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)
    sys.modules.pop("broken_pieces", None)


@pytest.mark.parametrize(
    "entry, parsed",
    [
        ("frame_stack", ("frame_stack", {})),
        ({"frame_stack": {"num_frames": 4}}, ("frame_stack", {"num_frames": 4})),
        ({"frame_stack": None}, ("frame_stack", {})),
        ("pkg.mod:Cls", ("pkg.mod:Cls", {})),
        ({"name": "pkg.mod:Cls", "scale": 0.1}, ("pkg.mod:Cls", {"scale": 0.1})),
    ],
)
def test_yaml_forms_parse(entry, parsed):
    assert parse_entry("env_to_module", 0, entry) == parsed


def test_the_issue_example_builds_from_a_composed_config():
    from omegaconf import OmegaConf

    from rlrun.config.compose import compose
    from rlrun.config.validate import validate

    example = (
        "connectors.env_to_module=[{frame_stack:{num_frames:4}},{prev_actions_prev_rewards:"
        "{n_prev_actions:1,n_prev_rewards:1}},flatten_observations,mean_std_filter]"
    )
    cfg = compose([example])
    validate(cfg)
    section = OmegaConf.to_container(cfg.connectors, resolve=True)
    space = Box(-1.0, 1.0, (3,), np.float32)
    pipe = build_env_to_module("NoFilter", section["env_to_module"], space, Discrete(2))
    kinds = [FrameStack, PrevActionsPrevRewards, FlattenObservations, MeanStdFilter]
    assert [type(p) for p in pipe.pieces] == kinds
    assert pipe.observation_space(space).shape == (4 * 3 + 2 + 1,)
    # A class path with kwargs on the command line: Hydra allows no ":" in a mapping key.
    cfg = compose(["connectors.learner=[{name:'pkg.mod:Cls',scale:0.5}]"])
    (entry,) = OmegaConf.to_container(cfg.connectors.learner)
    assert parse_entry("learner", 0, entry) == ("pkg.mod:Cls", {"scale": 0.5})


def test_user_pieces_of_each_kind(user_module):
    pipe = build([{f"{user_module}:Double": {"factor": 3.0}}], Box(-1.0, 1.0, (1,)))
    np.testing.assert_array_equal(pipe(np.ones((2, 1), np.float32)), [[3.0], [3.0]])
    to_env = build_module_to_env(
        Box(-1.0, 1.0, (2,)), None, [{f"{user_module}:Scale": {"factor": 10}}]
    )
    np.testing.assert_array_equal(to_env(np.array([[0.05, 0.5]])), [[0.5, 1.0]])  # scaled, clipped
    (piece,) = build_learner_pieces([f"{user_module}:RewardScale"])  # the default scale, 0.1
    out = piece("default_policy", {"rewards": np.ones((2, 3), np.float32)})
    np.testing.assert_allclose(out["rewards"], 0.1)
    check_connectors(
        {
            "env_to_module": [f"{user_module}:Double"],
            "module_to_env": [{f"{user_module}:Scale": {"factor": 1}}],
            "learner": [{f"{user_module}:RewardScale": {"scale": 0.5}}],
        }
    )


def test_learner_pieces_reach_the_learner_of_a_run(user_module):
    import rlrun

    algo = rlrun.build(
        [
            f"connectors.learner=[{{name:'{user_module}:RewardScale',scale:0.5}}]",
            "algo.train_batch_size_per_learner=64",
            "algo.minibatch_size=32",
            "env_runner.num_envs_per_env_runner=2",
        ]
    )
    try:
        learner = algo.learner_group.local_learner
        (piece,) = learner.learner_connector.user_pieces
        assert type(piece).__name__ == "RewardScale" and piece.scale == 0.5
        assert algo.train()["learners"]["default_policy"]["num_module_steps_trained"] > 0
    finally:
        algo.stop()


@pytest.mark.parametrize(
    "kind, entry, says",
    [
        (
            "env_to_module",
            "frame_stak",
            ["Did you mean 'frame_stack'?", "mean_std_filter, one_hot"],
        ),
        ("env_to_module", "no_such_pkg.mod:Piece", ["cannot import module 'no_such_pkg.mod'"]),
        ("env_to_module", "broken_pieces:Piece", ["importing 'broken_pieces' failed", "boom"]),
        ("env_to_module", "USER:Dubble", ["has no 'Dubble'", "Did you mean 'Double'?"]),
        ("env_to_module", "USER:NotAPiece", ["lacks __call__, setup"]),
        ("env_to_module", {"frame_stack": {"num_frame": 4}}, ["Did you mean 'num_frames'?"]),
        ("env_to_module", {"frame_stack": {"num_frames": 0}}, ["num_frames must be"]),
        ("env_to_module", {"USER:Double": {"scale": 2}}, ["no kwarg 'scale'", "It takes: factor"]),
        ("env_to_module", 3, ["is not a piece"]),
        ("env_to_module", {"frame_stack": None, "one_hot": None}, ["has 2 (frame_stack, one_hot)"]),
        ("env_to_module", {"frame_stack": 4}, ["must be a mapping"]),
        ("module_to_env", "clip", ["module_to_env has no built-in pieces"]),
        ("module_to_env", "USER:Scale", ["missing a required argument: 'factor'"]),
        ("learner", {"USER:RewardScale": {"scal": 1}}, ["Did you mean 'scale'?"]),
    ],
)
def test_bad_entries_raise_config_errors_naming_the_key(user_module, kind, entry, says):
    if isinstance(entry, str):
        entry = entry.replace("USER", user_module)
    elif isinstance(entry, dict):
        entry = {k.replace("USER", user_module): v for k, v in entry.items()}
    with pytest.raises(ConfigError) as e:
        check_connectors({kind: ["flatten_observations"] * (kind == "env_to_module") + [entry]})
    index_ = 1 if kind == "env_to_module" else 0
    assert f"connectors.{kind}[{index_}]" in str(e.value)
    for text in says:
        assert text in str(e.value)


def test_a_space_a_piece_cannot_take_is_a_config_error():
    with pytest.raises(ConfigError, match=r"connectors\.env_to_module\[0\].*no Box leaf"):
        build(["frame_stack"], Discrete(3))
    with pytest.raises(ConfigError, match="must be a list"):
        check_connectors({"env_to_module": "frame_stack"})


def test_config_errors_come_before_torch_is_imported():
    code = textwrap.dedent(
        """
        import sys
        from rlrun.config.compose import compose
        from rlrun.config.validate import validate
        from rlrun.errors import ConfigError
        validate(compose(["connectors.env_to_module=[frame_stack,mean_std_filter]"]))
        try:
            validate(compose(["connectors.learner=[reward_scal]"]))
        except ConfigError as e:
            print("ERROR", e)
        print("TORCH", "torch" in sys.modules)
        """
    )
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo, timeout=120
    ).stdout
    assert "ERROR connectors.learner[0]=reward_scal" in out and "TORCH False" in out


def test_module_to_env_shifts_discrete_actions_by_the_space_start():
    """The module samples 0..n-1; Discrete(n, start=s) and MultiDiscrete with a start take
    s..s+n-1."""
    import gymnasium as gym
    import numpy as np

    from rlrun.connectors.module_to_env import build_module_to_env

    to_env = build_module_to_env(gym.spaces.Discrete(3, start=-1), None)
    assert to_env(np.array([0, 2])).tolist() == [-1, 1]
    multi = gym.spaces.MultiDiscrete([2, 3], start=[1, 5])
    assert build_module_to_env(multi, None)(np.array([[0, 2]])).tolist() == [[1, 7]]
    assert build_module_to_env(gym.spaces.Discrete(3), None)(np.array([2])).tolist() == [2]
