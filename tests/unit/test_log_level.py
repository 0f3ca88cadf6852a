"""log_level and the -v / -vv shorthands of `rlrun train` and `rlrun evaluate`; the output keys'
validation. In-process, with rlrun.run faked: nothing is trained."""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from rlrun import cli


@pytest.mark.parametrize(
    ("arg", "count"),
    [("-v", 1), ("-vv", 2), ("-vvv", 3), ("--verbose", 1), ("-m", 0), ("-", 0), ("-vx", 0)],
)
def test_verbosity_counts_the_vs(arg: str, count: int) -> None:
    assert cli.verbosity(arg) == count


@pytest.mark.parametrize(
    ("argv", "level", "overrides"),
    [
        ([], "WARN", []),  # the default: warnings and errors only
        (["-v"], "INFO", ["log_level=INFO"]),
        (["-vv"], "DEBUG", ["log_level=DEBUG"]),
        (["-v", "-v"], "DEBUG", ["log_level=DEBUG"]),
        (["seed=1", "-v"], "INFO", ["seed=1", "log_level=INFO"]),
        # Beside an explicit log_level, the more verbose of the two wins.
        (["log_level=DEBUG", "-v"], "DEBUG", ["log_level=DEBUG"]),
        (["log_level=ERROR", "-v"], "INFO", ["log_level=INFO"]),
        (["log_level=WARNING", "-vv"], "DEBUG", ["log_level=DEBUG"]),
        (["log_level=INFO"], "INFO", ["log_level=INFO"]),
    ],
)
def test_v_flags_set_the_level_of_train(
    fake_run: dict[str, Any], argv: list[str], level: str, overrides: list[str]
) -> None:
    assert cli.main(["train", *argv]) == 0
    cfg, got = fake_run["train"]
    assert cfg.log_level == level
    assert got == overrides


def test_v_flags_set_the_level_of_evaluate(fake_run: dict[str, Any], tmp_path: Path) -> None:
    ckpt = tmp_path / "checkpoint_000001"
    ckpt.mkdir()
    (ckpt / "rlrun_checkpoint.json").write_text(json.dumps({"format_version": 1}))
    for flags, level in (([], None), (["-v"], "INFO"), (["-vv"], "DEBUG")):
        assert cli.main(["evaluate", f"checkpoint={ckpt}", *flags]) == 0
        # Without -v, rlrun.run.evaluate's own default (WARN) applies.
        assert fake_run["evaluate"].get("log_level") == level


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("log_level=LOUD", "log_level"),
        ("output_format=csv", "output_format"),
        ("output_max_file_size_mb=0", "output_max_file_size_mb"),
        ("output=''", "output"),
    ],
)
def test_bad_values_exit_2(
    fake_run: dict[str, Any], capsys: pytest.CaptureFixture[str], override: str, key: str
) -> None:
    assert cli.main(["train", override]) == 2
    assert f"rlrun: error: {key}=" in capsys.readouterr().err
    assert "train" not in fake_run


def test_parquet_without_pyarrow_names_the_extra(
    fake_run: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    argv = ["train", "output=/tmp/episodes", "output_format=parquet"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "output_format=parquet" in err and "pip install 'rlrun[output]'" in err
    # Without output=DIR nothing is written, so the format is not checked.
    assert cli.main(["train", "output_format=parquet"]) == 0


@pytest.fixture
def restore_logging():
    root, rlrun_log = logging.getLogger(), logging.getLogger("rlrun")
    saved = (list(root.handlers), root.level, rlrun_log.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    rlrun_log.setLevel(saved[2])


@pytest.mark.parametrize(
    ("level", "rlrun_level", "others"),
    [
        ("WARN", logging.WARNING, logging.WARNING),
        ("INFO", logging.INFO, logging.WARNING),  # Ray, Hydra & co. stay quiet at -v
        ("DEBUG", logging.DEBUG, logging.DEBUG),
        ("ERROR", logging.ERROR, logging.ERROR),
        ("WARNING", logging.WARNING, logging.WARNING),
    ],
)
def test_setup_logging_keeps_other_libraries_quiet_unless_debug(
    restore_logging: None, level: str, rlrun_level: int, others: int
) -> None:
    from rlrun.run_logging import setup_logging

    setup_logging(level)
    assert logging.getLogger("rlrun").getEffectiveLevel() == rlrun_level
    assert logging.getLogger("rlrun.fault").getEffectiveLevel() == rlrun_level
    assert logging.getLogger("some_library").getEffectiveLevel() == others
    assert logging.getLogger().level == others
