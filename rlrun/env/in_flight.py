"""Sample calls in flight on remote runners, for asynchronous sampling (IMPALA, APPO).

A Ray actor runs its calls one after another, in the order they were made, so a runner with a
call queued behind the running one starts it the moment the first is done: it never waits for
the driver. This keeps the book: which call belongs to which runner, and since when each
runner's oldest call has been running (what `sample_timeout_s` is measured from).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any


class InFlight:
    def __init__(self, ray: Any, timeout_s: float | None) -> None:
        self._ray = ray
        self.timeout_s = timeout_s
        self._calls: dict[Any, int] = {}  # object ref -> runner index, oldest first
        self._head_since: dict[int, float] = {}  # runner -> when its oldest call started

    def __len__(self) -> int:
        return len(self._calls)

    def fill(self, runners: dict[int, Any], per_runner: int, call: Callable[[Any], Any]) -> None:
        """Make `call(actor)` on each runner until it has `per_runner` calls in flight."""
        counts = Counter(self._calls.values())
        now = time.monotonic()
        for i, actor in runners.items():
            if counts[i] == 0:
                self._head_since[i] = now
            for _ in range(per_runner - counts[i]):
                self._calls[call(actor)] = i

    def wait(self) -> tuple[list[tuple[Any, int]], int | None]:
        """Block until a call is done: (every done call with its runner, None), or
        ([], runner) when that runner's oldest call ran past `timeout_s`."""
        refs = list(self._calls)
        timeout = None
        if self.timeout_s is not None:
            oldest = min(self._head_since[i] for i in set(self._calls.values()))
            timeout = max(0.0, oldest + self.timeout_s - time.monotonic())
        ready, _ = self._ray.wait(refs, num_returns=1, timeout=timeout)
        if not ready:
            late = min(set(self._calls.values()), key=lambda i: self._head_since[i])
            return [], late
        ready, _ = self._ray.wait(refs, num_returns=len(refs), timeout=0)
        now = time.monotonic()
        done = []
        for ref in ready:
            i = self._calls.pop(ref)
            self._head_since[i] = now  # its next call (if any) starts now
            done.append((ref, i))
        return done, None

    def drop(self, index: int) -> None:
        """Forget runner `index`'s calls (it failed: they will never complete)."""
        self._calls = {ref: i for ref, i in self._calls.items() if i != index}
        self._head_since.pop(index, None)

    def clear(self) -> None:
        self._calls.clear()
        self._head_since.clear()
