"""Running mean/std observation normalization (RLlib's MeanStdFilter)."""

from __future__ import annotations

import numpy as np

from rlrun.connectors.connector import Connector


class MeanStdFilter(Connector):
    """Normalizes observations by running statistics, then clips to +-`clip`.

    Statistics use Chan et al.'s parallel update, so two filters' states can be merged exactly
    (what remote runners need to agree on one normalization). Besides its full statistics the
    filter keeps those of the observations seen since the last `pop_delta()`: a remote runner
    ships only that delta, the driver merges every runner's delta into its own filter and
    broadcasts the result, so each observation is counted once.
    """

    def __init__(self, shape: tuple[int, ...], clip: float = 10.0, eps: float = 1e-8) -> None:
        self.count = np.zeros((), np.float64)
        self.mean = np.zeros(shape, np.float64)
        self.m2 = np.zeros(shape, np.float64)
        self.clip = clip
        self.eps = eps
        self._delta: list[np.ndarray] = []  # observation batches since the last pop_delta()

    def __call__(self, obs: np.ndarray, update: bool = True) -> np.ndarray:
        if update:
            self.update(obs)
        std = np.sqrt(self.m2 / max(float(self.count), 1.0)) + self.eps
        return np.clip((obs - self.mean) / std, -self.clip, self.clip).astype(np.float32)

    def update(self, batch: np.ndarray) -> None:
        n = batch.shape[0]
        self.merge(n, batch.mean(axis=0), batch.var(axis=0) * n)
        self._delta.append(np.array(batch, np.float64))

    def merge(self, n: float, mean: np.ndarray, m2: np.ndarray) -> None:
        if n <= 0:
            return
        total = self.count + n
        delta = mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.count * n / total)
        self.count = np.asarray(total, np.float64)

    def pop_delta(self) -> dict[str, np.ndarray]:
        if not self._delta:
            return {}
        # One pass over the stacked batches is exact and cheaper than merging batch by batch.
        seen = np.concatenate(self._delta)
        self._delta = []
        n = seen.shape[0]
        return {
            "count": np.asarray(float(n)),
            "mean": seen.mean(axis=0),
            "m2": seen.var(axis=0) * n,
        }

    def merge_delta(self, delta: dict[str, np.ndarray]) -> None:
        self.merge(float(delta["count"]), np.asarray(delta["mean"]), np.asarray(delta["m2"]))

    def get_state(self) -> dict[str, np.ndarray]:
        return {"count": self.count.copy(), "mean": self.mean.copy(), "m2": self.m2.copy()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self._delta = []
        if state:
            self.count = np.array(state["count"], np.float64).reshape(())
            self.mean = np.array(state["mean"], np.float64)
            self.m2 = np.array(state["m2"], np.float64)
