"""Recreating a sub-environment whose `step()` raised, so one flaky env cannot end a run."""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym

logger = logging.getLogger("rlrun.fault")

# Info keys of the step where the sub-env failed and was replaced: a flag, and the traceback,
# which travels with the data because the sub-env may live in another process (async vector
# envs, Ray actors) and the driver writes it to the log and error.txt.
SUB_ENV_FAILED = "rlrun_sub_env_failed"
SUB_ENV_TRACEBACK = "rlrun_sub_env_traceback"


class RecreateOnFailure(gym.Wrapper):
    """One sub-env of a vector env, rebuilt with `env_fn()` when its `step()` raises.

    On such a step the broken env is closed and replaced by a fresh one, reset without a seed,
    and the step returns `(first obs of the new env, 0.0, False, True, {SUB_ENV_FAILED: True,
    SUB_ENV_TRACEBACK: "..."})`:
    the episode is cut off as truncated, since nothing about how it would have gone on is
    known. The EnvRunner sees the `rlrun_sub_env_failed` info flag and drops that step from the
    training data: its reward and observation are made up, not the env's response to the action.

    Only `step()` is guarded. A `reset()` that raises (here or after recreating) propagates: an
    env that cannot even start will not get better by retrying, so it is the runner's failure.
    """

    def __init__(self, env_fn: Callable[[], gym.Env]) -> None:
        super().__init__(env_fn())
        self.env_fn = env_fn
        self.num_restarts = 0

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        try:
            return self.env.step(action)
        except Exception:
            text = traceback.format_exc()
            # DEBUG only: the EnvRunner reports it once, wherever this process is.
            logger.debug(
                "sub-environment failed and is being recreated (restart %d)",
                self.num_restarts + 1,
                exc_info=True,
            )
        # It is broken already; a failing close must not stop the recovery.
        with contextlib.suppress(Exception):
            self.env.close()
        self.env = self.env_fn()
        obs, _ = self.env.reset()
        self.num_restarts += 1
        return obs, 0.0, False, True, {SUB_ENV_FAILED: True, SUB_ENV_TRACEBACK: text}
