"""Callbacks, custom metrics and curriculum (docs/callbacks.md).

Importing this package is cheap (numpy at most, never torch or Ray): the CLI checks the
configured callback classes before anything heavy loads.
"""

from rlrun.callbacks.base import HOOK_ARGS, Callbacks
from rlrun.callbacks.episode import Episode
from rlrun.callbacks.hooks import CallbackFailed
from rlrun.callbacks.metrics_logger import MetricsLogger

__all__ = ["HOOK_ARGS", "CallbackFailed", "Callbacks", "Episode", "MetricsLogger"]
