"""The experiment runner behind `rlrun train` and `rlrun evaluate`: trial folder, loggers, live
console, periodic checkpoints, resume; the stop criteria and Ctrl-C handling are rlrun.stop's,
the run's config rlrun.config.run_config's, its log handlers rlrun.run_logging's."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from rlrun.config.run_config import resolve_config
from rlrun.errors import ConfigError, RLRunError
from rlrun.results import (
    ResultLoggers,
    create_trial_dir,
    experiment_name,
    get_number,
    make_console,
    trial_name,
    write_error,
    write_params,
)
from rlrun.run_logging import ErrorFileHandler, setup_logging
from rlrun.stop import (
    StopSignal,
    check_metric,
    consistent_when_interrupted,
    describe_stop,
    stop_reason,
)

log = logging.getLogger("rlrun")


@dataclass
class SweepTrial:
    """How a sweep names one of its trials; `train` fills in `dir` once the folder exists."""

    experiment: str  # the sweep's folder name under results_dir
    tag: str  # the trial's own overrides, e.g. lr=0.001,seed=0
    index: int  # the trial's number in the sweep
    dir: Path | None = None


def train(cfg: DictConfig, overrides: list[str], sweep: SweepTrial | None = None) -> int:
    """Run one trial to its stop criterion. Returns the process exit code."""
    config = resolve_config(cfg, overrides)
    setup_logging(config["log_level"])
    log.debug("config: %s", json.dumps(config, default=str))
    algo_name, env_id = config["algo"]["name"], config["env"]["id"]
    trial_dir = create_trial_dir(
        config["results_dir"],
        sweep.experiment if sweep else experiment_name(config),
        trial_name(
            algo_name,
            env_id,
            tag=sweep.tag if sweep else None,
            index=sweep.index if sweep else None,
        ),
    )
    if sweep:
        sweep.dir = trial_dir
    write_params(trial_dir, config, overrides)

    fault_log = logging.getLogger("rlrun.fault")
    fault_handler = ErrorFileHandler(trial_dir)
    fault_log.addHandler(fault_handler)
    try:
        return _train(config, overrides, trial_dir)
    finally:
        fault_log.removeHandler(fault_handler)
        from rlrun.cluster import shutdown_ray

        shutdown_ray()


def _train(config: dict[str, Any], overrides: list[str], trial_dir: Path) -> int:
    algo = _build_algorithm(config, trial_dir)
    output = algo.episode_writer or contextlib.nullcontext()  # closed however the run ends
    if algo.episode_writer is not None:  # output=DIR: episodes go to DIR/<this trial's name>/
        algo.episode_writer.rename(trial_dir.name)

    stop = dict(config["stop"])
    target = algo.reward_threshold if stop.get("reward") == "auto" else stop.get("reward")
    stop_desc = describe_stop(stop, target)
    loop = _TrainLoop(algo, _Checkpoints(algo, trial_dir, config["checkpoint"]), stop, target)
    console = make_console(config["console"], trial_dir, stop_desc, stop={**stop, "reward": target})
    t_start = time.perf_counter()
    with console, ResultLoggers(trial_dir) as loggers, StopSignal() as sig, output:
        console.start()
        try:
            loop.run(loggers, console, sig, t_start)
        except KeyboardInterrupt as interrupt:
            loop.abort(interrupt)
            loop.finish(console)
            algo.stop()
            return loop.exit_code
        except Exception as e:
            write_error(trial_dir, e)
            console.close()
            if not isinstance(e, RLRunError):  # a user error's message says it all
                log.error("training failed; traceback in %s", trial_dir / "error.txt")
            algo.stop()
            raise
        if config["checkpoint"]["at_end"] or loop.exit_code:
            try:
                loop.checkpoints.save()
            except Exception as e:  # e.g. an on_checkpoint_saved callback: error.txt says why
                write_error(trial_dir, e)
                console.close()
                algo.stop()
                raise
        loop.finish(console)
    algo.stop()
    return loop.exit_code


def _build_algorithm(config: dict[str, Any], trial_dir: Path) -> Any:
    """The algorithm, restored from `resume` when given."""
    from rlrun.algorithms.registry import algorithm_class_for

    try:
        algo = algorithm_class_for(config)(config)
        if config.get("resume"):
            algo.restore(config["resume"])
    except Exception as e:
        write_error(trial_dir, e)  # the trial folder exists by now: say why it holds no results
        raise
    return algo


class _Checkpoints:
    """A trial's checkpoints: written every `frequency` iterations (and at the end, or on a
    signal), pruned to `num_to_keep`, ranked by `score_attribute` when it is set."""

    def __init__(self, algo: Any, trial_dir: Path, cfg: dict[str, Any]) -> None:
        self.algo = algo
        self.trial_dir = trial_dir
        self.cfg = cfg
        self.score_key = cfg["score_attribute"]
        self.scores: dict[str, float | None] = {}
        self.last_score: float | None = None
        self.last: Path | None = None

    def note(self, result: dict[str, Any]) -> None:
        """Keep the score of the latest result that has one, for the next checkpoint."""
        if self.score_key and (value := get_number(result, self.score_key)) is not None:
            self.last_score = value

    def due(self) -> bool:
        freq = self.cfg["frequency"]
        return bool(freq and self.algo.iteration % freq == 0)

    def save(self) -> Path:
        from rlrun.results.checkpoint import checkpoint_dir_name, prune_checkpoints

        path = self.algo.save(self.trial_dir / checkpoint_dir_name(self.algo.iteration))
        log.info("checkpoint written: %s", path)
        self.scores[path.name] = self.last_score
        prune_checkpoints(
            self.trial_dir,
            self.cfg["num_to_keep"],
            self.scores if self.score_key else None,
            self.cfg["score_order"],
        )
        self.algo.callbacks.on_checkpoint_saved(self.algo, path)
        self.last = path
        return path


@dataclass
class _TrainLoop:
    """`algo.train()` until a stop criterion or a signal, and how the run ended (for the
    console's summary and the exit code)."""

    algo: Any
    checkpoints: _Checkpoints
    stop: dict[str, Any]
    target: float | None
    reason: str = "stopped"
    exit_code: int = 0
    last_return: float | None = None
    # Keys to check for typos once a result that should hold them arrives.
    unchecked: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.unchecked["stop.metric"] = self.stop["metric"]
        if self.checkpoints.score_key:
            self.unchecked["checkpoint.score_attribute"] = self.checkpoints.score_key

    def run(self, loggers: Any, console: Any, sig: StopSignal, t_start: float) -> None:
        while True:
            result = self.algo.train()
            loggers.log(result)
            console.update(result)
            self._check_metrics(result)
            self.checkpoints.note(result)
            self.last_return = get_number(result, "env_runners/episode_return_mean")
            wall_s = time.perf_counter() - t_start
            self.reason = stop_reason(result, self.stop, self.target, wall_s) or ""
            if self.checkpoints.due() and not self.reason:
                self.checkpoints.save()
            if self.reason:
                return
            if sig.signum is not None:
                self.reason = f"{signal.Signals(sig.signum).name} received"
                self.exit_code = sig.exit_code
                return

    def _check_metrics(self, result: dict[str, Any]) -> None:
        for key, metric in list(self.unchecked.items()):
            # Evaluation results only come with evaluating iterations.
            if not metric.startswith("evaluation/") or "evaluation" in result:
                check_metric(key, metric, result)
                del self.unchecked[key]

    def abort(self, interrupt: KeyboardInterrupt) -> None:
        """A second Ctrl-C mid-iteration. Caught while sampling (e.g. an env hung in the
        driver's runner), the learners hold the last completed update: save that. Caught
        inside an update or a checkpoint write, the state may be half-written: no save."""
        self.reason, self.exit_code = "aborted by a second Ctrl-C", 130
        if consistent_when_interrupted(interrupt):
            try:
                self.checkpoints.save()
                self.reason += " (the state after the last completed update was saved)"
            except Exception as e:  # noqa: BLE001 - the interrupt is what the user sees
                log.warning("could not save a checkpoint after Ctrl-C: %s", e)

    def finish(self, console: Any) -> None:
        console.finish(console.best_return, self.last_return, self.checkpoints.last, self.reason)


def evaluate(
    checkpoint: Path,
    episodes: int = 10,
    render: bool = False,
    video: str | None = None,
    seed: int | None = None,
    explore: bool = False,
    log_level: str = "WARN",
    output: str | None = None,
    output_format: str = "json",
) -> int:
    """`rlrun evaluate`: run the checkpoint's policy, print a table, write evaluation.json
    (and, with `output=DIR`, the episodes, as `rlrun train output=DIR` writes them)."""
    from rlrun.algorithms.algorithm import Algorithm

    setup_logging(log_level)
    if render:
        _require("pygame", "render=true")
    if video:
        _require("moviepy", "video=DIR")
    algo = Algorithm.from_checkpoint(checkpoint)
    try:
        stats = algo.evaluate(
            episodes=episodes,
            explore=explore,
            render_mode="human" if render else None,
            video_dir=str(Path(video).expanduser().resolve()) if video else None,
            seed=seed,
            output=output,
            output_format=output_format,
        )
    finally:
        algo.stop()
    stats = {**stats, "checkpoint": str(checkpoint), "explore": explore, "seed": seed}
    out = Path(checkpoint) / "evaluation.json"
    out.write_text(json.dumps(stats, indent=1))
    _print_evaluation(stats, algo.config["env"]["id"], out)
    return 0


def _print_evaluation(stats: dict[str, Any], env_id: str, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{env_id}: {stats['episodes']} episodes ({'stochastic' if stats['explore'] else 'deterministic'})"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    # Multi-agent checkpoints add each agent's and each module's mean return.
    per_agent = [k for k in stats if k.startswith(("agent_episode_", "module_episode_"))]
    for k in (
        "episode_return_mean",
        "episode_return_std",
        "episode_return_min",
        "episode_return_max",
        "episode_len_mean",
        *per_agent,
    ):
        v = stats[k]
        table.add_row(k, "nan" if math.isnan(v) else f"{v:.2f}")
    console = Console()
    console.print(table)
    console.print(f"written to {out}", soft_wrap=True)


def _require(module: str, what: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ConfigError(
            what.split("=")[0], what.split("=")[1], f"needs {module}: pip install 'rlrun[render]'"
        )
