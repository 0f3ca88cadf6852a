"""The experiment runner behind `rlrun train` and `rlrun evaluate`: trial folder, loggers, live
console, stop criteria, periodic checkpoints, Ctrl-C handling, resume."""

from __future__ import annotations

import contextlib
import difflib
import json
import logging
import math
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from rlrun.errors import ConfigError, RLRunError
from rlrun.results import (
    ResultLoggers,
    create_trial_dir,
    experiment_name,
    flatten,
    get_number,
    make_console,
    trial_name,
    write_error,
    write_params,
)

log = logging.getLogger("rlrun")

# Config groups pick whole sections; a checkpoint's config already has its sections.
_GROUPS = ("algo", "env", "env_runner", "learner", "experiment")


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time, so records logged while the rich console
    is live go through its redirect and print above the panel instead of over it."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class _ErrorFileHandler(logging.Handler):
    """Appends fault records (a failed env runner or sub-env, with its traceback) to error.txt,
    so what went wrong is kept even when the run recovered and went on."""

    def __init__(self, trial_dir: Path) -> None:
        super().__init__(logging.WARNING)
        self.trial_dir = trial_dir
        self.setFormatter(logging.Formatter("%(asctime)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        write_error(self.trial_dir, self.format(record))


def _setup_logging(level: str) -> None:
    """rlrun's loggers at `level`; other libraries' (Ray, Hydra, ...) at WARNING or quieter
    unless DEBUG was asked for, so that -v shows rlrun's INFO lines and not their chatter."""
    handler = _CurrentStderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    number = logging.getLevelName({"WARN": "WARNING"}.get(level, level))
    others = number if number <= logging.DEBUG else max(number, logging.WARNING)
    logging.basicConfig(level=others, handlers=[handler], force=True)
    logging.getLogger("rlrun").setLevel(number)


class _StopSignal:
    """First SIGINT/SIGTERM: finish the iteration, checkpoint, exit. Second: abort now."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _StopSignal:
        if threading.current_thread() is not threading.main_thread():
            return self  # signals reach only the main thread (e.g. a trial run by a launcher)
        for s in (signal.SIGINT, signal.SIGTERM):
            self._old[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum
        log.warning(
            "%s received: finishing this iteration, then writing a final checkpoint "
            "(press Ctrl-C again to abort at once)",
            signal.Signals(signum).name,
        )

    def __exit__(self, *exc: object) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum or 0)


def resolve_config(cfg: DictConfig, overrides: list[str]) -> dict[str, Any]:
    """The plain config a run uses; with `resume`, the checkpoint's config plus the overrides."""
    if not cfg.get("resume"):
        out: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    else:
        from rlrun.config.compose import load_config_file

        base = load_config_file(Path(cfg.resume) / "config.yaml")
        for ov in overrides:
            key = ov.lstrip("+~").split("=", 1)[0]
            if key == "resume":
                continue
            if key in _GROUPS:
                raise ConfigError(
                    key,
                    ov.split("=", 1)[-1],
                    "cannot change a config group when resuming: the checkpoint fixes the algorithm, "
                    "env and runners. Override single keys instead (e.g. stop.iterations=50, or "
                    "env_runner.num_env_runners=2 to go on in Ray actors)",
                )
            # compose() already parsed and type-checked the value against the schema.
            OmegaConf.update(base, key, OmegaConf.select(cfg, key), merge=False)
        base.resume = cfg.resume
        out = OmegaConf.to_container(base, resolve=True)  # type: ignore[assignment]
    if out.get("seed") is None:
        out["seed"] = random.randrange(2**31)  # recorded in params.json so the run can be repeated
    return out


def stop_reason(
    result: dict[str, Any], stop: dict[str, Any], target: float | None, wall_s: float
) -> str | None:
    """Why `stop` (the config's section; `target`: its reward, "auto" resolved) ends the run
    after `result`, or None. `rlrun train` and Tune trials (rlrun.tune) both ask it."""
    value = get_number(result, stop["metric"])
    if target is not None and value is not None and value >= target:
        return f"{stop['metric']} {value:.2f} >= {target:g}"
    if (
        stop.get("timesteps") is not None
        and result["num_env_steps_sampled_lifetime"] >= stop["timesteps"]
    ):
        return f"num_env_steps_sampled_lifetime >= {stop['timesteps']}"
    if stop.get("iterations") is not None and result["training_iteration"] >= stop["iterations"]:
        return f"training_iteration >= {stop['iterations']}"
    if stop.get("time_s") is not None and wall_s >= stop["time_s"]:
        return f"time >= {stop['time_s']} s"
    return None


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
    _setup_logging(config["log_level"])
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
    fault_handler = _ErrorFileHandler(trial_dir)
    fault_log.addHandler(fault_handler)
    try:
        return _train(config, overrides, trial_dir)
    finally:
        fault_log.removeHandler(fault_handler)
        from rlrun.cluster import shutdown_ray

        shutdown_ray()


def _train(config: dict[str, Any], overrides: list[str], trial_dir: Path) -> int:
    from rlrun.algorithms.registry import algorithm_class_for
    from rlrun.results.checkpoint import checkpoint_dir_name, prune_checkpoints

    try:
        algo = algorithm_class_for(config)(config)
        if config.get("resume"):
            algo.restore(config["resume"])
    except Exception as e:
        write_error(trial_dir, e)  # the trial folder exists by now: say why it holds no results
        raise
    output = algo.episode_writer or contextlib.nullcontext()  # closed however the run ends
    if algo.episode_writer is not None:  # output=DIR: episodes go to DIR/<this trial's name>/
        algo.episode_writer.rename(trial_dir.name)

    stop = dict(config["stop"])
    target = algo.reward_threshold if stop.get("reward") == "auto" else stop.get("reward")
    stop_desc = _describe_stop(stop, target)
    ckpt_cfg = config["checkpoint"]
    score_key = ckpt_cfg["score_attribute"]
    scores: dict[str, float | None] = {}
    last_score: float | None = None

    def save() -> Path:
        path = algo.save(trial_dir / checkpoint_dir_name(algo.iteration))
        log.info("checkpoint written: %s", path)
        scores[path.name] = last_score
        prune_checkpoints(
            trial_dir,
            ckpt_cfg["num_to_keep"],
            scores if score_key else None,
            ckpt_cfg["score_order"],
        )
        algo.callbacks.on_checkpoint_saved(algo, path)
        return path

    # Keys to check for typos once a result that should hold them arrives.
    unchecked = {"stop.metric": stop["metric"]}
    if score_key:
        unchecked["checkpoint.score_attribute"] = score_key
    last_ckpt: Path | None = None
    last_return: float | None = None
    reason = "stopped"
    exit_code = 0
    console = make_console(config["console"], trial_dir, stop_desc, stop={**stop, "reward": target})
    t_start = time.perf_counter()
    with console, ResultLoggers(trial_dir) as loggers, _StopSignal() as sig, output:
        console.start()
        try:
            while True:
                result = algo.train()
                loggers.log(result)
                console.update(result)
                for key, metric in list(unchecked.items()):
                    # Evaluation results only come with evaluating iterations.
                    if not metric.startswith("evaluation/") or "evaluation" in result:
                        _check_metric(key, metric, result)
                        del unchecked[key]
                if score_key and (value := get_number(result, score_key)) is not None:
                    last_score = value
                last_return = get_number(result, "env_runners/episode_return_mean")
                freq = ckpt_cfg["frequency"]
                reason = stop_reason(result, stop, target, time.perf_counter() - t_start) or ""
                if freq and algo.iteration % freq == 0 and not reason:
                    last_ckpt = save()
                if reason:
                    break
                if sig.signum is not None:
                    reason = f"{signal.Signals(sig.signum).name} received"
                    exit_code = sig.exit_code
                    break
        except KeyboardInterrupt as interrupt:
            # A second Ctrl-C mid-iteration. Caught while sampling (e.g. an env hung in the
            # driver's runner), the learners hold the last completed update: save that. Caught
            # inside an update or a checkpoint write, the state may be half-written: no save.
            reason, exit_code = "aborted by a second Ctrl-C", 130
            if _consistent_when_interrupted(interrupt):
                try:
                    last_ckpt = save()
                    reason += " (the state after the last completed update was saved)"
                except Exception as e:  # noqa: BLE001 - the interrupt is what the user sees
                    log.warning("could not save a checkpoint after Ctrl-C: %s", e)
            console.finish(console.best_return, last_return, last_ckpt, reason)
            algo.stop()
            return exit_code
        except Exception as e:
            write_error(trial_dir, e)
            console.close()
            if not isinstance(e, RLRunError):  # a user error's message says it all
                log.error("training failed; traceback in %s", trial_dir / "error.txt")
            algo.stop()
            raise
        if ckpt_cfg["at_end"] or exit_code:
            try:
                last_ckpt = save()
            except Exception as e:  # e.g. an on_checkpoint_saved callback: error.txt says why
                write_error(trial_dir, e)
                console.close()
                algo.stop()
                raise
        console.finish(console.best_return, last_return, last_ckpt, reason)
    algo.stop()
    return exit_code


# Where an interrupt leaves state half-written: a learner's update (weights, optimizer
# moments, counters moved together) or a checkpoint being written.
_UNSAFE_TO_SAVE = ("learner.py", "learner_group.py", "optim.py", "checkpoint.py")


def _consistent_when_interrupted(interrupt: BaseException) -> bool:
    """Whether the algorithm's state is whole where `interrupt` was raised: anywhere but
    inside a learner update or a checkpoint write (sampling, an env's step, evaluation)."""
    import traceback

    frames = traceback.extract_tb(interrupt.__traceback__)
    return not any(
        "rlrun" in Path(f.filename).parts and Path(f.filename).name.endswith(_UNSAFE_TO_SAVE)
        for f in frames
    )


def _check_metric(key: str, metric: str, result: dict[str, Any]) -> None:
    """A typo'd metric would otherwise never stop the run (or rank checkpoints): name it after
    the first result that should hold it."""
    keys = list(flatten(result))
    if metric not in keys:
        close = difflib.get_close_matches(metric, keys, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        raise ConfigError(
            key,
            metric,
            f"is not a key of the training results.{hint}",
            allowed="any key of result.json, '/'-separated (e.g. env_runners/episode_return_mean)",
        )


def _describe_stop(stop: dict[str, Any], target: float | None) -> str:
    parts = []
    if target is not None:
        parts.append(f"{stop['metric']} >= {target:g}")
    if stop.get("timesteps") is not None:
        parts.append(f"{stop['timesteps']:,} env steps")
    if stop.get("iterations") is not None:
        parts.append(f"{stop['iterations']} iterations")
    if stop.get("time_s") is not None:
        parts.append(f"{stop['time_s']:g} s")
    if not parts:
        log.warning(
            "no stop criterion set (and the env registers no reward_threshold): "
            "training runs until Ctrl-C"
        )
        return "until Ctrl-C"
    return " or ".join(parts)


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

    _setup_logging(log_level)
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
