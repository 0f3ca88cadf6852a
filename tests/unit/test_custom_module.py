"""A user's module class named in the config trains, checkpoints and restores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import rlrun
from rlrun import Algorithm
from rlrun.errors import ConfigError

SMALL = ["algo.train_batch_size_per_learner=256", "algo.minibatch_size=64", "algo.num_epochs=1"]


def test_custom_module_trains_and_round_trips(tmp_path: Path) -> None:
    algo = rlrun.build(
        [
            "algo.model.module_class=tests.helpers.modules:LinearModule",
            "algo.model.custom={bias:false}",
            *SMALL,
        ]
    )
    module = algo.learner_group.local_learner.module
    assert type(module).__name__ == "LinearModule"
    assert module.pi.bias is None  # the free-form custom config reached the module
    before = {k: v.clone() for k, v in module.state_dict().items()}
    algo.train()
    assert any(not torch.equal(before[k], v) for k, v in module.state_dict().items())
    path = algo.save(tmp_path / "ckpt")
    spec = json.loads((path / "module" / "default_policy" / "spec.json").read_text())
    assert spec["module_class"] == "tests.helpers.modules:LinearModule"
    restored = Algorithm.from_checkpoint(path)
    for k, v in restored.learner_group.local_learner.module.state_dict().items():
        assert torch.equal(v, module.state_dict()[k])
    assert restored.compute_single_action([0.0, 0.0, 0.0, 0.0]) in (0, 1)


def test_module_class_that_is_not_an_rlmodule_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError, match=r"algo.model.module_class=tests.helpers.modules:NotAModule"
    ):
        rlrun.build(["algo.model.module_class=tests.helpers.modules:NotAModule", *SMALL])


@pytest.mark.parametrize("path", ["no_such_pkg.mod:Module", "tests.helpers.modules:Missing"])
def test_module_class_that_does_not_import_is_a_config_error(path: str) -> None:
    with pytest.raises(ConfigError, match="cannot be imported"):
        rlrun.build([f"algo.model.module_class={path}", *SMALL])


def test_validated_activation_names_are_the_ones_the_mlp_builds() -> None:
    from rlrun.config.rules import ACTIVATIONS as allowed
    from rlrun.core.rl_module import ACTIVATIONS as built

    assert set(allowed) == set(built)


def test_custom_recurrent_and_cnn_modules_from_the_docs_train(tmp_path):
    """docs/models.md's examples: a custom GRU module and a custom CNN module train, save and
    act through the same batch format and runner as the default modules."""
    import rlrun
    from rlrun import Algorithm

    gru = rlrun.build(
        [
            "env=StatelessCartPole",
            "algo.model.module_class=examples.custom_modules:GRUModule",
            "algo.train_batch_size_per_learner=512",
            "algo.minibatch_size=128",
            "algo.num_epochs=2",
        ]
    )
    assert gru.train()["learners"]["default_policy"]["num_module_steps_trained"] > 0
    restored = Algorithm.from_checkpoint(gru.save(tmp_path / "gru"))
    action, state = restored.compute_single_action([0.0, 0.0])
    assert action in (0, 1) and state["h"].shape == (32,)
    action, state = restored.compute_single_action([0.01, 0.02], state, episode_start=False)
    assert action in (0, 1)
    gru.stop()
    restored.stop()

    cnn = rlrun.build(
        [
            "env=TinyImageEnv",
            "algo.model.module_class=examples.custom_modules:SmallCNNModule",
            "algo.train_batch_size_per_learner=256",
            "algo.minibatch_size=128",
            "algo.num_epochs=1",
        ]
    )
    assert cnn.train()["num_env_steps_sampled_lifetime"] > 200  # autoreset rows do not count
    cnn.stop()
