"""`rlrun train output=DIR` end to end in subprocesses: the episodes written match the episode
counts and returns in result.json; -vv shows DEBUG logs, the default shows no INFO or DEBUG.

The runs start together (module fixture) and overlap; each is 2 tiny iterations.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import Run, rlrun_cmd, start, train


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[Run, Path]]:
    root = tmp_path_factory.mktemp("episode_output")
    procs = {
        "ppo_json": train(
            root / "ppo_json", "-vv", f"output={root / 'out_ppo'}", "stop.iterations=2"
        ),
        # DQN (off-policy sampling), default log level, parquet when pyarrow is there.
        "dqn": start(
            "train",
            "algo=dqn",
            f"results_dir={root / 'dqn'}",
            f"output={root / 'out_dqn'}",
            "output_format=parquet" if _has_pyarrow() else "output_format=json",
            "stop.iterations=2",
            "console=plain",
        ),
    }
    outs = {"ppo_json": root / "out_ppo", "dqn": root / "out_dqn"}
    rdirs = {"ppo_json": root / "ppo_json", "dqn": root / "dqn"}
    return {name: (Run(p, rdirs[name]), outs[name]) for name, p in procs.items()}


def _has_pyarrow() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


def _records(folder: Path) -> list[dict]:
    files = sorted(folder.glob("episodes-*"))
    assert files, f"no episode files in {folder}"
    if files[0].suffix == ".parquet":
        import pyarrow.parquet as pq

        return [row for f in files for row in pq.read_table(f).to_pylist()]
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


def _check_against_results(run: Run, out: Path) -> list[dict]:
    assert run.rc == 0, run.explain()
    # One folder per trial, named as the trial's own folder.
    assert [p.name for p in out.iterdir()] == [run.trial_dir.name]
    records = _records(out / run.trial_dir.name)
    last = run.results()[-1]
    # Exactly the episodes the runners counted: finished ones, none twice.
    assert len(records) == last["num_episodes_lifetime"]
    assert [r["episode_index"] for r in records] == list(range(len(records)))
    window = records[-100:]
    mean_return = sum(r["return"] for r in window) / len(window)
    mean_len = sum(r["length"] for r in window) / len(window)
    assert mean_return == pytest.approx(last["env_runners"]["episode_return_mean"], rel=1e-4)
    assert mean_len == pytest.approx(last["env_runners"]["episode_len_mean"], rel=1e-4)
    for r in records:
        assert len(r["rewards"]) == len(r["actions"]) == r["length"]
        assert len(r["observations"]) == r["length"] + 1  # the final observation too
        assert r["return"] == pytest.approx(sum(r["rewards"]))
        assert r["env_id"] == "CartPole-v1" and r["seed"] == 0
        # CartPole ends by termination or, at 500 steps, by its time limit.
        assert r["terminated"] != r["truncated"] and r["truncated"] == (r["length"] == 500)
        assert set(r["actions"]) <= {0, 1}
    return records


def test_ppo_episodes_match_the_results_and_debug_logs_show(runs):
    run, out = runs["ppo_json"]
    records = _check_against_results(run, out)
    assert {r["iteration"] for r in records} == {1, 2}
    subs = {r["sub_env_index"] for r in records}
    assert subs <= set(range(8)) and len(subs) > 1
    assert {r["env_runner_index"] for r in records} == {0}
    assert "DEBUG rlrun: config: " in run.stderr
    assert "INFO rlrun: checkpoint written: " in run.stderr
    assert f"INFO rlrun.results.episode_writer: writing the sampled episodes to {out}" in run.stderr


def test_dqn_episodes_match_the_results_and_the_default_level_is_quiet(runs):
    run, out = runs["dqn"]
    _check_against_results(run, out)
    lines = run.stderr.splitlines()
    assert not [line for line in lines if line.startswith(("INFO ", "DEBUG "))], run.stderr


def test_bad_log_level_and_output_format_exit_2(tmp_path: Path):
    import subprocess

    from tests.helpers.cli import ENV, REPO

    for override in ("log_level=LOUD", "output_format=csv"):
        proc = subprocess.run(
            rlrun_cmd("train", override, f"output={tmp_path}"),
            cwd=REPO,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2, proc.stderr
        assert f"rlrun: error: {override}" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []
