"""BC: MARWIL's training step and learner with beta = 0 (rlrun.algorithms.bc.config)."""

from __future__ import annotations

from rlrun.algorithms.marwil.algorithm import MARWIL


class BC(MARWIL):
    pass
