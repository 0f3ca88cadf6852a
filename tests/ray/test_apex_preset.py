"""RLlib's APEX as a DQN preset: `experiment=cartpole_apex` (algo=apex on two Ray runners) learns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.ray
@pytest.mark.long
def test_cartpole_apex_reaches_450(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "rlrun", "train", "experiment=cartpole_apex", "seed=0",
         f"results_dir={tmp_path}", "console=plain", "checkpoint.at_end=false"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (result,) = tmp_path.glob("*/*/result.json")
    rows = [json.loads(line) for line in result.read_text().splitlines()]
    assert rows[-1]["env_runners"]["episode_return_mean"] >= 450, rows[-1]["env_runners"]
    assert rows[-1]["num_env_steps_sampled_lifetime"] <= 100_000 + 8192
