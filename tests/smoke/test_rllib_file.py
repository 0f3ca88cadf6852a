"""`rlrun train file=<RLlib tuned-example YAML>` end to end, in a subprocess: one short run, and
a bad file's error without a traceback and without torch being imported."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.helpers.cli import ENV, REPO, Run, rlrun_cmd, train

DATA = REPO / "tests" / "data" / "rllib"

PROBE = """
import sys
from rlrun.cli import main
code = main(sys.argv[1:])
print("RESULT", code, "torch" in sys.modules, "ray" in sys.modules, file=sys.stderr)
"""


def test_train_file_runs_the_experiment(tmp_path: Path) -> None:
    run = Run(
        train(tmp_path, f"file={DATA / 'cartpole-ppo.yaml'}", "stop.iterations=1", "seed=5"),
        tmp_path,
    )
    assert run.rc == 0, run.explain()
    # The RLlib experiment's name is the experiment folder, as under Tune.
    assert run.trial_dir.parent.name == "cartpole-ppo"
    config = json.loads((run.trial_dir / "params.json").read_text())
    assert config["algo"]["lr"] == 0.0003 and config["algo"]["vf_loss_coeff"] == 0.01
    assert config["algo"]["model"]["fcnet_hiddens"] == [32]
    assert config["env_runner"]["observation_filter"] == "MeanStdFilter"
    # The command line wins over the file: its seed is 7 and its num_sgd_iter 6.
    assert config["seed"] == 5 and config["algo"]["num_epochs"] == 1
    assert [r["training_iteration"] for r in run.results()] == [1]
    assert "warning" not in run.stderr


def test_a_bad_file_is_exit_2_without_torch(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("e: {run: PPO, env: CartPole-v1, config: {num_workers: -1}}\n")
    proc = subprocess.run(
        [*rlrun_cmd()[:1], "-c", PROBE, "train", f"file={bad}"],
        capture_output=True, text=True, cwd=REPO, env=ENV, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr
    assert "num_workers in the file" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "RESULT 2 False False"
