"""Re-record tuned_examples/data/cartpole_expert, the data of the cartpole_bc and
cartpole_marwil tuned examples (docs/offline.md): train the tuned PPO example, then write the
episodes of its deterministic policy with `rlrun evaluate ... output=`.

    python examples/record_cartpole_expert.py [--episodes 20] [--out DIR]

About 30 s on two CPU cores; the same two commands by hand:

    rlrun train experiment=cartpole_ppo results_dir=/tmp/expert
    rlrun evaluate checkpoint=/tmp/expert/PPO_CartPole-v1/<trial>/checkpoint_<N> episodes=20 \\
        output=/tmp/expert/episodes output_format=parquet
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
parser.add_argument("--episodes", type=int, default=20)
parser.add_argument("--out", type=Path, default=ROOT / "tuned_examples/data/cartpole_expert")
args = parser.parse_args()

with tempfile.TemporaryDirectory() as tmp:
    if main(["train", "experiment=cartpole_ppo", f"results_dir={tmp}", "console=off", "seed=0"]):
        sys.exit("training the expert failed")
    checkpoint = max(Path(tmp).glob("PPO_CartPole-v1/*/checkpoint_*"))
    recorded = Path(tmp) / "episodes"
    code = main(
        [
            "evaluate",
            f"checkpoint={checkpoint}",
            f"episodes={args.episodes}",
            f"output={recorded}",
            "output_format=parquet",
        ]
    )
    if code:
        sys.exit("recording failed")
    (episodes,) = recorded.glob("*/episodes-000000.parquet")
    args.out.mkdir(parents=True, exist_ok=True)
    shutil.copy(episodes, args.out / "episodes-000000.parquet")
    print(f"wrote {args.out / 'episodes-000000.parquet'}")
