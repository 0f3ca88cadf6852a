"""PPO's `vf_loss_clip` (RLlib's `vf_clip_param`: the squared value error is capped), against
numbers worked out by hand, and the same loss as RLlib writes it once file mode has mapped the
keys (vf_loss_coeff doubled for rlrun's 0.5 factor).

The fixed batch of tests/unit/test_ppo_loss.py: values V = [1, 2, 3], targets [1.5, 1, 5], so the
squared errors are [0.25, 1, 4].
"""

from __future__ import annotations

import pytest
import torch

from rlrun.core import columns as C
from tests.unit.test_ppo_loss import TARGETS, VALUES, loss_of, make_batch, make_learner

SQUARED = [(v - t) ** 2 for v, t in zip(VALUES, TARGETS, strict=True)]  # [0.25, 1.0, 4.0]


def test_the_squared_error_is_capped():
    # Capped at 2: [0.25, 1, 2]; rlrun's loss is 0.5 * mean.
    _, m = loss_of(make_learner(vf_loss_clip=2.0))
    assert m["vf_loss"] == pytest.approx(0.5 * (0.25 + 1.0 + 2.0) / 3, abs=1e-6)
    # Above the largest error the cap changes nothing.
    _, wide = loss_of(make_learner(vf_loss_clip=10.0))
    assert wide["vf_loss"] == pytest.approx(0.5 * sum(SQUARED) / 3, abs=1e-6)


def test_a_capped_sample_gets_no_value_gradient():
    learner = make_learner(vf_loss_clip=2.0, vf_loss_coeff=0.5)
    values = torch.tensor(VALUES, requires_grad=True)
    learner.module.forward_train = lambda batch: {
        C.ACTION_DIST_INPUTS: torch.zeros(3, 2),
        C.VF_PREDS: values,
    }
    total, _ = learner.compute_loss(make_batch())
    total.backward()
    # d/dV [0.5 * 0.5 * mean((V - T)^2)] = 0.5 * (V - T) / 3 where not capped, 0 where capped.
    expected = [0.5 * (1.0 - 1.5) / 3, 0.5 * (2.0 - 1.0) / 3, 0.0]
    assert values.grad is not None
    assert values.grad.tolist() == pytest.approx(expected, abs=1e-6)


def test_with_the_sb3_clip_the_cap_applies_after_it():
    # vf_clip_param=0.5 (the update clip) gives per-sample [1.0, 1.0, 6.25]; capped at 2.
    _, m = loss_of(make_learner(vf_clip_param=0.5, vf_loss_clip=2.0))
    assert m["vf_loss"] == pytest.approx(0.5 * (1.0 + 1.0 + 2.0) / 3, abs=1e-6)


def test_rllibs_value_term_after_file_mode_mapping():
    """RLlib's PPO: vf_loss_coeff * mean(clamp((V - T)^2, 0, vf_clip_param)). A file's
    `vf_loss_coeff: 0.01, vf_clip_param: 2.0` becomes rlrun's vf_loss_coeff=0.02 and
    vf_loss_clip=2.0, and the value term of the total loss is RLlib's."""
    from rlrun.rllib_yaml import mapping as M

    coeff = M.CONFIG["vf_loss_coeff"].transform(0.01)  # type: ignore[misc]
    clip = M.CONFIG["vf_clip_param"].transform(2.0)  # type: ignore[misc]
    assert (M.CONFIG["vf_clip_param"].key, coeff, clip) == ("algo.vf_loss_clip", 0.02, 2.0)
    with_vf, _ = loss_of(make_learner(vf_loss_coeff=coeff, vf_loss_clip=clip))
    without, _ = loss_of(make_learner(vf_loss_coeff=0.0, vf_loss_clip=clip))
    rllib_term = 0.01 * sum(min(s, 2.0) for s in SQUARED) / 3
    assert with_vf - without == pytest.approx(rllib_term, abs=1e-6)
