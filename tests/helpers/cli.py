"""Running the `rlrun` command in a subprocess from tests, and reading what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
SMALL = [
    "algo.train_batch_size_per_learner=256",
    "algo.minibatch_size=64",
    "algo.num_epochs=1",
    "console=plain",
]
TIMEOUT = 180


def rlrun_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "rlrun", *args]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        rlrun_cmd(*args), cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


class Run:
    """A finished `rlrun` process: exit code, output, and the trial folder it made (if any)."""

    def __init__(self, proc: subprocess.Popen, results_dir: Path | None) -> None:
        self.stdout, self.stderr = proc.communicate(timeout=TIMEOUT)
        self.rc = proc.returncode
        self.results_dir = results_dir

    @property
    def trial_dir(self) -> Path:
        assert self.results_dir is not None
        trials = [p for p in self.results_dir.glob("*/*") if (p / "params.json").exists()]
        assert len(trials) == 1, (trials, self.stdout, self.stderr)
        return trials[0]

    def results(self) -> list[dict]:
        lines = (self.trial_dir / "result.json").read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def checkpoints(self) -> list[Path]:
        return sorted(self.trial_dir.glob("checkpoint_*"))

    def explain(self) -> str:
        return f"rc={self.rc}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def train(results_dir: Path, *args: str) -> subprocess.Popen:
    return start("train", f"results_dir={results_dir}", *SMALL, *args)


def cli_fails(argv: list[str], capsys: Any, *needles: str) -> str:
    """`rlrun <argv>` in this process (no torch import per run) must be a user error: exit code
    2, no traceback, every needle in stderr. Returns stderr."""
    from rlrun import cli

    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert "Traceback" not in out + err
    for needle in needles:
        assert needle in err, err
    return err
