"""CQL's bad input through the CLI: one paragraph naming the key and the value, exit code 2,
no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import cli_fails

DATA = "tuned_examples/data/pendulum_sac_training"


def test_cql_needs_input(capsys: pytest.CaptureFixture[str]):
    cli_fails(["train", "algo=cql", "env=Pendulum-v1"], capsys, "offline_data.input_=null",
          "CQL learns from recorded episodes only")  # fmt: skip


def test_discrete_actions_name_the_space(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    cli_fails(
        ["train", "algo=cql", "env=CartPole-v1", "offline_data.input_=tuned_examples/data/"
         "cartpole_expert", f"results_dir={tmp_path}"],
        capsys, "algo.name=CQL", "needs a Box action space", "Discrete(2)",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["algo.min_q_weight=-1"], ["algo.min_q_weight=-1", ">= 0"]),
        (["algo.num_actions=0"], ["algo.num_actions=0", ">= 1"]),
        (["algo.temperature=0"], ["algo.temperature=0", "> 0"]),
        (["algo.bc_iters=-5"], ["algo.bc_iters=-5", ">= 0"]),
        (["stop.timesteps=1000"], ["stop.timesteps=1000", "stop.iterations"]),
    ],
)
def test_bad_settings(args: list[str], needles: list[str], capsys: pytest.CaptureFixture[str]):
    cli_fails(["train", "algo=cql", "env=Pendulum-v1", f"offline_data.input_={DATA}", *args],
          capsys, *needles)  # fmt: skip


def test_data_of_another_env(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    cli_fails(
        ["train", "algo=cql", "env=MountainCarContinuous-v0", f"offline_data.input_={DATA}",
         f"results_dir={tmp_path}"],
        capsys, "offline_data.input_", "observation space",
    )  # fmt: skip
