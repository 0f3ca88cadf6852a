"""Minari datasets (https://minari.farama.org) from a local folder, read with the `minari`
package (HDF5 or arrow storage).

A dataset's spaces must be in its metadata (Minari's DataCollector always writes them): Minari
would otherwise make the env from the dataset's stored spec, importing whatever entry point the
file names, and loading data never runs code from it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from rlrun.core.episode import Episode
from rlrun.errors import ConfigError
from rlrun.offline.convert import (
    KEY,
    Mismatch,
    as_space,
    check_range,
    mismatch_error,
    spaces_differ,
)

PREFIX = "minari:"
_METADATA = "metadata.json"


def minari_data_path(path: Path) -> Path | None:
    """The folder holding a Minari dataset's metadata and data (the dataset folder's `data/`,
    or that folder itself), or None when `path` is no Minari dataset."""
    for candidate in (path / "data", path):
        meta = candidate / _METADATA
        if meta.is_file():
            try:
                if "dataset_id" in json.loads(meta.read_text(encoding="utf-8")):
                    return candidate
            except (json.JSONDecodeError, UnicodeDecodeError):
                return None
    return None


def dataset_id_path(dataset_id: str) -> Path:
    """Where Minari keeps a dataset id locally: MINARI_DATASETS_PATH, else ~/.minari/datasets
    (Minari's own rule, without its side effect of creating the folder)."""
    root = os.environ.get("MINARI_DATASETS_PATH") or os.path.join("~", ".minari", "datasets")
    return Path(root).expanduser() / dataset_id


def read_minari(data_path: Path, value: Any, obs_space: Any, act_space: Any) -> list[Episode]:
    """Every episode of the Minari dataset in `data_path`, checked against the env's spaces."""
    try:
        from minari.dataset.minari_storage import MinariStorage
    except ImportError:
        raise ConfigError(
            KEY, value, "is a Minari dataset, which needs the minari package: "
            "pip install 'minari>=0.5' h5py",
        ) from None  # fmt: skip
    meta = json.loads((data_path / _METADATA).read_text(encoding="utf-8"))
    if "observation_space" not in meta or "action_space" not in meta:
        raise ConfigError(
            KEY, value, f"{data_path / _METADATA} does not declare the dataset's observation "
            "and action spaces; rlrun does not make envs from a dataset's stored spec",
        )  # fmt: skip
    try:
        storage = MinariStorage.read(data_path)
    except Exception as e:  # noqa: BLE001 - h5py/arrow/minari raise many kinds for a bad file
        msg = f"{data_path} cannot be read as a Minari dataset ({e})"
        raise ConfigError(KEY, value, msg) from None
    for kind, data_space, env_space in (
        ("observation", storage.observation_space, obs_space),
        ("action", storage.action_space, act_space),
    ):
        if spaces_differ(data_space, env_space):
            raise mismatch_error(value, str(data_path), kind, f"{data_space}", env_space)
    episodes = []
    try:
        for ep in storage.get_episodes(range(storage.total_episodes)):
            episodes.append(_episode(ep, data_path, value, obs_space, act_space))
    except (OSError, KeyError) as e:
        raise ConfigError(KEY, value, f"{data_path} has a damaged episode ({e})") from None
    return episodes


def _episode(ep: dict[str, Any], path: Path, value: Any, obs_space: Any, act_space: Any) -> Episode:
    where = f"{path} episode {ep['id']}"
    rewards = np.asarray(ep["rewards"], np.float32)
    L = len(rewards)
    try:
        obs = as_space(ep["observations"], obs_space, L + 1)
        actions = as_space(ep["actions"], act_space, L)
    except Mismatch as e:
        raise ConfigError(KEY, value, f"{where} has {e.what}, not what its spaces say") from None
    out_of_range = check_range(actions, act_space)
    if out_of_range:
        raise mismatch_error(value, where, "action", out_of_range, act_space)
    terminated = bool(L and ep["terminations"][-1])
    # An episode the collector closed without either flag was cut off: truncated.
    truncated = bool(L) and not terminated
    return Episode(
        observations=obs,
        actions=actions,
        rewards=rewards,
        is_terminated=terminated,
        is_truncated=truncated,
    )
