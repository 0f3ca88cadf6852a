"""`output=DIR`: the episodes sampled for training, written to files for debugging and offline use.

Episodes are cut, in the driver, from the time-major Rollouts the runner group returns, so the
same code serves local and remote env runners and every algorithm. An episode is a run of valid
rows of one (runner, sub-env) column ending in a terminated or truncated row; the row after it is
the NEXT_STEP autoreset row (valid=False), whose observation is the episode's final one (the
fragment's `bootstrap_obs` when the episode ends on its last row). Episodes that run past a
fragment are kept open per (runner, sub-env) until a later fragment finishes them. They come out
as rlrun.core.episode.Episode in its finished (numpy) form, the form the offline readers return.

Written are exactly the episodes the runners count in `num_episodes_lifetime` and the return
statistics: an episode cut off by a failure (a recreated sub-env, a restarted runner) is not, and
neither are the unfinished ones when the run ends. Record format: docs/logging.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.core.episode import Episode
from rlrun.env.rollout import Rollout

log = logging.getLogger(__name__)

_SUFFIX = {"json": "jsonl", "parquet": "parquet"}


@dataclass
class _Open:
    """The steps of an episode still running when its fragment ended."""

    obs: list[np.ndarray] = field(default_factory=list)
    actions: list[np.ndarray] = field(default_factory=list)
    rewards: list[np.ndarray] = field(default_factory=list)

    def extend(self, ro: Rollout, rows: slice, j: int) -> None:
        # Copies: a view would keep the whole [T, N] fragment alive for one sub-env's steps.
        self.obs.append(tree.map_structure(lambda x: x[rows, j].copy(), ro[C.OBS]))
        self.actions.append(ro[C.ACTIONS][rows, j].copy())
        self.rewards.append(ro[C.REWARDS][rows, j].copy())

    def finish(
        self, key: tuple[str, int, int], final_obs: np.ndarray, terminated: bool, truncated: bool
    ) -> Episode:
        return Episode(
            observations=tree.concat([*self.obs, tree.map_structure(lambda x: x[None], final_obs)]),
            actions=np.concatenate(self.actions),
            rewards=np.concatenate(self.rewards),
            is_terminated=bool(terminated),
            is_truncated=bool(truncated),
            env_index=key[2],
            runner_index=key[1],
            module_id=key[0],
        )


class EpisodeCutter:
    """Cuts Rollouts into finished episodes, keeping unfinished ones between calls."""

    def __init__(self) -> None:
        # (module id, runner, column): a column is a sub-env, or an agent's stream in one.
        self._open: dict[tuple[str, int, int], _Open] = {}

    @property
    def num_open(self) -> int:
        return len(self._open)

    def add(self, ro: Rollout) -> list[Episode]:
        """The episodes `ro` finishes, in the order its runner counted them (by step, then
        sub-env), so they line up with `ro.episode_returns`."""
        if ro.fresh:
            # A (re)started runner: what its predecessor left open will never finish.
            for key in [k for k in self._open if k[1] == ro.runner_index]:
                del self._open[key]
        # Multi-agent module parts front-pad shorter streams with masked rows: those do not
        # end the episode the stream carried over from the last fragment.
        padded = ro.columns is not None
        valid = ro[C.VALID]
        done = ro[C.TERMINATEDS] | ro[C.TRUNCATEDS]
        # A recreated sub-env's step is dropped (invalid) but flagged truncated; the episode
        # before it was cut off, not finished (rlrun.env.recreate).
        failed = ~valid & done
        T = ro.num_steps
        finished: list[tuple[int, int, Episode]] = []
        for j in range(ro.num_envs):
            column = j if ro.columns is None else int(ro.columns[j])
            key = (ro.module_id, ro.runner_index, column)
            current = self._open.pop(key, None)
            for k, (start, end) in enumerate(_valid_runs(valid[:, j])):
                if start > 0 and not (padded and k == 0):
                    current = None  # an invalid row came first: the open episode ended there
                for s, e in _split_at(start, end, np.flatnonzero(done[start : end + 1, j]) + start):
                    current = current or _Open()
                    current.extend(ro, slice(s, e + 1), j)
                    if not done[e, j]:
                        continue  # the fragment ended mid-episode
                    if e + 1 < T and failed[e + 1, j]:
                        current = None
                        continue
                    final = (
                        tree.index(ro[C.OBS], (e + 1, j))
                        if e + 1 < T
                        else tree.index(ro.bootstrap_obs, j)
                    )
                    episode = current.finish(
                        key, final, ro[C.TERMINATEDS][e, j], ro[C.TRUNCATEDS][e, j]
                    )
                    finished.append((e, j, episode))
                    current = None
            if current is not None and valid[T - 1, j]:
                self._open[key] = current
        finished.sort(key=lambda f: (f[0], f[1]))
        return [ep for _, _, ep in finished]


def _valid_runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) row of each run of True in a column."""
    edges = np.diff(np.concatenate([[0], valid.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _split_at(start: int, end: int, dones: np.ndarray) -> list[tuple[int, int]]:
    """Rows start..end cut after each done row (with NEXT_STEP autoreset a done row ends its
    run, so this is one piece, but a vector env that resets in the same step would not)."""
    pieces, s = [], start
    for d in dones.tolist():
        pieces.append((s, d))
        s = d + 1
    if s <= end:
        pieces.append((s, end))
    return pieces


_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}  # as json.dumps writes them


def json_array(a: np.ndarray) -> str:
    """An array as JSON text. Floats are written as their shortest float32 text (a float32 0.1
    as 0.1, not 0.10000000149011612), joined straight from numpy's strings: parsing them back
    into Python floats for json.dumps would double the cost of writing."""
    if not np.issubdtype(a.dtype, np.floating):
        return json.dumps(a.tolist(), separators=(",", ":"))
    text = a.astype(np.float32).astype(str)
    if not np.isfinite(a).all():
        text = np.vectorize(lambda t: _NON_FINITE.get(t, t), otypes=[str])(text)
    return _join(text.tolist())


def _json_value(v: Any) -> str:
    """A record's value as JSON: arrays as `json_array`, a Dict/Tuple observation as an object
    or list of them."""
    if isinstance(v, np.ndarray):
        return json_array(v)
    if isinstance(v, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_json_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, tuple):
        return "[" + ",".join(_json_value(x) for x in v) + "]"
    return json.dumps(v)


def _join(nested: Any) -> str:
    if nested and isinstance(nested[0], list):
        return "[" + ",".join(_join(x) for x in nested) + "]"
    return "[" + ",".join(nested) + "]"


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
        fields = [f"{json.dumps(k)}:{_json_value(v)}" for k, v in rec.items()]
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


def parquet_schema(rec: dict[str, Any]) -> Any:
    """The arrow schema of the records, from the first one (every episode of a run has the same
    observation and action shapes); arrays become nested lists, float32 kept as float32."""
    import pyarrow as pa

    def nested(a: np.ndarray) -> Any:
        leaf = pa.from_numpy_dtype(a.dtype)
        for _ in range(a.ndim):
            leaf = pa.list_(leaf)
        return leaf

    scalar = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
    fields = []
    for k, v in rec.items():
        if isinstance(v, np.ndarray):
            fields.append(pa.field(k, nested(v)))
        elif k == "seed":
            fields.append(pa.field(k, pa.int64()))  # null when the run drew its own seed
        else:
            fields.append(pa.field(k, scalar[type(v)]))
    return pa.schema(fields)


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
