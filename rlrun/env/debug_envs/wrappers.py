"""BurnCPUEnv and FaultyEnv: a real Gymnasium env made slow or failing on purpose, for scaling
benchmarks and fault-tolerance tests."""

from __future__ import annotations

import os
import time
from typing import Any, SupportsFloat

import gymnasium as gym

FAIL_MODES = ("raise", "exit")


class BurnCPUEnv(gym.Wrapper):
    """The inner env, with each `step()` first burning `burn_us` microseconds of CPU time.

    The cost is measured in this thread's CPU time, not wall time, so it does not shrink when
    the process is descheduled: N processes on N free cores get N times the steps per second,
    which is what a sampling-scaling benchmark needs to see, however cheap the inner env is.
    """

    def __init__(self, env: str = "CartPole-v1", burn_us: float = 1000.0, **kwargs: Any) -> None:
        if burn_us < 0:
            raise ValueError(f"BurnCPUEnv: burn_us must be >= 0, got {burn_us}")
        super().__init__(gym.make(env, **kwargs))
        self.burn_us = float(burn_us)
        self._burn_ns = int(self.burn_us * 1000)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._burn_ns > 0:
            deadline = time.thread_time_ns() + self._burn_ns
            while time.thread_time_ns() < deadline:
                pass
        return self.env.step(action)


class FaultyEnv(gym.Wrapper):
    """The inner env, failing on purpose at its `fail_at_step`-th `step()` call.

    Steps are counted per instance over its whole life, across episodes. `fail_mode="raise"`
    raises a RuntimeError (a bug in the env); `fail_mode="exit"` ends the process at once with
    `os._exit(1)`, flushing nothing (a crash: segfault, OOM kill).

    `fail_once_file`: fail only if this call is the one that creates that file (O_EXCL), so the
    failure happens at most once over all processes and instances; the restarted runner or
    recreated env that follows keeps working, which lets a test check recovery.

    `fail_on_reset=True`: every `reset()` fails instead (in `fail_mode`), and `step()` never
    does; with `fail_once_file` only the first reset to claim the file fails. This is the env
    that cannot even start.
    """

    def __init__(
        self,
        env: str = "CartPole-v1",
        fail_at_step: int = 100,
        fail_mode: str = "raise",
        fail_once_file: str | None = None,
        fail_on_reset: bool = False,
        **kwargs: Any,
    ) -> None:
        if fail_mode not in FAIL_MODES:
            raise ValueError(
                f"FaultyEnv: fail_mode must be one of {', '.join(FAIL_MODES)}; got {fail_mode!r}"
            )
        super().__init__(gym.make(env, **kwargs))
        self.fail_at_step = int(fail_at_step)
        self.fail_mode = fail_mode
        self.fail_once_file = fail_once_file
        self.fail_on_reset = bool(fail_on_reset)
        self.num_steps = 0

    def _claim_failure(self) -> bool:
        """Whether this call may fail: always, or only as the first creator of fail_once_file."""
        if self.fail_once_file is None:
            return True
        try:
            fd = os.open(self.fail_once_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def _fail(self, where: str) -> None:
        if self.fail_mode == "exit":
            os._exit(1)
        raise RuntimeError(f"FaultyEnv: deliberate failure {where} (pid {os.getpid()})")

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if self.fail_on_reset and self._claim_failure():
            self._fail("on reset")
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        self.num_steps += 1
        if not self.fail_on_reset and self.num_steps == self.fail_at_step and self._claim_failure():
            self._fail(f"at step {self.num_steps}")
        return self.env.step(action)
