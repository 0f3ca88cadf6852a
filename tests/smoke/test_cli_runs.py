"""Smoke runs of the `rlrun` command in subprocesses: train (discrete, Box and a user's env class),
checkpoint pruning, evaluate, resume, determinism, Ctrl-C and the exit-2 error paths.

The independent training runs start together (module fixture) so they overlap on the CPU; each
is 2-3 tiny PPO iterations.
"""

from __future__ import annotations

import json
import signal
import time

import pytest

from tests.helpers.cli import Run, start, train


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    """All independent training runs, started at once."""
    root = tmp_path_factory.mktemp("cli")
    specs = {
        "cartpole": ["algo=ppo", "env=CartPole-v1", "stop.iterations=2", "seed=3"],
        "cartpole_twin": ["algo=ppo", "env=CartPole-v1", "stop.iterations=2", "seed=3"],
        # One sub-env, so the first 200-step (truncated) episode ends within 256 steps.
        "pendulum": [
            "algo=ppo",
            "env=Pendulum-v1",
            "stop.iterations=2",
            "seed=0",
            "env_runner.num_envs_per_env_runner=1",
        ],
        "custom": [
            "env.id=tests.helpers.envs:FixedLengthEnv",
            "env.env_config={length:5}",
            "stop.iterations=2",
        ],
        "keep_one": [
            "stop.iterations=3",
            "checkpoint.frequency=1",
            "checkpoint.num_to_keep=1",
        ],
    }
    procs = {name: (train(root / name, *args), root / name) for name, args in specs.items()}
    return {name: Run(proc, rdir) for name, (proc, rdir) in procs.items()}


@pytest.fixture(scope="module")
def followups(runs, tmp_path_factory) -> dict[str, Run]:
    """Runs that need the CartPole run's checkpoint, started at once: evaluate, resume, evaluate
    on damaged copies of the checkpoint, resume with a group override."""
    import shutil

    assert runs["cartpole"].rc == 0, runs["cartpole"].explain()
    root = tmp_path_factory.mktemp("followups")
    ckpt = runs["cartpole"].trial_dir / "checkpoint_000002"
    damaged = {}
    for damage in ("marker_garbage", "weights_truncated"):
        copy = root / damage / "checkpoint_000002"
        shutil.copytree(ckpt, copy, ignore=shutil.ignore_patterns("evaluation.json"))
        if damage == "marker_garbage":
            (copy / "rlrun_checkpoint.json").write_text("{{{ not json")
        else:
            f = copy / "module" / "default_policy" / "model.safetensors"
            f.write_bytes(f.read_bytes()[:30])
        damaged[damage] = copy
    procs = {
        "evaluate": (start("evaluate", f"checkpoint={ckpt}", "episodes=3", "seed=0"), None),
        "resume": (train(root / "resume", f"resume={ckpt}", "stop.iterations=4"), root / "resume"),
        "resume_group": (
            train(root / "resume_group", f"resume={ckpt}", "algo=ppo", "stop.iterations=3"),
            root / "resume_group",
        ),
        "resume_model": (
            train(root / "resume_model", f"resume={ckpt}", "algo.model.fcnet_hiddens=[8]"),
            root / "resume_model",
        ),
        "resume_foreign_key": (
            train(root / "resume_foreign_key", f"resume={ckpt}", "algo.epsilon=0.1"),
            root / "resume_foreign_key",
        ),
        **{
            f"evaluate_{d}": (start("evaluate", f"checkpoint={path}"), path)
            for d, path in damaged.items()
        },
    }
    return {name: Run(proc, rdir) for name, (proc, rdir) in procs.items()}


def nested(result: dict, key: str):
    """`env_runners/episode_return_mean` in a nested result (result.json) or a flat one."""
    if key in result:
        return result[key]
    node = result
    for part in key.split("/"):
        node = node[part]
    return node


def assert_trial_dir_complete(run: Run, iterations: int) -> None:
    assert run.rc == 0, run.explain()
    trial = run.trial_dir
    for name in ("params.json", "result.json", "progress.csv", ".hydra/config.yaml"):
        assert (trial / name).is_file(), name
    json.loads((trial / "params.json").read_text())
    assert list(trial.glob("events.out.tfevents.*")), "no TensorBoard events file"

    results = run.results()
    assert [r["training_iteration"] for r in results] == list(range(1, iterations + 1))
    for r in results:
        for key in (
            "training_iteration",
            "num_env_steps_sampled_lifetime",
            "time_total_s",
            "env_runners/episode_return_mean",
        ):
            nested(r, key)  # raises KeyError if absent
    steps = [r["num_env_steps_sampled_lifetime"] for r in results]
    assert steps == sorted(steps) and steps[0] > 0
    header = (trial / "progress.csv").read_text().splitlines()[0].split(",")
    assert "training_iteration" in header and "env_runners/episode_return_mean" in header
    assert len((trial / "progress.csv").read_text().splitlines()) == iterations + 1

    ckpt = trial / f"checkpoint_{iterations:06d}"
    assert (ckpt / "rlrun_checkpoint.json").is_file()
    assert json.loads((ckpt / "rlrun_checkpoint.json").read_text())["iteration"] == iterations

    # The trial folder is printed at the start, the evaluate command at the end.
    assert str(trial) in run.stdout, run.explain()
    assert f"rlrun evaluate checkpoint={ckpt}" in run.stdout, run.explain()


def test_train_cartpole(runs):
    run = runs["cartpole"]
    assert_trial_dir_complete(run, 2)
    params = json.loads((run.trial_dir / "params.json").read_text())
    assert nested(params, "algo/train_batch_size_per_learner") == 256
    assert params["seed"] == 3


def test_train_pendulum_box_actions(runs):
    run = runs["pendulum"]
    assert_trial_dir_complete(run, 2)
    # Pendulum's rewards are <= 0; its episodes are truncated at 200 steps.
    last = run.results()[-1]
    assert nested(last, "env_runners/episode_return_mean") < 0
    assert nested(last, "env_runners/episode_len_mean") == 200


def test_train_custom_env_class(runs):
    run = runs["custom"]
    assert_trial_dir_complete(run, 2)
    for r in run.results():
        # Every episode lasts exactly 5 steps and earns 1 per step.
        assert nested(r, "env_runners/episode_return_mean") == 5.0
        assert nested(r, "env_runners/episode_len_mean") == 5.0
    cfg = (run.trial_dir / ".hydra" / "config.yaml").read_text()
    assert "tests.helpers.envs:FixedLengthEnv" in cfg


def test_checkpoint_num_to_keep(runs):
    run = runs["keep_one"]
    assert run.rc == 0, run.explain()
    assert [p.name for p in run.checkpoints()] == ["checkpoint_000003"]
    assert len(run.results()) == 3


def test_determinism_same_seed_same_returns(runs):
    a, b = runs["cartpole"], runs["cartpole_twin"]
    assert a.rc == 0 and b.rc == 0, a.explain() + b.explain()
    ra, rb = a.results(), b.results()
    assert [nested(r, "env_runners/episode_return_mean") for r in ra] == [
        nested(r, "env_runners/episode_return_mean") for r in rb
    ]
    assert [r["num_env_steps_sampled_lifetime"] for r in ra] == [
        r["num_env_steps_sampled_lifetime"] for r in rb
    ]
    assert [nested(r, "learners/default_policy/policy_loss") for r in ra] == [
        nested(r, "learners/default_policy/policy_loss") for r in rb
    ]


def test_evaluate(runs, followups):
    ckpt = runs["cartpole"].trial_dir / "checkpoint_000002"
    run = followups["evaluate"]
    assert run.rc == 0, run.explain()
    stats = json.loads((ckpt / "evaluation.json").read_text())
    for key in (
        "episode_return_mean",
        "episode_return_std",
        "episode_return_min",
        "episode_return_max",
        "episode_len_mean",
    ):
        assert isinstance(stats[key], float), key
    assert stats["episodes"] == 3
    assert (
        stats["episode_return_min"] <= stats["episode_return_mean"] <= stats["episode_return_max"]
    )
    # CartPole pays 1 per step.
    assert stats["episode_len_mean"] == pytest.approx(stats["episode_return_mean"])
    assert "episode_return_mean" in run.stdout


def test_resume_continues_counters(runs, followups):
    last = runs["cartpole"].results()[-1]
    run = followups["resume"]
    assert run.rc == 0, run.explain()
    results = run.results()
    assert [r["training_iteration"] for r in results] == [3, 4]
    assert results[0]["num_env_steps_sampled_lifetime"] > last["num_env_steps_sampled_lifetime"]
    assert results[0]["time_total_s"] > last["time_total_s"]
    assert (run.trial_dir / "checkpoint_000004" / "rlrun_checkpoint.json").is_file()
    # The resumed run keeps the checkpoint's settings (the small batch) ...
    params = json.loads((run.trial_dir / "params.json").read_text())
    assert nested(params, "algo/train_batch_size_per_learner") == 256
    assert nested(params, "stop/iterations") == 4


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_writes_final_checkpoint_and_exits_128_plus_signum(tmp_path, signum, code):
    proc = train(tmp_path, "stop.reward=null", "stop.timesteps=100000000", "name=sigint")
    result_file = None
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            found = list(tmp_path.glob("sigint/*/result.json"))
            if found and found[0].read_text().strip():
                result_file = found[0]
                break
            time.sleep(0.05)
        assert result_file is not None, "no iteration finished in time"
        proc.send_signal(signum)
        run = Run(proc, tmp_path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert run.rc == code, run.explain()
    assert "Traceback" not in run.stderr, run.explain()
    results = run.results()  # every line parses
    assert results
    assert [r["training_iteration"] for r in results] == list(range(1, len(results) + 1))
    ckpts = run.checkpoints()
    assert ckpts, run.explain()
    final = ckpts[-1]
    assert final.name == f"checkpoint_{results[-1]['training_iteration']:06d}"
    meta = json.loads((final / "rlrun_checkpoint.json").read_text())
    assert meta["iteration"] == results[-1]["training_iteration"]


def test_ctrl_c_twice_ends_a_run_whose_env_hangs_in_the_driver_with_a_checkpoint(tmp_path):
    """The driver's runner cannot time out a hung env (docs/ray.md): the first Ctrl-C waits for
    an iteration that never ends, the second interrupts the env's step and, sampling being
    where it stopped, saves the state after the last completed update."""
    proc = train(
        tmp_path,
        "env.id=tests.helpers.envs:HangingEnv",
        "env.env_config={hang_at:700}",  # 2 iterations of 256 steps over 2 sub-envs, then a hang
        "env_runner.num_envs_per_env_runner=2",
        "stop.reward=null",
        "stop.iterations=100",
        "name=hung",
    )
    try:
        deadline = time.monotonic() + 120
        lines: list[str] = []
        while time.monotonic() < deadline and proc.poll() is None:
            found = list(tmp_path.glob("hung/*/result.json"))
            lines = found[0].read_text().splitlines() if found else []
            if len(lines) >= 2:
                break
            time.sleep(0.1)
        assert len(lines) >= 2, "the run did not reach its hang"
        time.sleep(1.0)  # now stuck in the env's step
        proc.send_signal(signal.SIGINT)
        time.sleep(1.5)
        assert proc.poll() is None, "the first Ctrl-C waits for the iteration"
        proc.send_signal(signal.SIGINT)
        run = Run(proc, tmp_path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert run.rc == 130, run.explain()
    assert "Traceback" not in run.stderr, run.explain()
    results = run.results()
    ckpts = run.checkpoints()
    assert ckpts and ckpts[-1].name == f"checkpoint_{results[-1]['training_iteration']:06d}"
    assert "the state after the last completed update was saved" in run.stdout + run.stderr


def assert_user_error(run: Run, *fragments: str) -> None:
    assert run.rc == 2, run.explain()
    assert "Traceback" not in run.stderr, run.explain()
    assert "rlrun: error:" in run.stderr
    for frag in fragments:
        assert frag in run.stderr, run.explain()


def test_evaluate_missing_checkpoint(tmp_path):
    missing = tmp_path / "no_such_checkpoint"
    run = Run(start("evaluate", f"checkpoint={missing}"), None)
    assert_user_error(run, str(missing))


@pytest.mark.parametrize(
    "damage, broken",
    [("marker_garbage", "rlrun_checkpoint.json"), ("weights_truncated", "model.safetensors")],
)
def test_evaluate_corrupt_checkpoint(followups, damage, broken):
    run = followups[f"evaluate_{damage}"]
    ckpt = run.results_dir
    assert_user_error(run, broken, str(ckpt))
    assert not (ckpt / "evaluation.json").exists()


def test_resume_with_group_override_is_rejected(followups):
    run = followups["resume_group"]
    assert_user_error(run, "algo")
    # Nothing was trained.
    assert not any(run.results_dir.glob("*/*/checkpoint_*"))


def test_resume_with_a_different_network_is_a_checkpoint_error(followups):
    run = followups["resume_model"]
    assert_user_error(run, "does not fit this run's networks", "algo.model.*")
    assert not any(run.results_dir.glob("*/*/checkpoint_*"))


def test_resume_checks_overrides_against_the_checkpoints_algorithm(followups):
    # The checkpoint is PPO's: epsilon is DQN's key, and the error says so before any work.
    run = followups["resume_foreign_key"]
    assert_user_error(run, "algo.epsilon=0.1", "a setting of DQN", "algorithm is PPO")
    assert not run.results_dir.exists() or not any(run.results_dir.iterdir())
