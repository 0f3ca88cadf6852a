"""MetricsLogger: numbers that callbacks log, reduced into each iteration's result.

`log_value(key, value, reduce="mean", window=None)`:
- `window=None`: the reduction covers the values logged during this iteration (a key logged
  before but not in this iteration reports NaN, or 0 for `sum`);
- `window=N`: it covers the last N values logged, across iterations (like the episode-return
  window), so a rare event keeps its last value instead of reporting NaN.

Env runners only collect values; they ship them with each Rollout and the runner group reduces
them in the driver (rlrun.env.episode_stats), so the window spans every runner and a local run
reports exactly like a remote one. The driver's own logger (for driver hooks) reduces itself.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Any

REDUCES: dict[str, Callable[[list[float]], float]] = {
    "mean": lambda v: math.fsum(v) / len(v),
    "sum": math.fsum,
    "max": max,
    "min": min,
}

# key -> (reduce, window, values): what a runner's logger ships with a Rollout.
Logged = dict[str, tuple[str, int | None, list[float]]]


class _Series:
    __slots__ = ("history", "recent", "reduce", "window")

    def __init__(self, reduce: str, window: int | None) -> None:
        self.reduce = reduce
        self.window = window
        self.recent: list[float] = []  # logged since the last report
        self.history: deque[float] | None = deque(maxlen=window) if window else None

    def values(self) -> list[float]:
        if self.history is None:
            return self.recent
        return [*self.history, *self.recent][-(self.window or 0) :]


class MetricsLogger:
    def __init__(self) -> None:
        self._series: dict[str, _Series] = {}

    def log_value(
        self, key: str, value: Any, reduce: str = "mean", window: int | None = None
    ) -> None:
        """Record `value` (a number) under `key`; a "/" in `key` nests it in the results."""
        self._get(key, reduce, window).recent.append(_as_float(key, value))

    def peek(self, key: str) -> float:
        """What the next report would show for `key` (KeyError if it was never logged)."""
        s = self._series[key]
        vals = s.values()
        return REDUCES[s.reduce](vals) if vals else _empty(s.reduce)

    # --- shipping values from a runner to the driver ------------------------------------------

    def pop_logged(self) -> Logged:
        """The values logged since the last call, for the driver to reduce; clears them."""
        out: Logged = {}
        for key, s in self._series.items():
            if s.recent:
                out[key] = (s.reduce, s.window, s.recent)
                s.recent = []
        return out

    def merge(self, logged: Logged) -> None:
        """Take values another logger popped (a runner's), as if they were logged here."""
        for key, (reduce, window, values) in logged.items():
            self._get(key, reduce, window).recent.extend(values)

    # --- reporting ------------------------------------------------------------------------------

    def reduce(self) -> dict[str, Any]:
        """Each key's reduced value, nested at "/" (`{"a": {"b": v}}` for "a/b"); starts the
        next iteration's values."""
        flat: dict[str, float] = {}
        for key, s in self._series.items():
            vals = s.values()
            flat[key] = REDUCES[s.reduce](vals) if vals else _empty(s.reduce)
            if s.history is not None:
                s.history.extend(s.recent)
            s.recent = []
        return nest(flat)

    def get_state(self) -> dict[str, Any]:
        """The windows (JSON-able), so a resumed run goes on with the same moving values."""
        return {
            key: {"reduce": s.reduce, "window": s.window, "values": list(s.history or [])}
            for key, s in self._series.items()
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self._series = {}
        for key, d in state.items():
            s = self._get(key, d["reduce"], d.get("window"))
            if s.history is not None:
                s.history.extend(float(v) for v in d.get("values", []))

    def __bool__(self) -> bool:
        return bool(self._series)

    def _get(self, key: str, reduce: str, window: int | None) -> _Series:
        s = self._series.get(key)
        if s is None:
            if not isinstance(key, str) or not key:
                raise ValueError(f"log_value: the key must be a non-empty string, not {key!r}")
            if reduce not in REDUCES:
                raise ValueError(
                    f"log_value({key!r}): reduce={reduce!r} is not one of {', '.join(REDUCES)}"
                )
            if window is not None and (
                isinstance(window, bool) or not isinstance(window, int) or window < 1
            ):
                raise ValueError(
                    f"log_value({key!r}): window={window!r} must be None or an int >= 1"
                )
            s = self._series[key] = _Series(reduce, window)
        elif s.reduce != reduce or s.window != window:
            raise ValueError(
                f"log_value({key!r}, reduce={reduce!r}, window={window!r}): the key was logged "
                f"before with reduce={s.reduce!r}, window={s.window!r}; a key keeps one of each"
            )
        return s


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{"a/b": 1, "c": 2} -> {"a": {"b": 1}, "c": 2}; a key that would clash stays flat."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split("/")
        node = out
        for p in parents:
            child = node.setdefault(p, {})
            if not isinstance(child, dict):
                node = None
                break
            node = child
        if node is None or isinstance(node.get(leaf), dict):
            out[key] = value
        else:
            node[leaf] = value
    return out


def _as_float(key: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"log_value({key!r}): the value must be a number, not {type(value).__name__}"
        ) from None


def _empty(reduce: str) -> float:
    return 0.0 if reduce == "sum" else math.nan
