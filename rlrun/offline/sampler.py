"""Train batches drawn from recorded episodes, in the standard time-major format.

A batch is whole episodes (the Monte-Carlo returns of MARWIL need an episode's every step),
drawn in a fresh random order each pass over the data (`offline_data.shuffle`) until they hold
the batch's steps; so a batch holds up to one episode more than asked for, and never more than
the whole data. Episodes are packed into columns about as long as the longest one, so padding
stays small.
"""

from __future__ import annotations

import math

import numpy as np

from rlrun.core.episode import Episode
from rlrun.env.rollout import Rollout
from rlrun.offline.packing import episodes_to_rollouts


class OfflineSampler:
    def __init__(self, episodes: list[Episode], shuffle: bool, seed: int | None) -> None:
        self.episodes = [ep for ep in episodes if len(ep)]
        self.num_steps = sum(len(ep) for ep in self.episodes)
        self.shuffle = bool(shuffle)
        self.rng = np.random.default_rng(seed)
        self._order = np.arange(0)
        self._pos = 0

    def sample(self, num_steps: int) -> list[Rollout]:
        """At least min(num_steps, all recorded steps) steps of whole episodes."""
        target = min(int(num_steps), self.num_steps)
        picked: list[Episode] = []
        steps = 0
        while steps < target:
            if self._pos >= len(self._order):
                n = len(self.episodes)
                self._order = self.rng.permutation(n) if self.shuffle else np.arange(n)
                self._pos = 0
            ep = self.episodes[int(self._order[self._pos])]
            self._pos += 1
            picked.append(ep)
            steps += len(ep)
        longest = max(len(ep) for ep in picked) + 1
        rows = sum(len(ep) + 1 for ep in picked)
        return episodes_to_rollouts(picked, max(1, math.ceil(rows / longest)))
