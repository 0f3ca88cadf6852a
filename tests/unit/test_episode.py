"""The one episode type (rlrun.core.episode): the running form the episode hooks see, the
finished (numpy) form the episode writer cuts and the offline readers return, and that a tracked
episode, once finished, is what the writer records for the same steps."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

import rlrun.callbacks.episode
from rlrun.callbacks import Episode as CallbacksEpisode
from rlrun.core.episode import Episode
from rlrun.env.env_runner import EnvRunner
from rlrun.results.episode_cutter import EpisodeCutter
from rlrun.results.episode_writer import EpisodeWriter
from tests.helpers import callbacks as helpers
from tests.helpers.modules import tiny_ppo_spec


def test_the_callbacks_episode_is_the_one_class():
    assert rlrun.callbacks.episode.Episode is Episode and CallbacksEpisode is Episode


def test_a_running_episode_becomes_its_finished_arrays():
    ep = Episode(observations=[{"x": np.zeros(2, np.float32), "k": np.array(1)}], env_index=3)
    ep.custom_data["seen"] = 1
    for t in range(1, 4):
        obs = {"x": np.full(2, t, np.float32), "k": np.array(t + 1)}
        ep.add_step(obs, t % 2, 0.5 * t, False, t == 3, {"t": t})
    assert not ep.is_numpy and len(ep) == 3 and ep.get_return() == 3.0
    assert ep.get_observations(-1)["x"].tolist() == [3, 3] and ep.get_actions(0) == 1
    assert ep.is_truncated and ep.is_done and not ep.is_terminated

    assert ep.to_numpy() is ep and ep.is_numpy
    assert ep.observations["x"].shape == (4, 2) and ep.observations["k"].tolist() == [1, 2, 3, 4]
    assert ep.actions.tolist() == [1, 0, 1] and ep.actions.dtype == np.int64
    assert ep.rewards.dtype == np.float32 and ep.rewards.tolist() == [0.5, 1.0, 1.5]
    # The same API in the finished form; what the running one held stays.
    assert len(ep) == 3 and ep.get_return() == 3.0
    assert ep.get_observations(-1)["x"].tolist() == [3, 3] and ep.get_rewards(1) == 1.0
    assert ep.get_infos(2) == {"t": 3} and ep.custom_data == {"seen": 1} and ep.env_index == 3
    with pytest.raises(RuntimeError, match="finished"):
        ep.add_step({"x": np.zeros(2), "k": np.array(0)}, 0, 0.0, True, False, {})


def test_an_array_episode_sums_its_return_and_keeps_its_id_when_replaced():
    ep = Episode(
        observations=np.zeros((3, 1), np.float32),
        actions=np.array([0, 1]),
        rewards=np.array([1.5, 2.0], np.float32),
        is_terminated=True,
    )
    assert ep.is_numpy and len(ep) == 2 and ep.get_return() == 3.5
    other = dataclasses.replace(ep, rewards=np.array([1.0, 1.0], np.float32))
    assert other.id_ == ep.id_ and other.get_return() == 2.0
    assert Episode(observations=[0]).get_return() == 0.0


def test_a_tracked_episode_finishes_as_the_writer_records_it(tmp_path: Path):
    """The hooks' episodes (raw env observations and env actions, stepped one by one) and the
    writer's (cut from the Rollouts' columns) of the same runner are the same episodes."""
    env = {"id": "tests.helpers.envs:FixedLengthEnv", "env_config": {"lengths": [3, 7, 4]}}
    spec = tiny_ppo_spec(env)
    torch.manual_seed(0)
    helpers.KeepEndedEpisodes.ended = []
    runner = EnvRunner(
        env,
        {"num_envs_per_env_runner": 2, "callbacks": ["tests.helpers.callbacks:KeepEndedEpisodes"]},
        spec,
        seed=0,
    )
    cutter = EpisodeCutter()
    cut: list[Episode] = []
    try:
        for _ in range(8):  # fragments of 4: episodes end mid-fragment and run across them
            cut += cutter.add(runner.sample(4))
    finally:
        runner.stop()
    tracked = helpers.KeepEndedEpisodes.ended
    assert len(cut) >= 6 and len(tracked) == len(cut)  # both in the order the runner ended them
    writer = EpisodeWriter(tmp_path, "trial")
    for t, c in zip(tracked, cut, strict=True):
        assert not t.is_numpy and c.is_numpy
        assert (len(t), t.get_return(), t.env_index) == (len(c), c.get_return(), c.env_index)
        t.to_numpy()
        got, want = writer.record(t, 0), writer.record(c, 0)
        for key in ("observations", "actions", "rewards"):
            np.testing.assert_array_equal(got[key], want[key])
            assert got[key].dtype == want[key].dtype, key
        skip = {"observations", "actions", "rewards", "episode_index"}
        assert {k: v for k, v in got.items() if k not in skip} == {
            k: v for k, v in want.items() if k not in skip
        }
    writer.close()
