"""The driver's side of callbacks: the hooks that run where the Algorithm trains, the metrics
logger they log into (reported at the top level of each result), and the curriculum."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rlrun.callbacks.curriculum import Curriculum
from rlrun.callbacks.hooks import CallbackList
from rlrun.callbacks.metrics_logger import MetricsLogger

log = logging.getLogger("rlrun")


class DriverCallbacks:
    def __init__(self, config: dict[str, Any]) -> None:
        self.hooks = CallbackList(config.get("callbacks") or [], "in the driver")
        self.metrics_logger = MetricsLogger()
        env_cfg = config["env"]
        self.curriculum = Curriculum(env_cfg) if env_cfg.get("task_fn") else None
        self._clashes: set[str] = set()  # logged keys that a built-in result key shadowed

    def on_algorithm_init(self, algorithm: Any) -> None:
        self._call("on_algorithm_init", algorithm)

    def on_evaluate_start(self, algorithm: Any) -> None:
        self._call("on_evaluate_start", algorithm)

    def on_evaluate_end(self, algorithm: Any, evaluation_metrics: dict[str, Any]) -> None:
        self._call("on_evaluate_end", algorithm, evaluation_metrics=evaluation_metrics)

    def on_checkpoint_saved(self, algorithm: Any, checkpoint_dir: Path) -> None:
        self._call("on_checkpoint_saved", algorithm, checkpoint_dir=checkpoint_dir)

    def on_train_result(self, algorithm: Any, result: dict[str, Any]) -> None:
        """Run the hooks on a finished iteration's result, add the values logged in the driver,
        then let the curriculum pick the next task (it sees all of that)."""
        if self.curriculum is not None:
            result.setdefault("env_runners", {})["task"] = self.curriculum.reported()
        self._call("on_train_result", algorithm, result=result)
        if self.metrics_logger:
            self._add_missing(result, self.metrics_logger.reduce(), "")
        if self.curriculum is not None and self.curriculum.next_task(result):
            algorithm.env_runner_group.set_task(self.curriculum.task)

    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"metrics": self.metrics_logger.get_state()}
        if self.curriculum is not None:
            state.update(self.curriculum.get_state())
        return state

    def set_state(self, state: dict[str, Any], algorithm: Any) -> None:
        self.metrics_logger.set_state(state.get("metrics", {}))
        if self.curriculum is not None and "task" in state:
            self.curriculum.task = state["task"]
            algorithm.env_runner_group.set_task(self.curriculum.task)

    def _call(self, hook: str, algorithm: Any, **kwargs: Any) -> None:
        if self.hooks.has(hook):
            self.hooks.call(hook, algorithm=algorithm, metrics_logger=self.metrics_logger, **kwargs)

    def _add_missing(self, result: dict[str, Any], logged: dict[str, Any], prefix: str) -> None:
        """Merge logged values into the result; a built-in key keeps its value (warned once)."""
        for key, value in logged.items():
            if isinstance(value, dict) and isinstance(result.get(key), dict):
                self._add_missing(result[key], value, f"{prefix}{key}/")
            elif key not in result:
                result[key] = value
            elif f"{prefix}{key}" not in self._clashes:
                self._clashes.add(f"{prefix}{key}")
                log.warning(
                    "metrics_logger: '%s%s' is a built-in result key; the logged value is dropped",
                    prefix,
                    key,
                )
