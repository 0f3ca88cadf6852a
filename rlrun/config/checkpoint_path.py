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
    """The absolute checkpoint folder for `path` (`~` expanded), or a CheckpointError saying why not.

    A trial folder (or an experiment folder holding one trial) stands for its latest complete
    checkpoint: `checkpoint_NNNNNN/` folders with their marker. A `.tmp` folder is a checkpoint
    whose writing was cut off (the process was killed): checkpoints are written there and
    renamed only once complete, so it is passed over.
    """
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
        folder = _latest_checkpoint(folder, key, path)
        marker = folder / CHECKPOINT_MARKER
    try:
        meta = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(
            f"{key}={path}: {marker} is corrupt (not readable JSON: {e})."
        ) from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{key}={path}: {marker} is corrupt (a JSON object is expected).")
    return folder.resolve()


def _latest_checkpoint(folder: Path, key: str, path: str | Path) -> Path:
    """The newest complete checkpoint in trial folder `folder`, or in the one trial of an
    experiment folder; CheckpointError when there is none, or several trials to choose from."""
    complete = _complete_checkpoints(folder)
    if not complete:
        trials = sorted(d for d in folder.iterdir() if d.is_dir() and _complete_checkpoints(d))
        if len(trials) > 1:
            names = ", ".join(t.name for t in trials[:6]) + (", ..." if len(trials) > 6 else "")
            raise CheckpointError(
                f"{key}={path}: {folder} holds {len(trials)} trials with checkpoints ({names}); "
                "name the trial folder, or one of its checkpoint_NNNNNN folders."
            )
        if trials:
            complete = _complete_checkpoints(trials[0])
    if not complete:
        raise CheckpointError(
            f"{key}={path}: {folder} is not an rlrun checkpoint (it has no {CHECKPOINT_MARKER}), "
            f"and no complete checkpoint_NNNNNN folder is in it or in one trial folder below it. "
            f"{_CHECKPOINT_CONTENT}"
        )
    return complete[-1]


def _complete_checkpoints(trial: Path) -> list[Path]:
    """checkpoint_NNNNNN folders with their marker, oldest first (`.tmp` leftovers excluded)."""
    found = [
        d
        for d in trial.glob("checkpoint_*")
        if d.is_dir()
        and d.name[len("checkpoint_") :].isdigit()
        and (d / CHECKPOINT_MARKER).is_file()
    ]
    return sorted(found, key=lambda d: int(d.name[len("checkpoint_") :]))
