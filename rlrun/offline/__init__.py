"""Recorded episodes for offline algorithms (BC, MARWIL, CQL): reading and batching.

`load_episodes` reads `offline_data.input_` (rlrun's own `output=` files, JSON lines or parquet,
and Minari datasets) into Episode objects, checked against the spaces the module sees;
`episodes_to_rollouts` packs episodes into the time-major Rollouts online sampling produces, so
the replay buffer and the on-policy learner pipeline take them unchanged. Importing this package
imports neither torch nor pyarrow nor minari.
"""

from __future__ import annotations

from rlrun.offline.loader import load_episodes
from rlrun.offline.packing import episodes_to_rollouts

__all__ = ["episodes_to_rollouts", "load_episodes"]
