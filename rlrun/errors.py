"""Errors meant for the user: the CLI prints them as one paragraph and exits with code 2.

Anything else that escapes is a bug in rlrun and keeps its traceback. This module imports nothing,
so every layer (config, env, checkpoint loading) can raise these without paying for imports.
"""

from __future__ import annotations

from typing import Any


class RLRunError(Exception):
    """A problem with what the user asked for, not with rlrun: printed without a traceback."""

    exit_code = 2


class ConfigError(RLRunError):
    """A config value that cannot be used; the message names the key, the value and what is allowed."""

    def __init__(self, key: str | None, value: Any, message: str, allowed: str | None = None):
        self.key = key
        self.value = value
        self.allowed = allowed
        self.detail = message
        text = f"{key}={_show(value)}: {message}" if key is not None else message
        text = text.rstrip()
        if allowed:
            if not text.endswith((".", "?", "!")):
                text += "."
            text += f" Allowed: {allowed}"
        super().__init__(text)


class CheckpointError(RLRunError):
    """A checkpoint path that is missing, is not a checkpoint, or holds unreadable files."""


def _show(value: Any) -> str:
    # Strings are shown as the user typed them (no quotes) unless empty, so `env=` reads clearly.
    if isinstance(value, str):
        return value if value else "''"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class TrainingFailed(RLRunError):
    """The run could not go on (e.g. env runners kept failing). Not the user's input, so exit 1;
    the message says what failed, and error.txt holds the tracebacks."""

    exit_code = 1
