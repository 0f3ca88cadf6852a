"""`offline_data.input_` -> Episode objects: which files a value names, and which reader
takes each (rlrun's JSON lines / parquet records, or a Minari dataset)."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from rlrun.core.episode import Episode
from rlrun.errors import ConfigError
from rlrun.offline.convert import KEY

_RECORD_SUFFIXES = (".jsonl", ".json", ".parquet")
_ALLOWED = (
    "a folder or files written by output= (.jsonl, .json, .parquet), a Minari dataset folder, "
    "minari:<dataset id>, or a list of these"
)


def load_episodes(
    offline_cfg: dict[str, Any], observation_space: Any, action_space: Any
) -> list[Episode]:
    """Every episode `offline_cfg["input_"]` names, in file order, as arrays in the column
    dtypes of the spaces (float32 Boxes, int64 Discrete), checked against them: the spaces
    the module sees (after env-to-module connectors, as `output=` records them). Actions are
    as the env received them. Bad input is a ConfigError on offline_data.input_."""
    value = offline_cfg["input_"]
    sources = _sources(value)
    episodes: list[Episode] = []
    for source in sources:
        episodes += _read_source(source, value, observation_space, action_space)
    if not any(len(ep) for ep in episodes):
        raise ConfigError(KEY, value, "holds no episodes (no record with a step)", _ALLOWED)
    return episodes


def check_sources(value: Any) -> None:
    """That every path `value` names exists (a cheap check before a run starts: the files are
    read, and their contents checked, when the algorithm first needs them)."""
    from rlrun.offline.minari_reader import PREFIX, dataset_id_path, minari_data_path

    for source in _sources(value):
        if source.startswith(PREFIX):
            if minari_data_path(dataset_id_path(source[len(PREFIX) :])) is None:
                raise _no_minari(source[len(PREFIX) :], value)
        else:
            _expand(source, value)


def _no_minari(dataset_id: str, value: Any) -> ConfigError:
    from rlrun.offline.minari_reader import dataset_id_path

    return ConfigError(
        KEY, value, f"no Minari dataset {dataset_id!r} at {dataset_id_path(dataset_id)} (set "
        "MINARI_DATASETS_PATH to the folder that holds it; nothing is downloaded)",
    )  # fmt: skip


def _sources(value: Any) -> list[str]:
    if value is None or value == "" or value == []:
        raise ConfigError(
            KEY, value, "offline algorithms learn from recorded episodes: name them", _ALLOWED
        )
    items = list(value) if isinstance(value, list | tuple) else [value]
    if not all(isinstance(v, str | Path) and str(v) for v in items):
        raise ConfigError(KEY, value, "must be a path or a list of paths", _ALLOWED)
    return [str(v) for v in items]


def _read_source(source: str, value: Any, obs_space: Any, act_space: Any) -> list[Episode]:
    from rlrun.offline.minari_reader import PREFIX, dataset_id_path, minari_data_path, read_minari
    from rlrun.offline.records import read_records

    if source.startswith(PREFIX):
        dataset_id = source[len(PREFIX) :]
        folder = dataset_id_path(dataset_id)
        data_path = minari_data_path(folder)
        if data_path is None:
            raise _no_minari(dataset_id, value)
        return read_minari(data_path, value, obs_space, act_space)
    episodes: list[Episode] = []
    for path in _expand(source, value):
        data_path = minari_data_path(path) if path.is_dir() else None
        if data_path is not None:
            episodes += read_minari(data_path, value, obs_space, act_space)
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in (".jsonl", ".parquet"))
            if not files:
                raise ConfigError(
                    KEY, value, f"the folder {path} holds no .jsonl or .parquet files", _ALLOWED
                )
            for f in files:
                episodes += read_records(f, value, obs_space, act_space)
        elif path.suffix in _RECORD_SUFFIXES:
            episodes += read_records(path, value, obs_space, act_space)
        else:
            raise ConfigError(KEY, value, f"{path}: unknown file type {path.suffix!r}", _ALLOWED)
    return episodes


def _expand(source: str, value: Any) -> list[Path]:
    """A path, or a glob pattern's matches (sorted). A relative path that is not in the working
    directory is looked up in rlrun's own folder, so the tuned examples' data
    (tuned_examples/data/...) is found from anywhere."""
    path = Path(source).expanduser()
    if not path.is_absolute() and not path.exists() and not glob.glob(str(path)):
        from rlrun.config.paths import conf_dir

        in_project = conf_dir().parent / path
        if in_project.exists() or glob.glob(str(in_project)):
            path, source = in_project, str(in_project)
    if glob.has_magic(source):
        matches = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
        if not matches:
            raise ConfigError(KEY, value, f"the pattern {source} matches no file", _ALLOWED)
        return matches
    if not path.exists():
        raise ConfigError(KEY, value, f"{path} does not exist", _ALLOWED)
    return [path]
