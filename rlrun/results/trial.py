"""Trial names and trial directories: where a run's files go, named as Tune names them."""

from __future__ import annotations

import json
import os
import re
import secrets
import traceback
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rlrun.results.flatten import to_jsonable

PARAMS_FILE = "params.json"
ERROR_FILE = "error.txt"
HYDRA_DIR = ".hydra"

# Leaves room for the id, index and timestamp within the common 255-byte name limit.
_MAX_PART = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# A sweep trial's overrides keep their `=` and `,` (`lr=0.001,seed=0`), as in Tune's names.
_UNSAFE_TAG = re.compile(r"[^A-Za-z0-9._=,-]+")


def safe_name(text: str, max_len: int = _MAX_PART, pattern: re.Pattern[str] = _UNSAFE) -> str:
    """`text` as one path component that is safe on every common filesystem.

    Anything but letters, digits, '.', '_' and '-' becomes '_' (so `ALE/Pong-v5` -> `ALE_Pong-v5`
    and `my_pkg.envs:Grid` -> `my_pkg.envs_Grid`); leading dots and dashes go, so the result is
    never hidden, `..`, or mistaken for a command-line option.
    """
    name = pattern.sub("_", text).lstrip(".-")[:max_len].rstrip(".")
    return name or "_"


def trial_id() -> str:
    """A random 5-character lowercase hex id, as Tune gives trials."""
    return secrets.token_hex(3)[:5]


def trial_name(
    algo_name: str,
    env_id: str,
    *,
    id: str | None = None,  # Tune's word for it
    index: int | None = None,
    now: datetime | None = None,
    tag: str | None = None,
) -> str:
    """`PPO_CartPole-v1_1a2b3_2024-05-01_12-00-00`; with `index` (a sweep's trial number),
    `PPO_CartPole-v1_1a2b3_00002_2024-05-01_12-00-00` as in Tune; with `tag` (a sweep trial's
    own overrides), `PPO_CartPole-v1_lr=0.001,seed=0_1a2b3_00002_2024-05-01_12-00-00`.

    The timestamp makes names sort by start time; the random id keeps two trials started in
    the same second apart.
    """
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
    parts = [safe_name(algo_name), safe_name(env_id)]
    if tag:
        parts.append(safe_name(tag, pattern=_UNSAFE_TAG))
    parts.append(safe_name(id or trial_id()))
    if index is not None:
        parts.append(f"{index:05d}")
    parts.append(stamp)
    return "_".join(parts)


def experiment_name(config: Mapping[str, Any]) -> str:
    """A run's experiment folder under results_dir: `name`, or "<algo>_<env id>" as Tune names
    it ("PPO_CartPole-v1")."""
    return config.get("name") or f"{config['algo']['name']}_{config['env']['id']}"


def expand_path(path: str | os.PathLike[str]) -> Path:
    """`path` with `~` and `$VARS` expanded, made absolute (printed paths must work from any cwd)."""
    return Path(os.path.expandvars(os.path.expanduser(os.fspath(path)))).absolute()


def create_trial_dir(
    results_dir: str | os.PathLike[str], experiment_name: str, trial_name: str
) -> Path:
    """Create `<results_dir>/<experiment_name>/<trial_name>/` and return its absolute path.

    An existing trial dir is never reused: if the name is taken, `_1`, `_2`, ... is appended
    (check the returned path's `.name`). The experiment dir is shared by trials and may exist.
    """
    if not experiment_name.strip():
        raise ValueError("experiment name must not be empty")
    experiment_dir = expand_path(results_dir) / safe_name(experiment_name, max_len=200)
    experiment_dir.mkdir(parents=True, exist_ok=True)
    base = safe_name(trial_name, max_len=240, pattern=_UNSAFE_TAG)
    for attempt in range(1000):
        candidate = experiment_dir / (base if attempt == 0 else f"{base}_{attempt}")
        try:
            # mkdir without exist_ok is atomic, so concurrent trials (a sweep) can't share a dir.
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free trial dir name for {base!r} in {experiment_dir}")


def write_params(
    trial_dir: str | os.PathLike[str],
    config: Mapping[str, Any],
    overrides: Sequence[str] = (),
) -> None:
    """Write the run's configuration three ways, where Tune and Hydra users look for it.

    `config` is the composed config as a plain container (`OmegaConf.to_container(cfg,
    resolve=True)`); a DictConfig is accepted too and resolved. Writes params.json (plain JSON),
    .hydra/config.yaml and .hydra/overrides.yaml (the command-line overrides, a YAML list).
    """
    # Lazy: omegaconf is only needed when a trial starts, not for `import rlrun.results`.
    from omegaconf import DictConfig, OmegaConf

    if isinstance(config, DictConfig):
        container = OmegaConf.to_container(config, resolve=True)
    else:
        container = dict(config)
    trial_dir = Path(trial_dir)
    params = json.dumps(to_jsonable(container), indent=2, allow_nan=False)
    (trial_dir / PARAMS_FILE).write_text(params + "\n", encoding="utf-8")
    hydra_dir = trial_dir / HYDRA_DIR
    hydra_dir.mkdir(parents=True, exist_ok=True)
    # The YAML keeps what JSON can't (inf, nan), so it is the one to recompose a run from.
    OmegaConf.save(OmegaConf.create(container), hydra_dir / "config.yaml")
    OmegaConf.save(OmegaConf.create([str(o) for o in overrides]), hydra_dir / "overrides.yaml")


def write_error(trial_dir: str | os.PathLike[str], error: BaseException | str) -> Path:
    """Append the exception's full traceback (or the given text) to error.txt; return its path.

    Appended, as Tune does: a run that recovered from failures keeps their tracebacks, and the
    one that ended it (if any) comes last.
    """
    text = error if isinstance(error, str) else "".join(traceback.format_exception(error))
    path = Path(trial_dir) / ERROR_FILE
    with path.open("a", encoding="utf-8") as f:
        if f.tell():
            f.write("\n")
        f.write(text if text.endswith("\n") else text + "\n")
    return path
