"""The episode writer behind `output=DIR` (rlrun.results.episode_writer, episode_cutter.py):
cutting time-major Rollouts into episodes (across fragments, at terminations, truncations and
failures) and writing them as JSON lines or parquet."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlrun.core import columns as C
from rlrun.env.env_runner import EnvRunner
from rlrun.env.rollout import Rollout
from rlrun.results.episode_cutter import EpisodeCutter
from rlrun.results.episode_records import json_array
from rlrun.results.episode_writer import EpisodeWriter, episode_writer_for
from tests.helpers.modules import tiny_ppo_spec

# One column per sub-env, one letter per row: v valid, T valid + terminated, R valid + truncated,
# x the autoreset row after an episode's end, F a recreated sub-env's (dropped) step.
FLAGS = {
    "v": (True, False, False),
    "T": (True, True, False),
    "R": (True, False, True),
    "x": (False, False, False),
    "F": (False, False, True),
}


def rollout(columns: list[str], *, runner: int = 0, base: float = 0.0, fresh: bool = False):
    """A hand-built Rollout. Row t of sub-env j observes base + 100 j + t and takes action
    10 j + t; rewards are 1 + j on valid rows and 0 on the others (as the runner writes them)."""
    T, N = len(columns[0]), len(columns)
    obs = np.zeros((T, N, 1), np.float32)
    actions = np.zeros((T, N), np.int64)
    flags = {k: np.zeros((T, N), bool) for k in (C.VALID, C.TERMINATEDS, C.TRUNCATEDS)}
    rewards = np.zeros((T, N), np.float32)
    for j, col in enumerate(columns):
        for t, ch in enumerate(col):
            for key, value in zip(flags, FLAGS[ch], strict=True):
                flags[key][t, j] = value
            obs[t, j, 0] = base + 100 * j + t
            actions[t, j] = 10 * j + t
            rewards[t, j] = (1 + j) if flags[C.VALID][t, j] else 0.0
    data = {**flags, C.OBS: obs, C.ACTIONS: actions, C.REWARDS: rewards}
    bootstrap = np.array([[base + 100 * j + T] for j in range(N)], np.float32)
    return Rollout(data, bootstrap_obs=bootstrap, runner_index=runner, fresh=fresh)


def test_episodes_across_a_fragment_boundary_terminations_and_truncations():
    cutter = EpisodeCutter()
    first = cutter.add(rollout(["vvTxv", "vvvvv"], base=0.0, fresh=True))
    # Sub-env 0's first episode: rows 0-2, terminated; its final obs is the autoreset row's.
    assert len(first) == 1
    ep = first[0]
    assert (ep.runner_index, ep.env_index) == (0, 0)
    assert ep.observations[:, 0].tolist() == [0, 1, 2, 3]
    assert ep.actions.tolist() == [0, 1, 2]
    assert ep.rewards.tolist() == [1, 1, 1]
    assert (ep.is_terminated, ep.is_truncated) == (True, False)
    assert cutter.num_open == 2  # sub-env 0's second episode and sub-env 1's first run on

    second = cutter.add(rollout(["vRxvv", "vvvvT"], base=1000.0))
    # Ordered as the runner counts them: by the row they end on, then by sub-env.
    assert [(e.env_index, len(e.rewards)) for e in second] == [(0, 3), (1, 10)]
    trunc, long = second
    # Started on the first fragment's last row, truncated on the second's row 1.
    assert trunc.observations[:, 0].tolist() == [4, 1000, 1001, 1002]
    assert trunc.actions.tolist() == [4, 0, 1]
    assert (trunc.is_terminated, trunc.is_truncated) == (False, True)
    # Ended on the last row: the final observation is the fragment's bootstrap_obs.
    assert long.observations[:, 0].tolist() == [*range(100, 105), *range(1100, 1106)]
    assert long.actions.tolist() == [*range(10, 15), *range(10, 15)]
    assert long.rewards.sum() == 20 and (long.is_terminated, long.is_truncated) == (True, False)
    assert cutter.num_open == 1  # sub-env 0's third episode (rows 3-4)


def test_episodes_cut_off_by_a_failure_are_not_written():
    cutter = EpisodeCutter()
    # Sub-env 0: its sub-env failed on row 2 and was recreated (the runner marked row 1
    # truncated and did not count the episode), then the autoreset row, then a new episode.
    assert cutter.add(rollout(["vRFxv", "vvvvv"], fresh=True)) == []
    # Sub-env 1 fails on a fragment's first row: the episode open since the last one is lost.
    eps = cutter.add(rollout(["vvvvT", "Fxvvv"]))
    assert [(e.env_index, len(e.rewards)) for e in eps] == [(0, 6)]
    eps = cutter.add(rollout(["xvvvT", "vvvvT"]))
    # Sub-env 1's episode is the one that started after the failure (rows 2-4, then 0-4).
    assert [(e.env_index, len(e.rewards)) for e in eps] == [(0, 4), (1, 8)]


def test_a_restarted_runner_drops_what_its_predecessor_left_open():
    cutter = EpisodeCutter()
    cutter.add(rollout(["vvv"], runner=1, fresh=True))
    cutter.add(rollout(["vvv"], runner=2, fresh=True))
    assert cutter.num_open == 2
    # Runner 1 restarted: a fresh rollout whose first row starts a new episode.
    eps = cutter.add(rollout(["vTx"], runner=1, fresh=True))
    assert [(e.runner_index, len(e.rewards)) for e in eps] == [(1, 2)]
    eps = cutter.add(rollout(["vTx"], runner=2))
    assert [(e.runner_index, len(e.rewards)) for e in eps] == [(2, 5)]


def make_runner(env_id: str, env_config: dict, num_envs: int = 3) -> tuple[EnvRunner, Any]:
    env_cfg = {"id": env_id, "env_config": env_config}
    spec = tiny_ppo_spec(env_cfg)
    torch.manual_seed(0)
    runner = EnvRunner(env_cfg, {"num_envs_per_env_runner": num_envs}, spec, seed=0)
    return runner, spec


def test_episodes_of_a_real_runner_match_what_it_reports():
    # Lengths 3 and 7 with 4-step fragments: episodes end mid-fragment, on a fragment's last
    # row and run across several fragments. FixedLengthEnv observes [step, episode index].
    runner, _ = make_runner("tests.helpers.envs:FixedLengthEnv", {"lengths": [3, 7, 4]})
    cutter = EpisodeCutter()
    episodes, reported = [], []
    for _ in range(12):
        ro = runner.sample(4)
        eps = cutter.add(ro)
        episodes += eps
        reported += ro.episode_returns
        # In the order the runner counted them, with the returns it reported.
        assert [float(e.rewards.sum()) for e in eps] == ro.episode_returns
        assert [len(e.rewards) for e in eps] == ro.episode_lengths
    assert len(episodes) >= 12
    for ep in episodes:
        steps, index = ep.observations[:, 0], ep.observations[:, 1]
        length = len(ep.rewards)
        assert length == [3, 7, 4][int(index[0]) % 3]
        assert steps.tolist() == list(range(length + 1))  # first to final observation
        assert (index == index[0]).all()
        assert ep.is_terminated and not ep.is_truncated
    runner.stop()


def test_box_actions_are_written_as_the_env_received_them(tmp_path: Path):
    runner, spec = make_runner("tests.helpers.envs:BoxActionEnv", {"length": 4}, num_envs=2)
    config = {
        "output": str(tmp_path),
        "env": {"id": "BoxActionEnv"},
        "env_runner": {},
        "algo": {"name": "PPO"},
        "seed": 0,
    }
    writer = episode_writer_for(config, spec.observation_space, spec)
    assert writer is not None
    with writer:
        for _ in range(3):
            writer.write([runner.sample(5)], iteration=1)
    runner.stop()
    records = [json.loads(line) for line in writer.files[0].read_text().splitlines()]
    assert len(records) >= 4
    for rec in records:
        # BoxActionEnv observes the (clipped) action it received: the record's actions match.
        got = [o[1] for o in rec["observations"][1:]]
        assert np.allclose(got, [a[0] for a in rec["actions"]], atol=1e-6)
        assert all(-1.0 <= a[0] <= 1.0 for a in rec["actions"])


def test_json_records_and_rolling_files(tmp_path: Path):
    writer = EpisodeWriter(tmp_path, "trial", "json", max_file_bytes=300, env_id="Toy-v0", seed=7)
    writer.write([rollout(["vvTxv", "vTxvT"], runner=2, fresh=True)], iteration=3)
    writer.write([rollout(["vRxvT", "xvvTx"], runner=2)], iteration=4)
    writer.close()
    lines = [line for f in writer.files for line in f.read_text().splitlines()]
    assert len(writer.files) >= 2  # a file is closed once it holds 300 bytes or more
    assert all(f.parent == tmp_path / "trial" for f in writer.files)
    assert [f.name for f in writer.files][:2] == ["episodes-000000.jsonl", "episodes-000001.jsonl"]
    records = [json.loads(line) for line in lines]
    assert [r["episode_index"] for r in records] == list(range(len(records)))
    first = records[0]
    assert first == {
        "env_id": "Toy-v0",
        "episode_index": 0,
        "env_runner_index": 2,
        "sub_env_index": 1,
        "seed": 7,
        "iteration": 3,
        "length": 2,
        "return": 4.0,
        "terminated": True,
        "truncated": False,
        "observation_filter": "NoFilter",
        "observations": [[100.0], [101.0], [102.0]],
        "actions": [10, 11],
        "rewards": [2.0, 2.0],
    }
    assert sum(r["length"] for r in records) == sum(len(r["rewards"]) for r in records)
    assert {(r["sub_env_index"], r["truncated"]) for r in records} >= {(0, True), (1, False)}


def test_arrays_are_written_as_compact_json():
    a = np.array([[0.1, -2.5e-7], [3.0, 1 / 3], [1e20, -0.0]], np.float32)
    text = json_array(a)
    assert text == "[[0.1,-2.5e-07],[3.0,0.33333334],[1e+20,-0.0]]"
    assert np.array(json.loads(text), np.float32).tolist() == a.tolist()  # exact round trip
    odd = np.array([np.nan, np.inf, -np.inf, 1.5], np.float32)
    assert json_array(odd) == json.dumps(odd.tolist(), separators=(",", ":"))
    assert json_array(np.array([[1, 2], [3, 4]])) == "[[1,2],[3,4]]"
    assert json_array(np.array([True, False])) == "[true,false]"
    assert json_array(np.zeros((0,), np.float32)) == "[]"


def test_nothing_is_written_without_a_finished_episode(tmp_path: Path):
    writer = EpisodeWriter(tmp_path, "trial")
    writer.write([rollout(["vvv"], fresh=True)])
    writer.close()
    assert writer.files == [] and not (tmp_path / "trial").exists()
    with pytest.raises(RuntimeError):
        writer.write([rollout(["vvv"])])


def test_parquet_round_trip(tmp_path: Path):
    pq = pytest.importorskip("pyarrow.parquet")
    writer = EpisodeWriter(tmp_path, "trial", "parquet", env_id="Toy-v0", seed=None)
    writer.write([rollout(["vvTxv", "vTxvT"], fresh=True)], iteration=1)
    writer.flush()
    writer.write([rollout(["vRxvT", "xvvTx"])], iteration=2)
    writer.close()
    (path,) = writer.files
    assert path.name == "episodes-000000.parquet"
    table = pq.read_table(path)
    assert table.num_rows == writer.num_episodes == 6
    rows = table.to_pylist()
    assert rows[0]["observations"] == [[100.0], [101.0], [102.0]]
    assert rows[0]["actions"] == [10, 11] and rows[0]["seed"] is None
    assert str(table.schema.field("observations").type) == "list<element: list<element: float>>"
    assert [r["iteration"] for r in rows] == [1, 1, 1, 2, 2, 2]


def test_discrete_observations_are_written_as_the_env_returned_them(tmp_path: Path):
    obs_space = gym.spaces.Discrete(4, start=2)
    spec = types.SimpleNamespace(action_space=gym.spaces.Discrete(2))
    config = {
        "output": str(tmp_path),
        "env": {"id": "Toy-v0"},
        "env_runner": {"observation_filter": "NoFilter"},
        "algo": {"name": "PPO"},
        "seed": 0,
    }
    writer = episode_writer_for(config, obs_space, spec)
    assert writer is not None
    ro = rollout(["vTx"], fresh=True)
    ro.data[C.OBS] = np.array([[3], [5], [2]])  # indices, as the env returned and the module saw
    (ep,) = writer.cutter.add(ro)
    assert writer.record(ep, 1)["observations"].tolist() == [3, 5, 2]
    filtered = {**config, "env_runner": {"observation_filter": "MeanStdFilter"}}
    assert episode_writer_for(filtered, obs_space, spec)._obs_to_record is None  # type: ignore[union-attr]
    assert episode_writer_for({**config, "output": None}, obs_space, spec) is None
