"""Loading the user's callback classes from `callbacks=[pkg.module:Class, ...]` and calling them.

Each process that runs hooks (the driver, every EnvRunner, local or in a Ray actor) imports the
classes itself and makes its own instances. A hook gets only the keyword arguments its signature
names, so minimal signatures work. A hook that raises ends the run as a `CallbackFailed`
(exit 1) naming the class and hook, with the hook's traceback chained for error.txt, also when
it ran in another process.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
import traceback
from collections.abc import Callable
from typing import Any

from rlrun.callbacks.base import EPISODE_HOOKS, HOOK_ARGS, Callbacks
from rlrun.errors import ConfigError, TrainingFailed

log = logging.getLogger("rlrun")


class CallbackFailed(TrainingFailed):
    """A user's callback raised: the run stops (exit 1). Picklable, so it crosses Ray."""

    def __init__(
        self, callback: str, hook: str, error: str, where: str, traceback_text: str = ""
    ) -> None:
        self.callback, self.hook, self.error = callback, hook, error
        self.where, self.traceback_text = where, traceback_text
        super().__init__(
            f"the callback {callback} failed in {hook} ({where}): {error}. The run stops; the "
            "hook's traceback is in the trial's error.txt"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            CallbackFailed,
            (self.callback, self.hook, self.error, self.where, self.traceback_text),
        )


class RemoteTraceback(Exception):
    """A traceback from another process (a Ray actor), chained as the cause of CallbackFailed
    so that error.txt shows where the hook raised."""

    def __str__(self) -> str:
        return "\n" + str(self.args[0]).rstrip()


def raise_if_callback_failed(error: BaseException) -> None:
    """If a remote call failed because a callback raised in the actor, raise that failure here:
    it is the user's code, not a runner fault that a restart could cure."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, CallbackFailed):
        raise CallbackFailed(
            cause.callback, cause.hook, cause.error, cause.where, cause.traceback_text
        ) from RemoteTraceback(cause.traceback_text)


class _Bound:
    __slots__ = ("args", "fn", "path")

    def __init__(self, path: str, fn: Callable[..., Any], args: tuple[str, ...] | None) -> None:
        self.path, self.fn, self.args = path, fn, args  # args None: pass them all


class CallbackList:
    """The hooks of every configured class, called in the order the classes were listed."""

    def __init__(self, paths: list[str] | tuple[str, ...], where: str) -> None:
        self.paths = list(paths)
        self.where = where  # "the driver", "env runner 2": said when a hook fails
        self._hooks: dict[str, list[_Bound]] = {h: [] for h in HOOK_ARGS}
        for path in self.paths:
            cls = load_callback_class(path)
            accepted = {h: hook_params(cls, path, h) for h in defined_hooks(cls)}
            try:
                obj = cls()
            except Exception as e:
                raise failure(path, "__init__", e, where) from e
            for hook, args in accepted.items():
                self._hooks[hook].append(_Bound(path, getattr(obj, hook), args))

    def has(self, hook: str) -> bool:
        return bool(self._hooks[hook])

    @property
    def has_episode_hooks(self) -> bool:
        return any(self._hooks[h] for h in EPISODE_HOOKS)

    def call(self, hook: str, **kwargs: Any) -> None:
        for b in self._hooks[hook]:
            try:
                b.fn(**(kwargs if b.args is None else {k: kwargs[k] for k in b.args}))
            except Exception as e:
                raise failure(b.path, hook, e, self.where) from e


def failure(path: str, hook: str, error: BaseException, where: str) -> CallbackFailed:
    """The CallbackFailed for `error`; call it in the `except` block (it reads the traceback)."""
    return CallbackFailed(
        path, hook, f"{type(error).__name__}: {error}", where, traceback.format_exc()
    )


# --- loading and checking ---------------------------------------------------------------------


def load_attr_path(key: str, path: Any, what: str) -> Any:
    """Import "pkg.module:Name" for config key `key`, or raise a ConfigError naming it."""
    if not isinstance(path, str) or path.count(":") != 1 or not all(path.split(":")):
        raise ConfigError(key, path, "is not a path of the form pkg.module:Name.", allowed=what)
    module_name, attr = path.split(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigError(key, path, f"cannot import module '{module_name}': {e}.") from None
    except Exception as e:  # the user's module itself failed while importing
        raise ConfigError(
            key, path, f"importing '{module_name}' failed: {type(e).__name__}: {e}"
        ) from None
    for part in attr.split("."):
        parent, obj = obj, getattr(obj, part, None)
        if obj is None:
            names = [
                n
                for n, v in vars(parent).items()
                if callable(v) and not n.startswith("_") and not inspect.ismodule(v)
            ]
            close = difflib.get_close_matches(part, names, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(key, path, f"'{module_name}' has no attribute '{attr}'.{hint}")
    return obj


def load_callback_class(path: str, warn: bool = False) -> type:
    """The class at `path`, checked: a class whose `on_*` methods are hooks rlrun calls."""
    cls = load_attr_path("callbacks", path, "pkg.module:Class")
    if not isinstance(cls, type):
        raise ConfigError(
            "callbacks",
            path,
            f"is a {type(cls).__name__}, not a class.",
            allowed="pkg.module:Class",
        )
    for name in dir(cls):
        if not name.startswith("on_") or name in HOOK_ARGS or not callable(getattr(cls, name)):
            continue
        close = difflib.get_close_matches(name, list(HOOK_ARGS), n=1, cutoff=0.8)
        if close:  # a typo'd hook would silently never run
            raise ConfigError(
                "callbacks",
                path,
                f"{cls.__name__}.{name} is not a hook rlrun calls. Did you mean {close[0]}?",
                allowed=", ".join(HOOK_ARGS),
            )
        if warn:
            log.warning("callbacks: rlrun never calls %s.%s (not a hook)", cls.__name__, name)
    if not defined_hooks(cls) and warn:
        log.warning("callbacks: %s defines none of the hooks: %s", path, ", ".join(HOOK_ARGS))
    return cls


def defined_hooks(cls: type) -> list[str]:
    """The hooks `cls` defines itself (a Callbacks base's no-ops do not count)."""
    return [
        h
        for h in HOOK_ARGS
        if callable(getattr(cls, h, None)) and getattr(cls, h) is not getattr(Callbacks, h)
    ]


def hook_params(cls: type, path: str, hook: str) -> tuple[str, ...] | None:
    """The keyword arguments to pass to `cls.hook`: those it names, or None (all) for **kwargs.

    A parameter rlrun does not provide and that has no default is a ConfigError now, rather
    than a TypeError in the middle of a run.
    """
    raw = inspect.getattr_static(cls, hook)
    fn = getattr(cls, hook)
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a builtin or C callable: no signature to read
        return None
    if not isinstance(raw, staticmethod | classmethod) and inspect.isfunction(fn) and params:
        params = params[1:]  # self
    provided = HOOK_ARGS[hook]
    names = []
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            return None
        if p.kind is p.VAR_POSITIONAL:
            continue
        if p.name in provided and p.kind is not p.POSITIONAL_ONLY:
            names.append(p.name)
        elif p.default is p.empty:
            raise ConfigError(
                "callbacks",
                path,
                f"{cls.__name__}.{hook}() asks for '{p.name}', which rlrun does not pass.",
                allowed=f"arguments (by keyword) among {', '.join(provided)}, or **kwargs",
            )
    return tuple(names)


def check_user_code(cfg: Any) -> None:
    """Import and check the configured callback classes and task_fn before anything is built
    (and before torch is imported), so a bad path fails in a second with exit code 2."""
    from omegaconf import OmegaConf

    for path in OmegaConf.select(cfg, "callbacks", default=None) or []:
        cls = load_callback_class(path, warn=True)
        for hook in defined_hooks(cls):
            hook_params(cls, path, hook)
    task_fn = OmegaConf.select(cfg, "env.task_fn", default=None)
    if task_fn:
        from rlrun.callbacks.curriculum import load_task_fn

        load_task_fn(task_fn)
