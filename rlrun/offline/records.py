"""rlrun's own episode records (`output=DIR`, docs/logging.md "Episode output"), JSON lines or
parquet, read with json and pyarrow only (never pickle) into Episode objects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rlrun.core.episode import Episode
from rlrun.errors import ConfigError
from rlrun.offline.convert import KEY, Mismatch, as_space, check_range, mismatch_error

# What a record must hold to be an episode; the rest (env_id, seed, ...) is informative.
_REQUIRED = ("observations", "actions", "rewards", "terminated", "truncated")


def read_records(path: Path, value: Any, obs_space: Any, act_space: Any) -> list[Episode]:
    """The episodes of one .jsonl/.json or .parquet file, checked against the spaces."""
    rows = _parquet_rows(path, value) if path.suffix == ".parquet" else _json_rows(path, value)
    return [_episode(rec, f"{path} {where}", value, obs_space, act_space) for where, rec in rows]


def _json_rows(path: Path, value: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise _corrupt(value, f"{path} line {i}", f"is not JSON ({e.msg})") from None
            if not isinstance(rec, dict):
                raise _corrupt(value, f"{path} line {i}", "is not a JSON object")
            yield f"line {i}", rec


def _parquet_rows(path: Path, value: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError(
            KEY, value, f"{path} is parquet, which needs pyarrow: pip install 'rlrun[offline]'"
        ) from None

    try:
        pf = pq.ParquetFile(path)
        row = 0
        for batch in pf.iter_batches(batch_size=64):
            for rec in batch.to_pylist():
                yield f"row {row}", rec
                row += 1
    except (pa.ArrowException, OSError) as e:
        where = f"{path} row {row}" if "row" in locals() else str(path)
        raise _corrupt(value, where, f"cannot be read as parquet ({e})") from None


def _episode(
    rec: dict[str, Any], where: str, value: Any, obs_space: Any, act_space: Any
) -> Episode:
    missing = [k for k in _REQUIRED if k not in rec]
    if missing:
        raise _corrupt(value, where, f"has no {', '.join(missing)}: not an episode record")
    if rec.get("agent_id") is not None:
        raise ConfigError(
            KEY, value, f"{where} is one agent's part of a multi-agent episode; offline "
            "algorithms read single-agent episodes only",
        )  # fmt: skip
    obs_filter = rec.get("observation_filter") or "NoFilter"
    if obs_filter != "NoFilter":
        raise ConfigError(
            KEY, value, f"{where} was recorded with observation_filter={obs_filter}: its "
            "observations are normalized with statistics that are not stored. Record with "
            "env_runner.observation_filter=NoFilter",
        )  # fmt: skip
    try:
        rewards = np.asarray(rec["rewards"], np.float32)
    except (TypeError, ValueError):
        raise _corrupt(value, where, "has rewards that are not numbers") from None
    L = len(rewards)
    if rewards.shape != (L,):
        raise _corrupt(value, where, f"has rewards of shape {rewards.shape}, not a list")
    try:
        obs = as_space(rec["observations"], obs_space, L + 1)
    except Mismatch as e:
        raise _fit_error(value, where, "observation", e.what, obs_space, rec, L + 1) from None
    try:
        actions = as_space(rec["actions"], act_space, L)
    except Mismatch as e:
        raise _fit_error(value, where, "action", e.what, act_space, rec, L) from None
    out_of_range = check_range(actions, act_space)
    if out_of_range:
        raise mismatch_error(value, where, "action", out_of_range, act_space)
    return Episode(
        observations=obs,
        actions=actions,
        rewards=rewards,
        is_terminated=bool(rec["terminated"]),
        is_truncated=bool(rec["truncated"]),
        env_index=int(rec.get("sub_env_index") or 0),
        runner_index=int(rec.get("env_runner_index") or 0),
    )


def _fit_error(
    value: Any, where: str, kind: str, found: str, space: Any, rec: dict[str, Any], rows: int
) -> ConfigError:
    from gymnasium import spaces

    key = "observations" if kind == "observation" else "actions"
    leaf = not isinstance(space, spaces.Dict | spaces.Tuple)
    n = len(rec[key]) if leaf and isinstance(rec[key], list) else None
    if n is not None and n != rows:
        # The row count is the record's own consistency, not the env's space.
        return _corrupt(value, where, f"has {n} {key} for {len(rec['rewards'])} rewards")
    return mismatch_error(value, where, kind, found, space)


def _corrupt(value: Any, where: str, what: str) -> ConfigError:
    return ConfigError(KEY, value, f"{where} {what}; the file is damaged or not rlrun's output")
