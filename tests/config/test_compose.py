"""Every yaml in conf/ composes and validates; schema defaults land; the env fallback rewrite works."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf

from rlrun.algorithms.ppo.config import PPOSchema
from rlrun.config.compose import compose, load_config_file
from rlrun.config.overrides import rewrite_env_overrides
from rlrun.config.paths import (
    conf_dir,
    config_groups,
    experiments,
    first_comment,
    group_options,
)
from rlrun.config.schema import RootConfig
from rlrun.config.validate import check_env_id, validate
from rlrun.errors import CheckpointError, ConfigError

GROUP_OPTIONS = [(g, o) for g in config_groups() for o in group_options(g)]
EXPERIMENTS = [name for name, _ in experiments()]


def test_conf_dir_has_the_root_config() -> None:
    assert (conf_dir() / "config.yaml").is_file()
    assert {"algo", "env", "env_runner", "learner"} <= set(config_groups())


@pytest.mark.parametrize(
    ("group", "option"), GROUP_OPTIONS, ids=[f"{g}={o}" for g, o in GROUP_OPTIONS]
)
def test_every_group_option_composes_and_validates(group: str, option: str) -> None:
    overrides = [f"{group}={option}"]
    if (group, option) == ("env", "gym"):
        overrides.append("env.id=MountainCar-v0")  # the generic env needs an id
    if group == "algo" and _is_offline(option):
        # Offline algorithms need recorded data; validation checks only that it is there.
        overrides.append("offline_data.input_=tuned_examples/data/cartpole_expert")
    cfg = compose(overrides)
    validate(cfg)
    if group == "env":
        check_env_id(cfg)


def _is_offline(algo: str) -> bool:
    from rlrun.algorithms.registry import ALGORITHMS, config_class

    return algo.upper() in ALGORITHMS and getattr(config_class(algo), "offline", False)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_and_validates(name: str) -> None:
    cfg = compose([f"experiment={name}"])
    validate(cfg)
    check_env_id(cfg)
    assert first_comment(conf_dir() / "experiment" / f"{name}.yaml"), (
        "describe it in a first comment"
    )


def test_yaml_only_overrides_schema_defaults() -> None:
    """With no overrides the composed tree equals the dataclass defaults: each default has one home."""
    cfg = compose([])
    expected = OmegaConf.structured(RootConfig)
    expected.algo = OmegaConf.structured(PPOSchema)
    assert OmegaConf.to_container(cfg) == OmegaConf.to_container(expected)
    assert cfg.algo.name == "PPO" and cfg.env.id == "CartPole-v1"
    assert cfg.results_dir == "~/ray_results" and cfg.seed == 0
    assert cfg.env_runner.metrics_num_episodes_for_smoothing == 100


def test_overrides_land_with_their_types() -> None:
    cfg = compose(
        ["algo.lr=[[0,1e-3],[100000,1e-4]]", "algo.gamma=0.9", "seed=3", "stop.reward=null"]
    )
    assert OmegaConf.to_container(cfg.algo.lr) == [[0, 1e-3], [100000, 1e-4]]
    assert cfg.algo.gamma == 0.9 and cfg.seed == 3 and cfg.stop.reward is None
    assert isinstance(cfg, DictConfig)


@pytest.mark.parametrize(
    "env_id", ["MountainCar-v0", "tests.helpers.envs:SomeEnv", "ALE/Pong-v5", "my_pkg:Env"]
)
def test_env_without_yaml_falls_back_to_the_generic_env(env_id: str) -> None:
    cfg = compose([f"env={env_id}"])
    assert cfg.env.id == env_id
    assert cfg.env.env_config == {}


def test_env_with_yaml_is_not_rewritten() -> None:
    assert rewrite_env_overrides(["env=CartPole-v1", "seed=1"]) == ["env=CartPole-v1", "seed=1"]
    assert rewrite_env_overrides(["seed=1", "env=Foo-v0", "algo.lr=1"]) == [
        "seed=1",
        "env=gym",
        "env.id=Foo-v0",
        "algo.lr=1",
    ]


def test_env_rewrite_keeps_order_semantics() -> None:
    assert compose(["env=MountainCar-v0", "env.id=Acrobot-v1"]).env.id == "Acrobot-v1"
    assert compose(["env.id=Acrobot-v1", "env=MountainCar-v0"]).env.id == "MountainCar-v0"


def test_free_form_mappings_take_new_keys_with_or_without_plus() -> None:
    cfg = compose(["env=MountainCar-v0", "+env.env_config.size=8", "env.env_config.mode=hard"])
    assert cfg.env.env_config == {"size": 8, "mode": "hard"}
    assert compose(["env.env_config.a=1", "env.env_config.a=2"]).env.env_config == {"a": 2}
    assert compose(["env.env_config={a:1}"]).env.env_config == {"a": 1}
    assert compose(["algo.model.custom={x:[1,2]}"]).algo.model.custom == {"x": [1, 2]}


def test_interpolations_are_resolved() -> None:
    cfg = compose(["name=${algo.name}_${env.id}"])
    assert cfg.name == "PPO_CartPole-v1"
    assert not OmegaConf.is_interpolation(cfg, "name")


def test_compose_from_another_conf_dir_with_an_experiment(tmp_path: Path) -> None:
    root = _copy_conf(tmp_path)
    (root / "experiment" / "tiny.yaml").write_text(
        "# @package _global_\n# Tiny: a test preset.\n"
        "defaults:\n  - override /env: Pendulum-v1\nalgo:\n  lr: 1e-3\nseed: 7\n"
    )
    cfg = compose(["experiment=tiny", "seed=8"], config_dir=root)
    assert (cfg.env.id, cfg.algo.lr, cfg.seed) == ("Pendulum-v1", 1e-3, 8)
    assert ("tiny", "Tiny: a test preset.") in experiments(root)


# --- load_config_file ------------------------------------------------------------------------------


def test_saved_config_round_trips(tmp_path: Path) -> None:
    cfg = compose(["algo.lr=[[0,1e-3],[10,1e-4]]", "+env.env_config.a=1", "seed=5"])
    path = tmp_path / "config.yaml"
    path.write_text(OmegaConf.to_yaml(cfg))
    loaded = load_config_file(path)
    assert loaded == cfg
    assert OmegaConf.get_type(loaded.algo) is PPOSchema


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("algo: [", "not a readable YAML"),
        ("seed: 1\n", "no 'algo' section"),
        ("algo: {name: NOPE}\n", "'NOPE'"),
        ("algo: {name: PPO, lrr: 1}\n", "algo.lrr"),
        ("algo: {name: PPO, gamma: abc}\n", "algo.gamma"),
    ],
)
def test_corrupt_saved_config_is_a_checkpoint_error(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(CheckpointError, match="config.yaml") as info:
        load_config_file(path)
    assert needle in str(info.value)


def test_missing_saved_config(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_config_file(tmp_path / "nope.yaml")


def test_required_value_left_unset_is_named() -> None:
    with pytest.raises(ConfigError, match="env.id"):
        compose(["env.id=???"])


def _copy_conf(tmp_path: Path) -> Path:
    import shutil

    root = tmp_path / "conf"
    shutil.copytree(conf_dir(), root)
    (root / "experiment").mkdir(exist_ok=True)
    return root
