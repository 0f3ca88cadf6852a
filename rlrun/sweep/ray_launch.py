"""Sweep trials in parallel on Ray: each trial is a Ray task in its own placement group.

The placement group holds one bundle for the trial's driver (1 CPU, plus the GPU of a local
learner) and one per actor the trial starts (remote env runners, eval runners, learners), with
`placement_group_capture_child_tasks` so those actors land in the trial's own bundles. A trial is
therefore started only once everything it will ask for is free, and parallel trials can never
take each other's CPUs and stall half-started. The request is rlrun.cluster's, the same that
`rlrun train` checks a single run against.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rlrun.sweep.trial import TrialRecord, TrialSpec, run_trial

log = logging.getLogger("rlrun.sweep")


def trial_bundles(config: dict[str, Any]) -> list[dict[str, float]]:
    """The placement group of one trial: its driver's bundle first, then one per actor."""
    from rlrun.cluster import eval_cpus_per_runner, remote_actor_counts

    n = remote_actor_counts(config)
    runner, learner = config["env_runner"], config["learner"]
    local_gpu = 0.0 if n["learners"] else float(learner.get("num_gpus_per_learner", 0) or 0)
    bundles = [_bundle(1.0, local_gpu)]
    bundles += [
        _bundle(float(runner["num_cpus_per_env_runner"]), float(runner["num_gpus_per_env_runner"]))
    ] * n["env_runners"]
    bundles += [
        _bundle(eval_cpus_per_runner(config), float(runner["num_gpus_per_env_runner"]))
    ] * n["eval_env_runners"]
    bundles += [
        _bundle(float(learner["num_cpus_per_learner"]), float(learner["num_gpus_per_learner"]))
    ] * n["learners"]
    return [b for b in bundles if b]  # an actor that asks for nothing needs no bundle


def _bundle(cpu: float, gpu: float) -> dict[str, float]:
    return {k: v for k, v in (("CPU", cpu), ("GPU", gpu)) if v > 0}


def _run_remote(overrides: list[str], index: int, spec: TrialSpec) -> TrialRecord:
    return run_trial(overrides, index, spec)


def launch_on_ray(
    job_overrides: Sequence[Sequence[str]],
    initial_job_idx: int,
    hydra_config: Any,
    max_concurrent: int | None = None,
) -> list[Any]:
    import ray
    from ray.util.placement_group import remove_placement_group

    from rlrun.cluster import init_ray
    from rlrun.sweep import multirun

    spec, plan = multirun.current_sweep()
    init_ray(plan.base_config["ray"])
    remote = ray.remote(max_retries=0)(_run_remote)

    jobs = [(initial_job_idx + i, list(ov)) for i, ov in enumerate(job_overrides)]
    limit = max_concurrent or len(jobs)
    pending = list(jobs)
    running: dict[Any, tuple[int, list[str], Any]] = {}
    records: dict[int, TrialRecord] = {}
    try:
        while pending or running:
            while pending and len(running) < limit:
                index, overrides = pending.pop(0)
                ref, pg = _submit_trial(remote, overrides, index, spec)
                running[ref] = (index, overrides, pg)
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                index, overrides, pg = running.pop(ref)
                records[index] = _result(ref, index, overrides, spec)
                remove_placement_group(pg)
                multirun.print_trial_done(records[index])
    except KeyboardInterrupt:
        for ref in running:
            ray.cancel(ref, force=True)
        raise
    finally:
        from rlrun.cluster import shutdown_ray

        if not pending and not running:
            shutdown_ray()
    return _job_returns(jobs, records, hydra_config, str(plan.experiment_dir))


def _submit_trial(
    remote: Any, overrides: list[str], index: int, spec: TrialSpec
) -> tuple[Any, Any]:
    """Start one trial in a placement group of its own; returns (its task, the group)."""
    from omegaconf import OmegaConf
    from ray.util.placement_group import placement_group
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    from rlrun.config.compose import compose

    config = OmegaConf.to_container(compose(overrides), resolve=True)
    bundles = trial_bundles(config)  # type: ignore[arg-type]
    pg = placement_group(bundles, strategy="PACK")
    ref = remote.options(
        num_cpus=bundles[0].get("CPU", 0),
        num_gpus=bundles[0].get("GPU", 0),
        scheduling_strategy=PlacementGroupSchedulingStrategy(
            placement_group=pg,
            placement_group_bundle_index=0,
            placement_group_capture_child_tasks=True,
        ),
    ).remote(overrides, index, spec)
    return ref, pg


def _job_returns(
    jobs: list[tuple[int, list[str]]],
    records: dict[int, TrialRecord],
    hydra_config: Any,
    working_dir: str,
) -> list[Any]:
    """Hydra's JobReturn of each trial, in the jobs' order."""
    from hydra.core.utils import JobReturn, JobStatus

    returns = []
    for index, overrides in jobs:
        record = records[index]
        ret = JobReturn(
            overrides=overrides,
            cfg=None,
            hydra_cfg=hydra_config,
            working_dir=working_dir,
            task_name="rlrun",
            status=JobStatus.COMPLETED,
        )
        ret.return_value = record.value if record.status == "ok" else None
        returns.append(ret)
    return returns


def _result(ref: Any, index: int, overrides: list[str], spec: TrialSpec) -> TrialRecord:
    """The trial's record; a trial whose worker died is recorded here as failed."""
    import ray

    from rlrun.sweep.plan import trial_tag
    from rlrun.sweep.trial import save_record

    try:
        return ray.get(ref)
    except ray.exceptions.RayError as e:
        record = TrialRecord(
            index=index,
            overrides=overrides,
            tag=trial_tag(overrides, spec.sweep_keys),
            status="failed",
            exit_code=1,
            error=f"the trial's Ray worker failed: {str(e).strip().splitlines()[0]}",
        )
        save_record(record, Path(spec.records_dir))
        return record
