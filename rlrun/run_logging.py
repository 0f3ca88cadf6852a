"""A run's log handlers: rlrun's records to the current stderr (above the live console), fault
records to the trial's error.txt."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from rlrun.results import write_error


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time, so records logged while the rich console
    is live go through its redirect and print above the panel instead of over it."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class ErrorFileHandler(logging.Handler):
    """Appends fault records (a failed env runner or sub-env, with its traceback) to error.txt,
    so what went wrong is kept even when the run recovered and went on."""

    def __init__(self, trial_dir: Path) -> None:
        super().__init__(logging.WARNING)
        self.trial_dir = trial_dir
        self.setFormatter(logging.Formatter("%(asctime)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        write_error(self.trial_dir, self.format(record))


def setup_logging(level: str) -> None:
    """rlrun's loggers at `level`; other libraries' (Ray, Hydra, ...) at WARNING or quieter
    unless DEBUG was asked for, so that -v shows rlrun's INFO lines and not their chatter."""
    handler = _CurrentStderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    number = logging.getLevelName({"WARN": "WARNING"}.get(level, level))
    others = number if number <= logging.DEBUG else max(number, logging.WARNING)
    logging.basicConfig(level=others, handlers=[handler], force=True)
    logging.getLogger("rlrun").setLevel(number)
