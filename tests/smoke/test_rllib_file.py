"""`rlrun train file=<RLlib tuned-example YAML>` end to end, in a subprocess: one short run, a
sweep over envs, a bad file's error without a traceback and without torch being imported, and
(marked slow) RLlib's own tuned-example files that reach their `stop:` return within a minute
here, each within the file's own budget and with nothing else on the command line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers.cli import ENV, REPO, TIMEOUT, Run, rlrun_cmd, train

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
    # vf_loss_coeff: RLlib's 0.01 on (V - target)^2 is 0.02 on rlrun's 0.5 (V - target)^2.
    assert config["algo"]["lr"] == 0.0003 and config["algo"]["vf_loss_coeff"] == 0.02
    # What the file leaves out is RLlib's: its value-loss clip, its 2 env runners' streams.
    assert config["algo"]["vf_loss_clip"] == 10.0 and config["algo"]["num_epochs"] == 1
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


def test_a_grid_search_over_env_runs_one_trial_per_env(tmp_path: Path) -> None:
    spec = tmp_path / "envs.yaml"
    spec.write_text(
        "two-envs:\n  run: PPO\n  env: {grid_search: [CartPole-v1, Acrobot-v1]}\n"
        "  stop: {training_iteration: 1}\n  config: {train_batch_size: 256, minibatch_size: 64}\n"
    )
    proc = subprocess.run(
        [*rlrun_cmd("train", f"file={spec}", f"results_dir={tmp_path}", "console=plain")],
        capture_output=True, text=True, cwd=REPO, env=ENV, timeout=TIMEOUT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    trials = sorted(p for p in (tmp_path / "two-envs").glob("*/params.json"))
    envs = sorted(json.loads(p.read_text())["env"]["id"] for p in trials)
    assert envs == ["Acrobot-v1", "CartPole-v1"]


# RLlib's files that reach their own stop return within about a minute here (docs/rllib_yaml.md,
# "RLlib's own files", has every file's outcome).
# The cases and one per kind run in `make test`; the rest are marked `long` (`make
# test` deselects them; `pytest -m long` runs them) to keep the suite within its budget.
QUICK = [
    "dqn/cartpole-dqn.yaml",
    "dqn/cartpole-dqn-fake-gpus.yaml",
    "ppo/cartpole-ppo.yaml",
    "ppo/repeatafterme-ppo-lstm.yaml",
    "simple_q/cartpole-simpleq.yaml",
    "appo/cartpole-appo.yaml",
]
LONG = [
    "sac/pendulum-sac.yaml",
    "dqn/cartpole-dqn-softq.yaml",
    "dqn/cartpole-dqn-param-noise.yaml",
    "ppo/cartpole-ppo-fake-gpus.yaml",
    "ppo/pendulum-ppo-with-rl-module.yaml",
    "sac/cartpole-sac.yaml",
    "sac/pendulum-transformed-actions-sac.yaml",
    "appo/cartpole-appo-w-rl-modules-and-learner.yaml",
    "impala/cartpole-impala-fake-gpus.yaml",
]


@pytest.mark.slow
@pytest.mark.parametrize("name", [*QUICK, *(pytest.param(n, marks=pytest.mark.long) for n in LONG)])
def test_rllibs_own_file_reaches_its_stop_return(name: str, tmp_path: Path) -> None:
    path = DATA / "real" / name
    spec = next(iter(yaml.safe_load(path.read_text()).values()))
    proc = subprocess.run(
        [*rlrun_cmd("train", f"file={path}", f"results_dir={tmp_path}", "console=plain")],
        capture_output=True, text=True, cwd=REPO, env=ENV, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (result,) = tmp_path.glob("*/*/result.json")
    rows = [json.loads(line) for line in result.read_text().splitlines() if line.strip()]
    (target,) = [v for k, v in spec["stop"].items() if "episode_re" in k]
    budget = min(
        [float(v) for k, v in spec["stop"].items() if k.startswith(("timesteps", "num_env"))]
        or [float("inf")]
    )
    final = rows[-1]
    assert final["env_runners"]["episode_return_mean"] >= target, final["env_runners"]
    assert final["num_env_steps_sampled_lifetime"] <= budget
