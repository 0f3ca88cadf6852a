"""When a run stops: the `stop` section's criteria (and the metric keys it names, checked against
the first results), and SIGINT/SIGTERM (finish the iteration, or abort on a second Ctrl-C)."""

from __future__ import annotations

import difflib
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from rlrun.errors import ConfigError
from rlrun.results import flatten, get_number

log = logging.getLogger("rlrun")


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


def describe_stop(stop: dict[str, Any], target: float | None) -> str:
    """The stop criteria in words, for the console."""
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


def check_metric(key: str, metric: str, result: dict[str, Any]) -> None:
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


class StopSignal:
    """First SIGINT/SIGTERM: finish the iteration, checkpoint, exit. Second: abort now."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopSignal:
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


# Where an interrupt leaves state half-written: a learner's update (weights, optimizer
# moments, counters moved together) or a checkpoint being written.
_UNSAFE_TO_SAVE = ("learner.py", "learner_group.py", "optim.py", "checkpoint.py")


def consistent_when_interrupted(interrupt: BaseException) -> bool:
    """Whether the algorithm's state is whole where `interrupt` was raised: anywhere but
    inside a learner update or a checkpoint write (sampling, an env's step, evaluation)."""
    import traceback

    frames = traceback.extract_tb(interrupt.__traceback__)
    return not any(
        "rlrun" in Path(f.filename).parts and Path(f.filename).name.endswith(_UNSAFE_TO_SAVE)
        for f in frames
    )
