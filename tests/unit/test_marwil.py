"""MARWIL's and BC's loss (rlrun.algorithms.marwil.learner) against numbers worked out by hand,
and the returns the learner pipeline computes from packed recorded episodes.

The module's forward_train is replaced by fixed outputs. Four rows, the last one masked (an
autoreset row): values V = [1, 2, 3, 9], returns R = [3, 2, 1, 0], so the advantages
A = R - V = [2, 0, -2] on the rows that count, E[A^2] = 8/3 and the value loss 0.5 E[A^2] = 4/3.
With c^2 starting at 100 and the rate 0.25: c^2 = 100 + 0.25 (8/3 - 100) = 75.6667,
c = 8.698659, and the weights exp(A / c) = exp([0.229920, 0, -0.229920]). The policy is uniform
over 2 actions (logp = -log 2), so policy_loss = log 2 (1 + 2 cosh 0.229920) / 3 = 0.705415.
"""

from __future__ import annotations

import dataclasses
import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlrun.algorithms.bc.config import BCSchema
from rlrun.algorithms.marwil.config import MARWILSchema
from rlrun.algorithms.marwil.learner import MARWILLearner
from rlrun.core import columns as C
from rlrun.core.episode import Episode
from rlrun.core.rl_module import RLModuleSpec
from rlrun.offline import episodes_to_rollouts

VALUES = [1.0, 2.0, 3.0, 9.0]
RETURNS = [3.0, 2.0, 1.0, 0.0]
MASK = [True, True, True, False]


def make_learner(schema: type = MARWILSchema, logits=None, **overrides) -> MARWILLearner:
    algo_cfg = dataclasses.asdict(schema())
    algo_cfg.update(overrides)
    spec = RLModuleSpec(
        "rlrun.algorithms.ppo.module:PPOModule",
        gym.spaces.Box(-1.0, 1.0, (1,), np.float32),
        gym.spaces.Discrete(2),
        {"fcnet_hiddens": [4]},
    )
    learner = MARWILLearner(algo_cfg, {"torch_num_threads": 1}, spec)
    out_logits = torch.zeros(4, 2) if logits is None else logits

    def fixed_forward_train(batch):
        return {C.ACTION_DIST_INPUTS: out_logits, C.VF_PREDS: torch.tensor(VALUES)}

    learner.module.forward_train = fixed_forward_train
    return learner


def batch() -> dict[str, torch.Tensor]:
    return {
        C.OBS: torch.zeros(4, 1),
        C.ACTIONS: torch.tensor([0, 1, 1, 0]),
        C.VALUE_TARGETS: torch.tensor(RETURNS),
        C.MASK: torch.tensor(MASK),
    }


def test_marwil_loss_worked_example():
    learner = make_learner(
        beta=1.0,
        vf_coeff=1.0,
        moving_average_sqd_adv_norm_start=100.0,
        moving_average_sqd_adv_norm_update_rate=0.25,
    )
    total, m = learner.compute_loss(batch())
    assert float(m["moving_avg_sqd_adv_norm"]) == pytest.approx(75.666667, rel=1e-6)
    assert float(m["vf_loss"]) == pytest.approx(4 / 3, rel=1e-6)
    assert float(m["policy_loss"]) == pytest.approx(0.705415, rel=1e-5)
    assert float(total) == pytest.approx(0.705415 + 4 / 3, rel=1e-5)
    # The running c^2 moves again on the next minibatch: 75.6667 + 0.25 (8/3 - 75.6667).
    _, m = learner.compute_loss(batch())
    assert float(m["moving_avg_sqd_adv_norm"]) == pytest.approx(57.416667, rel=1e-6)


def test_marwil_weights_do_not_carry_gradients_and_the_value_loss_does():
    learner = make_learner(beta=1.0, vf_coeff=0.5)
    values = torch.tensor(VALUES, requires_grad=True)
    logits = torch.zeros(4, 2, requires_grad=True)
    learner.module.forward_train = lambda b: {C.ACTION_DIST_INPUTS: logits, C.VF_PREDS: values}
    total, _ = learner.compute_loss(batch())
    total.backward()
    # d(0.5 * 0.5 * mean(A^2)) / dV = -0.5 * A / 3 on the rows that count, 0 on the masked one.
    assert values.grad.tolist() == pytest.approx([-1 / 3, 0.0, 1 / 3, 0.0])
    assert logits.grad[3].abs().sum() == 0


def test_bc_is_the_negative_log_likelihood_of_the_recorded_actions():
    # pi = [0.25, 0.75] on every row; actions 0, 1, 1 count: -(ln .25 + 2 ln .75) / 3.
    logits = torch.log(torch.tensor([[0.25, 0.75]] * 4))
    learner = make_learner(BCSchema, logits=logits)
    total, m = learner.compute_loss(batch())
    assert float(total) == pytest.approx(0.653886, rel=1e-5)
    assert set(m) == {"total_loss", "policy_loss"}  # no value function in BC


def test_the_moving_average_is_saved_and_restored():
    learner = make_learner(moving_average_sqd_adv_norm_update_rate=0.25)
    learner.compute_loss(batch())
    state = learner.get_state()
    other = make_learner(moving_average_sqd_adv_norm_update_rate=0.25)
    other.set_state(state)
    assert float(other.moving_avg_sqd_adv_norm) == pytest.approx(75.666667, rel=1e-6)


def test_recorded_episodes_get_discounted_monte_carlo_returns():
    """lambda_=1: the value targets of packed episodes are the discounted returns; a
    terminated episode ends at 0, a truncated one bootstraps V(final observation)."""
    learner = make_learner(gamma=0.5, lambda_=1.0)
    learner.module.compute_values = lambda b: torch.full((len(b[C.OBS]),), 4.0)

    def ep(n: int, terminated: bool) -> Episode:
        obs = np.zeros((n + 1, 1), np.float32)
        return Episode(
            observations=obs,
            actions=np.zeros(n, np.int64),
            rewards=np.ones(n, np.float32),
            is_terminated=terminated,
            is_truncated=not terminated,
        )

    rollouts = episodes_to_rollouts([ep(3, True), ep(2, False)], 1)
    out = learner.learner_connector(learner.module, rollouts, torch.device("cpu"))
    b = out[C.DEFAULT_MODULE_ID]
    targets = b[C.VALUE_TARGETS][b[C.MASK]].tolist()
    # [1 + .5 + .25, 1 + .5, 1], then [1 + .5 (1 + .5 * 4), 1 + .5 * 4]
    assert targets == pytest.approx([1.75, 1.5, 1.0, 2.5, 3.0])
    assert C.ACTION_LOGP not in b  # recorded data has no behaviour policy's distribution
    assert not math.isnan(float(b[C.ADVANTAGES].sum()))


def test_builders_take_rllibs_names():
    from rlrun.algorithms.bc import BCConfig
    from rlrun.algorithms.marwil import MARWILConfig

    config = (
        MARWILConfig()
        .environment("CartPole-v1")
        .offline_data(input_="tuned_examples/data/cartpole_expert", dataset_num_iters_per_learner=3)
        .training(beta=0.5, vf_coeff=0.2, moving_average_sqd_adv_norm_update_rate=0.1, lr=1e-3)
    )
    overrides = config.to_overrides()
    assert overrides[0] == "algo=marwil"
    assert "offline_data.input_=tuned_examples/data/cartpole_expert" in overrides
    assert "offline_data.dataset_num_iters_per_learner=3" in overrides
    assert {"algo.beta=0.5", "algo.vf_coeff=0.2", "algo.lr=0.001"} <= set(overrides)
    assert BCConfig().to_overrides() == ["algo=bc"]
    with pytest.raises(Exception, match="input_read_method"):
        BCConfig().offline_data(input_read_method="read_json")


def test_an_offline_run_trains_saves_and_restores(tmp_path):
    """Two iterations from the committed data: nothing sampled, recorded steps counted; a
    checkpoint restores the weights, the moving average and the trained-steps counter."""
    import rlrun
    from rlrun.algorithms.algorithm import Algorithm

    algo = rlrun.build(
        [
            "algo=marwil",
            "offline_data.input_=tuned_examples/data/cartpole_expert",
            "offline_data.dataset_num_iters_per_learner=2",
            "algo.train_batch_size_per_learner=600",
            "algo.moving_average_sqd_adv_norm_update_rate=0.5",
            "env_runner.num_envs_per_env_runner=1",
            f"results_dir={tmp_path}",
        ]
    )
    try:
        result = algo.train()
        assert result["num_env_steps_sampled_lifetime"] == 0
        # Whole 500-step episodes: two per batch of 600, two batches.
        assert result["num_env_steps_trained"] == 2000
        assert result["learners"]["default_policy"]["num_module_steps_trained"] > 0
        path = algo.save_to_path(tmp_path / "ckpt")
        learner = algo.learner_group.local_learner
        norm = float(learner.moving_avg_sqd_adv_norm)
        assert norm != 100.0
        weights = algo.learner_group.get_weights()
    finally:
        algo.stop()
    restored = Algorithm.from_checkpoint(path)
    try:
        assert restored.num_env_steps_trained_lifetime == 2000
        assert float(restored.learner_group.local_learner.moving_avg_sqd_adv_norm) == norm
        for k, v in restored.learner_group.get_weights().items():
            assert torch.equal(v, weights[k]), k
        assert restored.train()["num_env_steps_trained_lifetime"] == 4000
    finally:
        restored.stop()
