"""The learner's circular buffer of train batches (RLlib's APPO, after IMPACT: Luo et al. 2020,
https://arxiv.org/abs/1912.00167): it keeps the last `num_batches` batches and drops a batch
once it was trained on `iterations_per_batch` times.

rlrun's learner trains when a batch arrives (it has no thread of its own), so each update
draws every batch the buffer holds, in random order, once: a batch is trained on in the update
it arrives with and in the next ones, `min(iterations_per_batch, num_batches)` times in all, each
time by a policy that has moved on (V-trace and APPO's surrogate correct for that). With one
batch, or one iteration, each batch is trained on once, when it arrives.
"""

from __future__ import annotations

import random
from typing import Any


class CircularBuffer:
    def __init__(
        self, num_batches: int, iterations_per_batch: int, seed: int | None = None
    ) -> None:
        self.num_batches = int(num_batches)
        self.iterations_per_batch = int(iterations_per_batch)
        self._slots: list[list[Any]] = []  # [batch, times used], oldest first
        self._rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self._slots)

    def add(self, batch: Any) -> None:
        """Keep `batch`; when full, the oldest batch goes, however often it was used."""
        self._slots.append([batch, 0])
        if len(self._slots) > self.num_batches:
            self._slots.pop(0)

    def draw(self) -> list[Any]:
        """Every stored batch once, in random order; each counts a use, and a batch used
        `iterations_per_batch` times leaves."""
        order = self._rng.sample(self._slots, len(self._slots))
        for slot in order:
            slot[1] += 1
        self._slots = [s for s in self._slots if s[1] < self.iterations_per_batch]
        return [slot[0] for slot in order]
