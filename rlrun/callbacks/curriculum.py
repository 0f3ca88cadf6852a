"""Curriculum learning: `env.task_fn` picks the next task from the last result.

After each training iteration the driver calls `task_fn(result=..., task=...)` (by keyword when
the function names `result` and `task` or takes **kwargs, else positionally as
`task_fn(result, task)`, or `task_fn(result)` when it takes one argument) and, when the task it
returns differs from the current one, every training env runner calls `set_task(task)` on each
of its sub-envs (through Gymnasium wrappers). The first task is the env's own `get_task()` (None
when it has none). Evaluation envs keep their own configuration and are not given tasks.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

from rlrun.callbacks.hooks import failure, load_attr_path
from rlrun.errors import ConfigError

TaskFn = Callable[[dict[str, Any], Any], Any]


def load_task_fn(path: str) -> TaskFn:
    """The function at `path`, wrapped to be called as fn(result, task) whatever its form."""
    fn = load_attr_path("env.task_fn", path, "pkg.module:function")
    if not callable(fn):
        raise ConfigError("env.task_fn", path, f"is a {type(fn).__name__}, not a function.")
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return fn
    names = {p.name for p in params}
    if any(p.kind is p.VAR_KEYWORD for p in params) or {"result", "task"} <= names:
        return lambda result, task: fn(result=result, task=task)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind is p.VAR_POSITIONAL for p in params) or len(positional) >= 2:
        return lambda result, task: fn(result, task)
    if len(positional) == 1:
        return lambda result, task: fn(result)
    raise ConfigError(
        "env.task_fn",
        path,
        "takes no argument for the last result.",
        allowed="a function fn(result, task) -> task (or fn(*, result, task), or fn(result))",
    )


class Curriculum:
    """The driver's side: the current task, and whether `task_fn` changed it."""

    def __init__(self, env_cfg: dict[str, Any]) -> None:
        from rlrun.env.make_env import make_single_env

        self.path: str = env_cfg["task_fn"]
        self.fn = load_task_fn(self.path)
        probe = make_single_env(env_cfg)
        try:
            if _method(probe, "set_task") is None:
                raise ConfigError(
                    "env.task_fn",
                    self.path,
                    f"needs an env with a set_task(task) method, and {env_cfg['id']} has none",
                )
            get_task = _method(probe, "get_task")
            self.task: Any = get_task() if get_task is not None else None
        finally:
            probe.close()

    def next_task(self, result: dict[str, Any]) -> bool:
        """Call task_fn with the last result; True when the task changed."""
        try:
            new = self.fn(result, self.task)
        except Exception as e:
            raise failure(self.path, "task_fn", e, "the driver") from e
        changed = _differs(new, self.task)
        self.task = new
        return changed

    def reported(self) -> Any:
        """The task as a result value: itself when a number or string (or a dict of them,
        which results nest), else its repr."""
        t = self.task
        if t is None or isinstance(t, bool | int | float | str):
            return t
        if isinstance(t, dict) and all(isinstance(v, bool | int | float | str) for v in t.values()):
            return dict(t)
        return repr(t)

    def get_state(self) -> dict[str, Any]:
        """The task, when it can be saved as JSON (checkpoints hold data, never pickles)."""
        try:
            json.dumps(self.task)
        except (TypeError, ValueError):
            return {}
        return {"task": self.task}


def set_task(vector_env: Any, task: Any) -> None:
    """`set_task(task)` on every sub-env of a Gymnasium vector env, through wrappers."""
    vector_env.call("set_task", task)


def _method(env: Any, name: str) -> Callable[..., Any] | None:
    try:
        fn = env.get_wrapper_attr(name)
    except AttributeError:
        return None
    return fn if callable(fn) else None


def _differs(a: Any, b: Any) -> bool:
    try:
        return bool(a != b)
    except Exception:  # e.g. arrays, whose != is elementwise: treat as changed
        return True
