"""RLlib's config builder (rlrun.algorithms.algorithm_config): every parameter reaches its rlrun
key, unknown parameters are errors, values are checked by the CLI's validation, `to_yaml` is the
same run as `rlrun train experiment=...`, and the Algorithm answers RLlib's method names."""

from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import yaml

from rlrun.algorithms import rllib_names as N
from rlrun.algorithms.algorithm_config import AlgorithmConfig, builder_class
from rlrun.algorithms.dqn import DQNConfig
from rlrun.algorithms.ppo import PPOConfig
from rlrun.algorithms.sac import SACConfig
from rlrun.config.compose import compose
from rlrun.config.keys import algorithm_keys, schema_keys
from rlrun.env.multi_agent.mappings import by_agent_index
from rlrun.errors import ConfigError
from rlrun.rllib_yaml import mapping as M
from tests.helpers.callbacks import CountingCallbacks, MinimalCallbacks, grow
from tests.helpers.cli import ENV, REPO
from tests.helpers.envs import FixedLengthEnv

TINY = {"train_batch_size_per_learner": 128, "minibatch_size": 64, "num_epochs": 1}


def tiny_ppo() -> PPOConfig:
    return (
        PPOConfig()
        .environment("CartPole-v1")
        .training(**TINY)
        .env_runners(num_envs_per_env_runner=2)
    )


def via_table(name: str, value: Any) -> Any:
    """The value rlrun.rllib_yaml.mapping gives an RLlib key (the builder reuses its table)."""
    target = M.CONFIG[name]
    return target.transform(value) if target.transform else value


@dataclasses.dataclass
class DefaultModelConfig:  # the shape of RLlib's dataclass: only changed fields carry over
    fcnet_hiddens: list[int] = dataclasses.field(default_factory=lambda: [256, 256])
    fcnet_activation: str = "tanh"
    fcnet_kernel_initializer: Any = None


# (builder, method, parameters, the rlrun keys they set), written out key by key.
CASES: list[tuple[type[AlgorithmConfig], str, dict[str, Any], dict[str, Any]]] = [
    (PPOConfig, "environment", {"env": "CartPole-v1"}, {"env": "CartPole-v1"}),
    (PPOConfig, "environment", {"env": "my_pkg.envs.MyEnv"}, {"env": "my_pkg.envs:MyEnv"}),
    (
        PPOConfig,
        "environment",
        {"env": FixedLengthEnv},
        {"env": "tests.helpers.envs:FixedLengthEnv"},
    ),
    (PPOConfig, "environment", {"env_config": {"size": 8}}, {"env.env_config": {"size": 8}}),
    (PPOConfig, "environment", {"action_mask_key": "mask"}, {"env.action_mask_key": "mask"}),
    (
        PPOConfig,
        "environment",
        {"env_task_fn": grow},
        {"env.task_fn": "tests.helpers.callbacks:grow"},
    ),
    (PPOConfig, "environment", {"is_atari": True}, {"env.atari_preprocessing": True}),
    (PPOConfig, "environment", {"disable_env_checking": True}, {}),
    (PPOConfig, "training", {"lr": 0.01}, {"algo.lr": 0.01}),
    (
        PPOConfig,
        "training",
        {"lr": [(0, 1e-3), (100, 1e-4)]},
        {"algo.lr": [[0, 1e-3], [100, 1e-4]]},
    ),
    (PPOConfig, "training", {"lr_schedule": [[0, 1e-3]]}, {"algo.lr": [[0, 1e-3]]}),
    (PPOConfig, "training", {"gamma": 0.9}, {"algo.gamma": 0.9}),
    (
        PPOConfig,
        "training",
        {"grad_clip": 1.0, "grad_clip_by": "norm"},
        {"algo.grad_clip": 1.0, "algo.grad_clip_by": "norm"},
    ),
    (
        PPOConfig,
        "training",
        {"train_batch_size_per_learner": 512},
        {"algo.train_batch_size_per_learner": 512},
    ),
    (
        PPOConfig,
        "training",
        {"train_batch_size": 1000},
        {"algo.train_batch_size_per_learner": 1000},
    ),
    (
        PPOConfig,
        "training",
        {"minibatch_size": 64, "num_epochs": 3},
        {"algo.minibatch_size": 64, "algo.num_epochs": 3},
    ),
    (
        PPOConfig,
        "training",
        {"sgd_minibatch_size": 32, "num_sgd_iter": 2},
        {"algo.minibatch_size": 32, "algo.num_epochs": 2},
    ),
    (
        PPOConfig,
        "training",
        {"lambda_": 0.9, "clip_param": 0.3},
        {"algo.lambda_": 0.9, "algo.clip_param": 0.3},
    ),
    (
        PPOConfig,
        "training",
        {"vf_loss_coeff": 1.0},
        {"algo.vf_loss_coeff": via_table("vf_loss_coeff", 1.0)},
    ),
    (PPOConfig, "training", {"entropy_coeff": 0.01}, {"algo.entropy_coeff": 0.01}),
    (
        PPOConfig,
        "training",
        {"entropy_coeff_schedule": [[0, 0.01]]},
        {"algo.entropy_coeff": [[0, 0.01]]},
    ),
    (PPOConfig, "training", {"kl_coeff": 0.3}, {"algo.kl_coeff": 0.3, "algo.use_kl_loss": True}),
    (
        PPOConfig,
        "training",
        {"kl_coeff": 0.3, "use_kl_loss": False},
        {"algo.kl_coeff": 0.3, "algo.use_kl_loss": False},
    ),
    (PPOConfig, "training", {"kl_target": 0.02}, {"algo.kl_target": 0.02}),
    (PPOConfig, "training", {"vf_share_layers": True}, {"algo.model.vf_share_layers": True}),
    (
        PPOConfig,
        "training",
        {"use_gae": True, "use_critic": True, "shuffle_batch_per_epoch": True},
        {},
    ),
    (PPOConfig, "training", {"normalize_advantages": False}, {"algo.normalize_advantages": False}),
    (
        PPOConfig,
        "training",
        {
            "model": {
                "fcnet_hiddens": [8],
                "fcnet_activation": "swish",
                "use_lstm": True,
                "lstm_cell_size": 16,
                "max_seq_len": 8,
                "free_log_std": False,
            }
        },
        {
            "algo.model.fcnet_hiddens": [8],
            "algo.model.fcnet_activation": "silu",
            "algo.model.use_lstm": True,
            "algo.model.lstm_cell_size": 16,
            "algo.model.max_seq_len": 8,
            "algo.model.free_log_std": False,
        },
    ),  # fmt: skip
    (PPOConfig, "env_runners", {"num_env_runners": 2}, {"env_runner.num_env_runners": 2}),
    (PPOConfig, "env_runners", {"num_rollout_workers": 3}, {"env_runner.num_env_runners": 3}),
    (
        PPOConfig,
        "env_runners",
        {"num_envs_per_env_runner": 4},
        {"env_runner.num_envs_per_env_runner": 4},
    ),
    (
        PPOConfig,
        "env_runners",
        {"num_envs_per_worker": 5},
        {"env_runner.num_envs_per_env_runner": 5},
    ),
    (
        PPOConfig,
        "env_runners",
        {"rollout_fragment_length": 50},
        {"env_runner.rollout_fragment_length": 50},
    ),
    (PPOConfig, "env_runners", {"explore": False}, {"env_runner.explore": False}),
    (
        PPOConfig,
        "env_runners",
        {"observation_filter": "MeanStdFilter"},
        {"env_runner.observation_filter": "MeanStdFilter"},
    ),
    (
        PPOConfig,
        "env_runners",
        {"observation_filter": "ConcurrentMeanStdFilter"},
        {"env_runner.observation_filter": "MeanStdFilter"},
    ),
    (
        PPOConfig,
        "env_runners",
        {"num_cpus_per_env_runner": 0.5, "num_gpus_per_env_runner": 0.25},
        {"env_runner.num_cpus_per_env_runner": 0.5, "env_runner.num_gpus_per_env_runner": 0.25},
    ),
    (PPOConfig, "env_runners", {"sample_timeout_s": 30.0}, {"env_runner.sample_timeout_s": 30.0}),
    (
        PPOConfig,
        "env_runners",
        {"gym_env_vectorize_mode": "ASYNC"},
        {"env_runner.vectorize_mode": "async"},
    ),
    (
        PPOConfig,
        "env_runners",
        {"remote_worker_envs": True},
        {"env_runner.vectorize_mode": "async"},
    ),
    (
        PPOConfig,
        "env_runners",
        {"env_to_module_connector": ["flatten_observations"]},
        {"connectors.env_to_module": ["flatten_observations"]},
    ),
    (PPOConfig, "env_runners", {"batch_mode": "truncate_episodes"}, {}),
    (
        PPOConfig,
        "learners",
        {"num_learners": 2, "num_cpus_per_learner": 2, "num_gpus_per_learner": 1},
        {
            "learner.num_learners": 2,
            "learner.num_cpus_per_learner": 2,
            "learner.num_gpus_per_learner": 1,
        },
    ),
    (PPOConfig, "learners", {"learner_connector": []}, {"connectors.learner": []}),
    (PPOConfig, "evaluation", {"evaluation_interval": 5}, {"evaluation.interval": 5}),
    (PPOConfig, "evaluation", {"evaluation_interval": None}, {"evaluation.interval": 0}),
    (
        PPOConfig,
        "evaluation",
        {"evaluation_duration": 3, "evaluation_duration_unit": "timesteps"},
        {"evaluation.duration": 3, "evaluation.duration_unit": "timesteps"},
    ),
    (
        PPOConfig,
        "evaluation",
        {"evaluation_num_env_runners": 1, "evaluation_parallel_to_training": True},
        {"evaluation.num_env_runners": 1, "evaluation.parallel_to_training": True},
    ),
    (PPOConfig, "evaluation", {"evaluation_num_workers": 2}, {"evaluation.num_env_runners": 2}),
    (
        PPOConfig,
        "evaluation",
        {
            "evaluation_config": AlgorithmConfig.overrides(
                explore=True,
                env_config={"size": 2},
                policy_mapping_fn=by_agent_index,
                num_envs_per_env_runner=3,
            )
        },
        {
            "evaluation.explore": True,
            "evaluation.env_config": {"size": 2},
            "evaluation.num_envs_per_env_runner": 3,
            "evaluation.policy_mapping_fn": "rlrun.env.multi_agent.mappings:by_agent_index",
        },
    ),  # fmt: skip
    (
        PPOConfig,
        "fault_tolerance",
        {"restart_failed_env_runners": False},
        {"fault_tolerance.restart_failed_env_runners": False},
    ),
    (
        PPOConfig,
        "fault_tolerance",
        {"recreate_failed_env_runners": True},
        {"fault_tolerance.restart_failed_env_runners": True},
    ),
    (
        PPOConfig,
        "fault_tolerance",
        {"ignore_env_runner_failures": True},
        {"fault_tolerance.ignore_env_runner_failures": True},
    ),
    (
        PPOConfig,
        "fault_tolerance",
        {"max_num_env_runner_restarts": 5},
        {"fault_tolerance.max_num_env_runner_restarts": 5},
    ),
    (
        PPOConfig,
        "fault_tolerance",
        {"restart_failed_sub_environments": True},
        {"fault_tolerance.restart_failed_sub_environments": True},
    ),
    (
        PPOConfig,
        "fault_tolerance",
        {"delay_between_env_runner_restarts_s": 2.0},
        {"fault_tolerance.delay_between_env_runner_restarts_s": 2.0},
    ),
    (
        PPOConfig,
        "fault_tolerance",
        {"num_consecutive_env_runner_failures_tolerance": 7},
        {"fault_tolerance.max_consecutive_env_runner_failures": 7},
    ),
    (
        PPOConfig,
        "callbacks",
        {"callbacks_class": CountingCallbacks},
        {"callbacks": ["tests.helpers.callbacks:CountingCallbacks"]},
    ),
    (
        PPOConfig,
        "callbacks",
        {"callbacks_class": [CountingCallbacks, "tests.helpers.callbacks:MinimalCallbacks"]},
        {
            "callbacks": [
                "tests.helpers.callbacks:CountingCallbacks",
                "tests.helpers.callbacks:MinimalCallbacks",
            ]
        },
    ),
    (
        PPOConfig,
        "rl_module",
        {"model_config": {"fcnet_hiddens": [16], "head_fcnet_hiddens": [8]}},
        {"algo.model.fcnet_hiddens": [16], "algo.model.head_fcnet_hiddens": [8]},
    ),
    (
        PPOConfig,
        "rl_module",
        {"model_config": DefaultModelConfig(fcnet_hiddens=[32])},
        {"algo.model.fcnet_hiddens": [32]},
    ),
    (
        PPOConfig,
        "rl_module",
        {
            "rl_module_spec": SimpleNamespace(
                module_class="examples.custom_modules:GRUModule",
                model_config={"custom": {"hidden": 8}},
            )
        },
        {
            "algo.model.module_class": "examples.custom_modules:GRUModule",
            "algo.model.custom": {"hidden": 8},
        },
    ),  # fmt: skip
    (
        PPOConfig,
        "rl_module",
        {"algorithm_config_overrides_per_module": {"p0": {"lr": 0.1}}},
        {"multi_agent.algorithm_config_overrides_per_module": {"p0": {"lr": 0.1}}},
    ),
    (PPOConfig, "debugging", {"seed": 7, "log_level": "INFO"}, {"seed": 7, "log_level": "INFO"}),
    (
        PPOConfig,
        "reporting",
        {"metrics_num_episodes_for_smoothing": 20},
        {"env_runner.metrics_num_episodes_for_smoothing": 20},
    ),
    (
        PPOConfig,
        "checkpointing",
        {
            "checkpoint_frequency": 5,
            "checkpoint_at_end": False,
            "num_to_keep": 2,
            "checkpoint_score_attribute": "env_runners/episode_return_mean",
            "checkpoint_score_order": "min",
        },
        {
            "checkpoint.frequency": 5,
            "checkpoint.at_end": False,
            "checkpoint.num_to_keep": 2,
            "checkpoint.score_attribute": "env_runners/episode_return_mean",
            "checkpoint.score_order": "min",
        },
    ),  # fmt: skip
    (
        PPOConfig,
        "multi_agent",
        {
            "policies": {"p1", "p0"},
            "policy_mapping_fn": by_agent_index,
            "policies_to_train": ["p0"],
            "count_steps_by": "agent_steps",
        },
        {
            "multi_agent.policies": {"p0": {}, "p1": {}},
            "multi_agent.policies_to_train": ["p0"],
            "multi_agent.policy_mapping_fn": "rlrun.env.multi_agent.mappings:by_agent_index",
            "multi_agent.count_steps_by": "agent_steps",
        },
    ),  # fmt: skip
    (
        PPOConfig,
        "multi_agent",
        {
            "policies": {
                "p0": None,
                "p1": SimpleNamespace(
                    policy_class=None, observation_space=None, action_space=None, config={"lr": 0.1}
                ),
            },
            "algorithm_config_overrides_per_module": {"p0": {"gamma": 0.9}},
        },
        {
            "multi_agent.policies": {"p0": {}, "p1": {"config": {"lr": 0.1}}},
            "multi_agent.algorithm_config_overrides_per_module": {"p0": {"gamma": 0.9}},
        },
    ),  # fmt: skip
    (
        PPOConfig,
        "resources",
        {"num_gpus": 1, "num_cpus_per_worker": 2},
        {"learner.num_gpus_per_learner": 1, "env_runner.num_cpus_per_env_runner": 2},
    ),
    (PPOConfig, "framework", {"framework": "torch"}, {}),
    (
        PPOConfig,
        "api_stack",
        {"enable_rl_module_and_learner": True, "enable_env_runner_and_connector_v2": True},
        {},
    ),
    (
        DQNConfig,
        "training",
        {
            "target_network_update_freq": 100,
            "store_buffer_in_checkpoints": True,
            "tau": 0.5,
            "epsilon": [(0, 1.0), (1000, 0.1)],
            "num_steps_sampled_before_learning_starts": 100,
            "num_atoms": 51,
            "v_min": -5.0,
            "v_max": 5.0,
            "dueling": False,
            "double_q": False,
            "n_step": 2,
            "training_intensity": 8.0,
            "td_error_loss_fn": "mse",
            "hiddens": [32],
        },
        {
            "algo.target_network_update_freq": 100,
            "checkpoint.include_replay_buffer": True,
            "algo.tau": 0.5,
            "algo.epsilon": [[0, 1.0], [1000, 0.1]],
            "algo.learning_starts": 100,
            "algo.num_atoms": 51,
            "algo.v_min": -5.0,
            "algo.v_max": 5.0,
            "algo.dueling": False,
            "algo.double_q": False,
            "algo.n_step": 2,
            "algo.training_intensity": 8.0,
            "algo.td_error_loss_fn": "mse",
            "algo.model.head_fcnet_hiddens": [32],
        },
    ),  # fmt: skip
    (
        DQNConfig,
        "training",
        {
            "replay_buffer_config": {
                "type": "PrioritizedEpisodeReplayBuffer",
                "capacity": 1000,
                "alpha": 0.5,
                "beta": 0.3,
            }
        },
        {
            "algo.replay.prioritized": True,
            "algo.replay.capacity": 1000,
            "algo.replay.alpha": 0.5,
            "algo.replay.beta": 0.3,
        },
    ),  # fmt: skip
    (
        DQNConfig,
        "reporting",
        {"min_sample_timesteps_per_iteration": 500},
        {"algo.min_sample_timesteps_per_iteration": 500},
    ),
    (
        SACConfig,
        "training",
        {
            "twin_q": False,
            "tau": 0.01,
            "initial_alpha": 0.5,
            "target_entropy": -1.0,
            "actor_lr": 1e-3,
            "critic_lr": 2e-3,
            "alpha_lr": 3e-3,
            "autotune_alpha": False,
            "q_model_config": {"fcnet_hiddens": [32]},
            "policy_model_config": {"fcnet_activation": "relu"},
            "optimization_config": {"actor_learning_rate": 1e-4},
        },
        {
            "algo.twin_q": False,
            "algo.tau": 0.01,
            "algo.initial_alpha": 0.5,
            "algo.target_entropy": -1.0,
            "algo.actor_lr": 1e-4,
            "algo.critic_lr": 2e-3,
            "algo.alpha_lr": 3e-3,
            "algo.autotune_alpha": False,
            "algo.model.fcnet_hiddens": [32],
            "algo.model.fcnet_activation": "relu",
        },
    ),  # fmt: skip
]


@pytest.mark.parametrize(
    ("builder", "method", "params", "expected"),
    CASES,
    ids=[f"{b.__name__}.{m}({','.join(p)})" for b, m, p, _ in CASES],
)
def test_each_parameter_reaches_its_rlrun_key(
    builder: type[AlgorithmConfig], method: str, params: dict[str, Any], expected: dict[str, Any]
) -> None:
    config = getattr(builder(), method)(**params)
    assert config is not None and config.rlrun_keys() == expected


def test_train_batch_size_counts_all_learners_and_per_learner_wins() -> None:
    split = PPOConfig().training(train_batch_size=1000).learners(num_learners=4)
    assert split.rlrun_keys()["algo.train_batch_size_per_learner"] == 250
    both = PPOConfig().training(train_batch_size=1000, train_batch_size_per_learner=64)
    assert both.rlrun_keys()["algo.train_batch_size_per_learner"] == 64


def test_rl_module_spec_of_several_modules_merges_with_policies() -> None:
    spec = SimpleNamespace(
        rl_module_specs={
            "main": SimpleNamespace(module_class=None, model_config={"fcnet_hiddens": [8]}),
            "random": SimpleNamespace(module_class="rlrun.models.random_module:RandomModule"),
        },
        multi_rl_module_class=None,
    )
    config = PPOConfig().multi_agent(policies=["main", "random"]).rl_module(rl_module_spec=spec)
    assert config.rlrun_keys()["multi_agent.policies"] == {
        "main": {"model": {"fcnet_hiddens": [8]}},
        "random": {"module_class": "rlrun.models.random_module:RandomModule"},
    }


def test_every_table_target_is_a_schema_key() -> None:
    keys = schema_keys()
    for method, table in N.METHODS.items():
        for name, spec in table.items():
            target = M.CONFIG[name].key if spec == N.SAME and name in M.CONFIG else spec
            if target and target[0] not in "@!":
                assert target in keys, (method, name, target)
    for name in ("PPO", "DQN", "SAC"):
        for param, spec in builder_class(name).own_training.items():
            target = M.CONFIG[param].key if spec == N.SAME and param in M.CONFIG else spec
            if target and target[0] not in "@!":
                assert target in keys, (name, param, target)
                assert not target.startswith("algo.") or target in algorithm_keys(name)


@pytest.mark.parametrize("method", sorted(N.METHODS))
def test_rllib_parameters_without_an_rlrun_equivalent_are_errors_unless_harmless(
    method: str,
) -> None:
    for name, spec in N.METHODS[method].items():
        if spec != N.NONE:
            continue
        if name in M.NO_EFFECT:
            getattr(PPOConfig(), method)(**{name: "anything"})
            continue
        with pytest.raises(ConfigError, match=f"{method}\\({name}=.*no rlrun equivalent"):
            getattr(PPOConfig(), method)(**{name: "not-rlruns-value"})
        getattr(PPOConfig(), method)(**{name: None})  # RLlib's "not set"


def test_unknown_parameters_name_the_method_and_the_closest_name() -> None:
    with pytest.raises(
        ConfigError,
        match=r"PPOConfig.training\(lrr=...\): unknown parameter 'lrr'. Did you mean 'lr'\?",
    ):
        PPOConfig().training(lrr=0.1)
    with pytest.raises(ConfigError, match=r"'num_env_runner'. Did you mean 'num_env_runners'"):
        PPOConfig().env_runners(num_env_runner=2)
    with pytest.raises(ConfigError, match=r"It is a parameter of .env_runners\(\)"):
        PPOConfig().training(num_env_runners=2)
    with pytest.raises(ConfigError, match=r"It is a parameter of DQNConfig.training\(\)"):
        PPOConfig().training(double_q=True)
    with pytest.raises(
        ConfigError, match=r"update_from_dict\('lrr'\): unknown key. Did you mean 'lr'"
    ):
        PPOConfig().update_from_dict({"lrr": 0.1})
    with pytest.raises(
        ConfigError, match="'algo.min_sample_timesteps_per_iteration' is not a PPO setting"
    ):
        PPOConfig().reporting(min_sample_timesteps_per_iteration=100)


def test_functions_and_classes_must_be_importable_by_name() -> None:
    with pytest.raises(ConfigError, match="a lambda has no name to import it by"):
        PPOConfig().multi_agent(policy_mapping_fn=lambda agent_id, episode, **kw: "p0")

    def local_fn(agent_id: Any, episode: Any, **kw: Any) -> str:
        return "p0"

    with pytest.raises(ConfigError, match="defined inside a function"):
        PPOConfig().multi_agent(policy_mapping_fn=local_fn)
    with pytest.raises(ConfigError, match="policies_to_train.*give the ids"):
        PPOConfig().multi_agent(policies_to_train=lambda mid, batch: True)
    with pytest.raises(ConfigError, match="connector factories are Python functions"):
        PPOConfig().env_runners(env_to_module_connector=lambda env, spaces, device: None)


@pytest.mark.parametrize(
    ("config", "key", "origin"),
    [
        (lambda: tiny_ppo().training(gamma=1.5), "algo.gamma", "training(gamma=1.5)"),
        (lambda: tiny_ppo().training(gamma="high"), "algo.gamma", "training(gamma='high')"),
        (lambda: tiny_ppo().env_runners(observation_filter="Mean"), "env_runner.observation_filter", "env_runners"),
        (lambda: tiny_ppo().training(minibatch_size=4096), "algo.minibatch_size", "training(minibatch_size=4096)"),
        (lambda: tiny_ppo().environment("CartPoleX-v1"), "env.id", "environment(env='CartPoleX-v1')"),
        (lambda: tiny_ppo().update_from_dict({"stop.iterations": -1}), "stop.iterations", "update_from_dict"),
    ],
)  # fmt: skip
def test_bad_values_fail_in_the_cli_validation_naming_the_rlrun_key(
    config: Any, key: str, origin: str
) -> None:
    with pytest.raises(ConfigError) as info:
        config().build()
    assert info.value.key == key and info.value.exit_code == 2
    assert f"set by PPOConfig.{origin}" in str(info.value)


def rich_config(tmp_path: Path) -> PPOConfig:
    """Something from most builder methods, with values of every kind YAML and Hydra hold."""
    return (
        PPOConfig()
        .environment("MountainCar-v0", env_config={"render_mode": None})
        .training(lr=[[0, 1e-3], [10000, 1e-5]], gamma=0.98, lambda_=0.9, kl_coeff=0.3,
                  train_batch_size=1024, minibatch_size=256, num_epochs=2,
                  model={"fcnet_hiddens": [32, 32], "fcnet_activation": "relu"})
        .env_runners(num_envs_per_env_runner=4, observation_filter="MeanStdFilter", explore=True)
        .evaluation(evaluation_interval=2, evaluation_duration=3,
                    evaluation_config={"explore": False, "env_config": {"goal_velocity": 0.1}})
        .callbacks(MinimalCallbacks)
        .multi_agent(policies={"p0": {"config": {"lr": 0.01}}, "p1": None})
        .checkpointing(checkpoint_frequency=3)
        .debugging(seed=5, log_level="INFO")
        .update_from_dict({"stop.iterations": 2, "results_dir": str(tmp_path / "results")})
    )  # fmt: skip


def test_to_yaml_composes_exactly_as_the_builder(tmp_path: Path) -> None:
    config = rich_config(tmp_path)
    path = tmp_path / "conf" / "experiment" / "from_python.yaml"
    text = config.to_yaml(path)
    assert text.startswith("# @package _global_") and path.read_text() == text
    assert f"hydra.searchpath=[file://{tmp_path / 'conf'}] experiment=from_python" in text
    cli = compose([f"hydra.searchpath=['file://{tmp_path / 'conf'}']", "experiment=from_python"])
    assert cli == compose(config.to_overrides())
    # And back: the file read into a builder says the same.
    again = PPOConfig.from_yaml(path)
    assert again.rlrun_keys() == config.rlrun_keys()
    assert AlgorithmConfig.from_dict(config.to_dict()).to_dict() == config.to_dict()


def test_rlrun_train_of_the_yaml_is_the_same_config(tmp_path: Path) -> None:
    config = rich_config(tmp_path)
    config.to_yaml(tmp_path / "conf" / "experiment" / "from_python.yaml")
    proc = subprocess.run(
        [sys.executable, "-m", "rlrun", "train", "--cfg",
         f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "experiment=from_python"],
        cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(proc.stdout) == config.to_dict()


def test_to_dict_keeps_tune_search_spaces_in_place() -> None:
    config = tiny_ppo().training(lr={"grid_search": [0.01, 0.001]})
    assert config.to_dict()["algo"]["lr"] == {"grid_search": [0.01, 0.001]}
    with pytest.raises(ConfigError, match="Ray Tune search space"):
        config.build()


def test_build_trains_saves_and_restores_under_rllibs_names(tmp_path: Path) -> None:
    from rlrun.algorithms.algorithm import Algorithm
    from rlrun.algorithms.ppo.algorithm import PPO

    config = tiny_ppo().update_from_dict({"results_dir": str(tmp_path)})
    algo = config.build_algo()
    try:
        assert isinstance(algo, PPO)
        assert algo.train()["training_iteration"] == 1
        saved = algo.save()  # no path: the next checkpoint of its trial folder
        assert isinstance(saved, Path) and (saved / "rlrun_checkpoint.json").is_file()
        assert saved.checkpoint.path == str(saved) and saved.name == "checkpoint_000001"
        assert Path(saved.checkpoint.path).parent.parent.parent == tmp_path
        elsewhere = algo.save_to_path(tmp_path / "mine")
        assert elsewhere == str(tmp_path / "mine")
        restored = Algorithm.from_checkpoint(saved.checkpoint)
        restored.restore_from_path(elsewhere)
        assert restored.iteration == 1
        restored.stop()
    finally:
        algo.stop()


def test_get_weights_set_weights_round_trip() -> None:
    algo = tiny_ppo().env_runners(explore=False).build()
    other = tiny_ppo().debugging(seed=1).env_runners(explore=False).build()
    try:
        weights = algo.get_weights()
        assert list(weights) == ["default_policy"]
        assert all(isinstance(v, np.ndarray) for v in weights["default_policy"].values())
        assert algo.get_weights("default_policy").keys() == weights.keys()
        obs = np.array([0.02, -0.3, 0.04, 0.5], np.float32)
        other.set_weights(weights)
        for name, value in other.get_weights()["default_policy"].items():
            np.testing.assert_array_equal(value, weights["default_policy"][name])
        # The runners act with the new weights: explore=None takes env_runners(explore=False).
        assert other.compute_single_action(obs) == algo.compute_single_action(obs, explore=False)
        with pytest.raises(KeyError, match="no module 'p9'"):
            other.set_weights({"p9": {}})
    finally:
        algo.stop()
        other.stop()


def test_importing_the_builders_imports_neither_torch_nor_ray() -> None:
    code = (
        "import sys\nfrom rlrun.algorithms.ppo import PPOConfig\n"
        "from rlrun.algorithms.dqn import DQNConfig\nfrom rlrun.algorithms.sac import SACConfig\n"
        "PPOConfig().training(lr=0.1).env_runners(num_env_runners=1).rlrun_keys()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'ray', 'hydra'}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("builder", [PPOConfig, DQNConfig, SACConfig])
def test_own_training_parameters_without_an_equivalent_are_errors(builder: type) -> None:
    for name, spec in builder.own_training.items():
        if spec == N.NONE and name not in M.NO_EFFECT:
            with pytest.raises(ConfigError, match=f"training\\({name}=.*no rlrun equivalent"):
                builder().training(**{name: "not-rlruns-value"})


def test_docs_list_every_builder_parameter() -> None:
    doc = (REPO / "docs" / "python_api.md").read_text()
    tables = [*N.METHODS.values(), *(b.own_training for b in (PPOConfig, DQNConfig, SACConfig))]
    missing = sorted({name for t in tables for name in t if f"`{name}`" not in doc})
    assert not missing, f"docs/python_api.md does not list {missing}"


def test_yaml_with_a_generic_env_and_groups_reads_back(tmp_path: Path) -> None:
    config = DQNConfig().environment("MountainCar-v0").training(n_step=2)
    config._groups["env_runner"] = "local"  # as an experiment file may choose groups too
    path = tmp_path / "experiment" / "car.yaml"
    config.to_yaml(path)
    assert "override /env: gym" in path.read_text()
    again = AlgorithmConfig.from_yaml(path)
    assert isinstance(again, DQNConfig)
    assert again.rlrun_keys() == {"env": "MountainCar-v0", "env_runner": "local", "algo.n_step": 2}


def test_update_from_dict_takes_rllib_names_rlrun_keys_and_sections() -> None:
    config = PPOConfig().update_from_dict(
        {"lr": 0.01, "num_env_runners": 0, "stop.iterations": 3,
         "algo": {"name": "PPO", "model": {"fcnet_hiddens": [8]}, "clip_param": 0.1},
         "env": "Pendulum-v1", "callbacks": CountingCallbacks}
    )  # fmt: skip
    assert config.rlrun_keys() == {
        "env": "Pendulum-v1",
        "algo.lr": 0.01,
        "env_runner.num_env_runners": 0,
        "stop.iterations": 3,
        "algo.model.fcnet_hiddens": [8],
        "algo.clip_param": 0.1,
        "callbacks": ["tests.helpers.callbacks:CountingCallbacks"],
    }


def test_attribute_reads_give_the_value_the_run_uses() -> None:
    """RLlib's `config.lr` style reads: the value a builder call set, else rlrun's default."""
    config = PPOConfig().environment("CartPole-v1").training(lr=3e-4).learners(num_learners=2)
    assert config.lr == 3e-4 and config.env == "CartPole-v1" and config.num_learners == 2
    assert config.num_env_runners == 0 and config.gamma == 0.99  # rlrun's defaults
    # RLlib's train_batch_size counts every learner.
    assert config.train_batch_size == 2 * config.train_batch_size_per_learner
    assert config.model["fcnet_hiddens"] == [64, 64]
    assert copy.deepcopy(config).lr == 3e-4
    with pytest.raises(AttributeError, match="Did you mean 'lr'"):
        _ = config.lrr
    assert not hasattr(config, "no_such_setting")
