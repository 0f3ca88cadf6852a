"""Unit tests for rlrun.results: loggers, trial dirs, the console. Fast, no torch, no Ray."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shlex
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rlrun.results import (
    CsvLogger,
    JsonLogger,
    NullConsole,
    PlainConsole,
    ResultLoggers,
    RichConsole,
    create_trial_dir,
    evaluate_command,
    flatten,
    get_metric,
    get_number,
    make_console,
    read_results,
    safe_name,
    stop_progress,
    trial_name,
    write_error,
    write_params,
)


def make_result(iteration: int = 3, ret: float | None = 120.5, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "training_iteration": iteration,
        "num_env_steps_sampled_lifetime": 4000 * iteration,
        "time_this_iter_s": 0.4,
        "time_total_s": 1.3,
        "timestamp": 1700000000,
        "env_runners": {
            "episode_return_mean": ret,
            "episode_len_mean": 120.5,
            "num_env_steps_sampled": 4000,
        },
        "learners": {"default_policy": {"policy_loss": 0.01, "vf_loss": 3.2}},
        "perf": {"env_steps_per_s": 9000.0},
    }
    result.update(extra)
    return result


# --- flatten -------------------------------------------------------------------------------


def test_flatten_and_lookup() -> None:
    result = make_result()
    flat = flatten(result)
    assert flat["learners/default_policy/vf_loss"] == 3.2
    assert flat["training_iteration"] == 3
    assert "env_runners" not in flat
    assert get_metric(result, "env_runners/episode_return_mean") == 120.5
    assert get_metric(flat, "env_runners/episode_return_mean") == 120.5
    assert get_metric(result, "env_runners/nope") is None
    assert get_metric(result, "training_iteration/deeper") is None
    assert get_number(make_result(ret=math.nan), "env_runners/episode_return_mean") is None


# --- loggers -------------------------------------------------------------------------------


def test_json_lines_valid_and_flushed_each_iteration(tmp_path: Path) -> None:
    logger = JsonLogger(tmp_path)
    try:
        logger.log(make_result(1, ret=math.nan))
        lines = (tmp_path / "result.json").read_text().splitlines()  # before close
        assert len(lines) == 1
        logger.log(make_result(2, ret=float("inf")))
        lines = (tmp_path / "result.json").read_text().splitlines()
        assert len(lines) == 2
        for line in lines:
            # Strict parse: bare NaN/Infinity tokens would be rejected here.
            json.loads(line, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
        assert "NaN" not in lines[0] and "Infinity" not in lines[1]
        first = json.loads(lines[0])
        assert first["env_runners"]["episode_return_mean"] is None
        assert first["learners"]["default_policy"]["vf_loss"] == 3.2  # stays nested
    finally:
        logger.close()
    assert [r["training_iteration"] for r in read_results(tmp_path)] == [1, 2]


def test_json_numpy_values(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    with ResultLoggers(tmp_path, enabled=("json",)) as loggers:
        loggers.log(make_result(extra=np.float32(np.nan), arr=np.arange(3), n=np.int64(7)))
    (result,) = read_results(tmp_path / "result.json")
    assert result["extra"] is None and result["arr"] == [0, 1, 2] and result["n"] == 7


def test_read_results_skips_truncated_last_line_and_append_recovers(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(make_result(1)) + "\n" + '{"training_iteration": 2, "env')
    assert [r["training_iteration"] for r in read_results(tmp_path)] == [1]
    logger = JsonLogger(tmp_path)  # a resumed run appends after the crash fragment
    logger.log(make_result(3))
    logger.close()
    assert [r["training_iteration"] for r in read_results(tmp_path)] == [1, 3]


def test_csv_header_widening_keeps_old_rows(tmp_path: Path) -> None:
    logger = CsvLogger(tmp_path)
    try:
        logger.log({"training_iteration": 1, "env_runners": {"num_episodes": 0}})
        logger.log({"training_iteration": 2, "env_runners": {"num_episodes": 3}})
        logger.log(
            {
                "training_iteration": 3,
                "env_runners": {"num_episodes": 5, "episode_return_mean": 21.5},
                "evaluation": {"env_runners": {"episode_return_mean": 30.0}},
            }
        )
        logger.log({"training_iteration": 4, "env_runners": {"num_episodes": 6}})
        with open(tmp_path / "progress.csv", newline="") as f:  # before close: flushed
            reader = csv.DictReader(f)
            rows = list(reader)
            header = reader.fieldnames
    finally:
        logger.close()
    assert header == [
        "training_iteration",
        "env_runners/num_episodes",
        "env_runners/episode_return_mean",
        "evaluation/env_runners/episode_return_mean",
    ]
    assert [r["training_iteration"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[1]["env_runners/num_episodes"] == "3"
    assert rows[0]["env_runners/episode_return_mean"] == ""
    assert rows[2]["evaluation/env_runners/episode_return_mean"] == "30.0"
    assert rows[3]["env_runners/episode_return_mean"] == ""
    assert not (tmp_path / "progress.csv.tmp").exists()


def test_csv_appends_to_existing_file_with_its_header(tmp_path: Path) -> None:
    with ResultLoggers(tmp_path, enabled=("csv",)) as loggers:
        loggers.log({"a": 1, "b": 2})
    with ResultLoggers(tmp_path, enabled=("csv",)) as loggers:
        loggers.log({"b": 4, "a": 3})
    text = (tmp_path / "progress.csv").read_text().splitlines()
    assert text == ["a,b", "1,2", "3,4"]


def _read_tb_events(path: Path) -> list[Any]:
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.record_writer import masked_crc32c

    # TFRecord framing: u64 length, u32 crc of it, payload, u32 crc of the payload.
    data, events, pos = path.read_bytes(), [], 0
    while pos < len(data):
        header = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        payload = data[pos + 12 : pos + 12 + length]
        assert struct.unpack("<I", data[pos + 8 : pos + 12])[0] == masked_crc32c(header)
        assert struct.unpack("<I", data[pos + 12 + length : pos + 16 + length])[0] == (
            masked_crc32c(payload)
        )
        events.append(Event.FromString(payload))
        pos += 16 + length
    assert events[0].file_version == "brain.Event:2"
    return events


def test_tensorboard_events_written_and_flushed(tmp_path: Path) -> None:
    pytest.importorskip("tensorboardX")
    loggers = ResultLoggers(tmp_path, enabled=("tensorboard",))
    try:
        loggers.log(make_result(1, ret=math.nan))
        loggers.log(make_result(2, ret=42.0))
        (events_file,) = tmp_path.glob("events.out.tfevents.*")
        scalars = {
            (event.step, value.tag): value.simple_value
            for event in _read_tb_events(events_file)  # before close: flushed
            for value in event.summary.value
        }
    finally:
        loggers.close()
    assert scalars[(2, "ray/tune/env_runners/episode_return_mean")] == 42.0
    assert (1, "ray/tune/env_runners/episode_return_mean") not in scalars  # NaN skipped
    assert scalars[(1, "ray/tune/learners/default_policy/vf_loss")] == pytest.approx(3.2)
    assert not any(tag == "ray/tune/training_iteration" for _, tag in scalars)


def test_result_loggers_fan_out_and_reject_unknown(tmp_path: Path) -> None:
    with ResultLoggers(tmp_path) as loggers:
        loggers.log(make_result(1))
    names = {p.name for p in tmp_path.iterdir()}
    assert {"result.json", "progress.csv"} <= names
    assert any(name.startswith("events.out.tfevents.") for name in names)
    with pytest.raises(ValueError, match="unknown result logger"):
        ResultLoggers(tmp_path, enabled=("json", "wandb"))


# --- trial dirs ----------------------------------------------------------------------------


def test_trial_names_safe_and_unique() -> None:
    name = trial_name("PPO", "CartPole-v1")
    assert re.fullmatch(r"PPO_CartPole-v1_[0-9a-f]{5}_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d", name)
    names = {trial_name("PPO", "CartPole-v1") for _ in range(50)}
    assert len(names) == 50
    odd = trial_name("PPO", "my_pkg.envs:Grid World/v0", index=2)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", odd)
    assert odd.startswith("PPO_my_pkg.envs_Grid_World_v0_") and "_00002_" in odd
    assert safe_name("../..") == "_"
    assert safe_name("ALE/Pong-v5") == "ALE_Pong-v5"


def test_create_trial_dir_expands_and_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RLRUN_TEST_ROOT", "results")
    first = create_trial_dir("~/$RLRUN_TEST_ROOT", "exp", "PPO_CartPole-v1_abcde")
    assert first == tmp_path / "home" / "results" / "exp" / "PPO_CartPole-v1_abcde"
    assert first.is_dir() and first.is_absolute()
    (first / "result.json").write_text("keep me")
    second = create_trial_dir("~/$RLRUN_TEST_ROOT", "exp", "PPO_CartPole-v1_abcde")
    assert second != first and second.name.startswith("PPO_CartPole-v1_abcde")
    assert (first / "result.json").read_text() == "keep me"


def test_write_params_and_hydra_files(tmp_path: Path) -> None:
    from omegaconf import OmegaConf

    config = {"algo": {"name": "ppo", "lr": 3e-4}, "stop": {"reward": 475.0, "time_s": None}}
    write_params(tmp_path, config, ["algo=ppo", "algo.lr=3e-4"])
    assert json.loads((tmp_path / "params.json").read_text()) == config
    assert OmegaConf.to_container(OmegaConf.load(tmp_path / ".hydra" / "config.yaml")) == config
    overrides = OmegaConf.load(tmp_path / ".hydra" / "overrides.yaml")
    assert list(overrides) == ["algo=ppo", "algo.lr=3e-4"]
    write_params(tmp_path, OmegaConf.create({"a": 1, "b": "${a}"}))  # a DictConfig, resolved
    assert json.loads((tmp_path / "params.json").read_text()) == {"a": 1, "b": 1}


def test_write_error_has_traceback(tmp_path: Path) -> None:
    try:
        raise RuntimeError("env exploded")
    except RuntimeError as exc:
        path = write_error(tmp_path, exc)
    text = path.read_text()
    assert path.name == "error.txt"
    assert "Traceback" in text and "RuntimeError: env exploded" in text


# --- console -------------------------------------------------------------------------------


def test_plain_console_lines_and_evaluate_command(tmp_path: Path) -> None:
    out = io.StringIO()
    console = make_console("plain", tmp_path, "reward 475", stream=out)
    assert isinstance(console, PlainConsole)
    checkpoint = tmp_path / "checkpoint_000003"
    with console:
        console.start()
        console.update(make_result(2, ret=130.2))
        console.update(make_result(3, ret=120.5))
        console.finish(130.2, 120.5, checkpoint, "reward reached")
    lines = out.getvalue().splitlines()
    assert lines[0] == f"Trial directory: {tmp_path}"
    assert (
        "iter 3 | steps 12,000 | return 120.5 (best 130.2) | len 120.5 | 9,000 steps/s | 1.3 s"
        in lines
    )
    text = out.getvalue()
    assert "130.2" in text and "reward reached" in text
    assert f"Final checkpoint: {checkpoint}" in text
    assert f"rlrun evaluate checkpoint={checkpoint}" in text


def test_plain_console_before_any_episode(tmp_path: Path) -> None:
    out = io.StringIO()
    console = PlainConsole(tmp_path, stream=out)
    result = make_result(1, ret=math.nan)
    del result["perf"]
    console.update(result)
    console.finish(None, None, None, "interrupted")
    text = out.getvalue()
    assert "return n/a (best n/a)" in text and "10,000 steps/s" in text
    assert "No checkpoint" in text and "rlrun evaluate" not in text


def test_evaluate_command_quotes_odd_paths() -> None:
    assert (
        evaluate_command("/r/x/checkpoint_000010")
        == "rlrun evaluate checkpoint=/r/x/checkpoint_000010"
    )
    odd = "/tmp/my runs/a,b=c/checkpoint_000001"
    argv = shlex.split(evaluate_command(odd))
    assert argv[:2] == ["rlrun", "evaluate"] and len(argv) == 3
    pytest.importorskip("hydra")
    from hydra.core.override_parser.overrides_parser import OverridesParser

    (override,) = OverridesParser.create().parse_overrides([argv[2]])
    assert override.key_or_group == "checkpoint" and override.value() == odd


def test_console_modes(tmp_path: Path) -> None:
    assert isinstance(make_console("auto", tmp_path, stream=io.StringIO()), PlainConsole)
    off = make_console("off", tmp_path)
    assert isinstance(off, NullConsole)
    with pytest.raises(ValueError, match="console mode"):
        make_console("fancy", tmp_path)


def test_rich_console_restores_terminal_after_exception(tmp_path: Path) -> None:
    from rich.console import Console

    out = io.StringIO()
    console = RichConsole(
        tmp_path, stop={"iterations": 10}, console=Console(file=out, force_terminal=True)
    )
    stdout_before = sys.stdout
    with pytest.raises(RuntimeError, match="boom"), console:
        console.start()
        for i in range(1, 20):  # faster than the refresh rate: most are throttled
            console.update(make_result(i, ret=float(i)))
        assert console.live is not None
        raise RuntimeError("boom")
    assert console.live is None
    assert sys.stdout is stdout_before
    assert not console.console._live_stack
    text = out.getvalue()
    assert "\x1b[?25h" in text  # cursor shown again
    assert "19" in text.rsplit("iteration", 1)[-1]  # the last frame shows the last iteration
    console.close()  # idempotent


def test_rich_console_finish_prints_command(tmp_path: Path) -> None:
    from rich.console import Console

    out = io.StringIO()
    console = RichConsole(tmp_path, console=Console(file=out, width=40))
    checkpoint = tmp_path / "a_rather_long_directory_name" / "checkpoint_000007"
    with console:
        console.start()
        console.update(make_result(7))
        console.finish(130.0, 120.5, checkpoint, "timesteps reached")
    assert f"rlrun evaluate checkpoint={checkpoint}" in out.getvalue()  # not wrapped


def test_stop_progress() -> None:
    result = make_result(5)  # 20,000 steps
    progress, text = stop_progress(result, {"iterations": 10, "timesteps": 100_000})
    assert progress == pytest.approx(0.5) and "iterations 5/10" in text
    progress, text = stop_progress(make_result(ret=-800.0), {"reward": -200.0})
    assert progress is None and "reward -800.0/-200.0" in text
    assert stop_progress(result, {}) == (None, "")


def test_import_is_cheap() -> None:
    code = (
        "import sys, rlrun; before = set(sys.modules); import rlrun.results; "
        "new = set(sys.modules) - before; "
        "print(sorted(m for m in new if m.split('.')[0] in "
        "{'torch', 'ray', 'rich', 'tensorboardX', 'omegaconf', 'numpy'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
