"""Bad input gets one clear paragraph, exit code 2 and no traceback; help and errors never load torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from rlrun import cli
from rlrun.algorithms.registry import ALGORITHMS
from rlrun.config.paths import config_groups, experiments, group_options
from rlrun.errors import ConfigError, RLRunError

REPO = Path(__file__).resolve().parents[2]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        # unknown group option: list what exists
        (
            ["train", "algo=foo"],
            ["algo=foo", "unknown 'algo' option", "Allowed: ", "dqn", "ppo", "sac"],
        ),
        (["train", "env_runner=nope"], ["env_runner=nope", "Allowed: local"]),
        (["train", "experiment=nope"], ["unknown experiment 'nope'"]),
        # typo'd keys: name it, suggest the closest, list its neighbours
        (["train", "algo.lrr=1"], ["algo.lrr=1", "Did you mean 'algo.lr'?", "gamma"]),
        (["train", "+algo.lrr=1"], ["+algo.lrr=1", "Did you mean 'algo.lr'?"]),
        (["train", "lr=1e-3"], ["unknown key 'lr'", "Did you mean 'algo.lr'?"]),
        (["train", "stop.rewrd=3"], ["stop.rewrd", "Did you mean 'stop.reward'?"]),
        # another algorithm's key: say whose it is, and list only this algorithm's keys
        (
            ["train", "algo.autotune_alpha=false"],
            ["algo.autotune_alpha=false", "a setting of SAC", "algorithm is PPO", "algo=sac"],
        ),
        (
            ["train", "algo.replay.capacity=10"],
            ["a setting of DQN, SAC", "algorithm is PPO", "algo=dqn or algo=sac"],
        ),
        (["train", "algo=dqn", "algo.lrr=1"], ["Did you mean 'algo.lr'?", "epsilon"]),
        (["train", "+foo.bar=1"], ["+foo.bar=1", "Valid keys at the top level"]),
        # wrong types: say what is expected
        (["train", "algo.gamma=abc"], ["algo.gamma=abc", "wrong type", "a number"]),
        (["train", "seed=abc"], ["seed=abc", "an integer or null"]),
        (["train", "checkpoint.at_end=maybe"], ["checkpoint.at_end=maybe", "true or false"]),
        (["train", "algo.model.fcnet_hiddens=[a,b]"], ["fcnet_hiddens", "a list of integers"]),
        # syntax
        (["train", "algo.lr=[1,"], ["cannot parse override 'algo.lr=[1,'"]),
        (["train", "foo"], ["'foo' is not an override"]),
        (["train", "~seed"], ["deleting keys is not supported"]),
        (["train", "name=${nope}"], ["name=${nope}", "interpolation"]),
        # a sweep without -m; -m with bad sweeps (checked before any trial starts)
        (["train", "algo.lr=1e-3,3e-4"], ["algo.lr=1e-3,3e-4", "add -m", "[1e-3,3e-4]"]),
        (["train", "-m", "algo.lr=1e-3,abc"], ["algo.lr=abc", "neither a number"]),
        (["train", "-m", "algo.lr=1e-3"], ["needs at least one sweep"]),
        (["train", "-m", "algo.lr=interval(1e-4,1e-2)"], ["interval()", "hydra/sweeper=optuna"]),
        (
            ["train", "-m", "hydra/launcher=slurm", "seed=0,1"],
            ["hydra/launcher=slurm", "basic, ray"],
        ),
        (["train", "-m", "env=CartPole-v1,MountainCar-v0"], ["mixes envs", "env.id=A,B"]),
        (["train", "-m", "seed=0,1", "--cfg"], ["--cfg prints one config"]),
        # out of range (validate)
        (["train", "algo.lr=-1"], ["algo.lr=-1", "a number > 0"]),
        (["train", "algo.gamma=1.5"], ["algo.gamma=1.5", "[0, 1]"]),
        (["train", "algo.minibatch_size=5000"], ["algo.minibatch_size=5000", "train_batch_size"]),
        (
            ["train", "fault_tolerance.ignore_env_runner_failures=true"],
            ["ignore_env_runner_failures=true", "restart_failed_env_runners=false"],
        ),
        (["train", "env_runner.type=ray"], ["env_runner.type", "unknown key", "num_env_runners"]),
        # env ids: list close matches, say what Gymnasium said
        (["train", "env=CartPol-v1"], ["CartPol-v1", "Gymnasium says", "CartPole-v1"]),
        (["train", "env=no_such_module_xyz:Env"], ["cannot import module 'no_such_module_xyz'"]),
        (["train", "env=ALE/Pongg-v5"], ["ALE/Pongg-v5", "Did you mean ALE/Pong-v5"]),
        # models: keys an algorithm does not use, filters that do not fit, spaces nothing encodes
        (["train", "algo=dqn", "algo.model.use_lstm=true"], ["use_lstm", "no recurrent replay"]),
        (
            ["train", "algo=sac", "algo.model.vf_share_layers=true"],
            ["vf_share_layers", "not used by SAC"],
        ),
        (
            ["train", "env=TinyImageEnv", "algo.model.conv_filters=[[16,8,4],[32,4,2]]"],
            ["conv_filters", "(12, 12, 3)", "layer 1 [32, 4, 2]"],
        ),
        (["train", "algo.model.conv_filters=[[16,8]]"], ["conv_filters", "[channels, kernel"]),
        (
            ["train", "env.id=tests.helpers.envs:TextObsEnv"],
            ["env.id=tests.helpers.envs:TextObsEnv", "Text", "supported: Box"],
        ),
        (
            ["train", "env=DictCartPole", "env.action_mask_key=mask"],
            ["env.action_mask_key=mask", "its keys are cart, pole"],
        ),
        # connectors: unknown names, class paths that do not import, kwargs a piece lacks
        (
            ["train", "connectors.env_to_module=[frame_stak]"],
            ["connectors.env_to_module[0]", "Did you mean 'frame_stack'?"],
        ),
        (
            ["train", "connectors.env_to_module=[{name:nope.mod:Piece}]"],
            ["connectors.env_to_module[0]", "cannot import module 'nope.mod'"],
        ),
        (
            ["train", "connectors.env_to_module=[{frame_stack:{num_frame:4}}]"],
            ["no kwarg 'num_frame'", "Did you mean 'num_frames'?"],
        ),
        # checkpoints
        (["train", "resume=/no/such/checkpoint"], ["resume=/no/such/checkpoint", "does not exist"]),
        (["evaluate", "checkpoint=/no/such/dir"], ["does not exist", "rlrun_checkpoint.json"]),
        (["evaluate"], ["checkpoint=PATH is required"]),
        (["evaluate", "checkpoint=/tmp", "epsiodes=3"], ["epsiodes=3", "Did you mean 'episodes'?"]),
        # the command line itself
        (["trian"], ["unknown command 'trian'", "Did you mean 'train'?"]),
        (["algo=ppo"], ["rlrun train algo=ppo"]),
        (["train", "--bogus"], ["unknown option '--bogus'"]),
    ],
)
def test_error_messages(
    argv: list[str], needles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    assert err.startswith("rlrun: error: ")
    assert err.count("\n") == 1, "one paragraph"
    for needle in needles:
        assert needle in err


def test_checkpoint_folder_without_marker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only a checkpoint whose writing was cut off (.tmp): no complete one to stand for the trial.
    trial = tmp_path / "trial"
    (trial / "checkpoint_000002.tmp").mkdir(parents=True)
    code, _, err = run_cli(["evaluate", f"checkpoint={trial}"], capsys)
    assert code == 2
    assert "no rlrun_checkpoint.json" in err and "no complete checkpoint_NNNNNN" in err


def test_experiment_folder_with_several_trials_asks_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for trial in ("PPO_a", "PPO_b"):
        ckpt = tmp_path / trial / "checkpoint_000001"
        ckpt.mkdir(parents=True)
        (ckpt / "rlrun_checkpoint.json").write_text("{}")
    code, _, err = run_cli(["train", f"resume={tmp_path}"], capsys)
    assert code == 2 and "holds 2 trials with checkpoints (PPO_a, PPO_b)" in err


def test_corrupt_checkpoint_marker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rlrun_checkpoint.json").write_text("{not json")
    code, _, err = run_cli(["train", f"resume={tmp_path}"], capsys)
    assert code == 2 and "corrupt" in err


# --- help ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h"], ["help"]])
def test_help_lists_commands_algorithms_groups_and_examples(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(argv, capsys)
    assert code == 0
    for word in ["train", "evaluate", *ALGORITHMS, *config_groups(), "experiment="]:
        assert word in out
    for group in config_groups():
        for option in group_options(group):
            if option != "gym":
                assert option in out
    for name, _ in experiments():
        assert name in out


def test_train_and_evaluate_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["train", "--help"], capsys)
    assert code == 0 and "--cfg" in out and "algo.lr=" in out
    code, out, _ = run_cli(["evaluate", "--help"], capsys)
    assert code == 0 and "checkpoint=PATH" in out and "episodes=N" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["--version"], capsys)
    assert code == 0 and out.startswith("rlrun ")


def test_train_cfg_prints_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["train", "--cfg", "algo.gamma=0.95", "env=MountainCar-v0"], capsys)
    assert code == 0
    assert "gamma: 0.95" in out and "id: MountainCar-v0" in out


# --- dispatch to rlrun.run (faked: it is another module's job) --------------------------------------


def test_train_calls_run_with_composed_config(fake_run: dict[str, Any], tmp_path: Path) -> None:
    ckpt = tmp_path / "checkpoint_000001"
    ckpt.mkdir()
    (ckpt / "rlrun_checkpoint.json").write_text(json.dumps({"format_version": 1}))
    assert cli.main(["train", "env=MountainCar-v0", "seed=4", f"resume={ckpt}"]) == 0
    cfg, overrides = fake_run["train"]
    assert cfg.env.id == "MountainCar-v0" and cfg.seed == 4
    assert cfg.resume == str(ckpt.resolve())
    assert overrides == ["env=MountainCar-v0", "seed=4", f"resume={ckpt}"]


def test_errors_raised_by_training_are_exit_2(
    fake_run: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    fake_run["raise"] = RLRunError("the env exploded politely")
    code, _, err = run_cli(["train"], capsys)
    assert code == 2 and "the env exploded politely" in err
    fake_run["raise"] = KeyboardInterrupt()
    assert cli.main(["train"]) == 130


def test_evaluate_parses_its_arguments(fake_run: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "rlrun_checkpoint.json").write_text("{}")
    argv = [
        "evaluate",
        f"checkpoint={tmp_path}",
        "episodes=3",
        "render=true",
        "video=~/vids",
        "seed=5",
    ]
    assert cli.main(argv) == 0
    assert fake_run["evaluate"] == {
        "checkpoint": tmp_path.resolve(),
        "episodes": 3,
        "render": True,
        "video": os.path.expanduser("~/vids"),
        "seed": 5,
        "explore": False,
    }


def test_config_error_is_user_facing() -> None:
    err = ConfigError("algo.gamma", 1.5, "out of range.", allowed="a number in [0, 1]")
    assert str(err) == "algo.gamma=1.5: out of range. Allowed: a number in [0, 1]"
    assert err.exit_code == 2 and isinstance(err, RLRunError)


# --- no torch, no Ray for help and config errors ---------------------------------------------------

_PROBE = """
import sys, time
t = time.perf_counter()
from rlrun.cli import main
code = main({argv!r})
heavy = sorted(m for m in ("torch", "ray", {extra}) if m in sys.modules)
print("RESULT", code, ",".join(heavy) or "-", file=sys.stderr)
"""


def _probe(argv: list[str], extra: str = "") -> tuple[int, str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(argv=argv, extra=extra)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    line = [x for x in proc.stderr.splitlines() if x.startswith("RESULT")][-1]
    _, code, heavy = line.split()
    return int(code), heavy


def test_help_imports_neither_torch_ray_nor_hydra() -> None:
    assert _probe(["--help"], extra='"hydra", "omegaconf"') == (0, "-")
    assert _probe(["train", "--help"], extra='"hydra"') == (0, "-")


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "algo.lrr=1"],
        ["train", "algo=foo"],
        ["train", "algo.gamma=2"],
        ["train", "env=CartPol-v1"],
        ["train", "resume=/no/such/dir"],
        ["train", "--cfg"],
        ["evaluate", "checkpoint=/no/such/dir"],
    ],
)
def test_config_errors_do_not_import_torch_or_ray(argv: list[str]) -> None:
    code, heavy = _probe(argv)
    assert heavy == "-"
    assert code == (0 if "--cfg" in argv else 2)


def test_help_is_fast() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rlrun", "--help"],
        check=True,
        capture_output=True,
        cwd=REPO,
        env=env,
    )
    assert time.perf_counter() - start < 1.5
