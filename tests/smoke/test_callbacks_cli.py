"""`rlrun train callbacks=[...]` in subprocesses: results on disk, exit codes, error.txt.

The runs start together (module fixture) and overlap; each is 1-2 tiny PPO iterations.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers.callbacks import CHECKPOINT_MARKER
from tests.helpers.cli import ENV, REPO, Run, train

H = "tests.helpers.callbacks"
FIXED = ["env.id=tests.helpers.envs:FixedLengthEnv", "env.env_config={length:5}"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    root = tmp_path_factory.mktemp("callbacks_cli")
    specs = {
        "counting": [*FIXED, f"callbacks=[{H}:CountingCallbacks]", "stop.iterations=2",
                     "checkpoint.frequency=1"],
        "in_runner": [*FIXED, f"callbacks=[{H}:RaiseOnEpisodeEnd]", "stop.iterations=2"],
        "at_init": [*FIXED, f"callbacks=[{H}:RaiseOnAlgorithmInit]", "stop.iterations=2"],
        "at_checkpoint": [*FIXED, f"callbacks=[{H}:RaiseOnCheckpointSaved]", "stop.iterations=1"],
        "malformed": [f"callbacks=[{H}.CountingCallbacks]"],
        "not_importable": ["callbacks=[no_such_module_xyz:Callbacks]"],
        "bad_task_fn": [*FIXED, f"env.task_fn={H}:no_such_fn"],
    }  # fmt: skip
    procs = {name: (train(root / name, *args), root / name) for name, args in specs.items()}
    return {name: Run(proc, rdir) for name, (proc, rdir) in procs.items()}


def test_logged_values_and_hook_results_are_written(runs):
    run = runs["counting"]
    assert run.rc == 0, run.explain()
    results = run.results()
    assert [r["callback_train_results"] for r in results] == [1, 2]
    assert [r["algorithm_inits"] for r in results] == [1, 0]
    for r in results:
        er = r["env_runners"]
        assert er["len_mean"] == er["len_max"] == er["len_min"] == 5
        assert er["nested"]["episodes_ended"] == er["num_episodes"] > 0
        assert er["steps"] == er["num_env_steps_sampled"]
    header = (run.trial_dir / "progress.csv").read_text().splitlines()[0].split(",")
    assert "env_runners/nested/episodes_ended" in header and "iteration_w2" in header
    checkpoints = run.checkpoints()
    assert len(checkpoints) == 2
    assert all((c / CHECKPOINT_MARKER).exists() for c in checkpoints)


@pytest.mark.parametrize(
    ("name", "hook"),
    [
        ("in_runner", "on_episode_end"),
        ("at_init", "on_algorithm_init"),
        ("at_checkpoint", "on_checkpoint_saved"),
    ],
)
def test_a_raising_callback_fails_the_run_with_its_traceback_in_error_txt(runs, name, hook):
    run = runs[name]
    cls = {"in_runner": "RaiseOnEpisodeEnd", "at_init": "RaiseOnAlgorithmInit",
           "at_checkpoint": "RaiseOnCheckpointSaved"}[name]  # fmt: skip
    assert run.rc == 1, run.explain()
    # One paragraph naming the class and the hook; no traceback on the terminal.
    assert f"{H}:{cls} failed in {hook}" in run.stderr, run.explain()
    assert "Traceback" not in run.stderr, run.explain()
    error = (run.trial_dir / "error.txt").read_text()
    assert f"ValueError: deliberate failure in {cls}" in error
    assert 'tests/helpers/callbacks.py", line' in error  # where the hook raised


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("malformed", "a list of class paths"),
        ("not_importable", "cannot import module 'no_such_module_xyz'"),
        ("bad_task_fn", "has no attribute 'no_such_fn'"),
    ],
)
def test_a_callback_path_that_cannot_be_used_exits_2_before_any_trial(runs, name, says):
    run = runs[name]
    assert run.rc == 2, run.explain()
    assert says in run.stderr and "Traceback" not in run.stderr, run.explain()
    assert not list(run.results_dir.glob("*/*/params.json"))  # nothing was started


def test_callback_config_errors_come_before_torch_is_imported(tmp_path):
    script = (
        "import sys; from rlrun.cli import main; "
        f"codes = [main(['train', f'results_dir={tmp_path}', arg]) for arg in sys.argv[1:]]; "
        "print(codes, 'torch' in sys.modules)"
    )
    bad = [f"callbacks=[{H}:TypoedHook]", f"callbacks=[{H}:UnknownArgument]",
           f"env.task_fn={H}:CountingCallbacks.nope"]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", script, *bad], cwd=REPO, env=ENV, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.stdout.strip() == "[2, 2, 2] False", proc.stdout + proc.stderr
    assert "Did you mean on_episode_end?" in proc.stderr
