"""What the console shows: a per-iteration snapshot pulled out of a result, and its text forms.

Kept apart from the consoles so the plain and rich displays say the same things, and so the
numbers (best return, steps/s, stop progress) can be tested without a terminal.
"""

from __future__ import annotations

import os
import re
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rlrun.results.flatten import as_number, get_number

RETURN_METRIC = "env_runners/episode_return_mean"
EVAL_RETURN_METRIC = "evaluation/env_runners/episode_return_mean"
# Characters that need no quoting either in a Hydra override value or in a POSIX shell.
_PLAIN_ARG = re.compile(r"[A-Za-z0-9_./+%@-]+")


@dataclass
class Snapshot:
    """What the console shows for one iteration."""

    iteration: int | None
    env_steps: float | None
    return_mean: float | None
    best_return: float | None
    episode_len: float | None
    steps_per_s: float | None
    elapsed_s: float | None
    eval_return: float | None
    progress: float | None  # 0..1 toward the nearest stop criterion, None if none is known
    progress_text: str
    # Multi-agent runs: mean return per module, in training and (when it ran) evaluation.
    module_returns: dict[str, float] = field(default_factory=dict)
    eval_module_returns: dict[str, float] = field(default_factory=dict)


class ProgressTracker:
    """Turns successive results into Snapshots, remembering what spans iterations (best return,
    the previous step count for a throughput estimate)."""

    def __init__(self, stop: Mapping[str, Any] | None = None) -> None:
        self.stop = dict(stop or {})
        self.best_return: float | None = None
        self.last: Snapshot | None = None
        self._started_at = time.monotonic()
        self._prev_steps: tuple[float, float] | None = None  # (env steps, time_total_s)

    def restart_clock(self) -> None:
        self._started_at = time.monotonic()

    def update(self, result: Mapping[str, Any]) -> Snapshot:
        return_mean = get_number(result, RETURN_METRIC)
        if return_mean is not None and (self.best_return is None or return_mean > self.best_return):
            self.best_return = return_mean
        steps = get_number(result, "num_env_steps_sampled_lifetime")
        if steps is None:
            steps = get_number(result, "env_runners/num_env_steps_sampled_lifetime")
        elapsed = get_number(result, "time_total_s")
        if elapsed is None:
            elapsed = time.monotonic() - self._started_at
        iteration = get_number(result, "training_iteration")
        progress, progress_text = stop_progress(result, self.stop)
        self.last = Snapshot(
            iteration=int(iteration) if iteration is not None else None,
            env_steps=steps,
            return_mean=return_mean,
            best_return=self.best_return,
            episode_len=get_number(result, "env_runners/episode_len_mean"),
            steps_per_s=self._steps_per_s(result, steps, elapsed),
            elapsed_s=elapsed,
            eval_return=get_number(result, EVAL_RETURN_METRIC),
            progress=progress,
            progress_text=progress_text,
            module_returns=_numbers(result, "env_runners/module_episode_returns_mean"),
            eval_module_returns=_numbers(
                result, "evaluation/env_runners/module_episode_returns_mean"
            ),
        )
        return self.last

    def _steps_per_s(
        self, result: Mapping[str, Any], steps: float | None, elapsed: float
    ) -> float | None:
        rate = get_number(result, "perf/env_steps_per_s")
        if rate is None and steps is not None and self._prev_steps is not None:
            # Throughput since the last iteration, training time included (what the user waits).
            prev_steps, prev_elapsed = self._prev_steps
            if elapsed > prev_elapsed:
                rate = (steps - prev_steps) / (elapsed - prev_elapsed)
        if rate is None:
            sampled = get_number(result, "env_runners/num_env_steps_sampled")
            iter_s = get_number(result, "time_this_iter_s")
            if sampled is not None and iter_s:
                rate = sampled / iter_s
        if steps is not None:
            self._prev_steps = (steps, elapsed)
        return rate


def stop_progress(result: Mapping[str, Any], stop: Mapping[str, Any]) -> tuple[float | None, str]:
    """Progress toward the stop criteria (`iterations`, `timesteps`, `time_s`, `reward` on
    `metric`): the largest fraction, since whichever comes first stops the run, and a summary.

    `reward` counts toward the fraction only for a positive target and a non-negative value;
    for negative returns (Pendulum) "how far along" has no meaning, so it is shown, not measured.
    """
    fractions: list[float] = []
    parts: list[str] = []
    checks = (
        ("iterations", "training_iteration", fmt_int),
        ("timesteps", "num_env_steps_sampled_lifetime", fmt_int),
        ("time_s", "time_total_s", fmt_duration),
    )
    for key, path, fmt in checks:
        target = as_number(stop.get(key))
        if target is None or target <= 0:
            continue
        value = get_number(result, path) or 0.0
        fractions.append(value / target)
        parts.append(f"{key} {fmt(value)}/{fmt(target)}")
    reward = as_number(stop.get("reward"))
    if reward is not None:
        metric = str(stop.get("metric") or RETURN_METRIC)
        value = get_number(result, metric)
        if value is not None and reward > 0 and value >= 0:
            fractions.append(value / reward)
        parts.append(f"reward {fmt_num(value)}/{fmt_num(reward)}")
    progress = min(1.0, max(fractions)) if fractions else None
    return progress, " · ".join(parts)


def evaluate_command(checkpoint: str | os.PathLike[str]) -> str:
    """The exact `rlrun evaluate checkpoint=<path>` command line for `checkpoint`, ready to paste.

    A path with characters that Hydra's override grammar or the shell would interpret (spaces,
    commas, brackets, quotes, '=', ':') is quoted for Hydra first, then for the shell.
    """
    path = os.fspath(checkpoint)
    if _PLAIN_ARG.fullmatch(path):
        return f"rlrun evaluate checkpoint={path}"
    quote = '"' if '"' not in path else "'"
    hydra_value = quote + path.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote
    return "rlrun evaluate " + shlex.quote(f"checkpoint={hydra_value}")


def format_line(s: Snapshot) -> str:
    """`iter 3 | steps 12,000 | return 120.5 (best 130.2) | len 120.5 | 9,000 steps/s | 1.3 s`"""
    parts = [
        f"iter {fmt_int(s.iteration)}",
        f"steps {fmt_int(s.env_steps)}",
        f"return {fmt_num(s.return_mean)} (best {fmt_num(s.best_return)})",
    ]
    if s.eval_return is not None:
        parts.append(f"eval {fmt_num(s.eval_return)}")
    if s.module_returns:
        parts.append(f"modules {format_modules(s.module_returns)}")
    if s.eval_module_returns:
        parts.append(f"eval modules {format_modules(s.eval_module_returns)}")
    parts += [
        f"len {fmt_num(s.episode_len)}",
        f"{fmt_int(s.steps_per_s)} steps/s",
        fmt_duration(s.elapsed_s),
    ]
    return " | ".join(parts)


def format_modules(returns: Mapping[str, float]) -> str:
    """`p0 451.2, p1 398.0`: each module's mean return."""
    return ", ".join(f"{mid} {fmt_num(v)}" for mid, v in returns.items())


def _numbers(result: Mapping[str, Any], path: str) -> dict[str, float]:
    """The numbers under a nested result key (e.g. module id -> return), by key."""
    node: Any = result
    for part in path.split("/"):
        node = node.get(part) if isinstance(node, Mapping) else None
    if not isinstance(node, Mapping):
        return {}
    return {str(k): float(v) for k, v in node.items() if isinstance(v, int | float)}


def summary_lines(
    best_return: float | None,
    last_return: float | None,
    final_checkpoint: str | os.PathLike[str] | None,
    stop_reason: str,
) -> list[str]:
    """The end-of-run report, the same in every console."""
    lines = [f"Stopped: {stop_reason}" if stop_reason else "Stopped."]
    lines.append(f"Best return: {fmt_num(best_return)} | last return: {fmt_num(last_return)}")
    if final_checkpoint is None:
        lines.append("No checkpoint was written.")
    else:
        lines.append(f"Final checkpoint: {os.fspath(final_checkpoint)}")
        lines.append(f"Evaluate it with: {evaluate_command(final_checkpoint)}")
    return lines


def fmt_int(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def fmt_num(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value == 0 or abs(value) >= 1:
        return f"{value:,.1f}"
    # Small returns (sparse-reward envs) would all print as 0.0 with one decimal.
    return f"{value:.3g}"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return f"{seconds:.1f} s"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s"
