"""PPO's loss (rlrun.algorithms.ppo.learner) and the Learner's gradient clipping, against numbers
worked out by hand.

The module's `forward_train` is replaced by a function returning fixed outputs, so every term of
the loss is known exactly. The batch has 3 samples, 2 actions; the new policy is uniform
(logits [0, 0]: logp(a) = log 0.5, entropy = log 2) and the sampling-time log-probs are chosen so
that the probability ratios are r = [1.1, 1.5, 0.5]:
  sample 0: r=1.1 inside [0.8, 1.2]                   A= 2 -> min(2.2, 2.2)  =  2.2
  sample 1: r=1.5 above 1+eps, positive A (clipped)   A= 1 -> min(1.5, 1.2)  =  1.2
  sample 2: r=0.5 below 1-eps, negative A (clipped)   A=-1 -> min(-0.5, -0.8) = -0.8
  policy_loss = -(2.2 + 1.2 - 0.8) / 3 = -0.8666...
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlrun.algorithms.ppo.config import PPOSchema
from rlrun.algorithms.ppo.learner import PPOLearner
from rlrun.core import columns as C
from rlrun.core.learner import Learner
from rlrun.core.rl_module import RLModuleSpec

RATIOS = [1.1, 1.5, 0.5]
ADVANTAGES = [2.0, 1.0, -1.0]
VALUES = [1.0, 2.0, 3.0]  # the module's (new) value predictions
TARGETS = [1.5, 1.0, 5.0]
OLD_VALUES = [0.0, 2.5, 2.0]
OLD_PROBS = [0.8, 0.2]  # sampling-time policy, for the KL term


def make_learner(**overrides) -> PPOLearner:
    algo_cfg = dataclasses.asdict(PPOSchema())
    algo_cfg.update(
        {"normalize_advantages": False, "entropy_coeff": 0.0, "vf_loss_coeff": 0.5}, **overrides
    )
    spec = RLModuleSpec(
        "rlrun.algorithms.ppo.module:PPOModule",
        gym.spaces.Box(-1.0, 1.0, (1,), np.float32),
        gym.spaces.Discrete(2),
        {"fcnet_hiddens": [4]},
    )
    learner = PPOLearner(algo_cfg, {"torch_num_threads": 1}, spec)

    def fixed_forward_train(batch):
        return {
            C.ACTION_DIST_INPUTS: torch.zeros(3, 2),  # uniform policy
            C.VF_PREDS: torch.tensor(VALUES),
        }

    learner.module.forward_train = fixed_forward_train
    return learner


def make_batch(advantages=ADVANTAGES, ratios=RATIOS) -> dict[str, torch.Tensor]:
    old_logits = torch.log(torch.tensor([OLD_PROBS] * 3))
    return {
        C.OBS: torch.zeros(3, 1),
        C.ACTIONS: torch.tensor([0, 1, 0]),
        C.ACTION_DIST_INPUTS: old_logits,
        # r = pi/pi_old = 0.5 / pi_old  =>  log pi_old = log 0.5 - log r
        C.ACTION_LOGP: torch.tensor([math.log(0.5) - math.log(r) for r in ratios]),
        C.ADVANTAGES: torch.tensor(advantages),
        C.VALUE_TARGETS: torch.tensor(TARGETS),
        C.VF_PREDS: torch.tensor(OLD_VALUES),
    }


# KL(pi_old || pi) with pi_old = [0.8, 0.2], pi = [0.5, 0.5]
KL = 0.8 * math.log(0.8 / 0.5) + 0.2 * math.log(0.2 / 0.5)  # = 0.192745...
# Unclipped value loss: 0.5 * mean([0.25, 1, 4]) = 0.875
VF_LOSS = 0.875


def loss_of(learner: PPOLearner, **batch_kw) -> tuple[float, dict[str, float]]:
    total, metrics = learner.compute_loss(make_batch(**batch_kw))
    assert total.ndim == 0
    return float(total), {k: float(v) for k, v in metrics.items()}


def test_clipped_surrogate_hand_values():
    total, m = loss_of(make_learner())
    assert m["policy_loss"] == pytest.approx(-(2.2 + 1.2 - 0.8) / 3, abs=1e-6)
    assert m["vf_loss"] == pytest.approx(VF_LOSS, abs=1e-6)
    assert m["entropy"] == pytest.approx(math.log(2.0), abs=1e-6)
    assert m["mean_kl_loss"] == pytest.approx(KL, abs=1e-6)
    # Two of three ratios lie outside [0.8, 1.2].
    assert m["clip_fraction"] == pytest.approx(2 / 3, abs=1e-6)
    # total = policy + 0.5 * vf, no entropy bonus, no KL term by default.
    assert total == pytest.approx(-2.6 / 3 + 0.5 * VF_LOSS, abs=1e-6)
    assert m["total_loss"] == pytest.approx(total, abs=1e-7)


def test_clipping_only_when_it_makes_the_objective_smaller():
    # r=1.5 with a negative advantage and r=0.5 with a positive one are NOT clipped:
    # min(1.5*-1, 1.2*-1) = -1.5 and min(0.5*2, 0.8*2) = 1.0; r=1.1, A=3 -> 3.3.
    _, m = loss_of(make_learner(), advantages=[3.0, -1.0, 2.0], ratios=[1.1, 1.5, 0.5])
    assert m["policy_loss"] == pytest.approx(-(3.3 - 1.5 + 1.0) / 3, abs=1e-6)


def test_clip_param_is_used():
    # eps=0.6: all three ratios lie inside [0.4, 1.6], nothing is clipped.
    _, m = loss_of(make_learner(clip_param=0.6))
    assert m["policy_loss"] == pytest.approx(-(2.2 + 1.5 - 0.5) / 3, abs=1e-6)
    assert m["clip_fraction"] == 0.0


def test_value_loss_clipping():
    _, m = loss_of(make_learner(vf_clip_param=0.5))
    # V_clipped = V_old + clamp(V - V_old, -0.5, 0.5) = [0.5, 2.0, 2.5]
    # per-sample max((V - T)^2, (V_clipped - T)^2) = max(0.25, 1.0), max(1, 1), max(4, 6.25)
    # vf_loss = 0.5 * (1.0 + 1.0 + 6.25) / 3 = 1.375
    assert m["vf_loss"] == pytest.approx(1.375, abs=1e-6)
    # A huge clip range is the same as no clipping.
    _, m_wide = loss_of(make_learner(vf_clip_param=100.0))
    assert m_wide["vf_loss"] == pytest.approx(VF_LOSS, abs=1e-6)


def test_vf_loss_coeff_scales_value_term():
    t1, _ = loss_of(make_learner(vf_loss_coeff=1.0))
    t0, _ = loss_of(make_learner(vf_loss_coeff=0.0))
    assert t1 - t0 == pytest.approx(VF_LOSS, abs=1e-6)


def test_entropy_bonus_lowers_the_loss():
    t0, _ = loss_of(make_learner(entropy_coeff=0.0))
    t1, m = loss_of(make_learner(entropy_coeff=0.1))
    # total = ... - entropy_coeff * entropy: more entropy is rewarded.
    assert t1 - t0 == pytest.approx(-0.1 * math.log(2.0), abs=1e-6)
    assert m["entropy"] > 0


def test_entropy_coeff_schedule_follows_env_steps():
    learner = make_learner(entropy_coeff=[[0, 0.2], [1000, 0.0]])
    t_base, _ = loss_of(make_learner(entropy_coeff=0.0))
    learner.env_steps_lifetime = 500  # halfway: coeff 0.1
    t_half, _ = loss_of(learner)
    assert t_half - t_base == pytest.approx(-0.1 * math.log(2.0), abs=1e-6)
    assert learner.after_update({"mean_kl_loss": 0.0})["curr_entropy_coeff"] == pytest.approx(0.1)


def test_kl_penalty_only_with_use_kl_loss():
    t_off, m_off = loss_of(make_learner(use_kl_loss=False, kl_coeff=0.3))
    t_on, m_on = loss_of(make_learner(use_kl_loss=True, kl_coeff=0.3))
    assert m_off["mean_kl_loss"] == pytest.approx(KL, abs=1e-6)  # reported either way
    assert t_on - t_off == pytest.approx(0.3 * KL, abs=1e-6)
    assert t_off == pytest.approx(-2.6 / 3 + 0.5 * VF_LOSS, abs=1e-6)


@pytest.mark.parametrize(
    "kl, expected",
    [
        (0.03, 0.3 * 1.5),  # above 2 * target (0.02): x1.5
        (0.021, 0.3 * 1.5),
        (0.004, 0.3 * 0.5),  # below 0.5 * target (0.005): x0.5
        (0.01, 0.3),  # in between: unchanged
        (0.02, 0.3),  # the bounds themselves: unchanged
        (0.005, 0.3),
    ],
)
def test_adaptive_kl_coeff(kl: float, expected: float):
    learner = make_learner(use_kl_loss=True, kl_coeff=0.3, kl_target=0.01)
    out = learner.after_update({"mean_kl_loss": kl})
    assert learner.kl_coeff == pytest.approx(expected)
    assert out["curr_kl_coeff"] == pytest.approx(expected)
    # The adapted coefficient is what the next loss uses.
    t_on, _ = loss_of(learner)
    t_off, _ = loss_of(make_learner(use_kl_loss=False))
    assert t_on - t_off == pytest.approx(expected * KL, abs=1e-6)


def test_kl_coeff_not_adapted_without_use_kl_loss():
    learner = make_learner(use_kl_loss=False, kl_coeff=0.3, kl_target=0.01)
    learner.after_update({"mean_kl_loss": 1.0})
    assert learner.kl_coeff == 0.3


def test_kl_coeff_is_part_of_learner_state():
    learner = make_learner(use_kl_loss=True, kl_coeff=0.3)
    learner.after_update({"mean_kl_loss": 1.0})
    state = learner.get_state()
    other = make_learner(use_kl_loss=True, kl_coeff=0.3)
    other.set_state(state)
    assert other.kl_coeff == pytest.approx(0.45)


def test_advantage_normalization():
    # A = [2, 1, -1]: mean 2/3, sample std sqrt(((4/3)^2 + (1/3)^2 + (5/3)^2) / 2) = sqrt(7/3)
    std = math.sqrt(7.0 / 3.0)
    a_norm = [(2 - 2 / 3) / std, (1 - 2 / 3) / std, (-1 - 2 / 3) / std]
    np.testing.assert_allclose(a_norm, [0.872872, 0.218218, -1.091089], atol=1e-6)
    surrogate = [
        min(1.1 * a_norm[0], 1.1 * a_norm[0]),  # inside the clip range
        min(1.5 * a_norm[1], 1.2 * a_norm[1]),  # positive A, clipped at 1.2
        min(0.5 * a_norm[2], 0.8 * a_norm[2]),  # negative A, clipped at 0.8
    ]
    _, m_on = loss_of(make_learner(normalize_advantages=True))
    assert m_on["policy_loss"] == pytest.approx(-sum(surrogate) / 3, abs=1e-5)
    assert m_on["policy_loss"] == pytest.approx(-0.116383, abs=1e-5)
    _, m_off = loss_of(make_learner(normalize_advantages=False))
    assert m_off["policy_loss"] == pytest.approx(-2.6 / 3, abs=1e-6)


def test_loss_gradient_reaches_the_module():
    """With the real forward_train, the loss back-propagates into every module parameter."""
    learner = make_learner(entropy_coeff=0.01)
    del learner.module.forward_train  # back to the class's method
    batch = make_batch()
    batch[C.OBS] = torch.tensor([[0.1], [-0.4], [0.7]])
    total, _ = learner.compute_loss(batch)
    total.backward()
    grads = [p.grad for p in learner.module.parameters()]
    assert all(g is not None for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


# --- gradient clipping (rlrun/core/learner.py) --------------------------------------------


def learner_with_grads(clip, by: str):
    """A stand-in `self` for Learner.clip_gradients: two parameters with hand-set gradients,
    p1.grad = [3, 4] (norm 5) and p2.grad = [12] (norm 12); global norm sqrt(25 + 144) = 13."""
    module = torch.nn.Module()
    module.p1 = torch.nn.Parameter(torch.zeros(2))
    module.p2 = torch.nn.Parameter(torch.zeros(1))
    module.p3 = torch.nn.Parameter(torch.zeros(1))  # no grad: ignored
    module.p1.grad = torch.tensor([3.0, 4.0])
    module.p2.grad = torch.tensor([12.0])
    return SimpleNamespace(module=module, config=PPOSchema(grad_clip=clip, grad_clip_by=by))


@pytest.mark.parametrize(
    "clip, by, g1, g2",
    [
        (None, "global_norm", [3.0, 4.0], [12.0]),  # off: only measures
        (100.0, "global_norm", [3.0, 4.0], [12.0]),  # below the threshold: unchanged
        (6.5, "global_norm", [1.5, 2.0], [6.0]),  # scaled by 6.5 / 13 = 0.5 together
        (6.0, "norm", [3.0, 4.0], [6.0]),  # each tensor on its own: only p2 (12 > 6) shrinks
        (2.5, "norm", [1.5, 2.0], [2.5]),
        (3.5, "value", [3.0, 3.5], [3.5]),  # each element clamped to [-3.5, 3.5]
    ],
)
def test_clip_gradients(clip, by, g1, g2):
    fake = learner_with_grads(clip, by)
    norm = Learner.clip_gradients(fake)
    assert float(norm) == pytest.approx(13.0, rel=1e-6)  # the pre-clip global norm
    np.testing.assert_allclose(fake.module.p1.grad.numpy(), g1, rtol=1e-5)
    np.testing.assert_allclose(fake.module.p2.grad.numpy(), g2, rtol=1e-5)
    assert fake.module.p3.grad is None


def test_clip_by_value_with_negative_gradients():
    fake = learner_with_grads(1.0, "value")
    fake.module.p1.grad = torch.tensor([-3.0, 0.5])
    Learner.clip_gradients(fake)
    np.testing.assert_allclose(fake.module.p1.grad.numpy(), [-1.0, 0.5])
    np.testing.assert_allclose(fake.module.p2.grad.numpy(), [1.0])


def test_update_from_batch_reports_metrics_and_steps_the_optimizer():
    learner = make_learner(grad_clip=0.5, grad_clip_by="global_norm", lr=1e-2)
    del learner.module.forward_train
    batch = make_batch()
    batch[C.OBS] = torch.tensor([[0.1], [-0.4], [0.7]])
    before = {k: v.clone() for k, v in learner.module.state_dict().items()}
    metrics = learner.update_from_batch(batch, num_epochs=2, minibatch_size=3)
    after = learner.module.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert learner.num_updates_lifetime == 2
    assert metrics["num_module_steps_trained"] == 6.0
    assert metrics["curr_lr"] == pytest.approx(1e-2)
    for key in ("policy_loss", "vf_loss", "entropy", "total_loss", "gradients_global_norm"):
        assert math.isfinite(metrics[key]), key
