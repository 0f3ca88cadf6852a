"""Reading recorded episodes (rlrun.offline): rlrun's own JSON lines / parquet records and Minari
datasets, the packing into time-major Rollouts, and the errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from rlrun.config.schema import OfflineDataConfig
from rlrun.config.sections import complete
from rlrun.core import columns as C
from rlrun.core.episode import Episode
from rlrun.errors import ConfigError
from rlrun.offline import episodes_to_rollouts, load_episodes
from rlrun.replay.buffer import ReplayBuffer
from rlrun.results.episode_cutter import EpisodeCutter
from rlrun.results.episode_writer import EpisodeWriter

OBS = gym.spaces.Box(-10.0, 10.0, (2,), np.float32)
ACT = gym.spaces.Discrete(3)


def episode(length: int, base: float, terminated: bool = True) -> Episode:
    """Observation t is [base + t, -(base + t)]; action t is t % 3; reward t is t + 1."""
    t = np.arange(length + 1, dtype=np.float32) + base
    return Episode(
        observations=np.stack([t, -t], axis=1),
        actions=np.arange(length, dtype=np.int64) % 3,
        rewards=np.arange(1, length + 1, dtype=np.float32),
        is_terminated=terminated,
        is_truncated=not terminated,
    )


def cfg(input_: object) -> dict:
    return complete(OfflineDataConfig, {"input_": input_})


def write(folder: Path, episodes: list[Episode], fmt: str = "json") -> Path:
    with EpisodeWriter(folder, "trial", fmt) as writer:
        writer.write(episodes_to_rollouts(episodes, 2))
    return folder


def same(a: list[Episode], b: list[Episode]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.observations, y.observations)
        np.testing.assert_array_equal(x.actions, y.actions)
        np.testing.assert_array_equal(x.rewards, y.rewards)
        assert (x.is_terminated, x.is_truncated) == (y.is_terminated, y.is_truncated)


# --- packing --------------------------------------------------------------------------------


def test_packing_lays_episodes_out_as_a_next_step_autoreset_fragment():
    eps = [episode(3, 0.0), episode(1, 10.0, terminated=False), episode(2, 20.0)]
    (ro,) = episodes_to_rollouts(eps, 2)
    # Column 0 gets episode 0 (4 rows with its autoreset row); column 1 episode 1 (2 rows),
    # then episode 2, the shorter column's (3 rows): T = 5, column 0 padded by one row.
    assert (ro.num_steps, ro.num_envs) == (5, 2)
    assert ro[C.MASK][:, 0].tolist() == [True, True, True, False, False]
    assert ro[C.MASK][:, 1].tolist() == [True, False, True, True, False]
    assert ro[C.OBS][:, 0, 0].tolist() == [0, 1, 2, 3, 3]  # autoreset row: final obs; pad too
    assert ro[C.OBS][:, 1, 0].tolist() == [10, 11, 20, 21, 22]
    assert ro[C.TERMINATEDS][:, 0].tolist() == [False, False, True, False, False]
    assert ro[C.TRUNCATEDS][:, 1].tolist() == [True, False, False, False, False]
    assert ro[C.TERMINATEDS][:, 1].tolist() == [False, False, False, True, False]
    assert ro[C.REWARDS][:, 1].tolist() == [1, 0, 1, 2, 0]
    assert ro.bootstrap_obs[:, 0].tolist() == [3, 22]
    assert ro[C.OBS].dtype == np.float32 and ro[C.ACTIONS].dtype == np.int64


def test_packing_round_trips_through_the_episode_cutter():
    eps = [episode(n, 100.0 * n, terminated=n % 2 == 0) for n in (5, 1, 3, 7, 2)]
    (ro,) = episodes_to_rollouts(eps, 3)
    got = EpisodeCutter().add(ro)
    key = lambda e: float(e.observations[0, 0])  # noqa: E731
    same(sorted(got, key=key), sorted(eps, key=key))


def test_the_replay_buffer_takes_packed_episodes_unchanged():
    eps = [episode(3, 0.0), episode(2, 10.0, terminated=False)]
    rollouts = episodes_to_rollouts(eps, 4)
    assert rollouts[0].num_envs == 2  # no more columns than episodes
    buffer = ReplayBuffer(64, 2, (2,), np.float32, (), np.int64, seed=0)
    assert sum(buffer.add(ro) for ro in rollouts) == 5
    batch = buffer.sample(64)
    # Every step's next observation is one further along its episode, the final one included.
    np.testing.assert_array_equal(batch["next_obs"][:, 0], batch["obs"][:, 0] + 1)
    ends = batch["obs"][:, 0] == 2  # episode 0's last step: terminated
    assert batch["terminateds"][ends].all() and not batch["terminateds"][~ends].any()


# --- rlrun's records ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_output_records_read_back(tmp_path: Path, fmt: str):
    eps = [episode(4, 0.0), episode(2, 10.0, terminated=False), episode(6, 20.0)]
    folder = write(tmp_path / "out", eps, fmt)
    got = load_episodes(cfg(str(folder)), OBS, ACT)  # the folder: found under trial/
    key = lambda e: float(e.observations[0, 0])  # noqa: E731
    same(sorted(got, key=key), eps)
    assert got[0].observations.dtype == np.float32 and got[0].actions.dtype == np.int64
    # A file, a list, and a glob name the same episodes.
    (file,) = (folder / "trial").iterdir()
    assert len(load_episodes(cfg(str(file)), OBS, ACT)) == 3
    assert len(load_episodes(cfg([str(file), str(file)]), OBS, ACT)) == 6
    assert len(load_episodes(cfg(str(folder / "*" / "episodes-*")), OBS, ACT)) == 3


def test_dict_observations_read_back_from_json(tmp_path: Path):
    space = gym.spaces.Dict({"a": gym.spaces.Box(-1, 1, (2,)), "b": gym.spaces.Discrete(4)})
    ep = Episode(
        observations={"a": np.zeros((3, 2), np.float32), "b": np.array([0, 3, 1])},
        actions=np.array([1, 2]),
        rewards=np.ones(2, np.float32),
        is_terminated=True,
    )
    folder = write(tmp_path, [ep])
    (got,) = load_episodes(cfg(str(folder)), space, ACT)
    assert got.observations["b"].tolist() == [0, 3, 1] and got.observations["b"].dtype == np.int64


# --- errors -----------------------------------------------------------------------------------


def error(input_: object, obs: gym.Space = OBS, act: gym.Space = ACT) -> str:
    with pytest.raises(ConfigError) as info:
        load_episodes(cfg(input_), obs, act)
    assert info.value.key == "offline_data.input_"
    return str(info.value)


def test_missing_input_path_and_empty_folder(tmp_path: Path):
    assert "offline algorithms learn from recorded episodes" in error(None)
    missing = tmp_path / "nope"
    assert f"{missing} does not exist" in error(str(missing))
    (tmp_path / "empty").mkdir()
    assert "holds no .jsonl or .parquet files" in error(str(tmp_path / "empty"))
    (tmp_path / "blank.jsonl").write_text("\n")
    assert "holds no episodes" in error(str(tmp_path / "blank.jsonl"))
    assert "matches no file" in error(str(tmp_path / "*.parquet"))


def test_corrupt_files_name_the_file_and_line(tmp_path: Path):
    folder = write(tmp_path / "out", [episode(2, 0.0), episode(2, 5.0)])
    (file,) = (folder / "trial").iterdir()
    lines = file.read_text().splitlines()
    file.write_text(lines[0] + "\n" + lines[1][:40] + "\n")
    msg = error(str(file))
    assert f"{file} line 2 is not JSON" in msg
    rec = json.loads(lines[0])
    del rec["actions"]
    file.write_text(json.dumps(rec) + "\n")
    assert "line 1 has no actions" in error(str(file))
    rec = json.loads(lines[0])
    rec["observations"] = rec["observations"][:-1]
    file.write_text(json.dumps(rec) + "\n")
    assert "line 1 has 2 observations for 2 rewards" in error(str(file))
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    assert f"{bad} cannot be read as parquet" in error(str(bad))


def test_data_from_another_env_names_both_spaces(tmp_path: Path):
    folder = write(tmp_path, [episode(3, 0.0)])
    msg = error(str(folder), obs=gym.spaces.Box(-1.0, 1.0, (4,), np.float32))
    assert "the data has shape (2,)" in msg and "Box(-1.0, 1.0, (4,), float32)" in msg
    msg = error(str(folder), act=gym.spaces.Discrete(2))
    assert "values 0..2 (the env's are 0..1)" in msg and "Discrete(2)" in msg
    msg = error(str(folder), act=gym.spaces.Box(-1.0, 1.0, (1,), np.float32))
    assert "action space" in msg and "shape ()" in msg


def test_normalized_observations_are_refused(tmp_path: Path):
    with EpisodeWriter(tmp_path, "trial", observation_filter="MeanStdFilter") as writer:
        writer.write(episodes_to_rollouts([episode(2, 0.0)], 1))
    assert "observation_filter=MeanStdFilter" in error(str(tmp_path))


# --- Minari -----------------------------------------------------------------------------------


@pytest.fixture
def minari_cartpole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A 3-episode Minari dataset of CartPole under MINARI_DATASETS_PATH=tmp_path. Built from
    episode buffers: minari.DataCollector's step recording needs jax (minari[create])."""
    minari = pytest.importorskip("minari")
    from minari.data_collector.episode_buffer import EpisodeBuffer

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    env = gym.make("CartPole-v1", max_episode_steps=20)
    rng = np.random.default_rng(0)
    buffers = []
    for k in range(3):
        obs, _ = env.reset(seed=k)
        steps: dict[str, list] = {"observations": [obs], "actions": [], "rewards": []}
        steps.update(terminations=[], truncations=[])
        done = False
        while not done:
            a = int(rng.integers(2))
            obs, r, term, trunc, _ = env.step(a)
            for key, v in zip(steps, (obs, a, r, term, trunc), strict=True):
                steps[key].append(v)
            done = term or trunc
        buffers.append(EpisodeBuffer(id=k, **{key: np.asarray(v) for key, v in steps.items()}))
    minari.create_dataset_from_buffers(
        "cartpole/random-v0",
        buffers,
        env=env,
        algorithm_name="random",
        code_permalink="tests/unit/test_offline_reader.py",
        author="rlrun",
        author_email="rlrun@example.com",
        description="random CartPole episodes",
        eval_env=env.spec,
    )
    env.close()
    return "cartpole/random-v0"


def test_minari_datasets_by_id_and_by_folder(minari_cartpole: str, tmp_path: Path):
    probe = gym.make("CartPole-v1")
    obs, act = probe.observation_space, probe.action_space
    by_id = load_episodes(cfg(f"minari:{minari_cartpole}"), obs, act)
    assert len(by_id) == 3
    for ep in by_id:
        L = len(ep.rewards)
        assert ep.observations.shape == (L + 1, 4) and ep.actions.shape == (L,)
        assert ep.is_terminated != ep.is_truncated and (ep.is_truncated or L < 20)
    by_folder = load_episodes(cfg(str(tmp_path / "minari" / minari_cartpole)), obs, act)
    same(by_id, by_folder)
    (ro,) = episodes_to_rollouts(by_id, 2)
    assert int(ro[C.MASK].sum()) == sum(len(ep.rewards) for ep in by_id)


def test_minari_dataset_of_another_env(minari_cartpole: str):
    msg = error(f"minari:{minari_cartpole}", obs=gym.spaces.Box(-1.0, 1.0, (3,)))
    assert "observation space" in msg and "(4,)" in msg and "(3,)" in msg
    assert "no Minari dataset 'nope/x-v0'" in error("minari:nope/x-v0")
