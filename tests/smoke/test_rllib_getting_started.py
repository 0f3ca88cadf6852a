"""examples/rllib_getting_started.py, RLlib's getting-started code with only its imports
changed, runs to the end: build, train, save, from_checkpoint, one episode of actions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers.cli import ENV, REPO

SCRIPT = REPO / "examples" / "rllib_getting_started.py"


def test_rllib_getting_started_script_runs(tmp_path: Path) -> None:
    # HOME: algo.save() without a path writes under ~/ray_results, as RLlib does.
    env = {**ENV, "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--stop-iters", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    saved = re.findall(r"Checkpoint saved in directory (\S+)", proc.stdout)
    assert len(saved) == 1 and Path(saved[0]).is_relative_to(tmp_path / "ray_results")
    assert (Path(saved[0]) / "rlrun_checkpoint.json").is_file()
    assert "'training_iteration': 2" in proc.stdout
    assert "'episode_return_mean'" in proc.stdout  # the evaluation results
    assert re.search(r"Reached episode return of \d+\.\d+\.", proc.stdout)
    assert os.environ.get("HOME") != str(tmp_path)
