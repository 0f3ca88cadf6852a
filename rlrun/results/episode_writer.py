"""`output=DIR`: the episodes sampled for training, written to files for debugging and offline use.

Episodes are cut, in the driver, from the time-major Rollouts the runner group returns
(rlrun.results.episode_cutter), so the same code serves local and remote env runners and every
algorithm; episode_records.py holds the JSON text and parquet schema of a record.

Written are exactly the episodes the runners count in `num_episodes_lifetime` and the return
statistics: an episode cut off by a failure (a recreated sub-env, a restarted runner) is not, and
neither are the unfinished ones when the run ends. Record format: docs/logging.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rlrun.core.episode import Episode
from rlrun.env.rollout import Rollout
from rlrun.results.episode_cutter import EpisodeCutter
from rlrun.results.episode_records import json_value, parquet_schema

log = logging.getLogger(__name__)

_SUFFIX = {"json": "jsonl", "parquet": "parquet"}


class EpisodeWriter:
    """Writes finished episodes as JSON lines or parquet under `root/<name>/`, one file after
    another (`episodes-000000.jsonl`, ...), starting a new one when a file reaches
    `max_file_bytes`. Files are opened on the first episode, so a writer that never gets one
    leaves nothing on disk."""

    def __init__(
        self,
        root: str | Path,
        name: str,
        fmt: str = "json",
        max_file_bytes: int = 64 * 2**20,
        *,
        env_id: str = "",
        seed: int | None = None,
        observation_filter: str = "NoFilter",
        obs_to_record: Callable[[np.ndarray], np.ndarray] | None = None,
        actions_to_env: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        if fmt not in _SUFFIX:
            raise ValueError(f"unknown episode output format {fmt!r}")
        self.root = Path(root).expanduser()
        self.name = name
        self.fmt = fmt
        self.max_file_bytes = int(max_file_bytes)
        self.env_id = env_id
        self.seed = seed
        self.observation_filter = observation_filter
        self._obs_to_record = obs_to_record
        self._actions_to_env = actions_to_env
        self.cutter = EpisodeCutter()
        # Multi-agent runs: the env's agent ids (a stream's column = sub-env * len + index) and
        # each module's actions-to-env step.
        self.agents: list[Any] | None = None
        self.module_actions_to_env: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
        self.num_episodes = 0  # written (or buffered) so far; the next episode's index
        self.files: list[Path] = []
        self._file: Any = None  # the open text file (json) or pyarrow ParquetWriter
        self._file_bytes = 0
        self._pending: list[dict[str, Any]] = []  # parquet: records since the last flush
        self._schema: Any = None
        self._closed = False

    @property
    def folder(self) -> Path:
        return self.root / self.name

    def rename(self, name: str) -> None:
        """Set the folder's name (the trial's); only before the first episode is written."""
        if self.files:
            raise RuntimeError("the episode writer has written files already")
        self.name = name

    def write(self, rollouts: list[Rollout], iteration: int = 0) -> int:
        """Cut `rollouts` into episodes and write the finished ones; returns how many."""
        if self._closed:
            raise RuntimeError("the episode writer is closed")
        n = 0
        for ro in rollouts:
            for part in ro.module_parts():
                for episode in self.cutter.add(part):
                    self._add(self.record(episode, iteration))
                    n += 1
        return n

    def write_episodes(self, episodes: list[Episode], iteration: int = 0) -> None:
        """Write episodes cut already (`rlrun evaluate output=`: those within each sub-env's
        quota)."""
        if self._closed:
            raise RuntimeError("the episode writer is closed")
        for episode in episodes:
            self._add(self.record(episode, iteration))

    def record(self, ep: Episode, iteration: int) -> dict[str, Any]:
        """The stored form of one episode (numpy arrays; `_add` turns them into lists)."""
        obs = ep.observations
        obs = obs if self._obs_to_record is None else self._obs_to_record(obs)
        to_env = self._actions_to_env
        if self.agents is not None:
            to_env = self.module_actions_to_env.get(ep.module_id or "")
        actions = ep.actions if to_env is None else to_env(ep.actions)
        sub_env, agent = ep.env_index, None
        if self.agents is not None:  # multi-agent: the stream is one agent of one sub-env
            sub_env, k = divmod(ep.env_index, len(self.agents))
            agent = self.agents[k]
        rec = {
            "env_id": self.env_id,
            "episode_index": self.num_episodes,
            "env_runner_index": ep.runner_index,
            "sub_env_index": sub_env,
            "seed": self.seed,
            "iteration": iteration,
            "length": len(ep),
            "return": ep.get_return(),
            "terminated": ep.is_terminated,
            "truncated": ep.is_truncated,
            "observation_filter": self.observation_filter,
            "observations": obs,
            "actions": np.asarray(actions),
            "rewards": ep.rewards,
        }
        if self.agents is not None:
            rec["agent_id"] = agent
            rec["module_id"] = ep.module_id
        self.num_episodes += 1
        return rec

    def _add(self, rec: dict[str, Any]) -> None:
        if self.fmt == "parquet":
            self._pending.append(rec)
            return
        fields = [f"{json.dumps(k)}:{json_value(v)}" for k, v in rec.items()]
        line = "{" + ",".join(fields) + "}"
        self._open_file().write(line + "\n")
        self._file_bytes += len(line) + 1
        if self._file_bytes >= self.max_file_bytes:
            self._close_file()

    def _open_file(self) -> Any:
        if self._file is None:
            path = self.folder / f"episodes-{len(self.files):06d}.{_SUFFIX[self.fmt]}"
            path.parent.mkdir(parents=True, exist_ok=True)
            if not self.files:
                log.info("writing the sampled episodes to %s", self.folder)
            if self.fmt == "json":
                self._file = path.open("w", encoding="utf-8")
            else:
                import pyarrow.parquet as pq

                self._file = pq.ParquetWriter(path, self._schema)
            self.files.append(path)
            self._file_bytes = 0
        return self._file

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            log.debug("%s closed (%.1f MB)", self.files[-1], self._file_bytes / 2**20)
            self._file = None

    def flush(self) -> None:
        """Make what was written so far reach the disk (once per training iteration). A parquet
        file can be read once it is closed: when it rolls over, or at the end of the run."""
        if self._pending:
            self._write_parquet()
        if self._file is not None and self.fmt == "json":
            self._file.flush()

    def _write_parquet(self) -> None:
        import pyarrow as pa

        if self._schema is None:
            self._schema = parquet_schema(self._pending[0])
        rows = [
            {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in rec.items()}
            for rec in self._pending
        ]
        table = pa.Table.from_pylist(rows, schema=self._schema)
        self._open_file().write_table(table)
        self._pending = []
        self._file_bytes += table.nbytes  # in memory, uncompressed: the file is smaller
        if self._file_bytes >= self.max_file_bytes:
            self._close_file()

    def close(self) -> None:
        """Write what is buffered and close the file; unfinished episodes are dropped."""
        if self._closed:
            return
        self._closed = True
        try:
            self.flush()
        finally:
            self._close_file()
        if self.cutter.num_open:
            log.debug("%d unfinished episodes not written", self.cutter.num_open)

    def __enter__(self) -> EpisodeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def episode_writer_for(
    config: dict[str, Any], env_observation_space: Any, module_spec: Any
) -> EpisodeWriter | None:
    """The writer `output=DIR` asks for (None without it), named after a fresh trial name; the
    experiment runner renames it to its trial's folder name before training starts."""
    if not config.get("output"):
        return None
    from rlrun.core.multi_rl_module import MultiRLModuleSpec
    from rlrun.results.trial import trial_name

    env_id = str(config["env"]["id"])
    obs_filter = str(config["env_runner"].get("observation_filter", "NoFilter"))
    specs = (
        module_spec.module_specs
        if isinstance(module_spec, MultiRLModuleSpec)
        else {"": module_spec}
    )
    if config.get("output_format") == "parquet":
        for spec in specs.values():
            _check_parquet_obs(spec.observation_space)
    to_env = {mid: _actions_to_env(spec) for mid, spec in specs.items()}
    writer = EpisodeWriter(
        config["output"],
        trial_name(config["algo"]["name"], env_id),
        config.get("output_format", "json"),
        int(float(config.get("output_max_file_size_mb", 64)) * 2**20),
        env_id=env_id,
        seed=config.get("seed"),
        observation_filter=obs_filter,
        obs_to_record=None,
        actions_to_env=to_env.get(""),
    )
    if isinstance(module_spec, MultiRLModuleSpec):
        from rlrun.env.multi_agent.env import agent_spaces, make_multi_agent_env

        probe = make_multi_agent_env(config["env"])
        try:
            writer.agents = list(agent_spaces(probe)[0])
        finally:
            probe.close()
        writer.module_actions_to_env = {k: v for k, v in to_env.items() if v is not None}
    return writer


def _check_parquet_obs(space: Any) -> None:
    import gymnasium as gym

    if isinstance(space, gym.spaces.Dict | gym.spaces.Tuple):
        from rlrun.errors import ConfigError

        raise ConfigError(
            "output_format",
            "parquet",
            f"cannot hold a Dict/Tuple observation ({space}) in one column yet; use "
            "output_format=json, which writes it as nested objects",
        )


def _actions_to_env(spec: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    """Box actions as the env received them: clipped (Gaussian) or rescaled (squashed)."""
    import gymnasium as gym

    from rlrun.connectors.module_to_env import build_module_to_env

    if not isinstance(spec.action_space, gym.spaces.Box):
        return None
    return build_module_to_env(spec.action_space, spec.build().action_dist_cls)
