"""Piecewise-linear schedules over env steps, e.g. `lr: [[0, 1e-3], [100000, 1e-4]]`."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any


class Schedule:
    """A constant, or linear interpolation between (env_steps, value) points.

    Before the first point the first value holds, after the last point the last value holds.
    """

    def __init__(self, spec: Any) -> None:
        if isinstance(spec, int | float):
            self.points: list[tuple[float, float]] = [(0.0, float(spec))]
        else:
            self.points = [(float(t), float(v)) for t, v in _pairs(spec)]
        self._ts = [t for t, _ in self.points]

    @property
    def is_constant(self) -> bool:
        return len(self.points) == 1

    def value(self, env_steps: float) -> float:
        i = bisect_right(self._ts, env_steps)
        if i == 0:
            return self.points[0][1]
        if i == len(self.points):
            return self.points[-1][1]
        (t0, v0), (t1, v1) = self.points[i - 1], self.points[i]
        return v0 + (env_steps - t0) / (t1 - t0) * (v1 - v0)

    def __repr__(self) -> str:
        return f"Schedule({self.points})"


def _pairs(spec: Any) -> Sequence[Sequence[float]]:
    pairs = list(spec)
    if not pairs or any(len(p) != 2 for p in pairs):
        raise ValueError(f"a schedule is a list of [env_steps, value] pairs, got {spec!r}")
    return pairs
