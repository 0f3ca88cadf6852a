"""The embedded default (no remote runners or learners) trains without ever importing Ray."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys, rlrun
algo = rlrun.build(["algo.train_batch_size_per_learner=256", "algo.minibatch_size=64"])
algo.train()
algo.save(sys.argv[1])
algo.evaluate(episodes=1)
print(sorted(m for m in sys.modules if m == "ray" or m.startswith("ray.")))
"""


def test_default_training_never_imports_ray(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "ckpt")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
