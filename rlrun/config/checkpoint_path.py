"""Checks a checkpoint path given on the command line (`checkpoint=`, `resume=`) before any heavy import.

Only the folder layout and the marker file are checked here; loading the state is rlrun.results' job.
"""

from __future__ import annotations

import json
from pathlib import Path

from rlrun.errors import CheckpointError

CHECKPOINT_MARKER = "rlrun_checkpoint.json"
_CHECKPOINT_CONTENT = (
    f"A checkpoint is a checkpoint_NNNNNN/ folder inside a trial folder; it holds {CHECKPOINT_MARKER}, "
    "config.yaml and the saved module, learner and env-runner state."
)


def check_checkpoint(path: str | Path, key: str = "checkpoint") -> Path:
    """The absolute checkpoint folder for `path` (`~` expanded), or a CheckpointError saying why not."""
    folder = Path(str(path)).expanduser()
    if folder.is_file() and folder.name == CHECKPOINT_MARKER:
        folder = folder.parent  # the marker file itself names its folder well enough
    if not folder.exists():
        raise CheckpointError(f"{key}={path}: {folder} does not exist. {_CHECKPOINT_CONTENT}")
    if not folder.is_dir():
        raise CheckpointError(
            f"{key}={path}: {folder} is a file, not a checkpoint folder. {_CHECKPOINT_CONTENT}"
        )
    marker = folder / CHECKPOINT_MARKER
    if not marker.is_file():
        inside = sorted(folder.glob(f"checkpoint_*/{CHECKPOINT_MARKER}"))
        hint = (
            f" It looks like a trial folder; its latest checkpoint is {inside[-1].parent}."
            if inside
            else ""
        )
        raise CheckpointError(
            f"{key}={path}: {folder} is not an rlrun checkpoint: it has no {CHECKPOINT_MARKER}.{hint} "
            f"{_CHECKPOINT_CONTENT}"
        )
    try:
        meta = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(
            f"{key}={path}: {marker} is corrupt (not readable JSON: {e})."
        ) from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{key}={path}: {marker} is corrupt (a JSON object is expected).")
    return folder.resolve()
