"""`rlrun train -m ...`: Hydra's multirun with rlrun's trials as the task.

Hydra's sweeper expands the overrides (comma lists, range(), choice(), or Optuna's search over
interval() and friends) and its launcher runs the trials: Hydra's basic one in turn in this
process, or rlrun's Ray launcher (hydra_plugins/rlrun_ray_launcher) in parallel. Each trial
composes its own overrides exactly as `rlrun train` would, so a trial of a sweep and the same
single run are the same run. docs/sweeps.md says why it is built this way.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from rlrun.sweep.plan import SweepPlan, plan_sweep
from rlrun.sweep.trial import (
    RECORDS_DIR,
    TrialSpec,
    earlier_records,
    load_records,
    run_trial,
)

log = logging.getLogger("rlrun.sweep")

# The spec of the sweep running in this process; Hydra's task function takes only the config.
_current: dict[str, Any] = {}


def run_multirun(overrides: list[str], resume: bool = False) -> int:
    """Run every trial; print and write the summary. Exit code 0 if every trial finished,
    1 if any failed, 130 if interrupted. `resume`: trials that finished in an earlier run of
    this sweep (same experiment folder) are skipped, interrupted or failed ones resume from
    their newest checkpoint."""
    now = datetime.now()
    plan = plan_sweep(overrides, now=now)
    records_dir = plan.experiment_dir / RECORDS_DIR / now.strftime("%Y-%m-%d_%H-%M-%S")
    earlier = earlier_records(plan.experiment_dir) if resume else None
    if resume and not earlier:
        log.warning("--resume: no earlier run of this sweep in %s; every trial starts anew",
                    plan.experiment_dir)  # fmt: skip
    spec = TrialSpec(
        experiment=plan.experiment,
        records_dir=str(records_dir),
        sweep_keys=plan.sweep_keys,
        console="off" if plan.launcher == "ray" else None,
        earlier=earlier,
    )
    print(
        f"rlrun: sweep over {', '.join(plan.sweep_keys) or 'the search space'} "
        f"({plan.sweeper} sweeper, {plan.launcher} launcher) into {plan.experiment_dir}",
        flush=True,
    )
    interrupted = False
    _current.update(spec=spec, plan=plan, stop=False)
    t0 = time.perf_counter()
    try:
        _hydra_multirun(plan)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        _current.clear()
    return _finish(plan, records_dir, interrupted, time.perf_counter() - t0)


def _hydra_multirun(plan: SweepPlan) -> None:
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.global_hydra import GlobalHydra

    from rlrun.config.paths import conf_dir
    from rlrun.config.store import register_schemas

    register_schemas()
    ours = [
        f"hydra.sweep.dir={_quote(str(plan.experiment_dir))}",
        "hydra.sweep.subdir=.",  # trials make their own folders (Tune-style names)
        "hydra.output_subdir=null",  # each trial writes its own .hydra/ config and overrides
        "hydra.job.chdir=false",
        "hydra/job_logging=none",  # rlrun sets up logging per trial
        "hydra/hydra_logging=none",
    ]
    if plan.sweeper == "optuna" and not any(
        o.startswith("hydra.sweeper.direction=") for o in plan.hydra_overrides
    ):
        ours.append("hydra.sweeper.direction=maximize")  # the stop metric: higher is better
    GlobalHydra.instance().clear()
    try:
        hydra = Hydra.create_main_hydra2(
            task_name="rlrun", config_search_path=create_config_search_path(str(conf_dir()))
        )
        hydra.multirun(
            config_name="config",
            task_function=_task,
            overrides=ours + plan.hydra_overrides + plan.task_overrides,
            with_log_configuration=False,
        )
    except Exception as e:
        from hydra.errors import HydraException
        from omegaconf.errors import OmegaConfBaseException

        from rlrun.errors import ConfigError, RLRunError

        if isinstance(e, RLRunError):
            raise
        if isinstance(e, (HydraException, OmegaConfBaseException)):
            raise ConfigError(None, None, f"the sweep could not start: {_first_line(e)}") from None
        if plan.sweeper == "optuna" and "No trials are completed yet" in str(e):
            return  # every trial failed: the summary says how
        raise
    finally:
        GlobalHydra.instance().clear()


def current_sweep() -> tuple[TrialSpec, SweepPlan]:
    """The sweep running in this process, for its launcher."""
    return _current["spec"], _current["plan"]


def _task(cfg: Any) -> float | None:
    """Hydra's task function (basic launcher): one trial, from this job's overrides."""
    from hydra.core.hydra_config import HydraConfig

    hc = HydraConfig.get()
    spec: TrialSpec = _current["spec"]
    if _current.get("stop"):
        return None  # Ctrl-C ended an earlier trial: the rest are not started
    record = run_trial(list(hc.overrides.task), int(hc.job.num), spec)
    if record.status == "interrupted" and record.exit_code >= 128:
        _current["stop"] = True
    print_trial_done(record)
    return record.value if record.status == "ok" else None


def print_trial_done(record: Any) -> None:
    value = "" if record.value is None else f" {record.metric}={record.value:.2f}"
    error = f": {record.error.splitlines()[0]}" if record.error else ""
    print(f"rlrun: trial {record.index} [{record.tag}] {record.status}{value}{error}", flush=True)


def _finish(plan: SweepPlan, records_dir: Path, interrupted: bool, wall_s: float) -> int:
    from rlrun.sweep.summary import print_summary, summarize, write_summary

    records = load_records(records_dir)
    rows = summarize(records)
    if rows:
        write_summary(rows, plan.experiment_dir)
        print_summary(rows, plan.experiment_dir)
    failed = sum(r.status == "failed" for r in rows)
    print(
        f"rlrun: {len(rows)} trials in {wall_s:.1f} s"
        + (f", {failed} failed" if failed else "")
        + (", interrupted" if interrupted else ""),
        flush=True,
    )
    if interrupted or any(r.status == "interrupted" for r in rows):
        return 130
    return 1 if failed else 0


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
