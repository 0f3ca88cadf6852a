"""One sweep trial: compose, train, and record how it went. It never raises, so one failed trial
does not stop the others; the record (one small JSON file per trial) is what the summary and
the launchers read back."""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("rlrun.sweep")

RECORDS_DIR = ".sweep"  # under the experiment folder: one record per trial


@dataclass
class TrialSpec:
    """What every trial of one sweep shares."""

    experiment: str  # folder name under results_dir
    records_dir: str  # where each trial's record goes
    sweep_keys: list[str]
    console: str | None = None  # forced console mode (parallel trials: "off")
    # `rlrun train -m --resume`: earlier records of this experiment, by trial overrides; a
    # trial that finished is not run again, an interrupted or failed one resumes from its
    # trial folder's newest complete checkpoint.
    earlier: dict[str, TrialRecord] | None = None


def trial_key(overrides: list[str]) -> str:
    """A trial's identity across re-runs of the same sweep: its sorted task overrides."""
    return "\n".join(sorted(overrides))


@dataclass
class TrialRecord:
    index: int
    overrides: list[str]
    tag: str
    status: str  # ok | failed | interrupted
    exit_code: int
    trial_dir: str | None = None
    error: str | None = None
    metric: str | None = None  # the stop metric ...
    value: float | None = None  # ... and its last value: what a search sweeper maximizes
    started: float | None = None  # wall-clock (epoch seconds) start and end of the trial
    finished: float | None = None


def run_trial(overrides: list[str], index: int, spec: TrialSpec) -> TrialRecord:
    from rlrun.config.compose import compose
    from rlrun.config.validate import check_env_id, validate
    from rlrun.errors import RLRunError
    from rlrun.run import SweepTrial, train
    from rlrun.sweep.plan import trial_tag

    tag = trial_tag(overrides, spec.sweep_keys)
    earlier = (spec.earlier or {}).get(trial_key(overrides))
    if earlier is not None and earlier.status == "ok":
        # Finished in an earlier run of this sweep: its record stands, nothing is trained.
        done = TrialRecord(**{**asdict(earlier), "index": index})
        save_record(done, Path(spec.records_dir))
        log.info("trial %d [%s] finished in an earlier run: skipped", index, tag)
        return done
    sweep = SweepTrial(experiment=spec.experiment, tag=tag, index=index)
    record = TrialRecord(
        index=index,
        overrides=list(overrides),
        tag=tag,
        status="ok",
        exit_code=0,
        started=time.time(),
    )
    try:
        run_overrides = list(overrides)
        if earlier is not None and _has_checkpoint(earlier.trial_dir):
            run_overrides = _resume_overrides(overrides, str(earlier.trial_dir))
            log.info("trial %d [%s] resumes from %s", index, tag, earlier.trial_dir)
        cfg = compose(run_overrides)
        if spec.console:
            cfg.console = spec.console
        validate(cfg)
        check_env_id(cfg)
        record.metric = str(cfg.stop.metric)
        if cfg.get("resume"):
            from rlrun.config.checkpoint_path import check_checkpoint

            cfg.resume = str(check_checkpoint(cfg.resume, key="resume"))
        record.exit_code = int(train(cfg, run_overrides, sweep=sweep))
        if record.exit_code:
            record.status = "interrupted"
    except KeyboardInterrupt:
        record.status, record.exit_code = "interrupted", 130
    except RLRunError as e:
        record.status, record.exit_code, record.error = "failed", e.exit_code, str(e)
    except Exception as e:  # a bug or a user callback: its traceback is in the trial's error.txt
        record.status, record.exit_code = "failed", 1
        record.error = f"{type(e).__name__}: {e}"
    record.trial_dir = str(sweep.dir) if sweep.dir else None
    record.finished = time.time()
    if record.metric and sweep.dir:
        record.value = last_value(sweep.dir, record.metric)
    save_record(record, Path(spec.records_dir))
    return record


def _has_checkpoint(trial_dir: str | None) -> bool:
    from rlrun.config.checkpoint_path import CHECKPOINT_MARKER

    return bool(trial_dir) and any(Path(str(trial_dir)).glob(f"checkpoint_*/{CHECKPOINT_MARKER}"))


def _resume_overrides(overrides: list[str], trial_dir: str) -> list[str]:
    """The trial's overrides resuming from its folder: the checkpoint fixes the config groups
    (algo=, env=, ...), so only key overrides go with it."""
    from rlrun.config.run_config import CONFIG_GROUPS

    keep = [o for o in overrides if o.lstrip("+~").split("=", 1)[0] not in CONFIG_GROUPS]
    # Quoted: trial folder names hold '=' (seed=0), which Hydra's grammar reads as syntax.
    quoted = "'" + trial_dir.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return [*keep, f"resume={quoted}"]


def earlier_records(experiment_dir: Path) -> dict[str, TrialRecord]:
    """Every earlier sweep's records in this experiment folder, newest last wins, by trial."""
    out: dict[str, TrialRecord] = {}
    for folder in sorted((Path(experiment_dir) / RECORDS_DIR).glob("*")):
        if folder.is_dir():
            for record in load_records(folder):
                out[trial_key(record.overrides)] = record
    return out


def last_value(trial_dir: Path, metric: str) -> float | None:
    """The metric's value in the trial's last result line (None if it never had one)."""
    from rlrun.results import get_number

    value = None
    for result in read_results(trial_dir):
        v = get_number(result, metric)
        if v is not None and math.isfinite(v):
            value = v
    return value


def read_results(trial_dir: Path) -> list[dict[str, Any]]:
    """result.json's lines; a torn last line (a killed run) is skipped."""
    path = Path(trial_dir) / "result.json"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def save_record(record: TrialRecord, records_dir: Path) -> None:
    records_dir.mkdir(parents=True, exist_ok=True)
    path = records_dir / f"{record.index:05d}.json"
    path.write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")


def load_records(records_dir: Path) -> list[TrialRecord]:
    records = []
    for path in sorted(Path(records_dir).glob("*.json")):
        try:
            records.append(TrialRecord(**json.loads(path.read_text(encoding="utf-8"))))
        except (json.JSONDecodeError, TypeError) as e:
            log.warning("skipping unreadable trial record %s: %s", path, e)
    return records
