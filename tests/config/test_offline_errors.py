"""Offline algorithms' bad input through the CLI: one paragraph naming the key and the value,
exit code 2, no traceback (offline_data.*, BC/MARWIL settings, `rlrun evaluate output=`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import cli_fails

DATA = "tuned_examples/data/cartpole_expert"


@pytest.mark.parametrize("algo", ["bc", "marwil"])
def test_an_offline_algorithm_needs_input(algo: str, capsys: pytest.CaptureFixture[str]):
    cli_fails(["train", f"algo={algo}"], capsys, "offline_data.input_=null",
          f"{algo.upper()} learns from recorded episodes only")  # fmt: skip


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["algo=bc", "algo.beta=0.5"], ["algo.beta=0.5", "algo=marwil"]),
        (["algo=bc", "stop.timesteps=1000"], ["stop.timesteps=1000", "stop.iterations"]),
        (["algo=marwil", "algo.moving_average_sqd_adv_norm_update_rate=2"], ["[0, 1]"]),
        (["algo=marwil", "algo.beta=-1"], ["algo.beta=-1", ">= 0"]),
        (["algo=bc", "offline_data.dataset_num_iters_per_learner=0"], [">= 1"]),
        (["algo=bc", "algo.model.use_lstm=true"], ["algo.model.use_lstm=true", "recurrent"]),
    ],
)
def test_bad_settings(args: list[str], needles: list[str], capsys: pytest.CaptureFixture[str]):
    cli_fails(["train", f"offline_data.input_={DATA}", *args], capsys, *needles)


def test_missing_and_empty_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    missing = tmp_path / "nope"
    cli_fails(["train", "algo=bc", f"offline_data.input_={missing}", f"results_dir={tmp_path}"],
          capsys, f"offline_data.input_={missing}", "does not exist")  # fmt: skip
    cli_fails(["train", "algo=bc", f"offline_data.input_={tmp_path}", f"results_dir={tmp_path}"],
          capsys, "holds no .jsonl or .parquet files")  # fmt: skip


def test_data_of_another_env_names_both_spaces(tmp_path: Path, capsys):
    err = cli_fails(
        ["train", "algo=bc", "env=Pendulum-v1", f"offline_data.input_={DATA}",
         f"results_dir={tmp_path}"],
        capsys, "observation space", "the data has shape (4,)", "Box(",
    )  # fmt: skip
    assert "(3,)" in err  # Pendulum's observation shape


def test_a_corrupt_file_names_the_file_and_line(tmp_path: Path, capsys):
    bad = tmp_path / "episodes.jsonl"
    good = {"observations": [[0, 0, 0, 0], [0, 0, 0, 0]], "actions": [0], "rewards": [1.0],
            "terminated": True, "truncated": False}  # fmt: skip
    bad.write_text(json.dumps(good) + "\n{oops\n")
    cli_fails(["train", "algo=bc", f"offline_data.input_={bad}", f"results_dir={tmp_path}"],
          capsys, f"{bad} line 2 is not JSON")  # fmt: skip


def test_evaluate_output_format_is_checked(tmp_path: Path, capsys):
    cli_fails(["evaluate", f"checkpoint={tmp_path}", "output=x", "output_format=xml"], capsys,
          "output_format=xml", "json, parquet")  # fmt: skip
