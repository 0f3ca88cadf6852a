"""Typed config sections: what components receive is the schema dataclass, every key present,
each default from the schema, nested sections typed too, unknown keys refused."""

from __future__ import annotations

import dataclasses

import pytest

from rlrun.algorithms.dqn.config import DQNSchema
from rlrun.algorithms.ppo.config import PPOSchema
from rlrun.config.schema import EnvRunnerConfig, LearnerConfig, ModelConfig
from rlrun.config.sections import UnknownKeyError, algo_section, complete, typed
from rlrun.errors import ConfigError


def test_a_partial_dict_becomes_the_dataclass_with_schema_defaults():
    cfg = typed(LearnerConfig, {"num_learners": 2})
    assert isinstance(cfg, LearnerConfig)
    assert cfg.num_learners == 2
    assert cfg.torch_num_threads == LearnerConfig().torch_num_threads


def test_nested_sections_are_typed_and_merged_key_by_key():
    cfg = algo_section({"name": "PPO", "lr": 1e-3, "model": {"fcnet_hiddens": [8]}})
    assert isinstance(cfg, PPOSchema) and cfg.lr == 1e-3
    assert isinstance(cfg.model, ModelConfig)
    assert cfg.model.fcnet_hiddens == [8]
    assert cfg.model.fcnet_activation == ModelConfig().fcnet_activation
    # The algorithm's schema decides: DQN's own model defaults and its replay section.
    dqn = algo_section({"name": "DQN"})
    assert isinstance(dqn, DQNSchema) and dqn.model == DQNSchema().model
    assert dataclasses.is_dataclass(dqn.replay)


def test_an_instance_passes_through_unchanged():
    cfg = EnvRunnerConfig(num_envs_per_env_runner=3)
    assert typed(EnvRunnerConfig, cfg) is cfg
    assert algo_section(PPOSchema()) == PPOSchema()


def test_unknown_keys_are_refused_by_name():
    with pytest.raises(TypeError, match=r"LearnerConfig has no key\(s\) \['num_learner'\]"):
        typed(LearnerConfig, {"num_learner": 2})
    with pytest.raises(UnknownKeyError) as info:
        algo_section({"name": "PPO", "model": {"fcnet_hidden": [8]}})
    # A ConfigError too (exit 2, no traceback), named by its config path.
    assert isinstance(info.value, ConfigError) and info.value.key == "algo.model.fcnet_hidden"
    assert "fcnet_hiddens" in str(info.value)


def test_a_checkpoint_config_with_a_key_this_version_lacks_is_exit_2(tmp_path, capsys):
    import rlrun
    from tests.helpers.cli import cli_fails

    algo = rlrun.build(["algo.train_batch_size_per_learner=64", "algo.minibatch_size=32"])
    try:
        algo.train()
        path = algo.save(tmp_path / "checkpoint_000001")
    finally:
        algo.stop()
    cfg = path / "config.yaml"
    cfg.write_text(cfg.read_text().replace("algo:\n", "algo:\n  no_such_key: 1\n", 1))
    cli_fails(["evaluate", f"checkpoint={path}", "episodes=1"], capsys, "algo.no_such_key=1")


def test_complete_gives_the_same_values_as_a_plain_dict():
    plain = complete(PPOSchema, {"gamma": 0.9})
    assert plain == dataclasses.asdict(typed(PPOSchema, {"gamma": 0.9}))
    assert complete(PPOSchema, PPOSchema(gamma=0.9)) == plain
