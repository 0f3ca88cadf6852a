"""IMPALA's and APPO's losses (rlrun.algorithms.impala.learner, rlrun.algorithms.appo.learner)
against numbers worked out by hand, and APPO's target network.

One time line of 3 rows (2 real, then the masked bootstrap row), gamma=0.9, rewards [1, 1, 0],
no episode end. The module's forward is fixed: a uniform policy over 2 actions (logp = log 0.5,
entropy = log 2) and values V = [1, 2, 3] (V2 values the bootstrap row). Behaviour log-probs
make pi/mu = [1, 0.5], so rho = c = [1, 0.5]:
  d0 = 1*(1 + 0.9*2 - 1) = 1.8        d1 = 0.5*(1 + 0.9*3 - 2) = 0.85
  v1 = 2 + 0.85 = 2.85                v0 = 1 + 1.8 + 0.9*1*0.85 = 3.565
  A0 = 1*(1 + 0.9*2.85 - 1) = 2.565   A1 = 0.5*(1 + 0.9*3 - 2) = 0.85
  vf_loss = 0.5 * mean((1 - 3.565)^2, (2 - 2.85)^2) = 0.5 * (6.579225 + 0.7225) / 2 = 1.82543125
"""

from __future__ import annotations

import dataclasses
import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlrun.algorithms.appo.config import APPOSchema
from rlrun.algorithms.appo.learner import APPOLearner
from rlrun.algorithms.impala.config import IMPALASchema
from rlrun.algorithms.impala.learner import IMPALALearner
from rlrun.core import columns as C
from rlrun.core.rl_module import RLModuleSpec

VALUES = [1.0, 2.0, 3.0]
A = [2.565, 0.85]
VS = [3.565, 2.85]
VF_LOSS = 1.82543125
LOG2 = math.log(2.0)


def make_learner(cls, schema, target_probs=None, **overrides):
    cfg = dataclasses.asdict(schema())
    cfg.update({"gamma": 0.9, "entropy_coeff": 0.01, "vf_loss_coeff": 0.5}, **overrides)
    spec = RLModuleSpec(
        "rlrun.algorithms.ppo.module:PPOModule",
        gym.spaces.Box(-1.0, 1.0, (1,), np.float32),
        gym.spaces.Discrete(2),
        {"fcnet_hiddens": [4]},
    )
    learner = cls(cfg, {"torch_num_threads": 1}, spec)

    def fixed(logits):
        def forward_train(batch):
            n = batch[C.OBS].shape[0]  # feed-forward lines arrive as B*L rows
            return {
                C.ACTION_DIST_INPUTS: torch.log(torch.tensor([logits] * n)),
                C.VF_PREDS: torch.tensor(VALUES * (n // 3), requires_grad=True),
            }

        return forward_train

    learner.module.forward_train = fixed([0.5, 0.5])
    if target_probs is not None:
        learner.target_module.forward_train = fixed(target_probs)
    return learner


def make_batch(behaviour_probs):
    return {
        C.OBS: torch.zeros(1, 3, 1),
        C.ACTIONS: torch.tensor([[0, 1, 0]]),
        C.REWARDS: torch.tensor([[1.0, 1.0, 0.0]]),
        C.TERMINATEDS: torch.zeros(1, 3, dtype=torch.bool),
        C.TRUNCATEDS: torch.zeros(1, 3, dtype=torch.bool),
        C.MASK: torch.tensor([[True, True, False]]),
        C.ACTION_LOGP: torch.log(torch.tensor([behaviour_probs])),
        C.STATE_IN: {},
    }


def test_impala_loss_by_hand():
    learner = make_learner(IMPALALearner, IMPALASchema)
    total, m = learner.compute_loss(make_batch([0.5, 1.0, 0.5]))
    policy_loss = -(math.log(0.5) * A[0] + math.log(0.5) * A[1]) / 2  # 1.183528...
    assert m["policy_loss"].item() == pytest.approx(policy_loss, rel=1e-6)
    assert m["vf_loss"].item() == pytest.approx(VF_LOSS, rel=1e-6)
    assert m["entropy"].item() == pytest.approx(LOG2, rel=1e-6)
    assert m["mean_vtrace_target"].item() == pytest.approx(sum(VS) / 2, rel=1e-6)
    assert total.item() == pytest.approx(policy_loss + 0.5 * VF_LOSS - 0.01 * LOG2, rel=1e-6)


def test_impala_rho_clipping_changes_the_advantage():
    # pi/mu = [1, 2]: with rho-bar 1 the second row's weight is clipped to 1 (c too), with
    # pg-rho-bar 2 its policy-gradient weight is 2: A1 = 2*(1 + 0.9*3 - 2) = 3.4, while
    # d1 = 1*1.7 gives v1 = 3.7 and A0 = 1 + 0.9*3.7 - 1 = 3.33.
    learner = make_learner(IMPALALearner, IMPALASchema, vtrace_clip_pg_rho_threshold=2.0)
    _, m = learner.compute_loss(make_batch([0.5, 0.25, 0.5]))
    assert m["policy_loss"].item() == pytest.approx(-math.log(0.5) * (3.33 + 3.4) / 2, rel=1e-6)


def test_appo_loss_by_hand():
    # Target network: pi_target = [0.8, 0.2]; actions [0, 1] -> pi_target(a) = [0.8, 0.2].
    # V-trace takes the target network as pi: behaviour mu(a) = [0.8, 0.4] gives pi/mu = [1, 0.5],
    # so the advantages are A above. Ratios pi/pi_target = [0.625, 2.5]; clip 0.4:
    #   row 0: min(0.625*2.565, 0.625*2.565) = 1.603125
    #   row 1: min(2.5*0.85, 1.4*0.85) = 1.19
    learner = make_learner(APPOLearner, APPOSchema, target_probs=[0.8, 0.2], clip_param=0.4)
    total, m = learner.compute_loss(make_batch([0.8, 0.4, 0.5]))
    assert m["policy_loss"].item() == pytest.approx(-(1.603125 + 1.19) / 2, rel=1e-6)
    assert m["vf_loss"].item() == pytest.approx(VF_LOSS, rel=1e-6)
    assert m["clip_fraction"].item() == pytest.approx(0.5)
    kl = 0.8 * math.log(0.8 / 0.5) + 0.2 * math.log(0.2 / 0.5)
    assert m["mean_kl_loss"].item() == pytest.approx(kl, rel=1e-6)
    expected = -(1.603125 + 1.19) / 2 + 0.5 * VF_LOSS - 0.01 * LOG2
    assert total.item() == pytest.approx(expected, rel=1e-6)
    learner.config.use_kl_loss = True
    total_kl, _ = learner.compute_loss(make_batch([0.8, 0.4, 0.5]))
    assert total_kl.item() == pytest.approx(expected + 1.0 * kl, rel=1e-6)


def test_appo_target_network_moves_every_freq_updates_by_tau():
    learner = make_learner(APPOLearner, APPOSchema, target_network_update_freq=2, tau=0.5)
    del learner.module.forward_train  # the real networks from here on
    target0 = {k: v.clone() for k, v in learner.target_module.state_dict().items()}
    with torch.no_grad():
        for p in learner.module.parameters():
            p.add_(1.0)
    learner.after_update({"mean_kl_loss": 0.0})
    for k, v in learner.target_module.state_dict().items():
        torch.testing.assert_close(v, target0[k])  # one update: not due yet
    learner.after_update({"mean_kl_loss": 0.0})
    current = learner.module.state_dict()
    for k, v in learner.target_module.state_dict().items():
        torch.testing.assert_close(v, 0.5 * target0[k] + 0.5 * current[k])
    assert learner.num_target_updates == 1
