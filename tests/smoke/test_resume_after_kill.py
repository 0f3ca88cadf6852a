"""A run killed with SIGKILL loses nothing it had checkpointed: `resume=` takes its trial folder
and continues from the last complete checkpoint, passing over a `.tmp` left by a write that the
kill cut off."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
SMALL = ["algo.train_batch_size_per_learner=512", "algo.minibatch_size=256", "algo.num_epochs=1"]


def rlrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "rlrun", "train", *args, "console=plain"]


def test_resume_from_the_trial_folder_of_a_killed_run(tmp_path: Path):
    results = tmp_path / "results"
    killed = subprocess.Popen(
        rlrun(*SMALL, "checkpoint.frequency=1", "stop.iterations=1000", "stop.reward=null",
              f"results_dir={results}"),
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not list(results.glob("*/*/checkpoint_000003/rlrun_checkpoint.json")):
            assert time.monotonic() < deadline, "no third checkpoint within 60 s"
            time.sleep(0.1)
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
    (trial,) = results.glob("*/*")
    done = sorted(int(p.name[-6:]) for p in trial.glob("checkpoint_??????") if p.is_dir())
    # What a kill during a write leaves: the next checkpoint half-written under .tmp.
    partial = trial / f"checkpoint_{done[-1] + 1:06d}.tmp"
    partial.mkdir(exist_ok=True)
    (partial / "config.yaml").write_text("half")
    resumed_dir = tmp_path / "resumed"
    proc = subprocess.run(
        rlrun(f"resume={trial}", f"stop.iterations={done[-1] + 1}", f"results_dir={resumed_dir}"),
        env=ENV, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    (result_file,) = resumed_dir.glob("*/*/result.json")
    first = json.loads(result_file.read_text().splitlines()[0])
    assert first["training_iteration"] == done[-1] + 1
