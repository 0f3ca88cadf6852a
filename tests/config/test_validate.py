"""Semantic validation: each out-of-range value names its key, its value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlrun.config.checkpoint_path import check_checkpoint
from rlrun.config.compose import compose
from rlrun.config.validate import check_env_id, validate
from rlrun.errors import CheckpointError, ConfigError


def _error(overrides: list[str]) -> ConfigError:
    cfg = compose(overrides)
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    return info.value


@pytest.mark.parametrize(
    ("override", "key", "allowed"),
    [
        ("algo.lr=-1", "algo.lr", "a number > 0"),
        ("algo.lr=abc", "algo.lr", "schedule"),
        ("algo.lr=[[100,1e-3],[0,1e-4]]", "algo.lr", "non-decreasing"),
        ("algo.lr=[[0,1e-3],[100]]", "algo.lr", "schedule"),
        ("algo.lr=[[0,-1e-3]]", "algo.lr", "values >= 0"),
        ("algo.entropy_coeff=-0.01", "algo.entropy_coeff", "a number >= 0"),
        ("algo.gamma=1.01", "algo.gamma", "[0, 1]"),
        ("algo.lambda_=-0.1", "algo.lambda_", "[0, 1]"),
        ("algo.clip_param=0", "algo.clip_param", "> 0"),
        ("algo.minibatch_size=0", "algo.minibatch_size", ">= 1"),
        ("algo.minibatch_size=4001", "algo.minibatch_size", "[1, 4000]"),
        ("algo.num_epochs=0", "algo.num_epochs", ">= 1"),
        ("algo.grad_clip_by=globalnorm", "algo.grad_clip_by", "global_norm"),
        ("algo.grad_clip=0", "algo.grad_clip", "> 0"),
        ("algo.model.fcnet_activation=sigmoid", "algo.model.fcnet_activation", "tanh"),
        ("algo.model.fcnet_hiddens=[64,0]", "algo.model.fcnet_hiddens", "layer sizes"),
        ("algo.name=NOPE", "algo.name", "PPO"),
        ("env_runner.num_envs_per_env_runner=0", "env_runner.num_envs_per_env_runner", ">= 1"),
        (
            "env_runner.rollout_fragment_length=autoo",
            "env_runner.rollout_fragment_length",
            '"auto"',
        ),
        ("env_runner.rollout_fragment_length=0", "env_runner.rollout_fragment_length", '"auto"'),
        ("env_runner.observation_filter=meanstd", "env_runner.observation_filter", "MeanStdFilter"),
        ("env_runner.vectorize_mode=threads", "env_runner.vectorize_mode", "sync, async"),
        (
            "env_runner.metrics_num_episodes_for_smoothing=0",
            "env_runner.metrics_num_episodes_for_smoothing",
            ">= 1",
        ),
        ("stop.reward=abc", "stop.reward", '"auto"'),
        ("stop.timesteps=-1", "stop.timesteps", ">= 0"),
        ("stop.iterations=-1", "stop.iterations", ">= 0"),
        ("stop.time_s=-1", "stop.time_s", ">= 0"),
        ("checkpoint.frequency=-1", "checkpoint.frequency", ">= 0"),
        ("checkpoint.num_to_keep=0", "checkpoint.num_to_keep", ">= 1"),
        ("log_level=LOUD", "log_level", "DEBUG, INFO"),
        ("console=fancy", "console", "auto, rich, plain, off"),
        ("seed=-1", "seed", "2**32"),
    ],
)
def test_out_of_range_values_name_key_value_and_allowed(
    override: str, key: str, allowed: str
) -> None:
    err = _error([override])
    text = str(err)
    assert err.key == key
    assert text.startswith(f"{key}=")
    assert "Allowed:" in text and allowed in text


def test_choices_suggest_the_near_miss() -> None:
    assert "Did you mean 'INFO'?" in str(_error(["log_level=info"]))
    assert "Did you mean 'global_norm'?" in str(_error(["algo.grad_clip_by=globalnorm"]))


@pytest.mark.parametrize(
    "override",
    [
        "algo.lr=0.001",
        "algo.lr=[[0,1e-3],[100000,0]]",
        "algo.entropy_coeff=[[0,0.01],[1000,0.0]]",
        "algo.grad_clip=null",
        "stop.reward=null",
        "stop.reward=195.5",
        "env_runner.rollout_fragment_length=64",
        "seed=null",
        "algo.minibatch_size=4000",
    ],
)
def test_valid_values_pass(override: str) -> None:
    validate(compose([override]))


@pytest.mark.parametrize(
    "overrides",
    [
        ["env_runner=ray"],
        ["env_runner.num_env_runners=3", "learner.num_learners=2", "ray.num_cpus=5"],
        ["evaluation.interval=2", "stop.metric=evaluation/env_runners/episode_return_mean"],
        ["evaluation.num_env_runners=1", "evaluation.parallel_to_training=true"],
        [
            "fault_tolerance.ignore_env_runner_failures=true",
            "fault_tolerance.restart_failed_env_runners=false",
        ],
        ["learner.num_learners=1", "learner.num_gpus_per_learner=0.5"],
        ["ray.address=auto", "ray.num_cpus=2"],
    ],
)
def test_remote_settings_pass(overrides: list[str]) -> None:
    validate(compose(overrides))


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        (
            ["fault_tolerance.ignore_env_runner_failures=true"],
            "fault_tolerance.ignore_env_runner_failures",
            "restart_failed_env_runners=false",
        ),
        (
            ["evaluation.parallel_to_training=true"],
            "evaluation.parallel_to_training",
            "evaluation.num_env_runners",
        ),
        (
            ["stop.metric=evaluation/env_runners/episode_return_mean"],
            "stop.metric",
            "evaluation.interval",
        ),
        (
            ["checkpoint.score_attribute=evaluation/env_runners/episode_return_mean"],
            "checkpoint.score_attribute",
            "evaluation.interval",
        ),
        (
            ["learner.num_learners=2", "learner.num_gpus_per_learner=0.5"],
            "learner.num_gpus_per_learner",
            "fractional",
        ),
        (["evaluation.duration_unit=steps"], "evaluation.duration_unit", "episodes, timesteps"),
        (["ray.object_store_memory=1000"], "ray.object_store_memory", ">= 7.86432e+07"),
        (["checkpoint.score_order=best"], "checkpoint.score_order", "max, min"),
        (
            ["env_runner=ray", "learner.num_learners=1", "ray.num_cpus=2"],
            None,
            "ask Ray for 3 CPUs (2 env runners x 1; 1 learners x 1) but the cluster has 2",
        ),
    ],
)
def test_conflicting_or_bad_remote_settings(
    overrides: list[str], key: str | None, fragment: str
) -> None:
    with pytest.raises(ConfigError) as e:
        validate(compose(overrides))
    assert e.value.key == key
    assert fragment in str(e.value)


# --- env ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env_id",
    [
        "CartPole-v1",
        "MountainCar-v0",
        "gymnasium.envs.classic_control:CartPoleEnv",
        "gymnasium:CartPole-v1",  # Gymnasium's own "module:EnvId" form
    ],
)
def test_known_env_ids_pass(env_id: str) -> None:
    check_env_id(compose([f"env={env_id}"]))


@pytest.mark.parametrize(
    ("env_id", "needles"),
    [
        ("CartPol-v1", ["Gymnasium says", "Did you mean CartPole-v1"]),
        ("cartpole-v1", ["CartPole-v1"]),
        ("Pendulum-v0", ["deprecated", "Pendulum-v1"]),
        ("no_such_module_xyz:Env", ["cannot import module 'no_such_module_xyz'"]),
        ("gymnasium.envs.classic_control:CartPoleEnvv", ["Did you mean 'CartPoleEnv'?"]),
        ("gymnasium:__version__", ["not a class or factory function"]),
    ],
)
def test_bad_env_ids_explain(env_id: str, needles: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        check_env_id(compose([f"env={env_id}"]))
    assert info.value.key == "env.id"
    for needle in needles:
        assert needle in str(info.value)


# --- checkpoint paths ----------------------------------------------------------------------------


def test_checkpoint_path_is_expanded_and_resolved(tmp_path: Path) -> None:
    (tmp_path / "rlrun_checkpoint.json").write_text('{"iteration": 3}')
    assert check_checkpoint(str(tmp_path)) == tmp_path.resolve()
    assert check_checkpoint(tmp_path / "rlrun_checkpoint.json") == tmp_path.resolve()


@pytest.mark.parametrize(
    ("content", "needle"),
    [(None, "does not exist"), ("", "no rlrun_checkpoint.json"), ("[1]", "corrupt")],
)
def test_bad_checkpoint_paths(tmp_path: Path, content: str | None, needle: str) -> None:
    path = tmp_path / "ckpt"
    if content is not None:
        path.mkdir()
        if content:
            (path / "rlrun_checkpoint.json").write_text(content)
    with pytest.raises(CheckpointError, match=needle) as info:
        check_checkpoint(path, key="resume")
    assert str(info.value).startswith(f"resume={path}")
