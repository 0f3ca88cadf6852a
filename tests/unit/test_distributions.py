"""Action distributions (rlrun.core.distributions) against torch.distributions and numerics."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import distributions as D

from rlrun.core.distributions import (
    Categorical,
    DiagGaussian,
    SquashedGaussian,
    distribution_class_for,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_categorical_logp_entropy_kl_match_torch():
    logits = torch.tensor([[0.0, 1.0, -2.0], [3.0, 3.0, 3.0], [10.0, -5.0, 0.5]])
    other = torch.tensor([[1.0, 0.0, 0.0], [0.0, -1.0, 2.0], [0.5, 0.5, 0.5]])
    actions = torch.tensor([2, 0, 1])
    mine, theirs = Categorical(logits), D.Categorical(logits=logits)
    torch.testing.assert_close(mine.logp(actions), theirs.log_prob(actions))
    torch.testing.assert_close(mine.entropy(), theirs.entropy())
    torch.testing.assert_close(
        mine.kl(Categorical(other)), D.kl_divergence(theirs, D.Categorical(logits=other))
    )
    # KL of a distribution with itself is zero; logits are shift-invariant.
    torch.testing.assert_close(
        mine.kl(Categorical(logits + 7.0)), torch.zeros(3), atol=1e-6, rtol=0
    )
    # Uniform over 3: entropy log 3.
    assert float(mine.entropy()[1]) == pytest.approx(math.log(3.0), abs=1e-6)


def test_categorical_sampling_frequencies():
    probs = torch.tensor([0.1, 0.2, 0.7])
    n = 200_000
    dist = Categorical(probs.log().expand(n, 3))
    samples = dist.sample()
    assert samples.shape == (n,)
    assert samples.dtype == torch.int64
    freqs = torch.bincount(samples, minlength=3).double() / n
    # Standard error is at most sqrt(0.25 / n) ~ 0.0011; allow ~5 of them.
    torch.testing.assert_close(freqs, probs.double(), atol=0.006, rtol=0)


def test_categorical_sampling_is_seeded():
    logits = torch.zeros(1000, 4)
    torch.manual_seed(5)
    a = Categorical(logits).sample()
    torch.manual_seed(5)
    b = Categorical(logits).sample()
    assert torch.equal(a, b)


def test_categorical_to_deterministic_is_argmax():
    logits = torch.tensor([[0.0, 1.0, -2.0], [3.0, 2.0, 1.0], [-1.0, -1.0, 5.0]])
    det = Categorical(logits).to_deterministic()
    assert det.sample().tolist() == [1, 0, 2]
    assert det.sample().tolist() == [1, 0, 2]  # always the same
    assert det.entropy().tolist() == [0.0, 0.0, 0.0]


def diag_ref(inputs: torch.Tensor) -> D.Distribution:
    mean, log_std = inputs.chunk(2, dim=-1)
    return D.Independent(D.Normal(mean, log_std.exp()), 1)


def test_diag_gaussian_logp_entropy_kl_match_torch():
    # [B=3, d=2]: inputs are [mean, log_std].
    inputs = torch.tensor(
        [[0.0, 1.0, 0.0, 0.0], [-2.0, 0.5, -1.0, 0.7], [3.0, -3.0, 0.3, -0.4]], dtype=torch.float64
    )
    other = torch.tensor(
        [[1.0, 1.0, 0.5, -0.5], [0.0, 0.0, 0.0, 0.0], [2.0, -2.5, 1.0, 0.1]], dtype=torch.float64
    )
    actions = torch.tensor([[0.3, -0.2], [-1.5, 2.0], [10.0, 0.0]], dtype=torch.float64)
    mine = DiagGaussian(inputs)
    torch.testing.assert_close(mine.logp(actions), diag_ref(inputs).log_prob(actions))
    torch.testing.assert_close(mine.entropy(), diag_ref(inputs).entropy())
    torch.testing.assert_close(
        mine.kl(DiagGaussian(other)), D.kl_divergence(diag_ref(inputs), diag_ref(other))
    )
    torch.testing.assert_close(mine.kl(DiagGaussian(inputs)), torch.zeros(3, dtype=torch.float64))


def test_diag_gaussian_sampling_moments_and_deterministic_mean():
    n = 100_000
    inputs = torch.tensor([[1.0, -2.0, math.log(0.5), math.log(2.0)]]).expand(n, 4)
    dist = DiagGaussian(inputs)
    x = dist.sample()
    assert x.shape == (n, 2)
    torch.testing.assert_close(x.mean(0), torch.tensor([1.0, -2.0]), atol=0.03, rtol=0)
    torch.testing.assert_close(x.std(0), torch.tensor([0.5, 2.0]), atol=0.03, rtol=0)
    det = dist.to_deterministic().sample()
    assert torch.equal(det, inputs[:, :2])
    assert DiagGaussian.required_input_dim(gym.spaces.Box(-1, 1, (3,))) == 6
    assert Categorical.required_input_dim(gym.spaces.Discrete(5)) == 5


def squashed_ref(inputs: torch.Tensor) -> D.Distribution:
    mean, log_std = inputs.chunk(2, dim=-1)
    base = D.Normal(mean, log_std.exp())
    return D.Independent(D.TransformedDistribution(base, [D.TanhTransform()]), 1)


SQ_INPUTS = torch.tensor(
    [[0.0, 0.5, 0.0, -0.5], [1.0, -0.5, -1.0, 0.3], [-0.3, 0.2, 0.4, -1.2]], dtype=torch.float64
)


def test_squashed_gaussian_logp_matches_transformed_distribution():
    actions = torch.tensor([[0.1, -0.5], [0.9, 0.0], [-0.95, 0.3]], dtype=torch.float64)
    mine = SquashedGaussian(SQ_INPUTS).logp(actions)
    ref = squashed_ref(SQ_INPUTS).log_prob(actions)
    torch.testing.assert_close(mine, ref, atol=1e-6, rtol=1e-6)


def test_squashed_gaussian_density_integrates_to_one():
    # 1-D change of variables on a fine grid over (-1, 1): p(a) = N(atanh a) / (1 - a^2).
    inputs = torch.tensor([[0.4, math.log(0.8)]], dtype=torch.float64)
    grid = np.linspace(-1 + 1e-6, 1 - 1e-6, 200_001)
    a = torch.from_numpy(grid)[:, None]
    logp = SquashedGaussian(inputs.expand(len(grid), 2)).logp(a).numpy()
    u = np.arctanh(grid)
    numpy_ref = (
        -0.5 * ((u - 0.4) / 0.8) ** 2 - math.log(0.8) - 0.5 * math.log(2 * math.pi)
        - np.log(1 - grid**2)
    )  # fmt: skip
    interior = np.abs(grid) < 0.999
    np.testing.assert_allclose(logp[interior], numpy_ref[interior], rtol=1e-6, atol=1e-6)
    assert np.trapezoid(np.exp(logp), grid) == pytest.approx(1.0, abs=1e-3)


def test_squashed_gaussian_sample_with_logp():
    n = 5000
    inputs = SQ_INPUTS.repeat(n, 1)
    actions, logp = SquashedGaussian(inputs).sample_with_logp()
    assert actions.shape == (3 * n, 2) and logp.shape == (3 * n,)
    assert bool((actions.abs() < 1).all())
    # Compare only where atanh is well conditioned for the reference.
    ok = (actions.abs() < 0.999).all(-1)
    assert ok.float().mean() > 0.95
    ref = squashed_ref(inputs[ok]).log_prob(actions[ok])
    torch.testing.assert_close(logp[ok], ref, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(
        logp[ok], SquashedGaussian(inputs[ok]).logp(actions[ok]), atol=1e-4, rtol=1e-4
    )


def test_squashed_gaussian_sample_with_logp_is_stable_for_large_pre_tanh_values():
    inputs = torch.tensor([[30.0, -30.0, -5.0, -5.0]])
    actions, logp = SquashedGaussian(inputs).sample_with_logp()
    assert torch.isfinite(logp).all()
    assert actions.abs().max() <= 1.0


def test_squashed_gaussian_sample_with_logp_is_reparameterized():
    inputs = SQ_INPUTS.clone().requires_grad_(True)
    actions, logp = SquashedGaussian(inputs).sample_with_logp()
    (actions.sum() + logp.sum()).backward()
    assert inputs.grad is not None and bool((inputs.grad != 0).any())


def test_squashed_gaussian_to_deterministic_is_tanh_of_mean():
    det = SquashedGaussian(SQ_INPUTS).to_deterministic().sample()
    torch.testing.assert_close(det, torch.tanh(SQ_INPUTS[:, :2]))


def test_distribution_class_for_spaces():
    assert distribution_class_for(gym.spaces.Discrete(3)) is Categorical
    assert distribution_class_for(gym.spaces.Box(-1, 1, (2,))) is DiagGaussian
    with pytest.raises(NotImplementedError):
        distribution_class_for(gym.spaces.MultiBinary(3))
