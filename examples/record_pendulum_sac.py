"""Re-record tuned_examples/data/pendulum_sac_training, the data of the pendulum_cql tuned
example (docs/offline.md): the episodes the tuned SAC example samples while it learns, from
random actions (its first 1000 steps) to a return near -150, written with `output=`. A mix of
skill levels, as RLlib's own Pendulum data for CQL is.

    python examples/record_pendulum_sac.py [--out DIR]

About 25 s on two CPU cores (50 episodes, 10k steps, ~300 KB); the same command by hand:

    rlrun train experiment=pendulum_sac seed=0 output=/tmp/sac_episodes output_format=parquet
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from rlrun.cli import main

ROOT = Path(__file__).resolve().parents[1]

parser = argparse.ArgumentParser()
parser.add_argument("--out", type=Path, default=ROOT / "tuned_examples/data/pendulum_sac_training")
args = parser.parse_args()

with tempfile.TemporaryDirectory() as tmp:
    recorded = Path(tmp) / "episodes"
    code = main(
        [
            "train",
            "experiment=pendulum_sac",
            "seed=0",
            f"results_dir={tmp}",
            f"output={recorded}",
            "output_format=parquet",
            "console=off",
        ]
    )
    if code:
        sys.exit("training SAC failed")
    (episodes,) = recorded.glob("*/episodes-000000.parquet")
    args.out.mkdir(parents=True, exist_ok=True)
    shutil.copy(episodes, args.out / "episodes-000000.parquet")
    print(f"wrote {args.out / 'episodes-000000.parquet'}")
