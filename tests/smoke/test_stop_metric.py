"""A typo'd stop.metric fails fast and clearly instead of never stopping."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_stop_metric_is_a_clear_error_after_the_first_iteration(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlrun",
            "train",
            "stop.metric=env_runners/episode_reward_mean",
            "algo.train_batch_size_per_learner=256",
            "algo.minibatch_size=64",
            "algo.num_epochs=1",
            f"results_dir={tmp_path}",
            "console=plain",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "stop.metric=env_runners/episode_reward_mean" in proc.stderr
    assert "Did you mean env_runners/episode_return_mean" in proc.stderr
    (trial,) = tmp_path.glob("*/*/")
    lines = (trial / "result.json").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["training_iteration"] == 1  # nothing lost
    assert (trial / "error.txt").exists()
