"""V-trace (rlrun.algorithms.impala.vtrace) against targets worked out by hand, and against GAE
with lambda=1 when the behaviour policy is the target policy.

The hand examples use gamma=0.9, T=3 rows, one column: rewards r = [1, 2, 3], values
V = [0.5, 1.0, 1.5], bootstrap value 2.0, and pi/mu = [2.0, 0.5, 1.0]. The TD errors before
weighting are
    d0 = 1 + 0.9*1.0 - 0.5 = 1.4
    d1 = 2 + 0.9*1.5 - 1.0 = 2.35
    d2 = 3 + 0.9*2.0 - 1.5 = 3.3
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rlrun.algorithms.impala.vtrace import vtrace
from rlrun.connectors.learner.gae import compute_gae

GAMMA = 0.9
R = [1.0, 2.0, 3.0]
V = [0.5, 1.0, 1.5]
BOOT = 2.0
RATIOS = [2.0, 0.5, 1.0]


def col(xs, dtype=np.float64) -> np.ndarray:
    return np.asarray(xs, dtype).reshape(-1, 1)


def flags(*idx: int, T: int = 3) -> np.ndarray:
    out = np.zeros((T, 1), bool)
    out[list(idx), 0] = True
    return out


def run(term=(), trunc=(), mask=None, rho_bar=1.0, pg_rho_bar=1.0):
    behaviour = col([0.0, 0.0, 0.0])
    target = col([math.log(r) for r in RATIOS])
    return vtrace(
        behaviour,
        target,
        col(R),
        col(V),
        np.asarray([BOOT]),
        flags(*term),
        flags(*trunc),
        GAMMA,
        rho_bar,
        pg_rho_bar,
        mask=None if mask is None else col(mask, bool),
    )


def test_no_episode_end():
    vs, adv = run()
    # rho = c = min(1, pi/mu) = [1, 0.5, 1]: weighted TD errors [1.4, 1.175, 3.3].
    # v2 - V2 = 3.3; v1 - V1 = 1.175 + 0.9*0.5*3.3 = 2.66; v0 - V0 = 1.4 + 0.9*1*2.66 = 3.794
    np.testing.assert_allclose(vs[:, 0], [4.294, 3.66, 4.8], rtol=1e-6)
    # A0 = 1*(1 + 0.9*3.66 - 0.5) = 3.794; A1 = 0.5*(2 + 0.9*4.8 - 1) = 2.66;
    # A2 = 1*(3 + 0.9*2.0 - 1.5) = 3.3
    np.testing.assert_allclose(adv[:, 0], [3.794, 2.66, 3.3], rtol=1e-6)


def test_rho_bar_and_pg_rho_bar_clip_separately():
    vs, adv = run(rho_bar=1.5, pg_rho_bar=1.0)
    # rho0 = min(1.5, 2) = 1.5 weighs d0 (2.1); c0 stays min(1, 2) = 1.
    # v1 - V1 = 2.66 (as above); v0 - V0 = 2.1 + 0.9*2.66 = 4.494
    np.testing.assert_allclose(vs[:, 0], [4.994, 3.66, 4.8], rtol=1e-6)
    # The policy gradient's weight is clipped at 1: A0 = 1*(1 + 0.9*3.66 - 0.5) = 3.794.
    np.testing.assert_allclose(adv[:, 0], [3.794, 2.66, 3.3], rtol=1e-6)


def test_truncation_bootstraps_from_the_final_observation():
    # Row 1 ends its episode by truncation; row 2 is the NEXT_STEP autoreset row (mask False)
    # whose observation is the final one, valued V2 = 1.5. rho_bar = 1.5: rho = [1.5, 0.5, 1].
    vs, adv = run(trunc=(1,), mask=[True, True, False], rho_bar=1.5)
    # d1 = 0.5*(2 + 0.9*1.5 - 1.0) = 1.175, nothing after it (done): v1 = 1.0 + 1.175
    # the autoreset row takes no part: v2 = V2 = 1.5
    # d0 = 1.5*1.4 = 2.1; v0 - V0 = 2.1 + 0.9*1*1.175 = 3.1575
    np.testing.assert_allclose(vs[:, 0], [3.6575, 2.175, 1.5], rtol=1e-6)
    # A0 = 1*(1 + 0.9*2.175 - 0.5) = 2.4575; A1 = 0.5*(2 + 0.9*1.5 - 1.0) = 1.175
    np.testing.assert_allclose(adv[:2, 0], [2.4575, 1.175], rtol=1e-6)


def test_termination_bootstraps_from_zero():
    vs, adv = run(term=(1,), mask=[True, True, False], rho_bar=1.5)
    # d1 = 0.5*(2 + 0 - 1.0) = 0.5: v1 = 1.5; v0 - V0 = 2.1 + 0.9*0.5 = 2.55
    np.testing.assert_allclose(vs[:2, 0], [3.05, 1.5], rtol=1e-6)
    # A0 = 1 + 0.9*1.5 - 0.5 = 1.85; A1 = 0.5*(2 + 0 - 1.0) = 0.5
    np.testing.assert_allclose(adv[:2, 0], [1.85, 0.5], rtol=1e-6)


def _random_fragment(rng: np.random.Generator, T: int, N: int):
    """Episodes ending at random rows, each end followed by its masked autoreset row."""
    term = rng.random((T, N)) < 0.08
    trunc = ~term & (rng.random((T, N)) < 0.05)
    mask = np.ones((T, N), bool)
    mask[1:] = ~(term | trunc)[:-1]
    term &= mask  # an autoreset row ends nothing
    trunc &= mask
    return term, trunc, mask


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_on_policy_vtrace_is_gae_with_lambda_one(seed: int):
    rng = np.random.default_rng(seed)
    T, N = 40, 5
    term, trunc, mask = _random_fragment(rng, T, N)
    rewards = rng.normal(size=(T, N))
    values = rng.normal(size=(T, N))
    boot = rng.normal(size=N)
    logp = rng.normal(size=(T, N))  # identical behaviour and target: rho = c = 1
    vs, adv = vtrace(logp, logp, rewards, values, boot, term, trunc, 0.97, mask=mask)
    gae_adv, gae_targets = compute_gae(rewards, values, boot, term, trunc, 0.97, 1.0)
    np.testing.assert_allclose(vs[mask], gae_targets[mask], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(adv[mask], gae_adv[mask], rtol=1e-10, atol=1e-10)
    assert term.any() and trunc.any() and not mask.all()
