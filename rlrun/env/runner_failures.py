"""What the runner group does when a Ray env runner fails: replace it, drop it or end the run,
as `fault_tolerance` says, with the traceback logged once per kind of error and a crash loop
(a runner that fails again and again before completing a sample) ending the run. A mixin of
rlrun.env.remote_env_runner_group.RemoteEnvRunnerGroup, which holds the state it reads."""

from __future__ import annotations

import contextlib
import re
import time
from typing import Any

from rlrun.callbacks.hooks import raise_if_callback_failed
from rlrun.config.schema import FaultToleranceConfig
from rlrun.env.env_runner_group import fault_log
from rlrun.errors import TrainingFailed


class RunnerFailures:
    # Set by the runner group.
    runners: dict[int, Any]
    restarts: dict[int, int]
    fault_cfg: FaultToleranceConfig
    sample_timeout_s: float | None
    _ray: Any
    _failure_streak: dict[int, int]
    _sampled_since_start: dict[int, bool]
    _errors_seen: dict[str, int]
    _sync_ref: Any

    def _spawn(self, index: int) -> Any:
        raise NotImplementedError

    def _on_failure(self, index: int, error: BaseException) -> bool:
        """Handle runner `index` failing; True if it was replaced, False if dropped; raises
        TrainingFailed when the run cannot go on."""
        raise_if_callback_failed(error)  # a user's callback raised: no restart can cure that
        text = describe_failure(error, self.sample_timeout_s)
        cause = failure_cause(text)
        self._log_failure(index, text, cause)
        self._failure_streak[index] += 1
        actor = self.runners.pop(index)
        with contextlib.suppress(Exception):
            self._ray.kill(actor, no_restart=True)
        ft = self.fault_cfg
        if ft.restart_failed_env_runners:
            limit = int(ft.max_num_env_runner_restarts)
            if self.restarts[index] >= limit:
                raise TrainingFailed(
                    f"env runner {index} failed again after {self.restarts[index]} restarts "
                    f"(fault_tolerance.max_num_env_runner_restarts={limit}): {cause}. "
                    "Tracebacks are in the trial's error.txt"
                )
            self._check_crash_loop(index, cause)
            self.restarts[index] += 1
            self.runners[index] = self._spawn(index)
            self._sampled_since_start[index] = False
            if self._sync_ref is not None:
                self.runners[index].sync_payload.remote(self._sync_ref)
            fault_log.warning(
                "env runner %d restarted (restart %d of at most %d)",
                index,
                self.restarts[index],
                limit,
            )
            return True
        if ft.ignore_env_runner_failures:
            if not self.runners:
                raise TrainingFailed(
                    f"every env runner has failed, the last one with: {cause}. "
                    "Tracebacks are in the trial's error.txt"
                )
            fault_log.warning("env runner %d dropped; %d runners go on", index, len(self.runners))
            return False
        raise TrainingFailed(
            f"env runner {index} failed with: {cause}. Fault tolerance is off "
            "(fault_tolerance.restart_failed_env_runners=false and ignore_env_runner_failures="
            "false), so the run stops. Its traceback is in the trial's error.txt"
        )

    def _log_failure(self, index: int, text: str, cause: str) -> None:
        """The traceback the first time an error is seen; after that one line with a count
        (a crash loop repeats the same traceback, and error.txt would fill with copies)."""
        key = _normalize(text)
        seen = self._errors_seen[key] = self._errors_seen.get(key, 0) + 1
        if seen == 1:
            fault_log.warning("env runner %d failed:\n%s", index, text)
        else:
            fault_log.warning(
                "env runner %d failed again with the same error (seen %d times): %s",
                index,
                seen,
                cause,
            )

    def _check_crash_loop(self, index: int, cause: str) -> None:
        """End the run when restarting cannot help; else wait before the restart, doubling
        the wait with each failure in a row (an env that crashes at start-up should not spin)."""
        ft = self.fault_cfg
        streak, limit = self._failure_streak[index], int(ft.max_consecutive_env_runner_failures)
        if streak >= limit:
            raise TrainingFailed(
                f"env runner {index} failed {streak} times in a row without completing a "
                f"sample, a crash loop (fault_tolerance.max_consecutive_env_runner_failures="
                f"{limit}); the env's error: {cause}. Its traceback is in the trial's error.txt; "
                "the last checkpoint is intact"
            )
        delay = float(ft.delay_between_env_runner_restarts_s) * 2 ** (streak - 1)
        if delay > 0:
            fault_log.warning("env runner %d restarts in %.1f s", index, delay)
            time.sleep(delay)


def describe_failure(error: BaseException, timeout_s: float | None) -> str:
    import ray

    if isinstance(error, ray.exceptions.GetTimeoutError):
        return (
            f"sample() took longer than env_runner.sample_timeout_s={timeout_s:g} s "
            "(raise it for slow envs, or null for no limit)"
        )
    # A task error's text holds the env's own traceback; an actor error says how it died.
    # Ray colours the text for terminals; error.txt is a file.
    return re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()


def _normalize(text: str) -> str:
    """An error's text without what differs between processes (pids, ids, addresses), so the
    same failure in a fresh runner reads as the same."""
    text = re.sub(r"\b(pid|PID)[= ]\d+", "pid=N", text)
    text = re.sub(r"\b0x[0-9a-f]+\b|\b[0-9a-f]{16,}\b", "ID", text)
    text = re.sub(r"\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b", "ADDR", text)
    return re.sub(r"env runner \d+", "env runner N", text)


def failure_cause(text: str) -> str:
    """One line for the user: the exception the env raised, or how the process ended."""
    raised = re.findall(r"^(?:[\w.]+(?:Error|Exception|Interrupt|Exit)\b.*)$", text, re.M)
    if raised:
        return raised[-1].strip().rstrip(".")
    if "sample_timeout_s" in text:
        return text.rstrip(".")
    return (
        "its process died without raising (a crash, os._exit, or the OOM killer; Ray's "
        "account is in the log)"
    )
