"""algo.optimizer: the fused built-in Adam by default (eps per algorithm), torch.optim classes
by name with their kwargs, their state in checkpoints as flat tensors."""

from __future__ import annotations

import pytest
import torch

import rlrun
from rlrun.core.optim import Adam, TorchOptimizer
from rlrun.errors import ConfigError

TINY = [
    "algo.train_batch_size_per_learner=128",
    "algo.minibatch_size=64",
    "algo.num_epochs=1",
    "env_runner.num_envs_per_env_runner=2",
]


def learner(*overrides: str):
    algo = rlrun.build([*TINY, *overrides])
    return algo, algo.learner_group.local_learner


@pytest.mark.parametrize(("algo_name", "eps"), [("ppo", 1e-5), ("dqn", 1e-5), ("sac", 1e-8)])
def test_the_default_is_the_built_in_adam_with_each_algorithms_eps(algo_name, eps):
    env = ["env=Pendulum-v1"] if algo_name == "sac" else []
    algo = rlrun.build([f"algo={algo_name}", *env])
    lrn = algo.learner_group.local_learner
    try:
        for opt in lrn.optimizers.values():
            assert isinstance(opt, Adam) and opt.eps == eps
    finally:
        algo.stop()


def test_eps_and_betas_of_the_built_in_adam():
    algo, lrn = learner("algo.optimizer={eps:1e-8,betas:[0.8,0.99]}")
    try:
        opt = lrn.optimizer
        assert isinstance(opt, Adam) and opt.eps == 1e-8 and (opt.beta1, opt.beta2) == (0.8, 0.99)
    finally:
        algo.stop()


@pytest.mark.parametrize(
    ("spec", "cls"),
    [
        ("{type:adamw,weight_decay:0.01}", torch.optim.AdamW),
        ("{type:SGD,momentum:0.9}", torch.optim.SGD),
    ],
)
def test_torch_optimizers_by_name_train_and_round_trip(spec, cls, tmp_path):
    algo, lrn = learner(f"algo.optimizer={spec}")
    try:
        assert isinstance(lrn.optimizer, TorchOptimizer)
        assert isinstance(lrn.optimizer.optimizer, cls)
        before = {k: v.clone() for k, v in lrn.module.state_dict().items()}
        result = algo.train()
        assert result["learners"]["default_policy"]["curr_lr"] == lrn.optimizer.lr
        assert any(not torch.equal(v, before[k]) for k, v in lrn.module.state_dict().items())
        path = algo.save(tmp_path / "checkpoint_000001")
        saved = lrn.optimizer.state_dict()
        assert saved, "torch.optim's state reaches the checkpoint"
    finally:
        algo.stop()
    again = rlrun.Algorithm.from_checkpoint(path)
    try:
        restored = again.learner_group.local_learner.optimizer.state_dict()
        assert restored.keys() == saved.keys()
        for k, v in saved.items():
            torch.testing.assert_close(restored[k], v)
        again.train()
    finally:
        again.stop()


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("{type:adamz}", "algo.optimizer"),
        ("{type:sgd,nesterov_plus:1}", "rejected by torch.optim.SGD"),
        ("{eps:1e-8,momentum:0.9}", "the built-in Adam takes eps and betas"),
    ],
)
def test_bad_optimizer_settings_are_config_errors(spec, fragment):
    with pytest.raises(ConfigError, match="algo.optimizer") as info:
        algo = rlrun.build([*TINY, f"algo.optimizer={spec}"])
        algo.stop()
    assert fragment in str(info.value)
