"""Extending from config: a custom Learner (algo.learner_class), a custom Algorithm
(algo.algorithm_class) and pre-trained module weights (algo.model.load_state_path)."""

from __future__ import annotations

import pytest
import torch

import rlrun
from rlrun.errors import ConfigError

TINY = [
    "algo.train_batch_size_per_learner=128",
    "algo.minibatch_size=64",
    "algo.num_epochs=1",
    "env_runner.num_envs_per_env_runner=2",
]


def test_a_learner_class_from_config_adds_its_loss_term():
    algo = rlrun.build([*TINY, "algo.learner_class=tests.helpers.extensions:L2PPOLearner"])
    try:
        result = algo.train()
        assert result["learners"]["default_policy"]["l2_loss"] > 0
        assert type(algo.learner_group.local_learner).__name__ == "L2PPOLearner"
    finally:
        algo.stop()


def test_a_learner_class_from_config_serves_every_module_of_a_multi_agent_run():
    algo = rlrun.build(
        [
            *TINY,
            "algo.learner_class=tests.helpers.extensions:L2PPOLearner",
            "env.id=rlrun.env.multi_agent.example_envs:MultiAgentCartPole",
            "env.env_config.num_agents=2",
            "multi_agent.policies=[p0,p1]",
            "multi_agent.policy_mapping_fn=rlrun.env.multi_agent.mappings:by_agent_index",
        ]
    )
    try:
        learners = algo.train()["learners"]
        assert learners["p0"]["l2_loss"] > 0 and learners["p1"]["l2_loss"] > 0
        multi = algo.learner_group.local_learner
        assert {type(ln).__name__ for ln in multi.learners.values()} == {"L2PPOLearner"}
    finally:
        algo.stop()


def test_an_algorithm_class_from_config_runs_its_training_step_and_round_trips(tmp_path):
    algo = rlrun.build([*TINY, "algo.algorithm_class=tests.helpers.extensions:CountingPPO"])
    try:
        assert type(algo).__name__ == "CountingPPO"
        assert algo.train()["custom_steps"] == 1
        path = algo.save(tmp_path / "checkpoint_000001")
    finally:
        algo.stop()
    again = rlrun.Algorithm.from_checkpoint(path)
    try:
        assert type(again).__name__ == "CountingPPO"
        assert again.train()["custom_steps"] == 2
    finally:
        again.stop()


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("algo.learner_class=tests.helpers.extensions:NotALearner", "subclass of"),
        ("algo.algorithm_class=tests.helpers.extensions:L2PPOLearner", "subclass of"),
        ("algo.learner_class=tests.helpers.extensions:Nope", "has no attribute"),
        ("algo.learner_class=not_a_path", "pkg.module:Class"),
    ],
)
def test_bad_classes_are_config_errors(override, fragment):
    with pytest.raises(ConfigError) as info:
        rlrun.build([*TINY, override]).stop()
    assert fragment in str(info.value)


def test_load_state_path_starts_a_run_from_a_checkpoints_module(tmp_path):
    first = rlrun.build(TINY)
    try:
        first.train()
        path = first.save(tmp_path / "checkpoint_000001")
        trained = {k: v.clone() for k, v in first.get_module().state_dict().items()}
    finally:
        first.stop()
    for source in (path, path / "module" / "default_policy"):
        algo = rlrun.build([*TINY, f"algo.model.load_state_path={source}"])
        try:
            got = algo.get_module().state_dict()
            assert all(torch.equal(got[k], trained[k]) for k in trained)
            assert algo.iteration == 0  # weights only: a new run, not a resume
        finally:
            algo.stop()
    with pytest.raises(ConfigError, match="algo.model.load_state_path") as info:
        rlrun.build([*TINY, "algo.model.fcnet_hiddens=[8]", f"algo.model.load_state_path={path}"])
    assert "does not fit" in str(info.value)


def test_a_custom_evaluation_function_replaces_the_built_in_evaluation():
    algo = rlrun.build(
        [
            *TINY,
            "evaluation.interval=1",
            "evaluation.custom_evaluation_function=tests.helpers.extensions:three_episode_evaluation",
        ]
    )
    try:
        ev = algo.train()["evaluation"]
        assert ev["custom"] == 1 and ev["env_runners"]["episode_return_mean"] > 0
        assert ev["time_s"] >= 0
    finally:
        algo.stop()


def test_a_custom_evaluation_function_that_returns_no_dict_is_named():
    algo = rlrun.build(
        [
            *TINY,
            "evaluation.interval=1",
            "evaluation.custom_evaluation_function=tests.helpers.extensions:not_a_dict",
        ]
    )
    try:
        with pytest.raises(ConfigError, match="returned list, not a dict"):
            algo.train()
    finally:
        algo.stop()
