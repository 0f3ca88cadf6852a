"""CQL (rlrun.algorithms.cql): the CQL(H) penalty against numbers worked out by hand (critics
replaced by a fixed function, sampled actions fixed), the penalty added to SAC's critic loss and
reaching the critics only, the proposal actions and their densities, and the behaviour-cloning
warm start switching to SAC's actor loss after bc_iters updates."""

from __future__ import annotations

import dataclasses
import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlrun.algorithms.cql.config import CQLSchema
from rlrun.algorithms.cql.learner import CQLLearner, cql_penalty
from rlrun.algorithms.sac.config import SACSchema
from rlrun.algorithms.sac.learner import SACLearner
from rlrun.core.distributions import SquashedGaussian
from rlrun.core.rl_module import RLModuleSpec
from rlrun.errors import ConfigError

OBS_SPACE = gym.spaces.Box(-8.0, 8.0, (3,), np.float32)  # Pendulum's
BOX_ACTIONS = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)
LOG_HALF = math.log(0.5)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _spec(action_space, initial_alpha: float = 1.0) -> RLModuleSpec:
    model = {"fcnet_hiddens": [16, 16], "fcnet_activation": "relu",
             "initial_alpha": initial_alpha, "twin_q": True}  # fmt: skip
    return RLModuleSpec("rlrun.algorithms.sac.module:SACModule", OBS_SPACE, action_space, model)


def make_learner(action_space=BOX_ACTIONS, initial_alpha=1.0, **overrides) -> CQLLearner:
    algo_cfg = {**dataclasses.asdict(CQLSchema()), **overrides}
    return CQLLearner(algo_cfg, {"torch_num_threads": 1}, _spec(action_space, initial_alpha))


def batch(n=32, seed=0, actions=None) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(seed)
    if actions is None:  # stored in the squashed (-1, 1) units
        actions = rng.uniform(-1, 1, (n, 1)).astype(np.float32)
    b = {
        "obs": rng.normal(size=(n, 3)).astype(np.float32),
        "actions": np.asarray(actions, np.float32),
        "rewards": rng.normal(size=n).astype(np.float32),
        "next_obs": rng.normal(size=(n, 3)).astype(np.float32),
        "terminateds": rng.random(n) < 0.1,
        "discounts": np.full(n, 0.99, np.float32),
        "weights": np.ones(n, np.float32),
    }
    return {k: torch.from_numpy(v) for k, v in b.items()}


# --- the penalty, by hand ------------------------------------------------------------------------


def test_penalty_by_hand():
    """One critic, two states, two sampled actions each.
    State 0: Q = 1, 2 drawn with density 1 (log 0): T lse(Q/T) - Q(s, a_data) with Q_data = 1.
    State 1: Q = 0, 0 drawn with density 1/2: Q - log mu = log 2 each; Q_data = 3."""
    q = torch.tensor([[[1.0, 2.0], [0.0, 0.0]]])
    log_mu = torch.tensor([[0.0, 0.0], [LOG_HALF, LOG_HALF]])
    q_data = torch.tensor([[1.0, 3.0]])
    # T = 1: state 0: log(e + e^2) = 2 + log(1 + e^-1); state 1: log(2 + 2) = log 4.
    expected = ((2 + math.log(1 + math.exp(-1))) + math.log(4)) / 2 - (1 + 3) / 2
    torch.testing.assert_close(cql_penalty(q, log_mu, q_data, 1.0), torch.tensor([expected]))
    # T = 2: state 0: 2 log(e^0.5 + e^1); state 1: 2 log(2 e^(log 2 / 2)) = 3 log 2.
    expected = (2 * math.log(math.exp(0.5) + math.exp(1.0)) + 3 * math.log(2)) / 2 - 2
    torch.testing.assert_close(cql_penalty(q, log_mu, q_data, 2.0), torch.tensor([expected]))


def test_penalty_through_the_learner_with_a_fixed_critic(monkeypatch):
    """The learner's penalty with the critics replaced by Q_i(s, a) = (i + 1) a + s_0 and the
    proposal actions fixed: each critic's term worked out by hand."""
    learner = make_learner()
    b = batch(2, actions=[[0.5], [-0.5]])
    b["obs"] = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    fixed_actions = torch.tensor([[[0.2], [-0.4]], [[0.0], [0.6]]])
    fixed_logp = torch.tensor([[LOG_HALF, LOG_HALF], [LOG_HALF, 0.3]])
    monkeypatch.setattr(learner, "sampled_actions", lambda _: (fixed_actions, fixed_logp))

    def q(obs, actions):
        return torch.stack([(i + 1) * actions[:, 0] + obs[:, 0] for i in range(2)])

    monkeypatch.setattr(learner.module, "q", q)

    def lse(*xs: float) -> float:
        return math.log(sum(math.exp(x) for x in xs))

    expected = []
    for c in (1.0, 2.0):
        s0 = lse(c * 0.2 - LOG_HALF, c * -0.4 - LOG_HALF)
        s1 = lse(1 + c * 0.0 - LOG_HALF, 1 + c * 0.6 - 0.3)
        data = (c * 0.5 + (1 - c * 0.5)) / 2
        expected.append((s0 + s1) / 2 - data)
    torch.testing.assert_close(learner.penalty(b), torch.tensor(expected))


def test_proposal_actions_and_their_densities():
    """num_actions each from Unif(-1, 1) (log density log 1/2 per dim) and from pi at s and at
    s' (their squashed-Gaussian log-probs), all without gradient."""
    learner = make_learner(num_actions=4)
    b = batch(5)
    actions, logp = learner.sampled_actions(b)
    assert actions.shape == (5, 12, 1) and logp.shape == (5, 12)
    assert not actions.requires_grad and not logp.requires_grad
    assert actions.abs().max() < 1.0
    torch.testing.assert_close(logp[:, :4], torch.full((5, 4), LOG_HALF))
    m = learner.module
    for part, obs in ((slice(4, 8), b["obs"]), (slice(8, 12), b["next_obs"])):
        dist = SquashedGaussian(m.pi_dist_inputs(obs).detach().repeat_interleave(4, dim=0))
        got = actions[:, part].reshape(-1, 1)
        ok = got.abs().squeeze(-1) < 0.999  # where atanh is well conditioned
        torch.testing.assert_close(
            dist.logp(got)[ok], logp[:, part].reshape(-1)[ok], rtol=1e-4, atol=1e-3
        )


# --- the penalty inside SAC's losses ---------------------------------------------------------


def _sac_twin(learner: CQLLearner) -> SACLearner:
    sac = SACLearner(dataclasses.asdict(SACSchema()), {"torch_num_threads": 1}, _spec(BOX_ACTIONS))
    sac.module.load_state_dict(learner.module.state_dict())
    return sac


def test_critic_loss_is_sacs_plus_the_weighted_penalty():
    learner = make_learner(min_q_weight=2.5, bc_iters=0)
    sac = _sac_twin(learner)
    b = batch(16)
    torch.manual_seed(1)
    sac_losses, _ = sac.compute_loss(b)
    torch.manual_seed(1)  # SAC's losses draw first: the same draws as SAC's own
    losses, metrics = learner.compute_loss(b)
    torch.testing.assert_close(losses["actor"], sac_losses["actor"])
    torch.testing.assert_close(losses["alpha"], sac_losses["alpha"])
    torch.testing.assert_close(losses["critic"] - sac_losses["critic"], metrics["cql_loss"])
    # The added term is min_q_weight times the per-critic brackets, summed: replay SAC's draws,
    # then the penalty's.
    torch.manual_seed(1)
    SACLearner.compute_loss_for_module(learner, learner.module_id, b)
    penalty = learner.penalty(b)
    assert penalty.shape == (2,)
    torch.testing.assert_close(metrics["cql_loss"], 2.5 * penalty.sum().detach())


def test_penalty_moves_the_critics_only():
    learner = make_learner()
    penalty = learner.penalty(batch(8)).sum()
    m = learner.module
    grads = torch.autograd.grad(
        penalty, [*m.pi.parameters(), *m.qs.parameters(), m.log_alpha], allow_unused=True
    )
    n_pi = len(list(m.pi.parameters()))
    assert all(g is None for g in grads[:n_pi]), "the policy got a gradient from the penalty"
    assert grads[-1] is None
    assert all(g is not None and g.abs().sum() > 0 for g in grads[n_pi:-1])


def test_a_higher_q_off_the_data_raises_the_penalty(monkeypatch):
    """The penalty is what makes Q conservative: raising Q on actions away from the data's
    raises it, raising Q on the data's action lowers it."""
    learner = make_learner()
    b = batch(4, actions=np.zeros((4, 1)))

    def with_bump(where: float):
        def q(obs, actions):
            v = 3.0 * torch.exp(-((actions[:, 0] - where) ** 2) / 0.01)
            return torch.stack([v, v])

        monkeypatch.setattr(learner.module, "q", q)
        torch.manual_seed(5)
        return float(learner.penalty(b).sum())

    assert with_bump(0.8) > with_bump(-5.0) > with_bump(0.0)


# --- behaviour cloning for the first bc_iters updates -------------------------------------------


def _fixed_policy(learner: CQLLearner, monkeypatch, q_value: float) -> None:
    """pi(.|s) = tanh(N(0, 1)) everywhere, and every critic says q_value."""
    m = learner.module
    monkeypatch.setattr(m, "pi_dist_inputs", lambda obs: torch.zeros(obs.shape[0], 2))

    def q(obs, actions):
        return torch.full((2, obs.shape[0]), q_value) + 0.0 * actions.sum(-1)

    monkeypatch.setattr(m, "q", q)


def test_bc_actor_loss_then_sacs(monkeypatch):
    """Alpha ~ 0 and the data's actions all 0: the BC loss is -log pi(0|s) = log sqrt(2 pi) (a
    standard normal at u = atanh(0) = 0, Jacobian 1). Once bc_iters updates are done, SAC's
    actor loss: alpha log pi - min Q = -q_value."""
    learner = make_learner(initial_alpha=1e-9, autotune_alpha=False, bc_iters=3)
    _fixed_policy(learner, monkeypatch, q_value=7.0)
    b = batch(64, actions=np.zeros((64, 1)))
    for done, bc in ((0, True), (2, True), (3, False), (10, False)):
        learner.num_updates_lifetime = done
        losses, metrics = learner.compute_loss(b)
        expected = 0.5 * math.log(2 * math.pi) if bc else -7.0
        torch.testing.assert_close(losses["actor"], torch.tensor(expected), atol=1e-5, rtol=0)
        assert float(metrics["bc_phase"]) == float(bc)


def test_bc_phase_counts_gradient_updates():
    """Three replayed batches with bc_iters=2: two BC updates, then SAC's actor loss."""
    learner = make_learner(bc_iters=2)
    batches = [
        {k: v.numpy() for k, v in batch(16, seed=s).items()} | {"indices": np.arange(16)}
        for s in range(3)
    ]
    metrics, _ = learner.update_from_replay(batches, 0)
    assert metrics["bc_phase"] == pytest.approx(2 / 3)
    assert learner.num_updates_lifetime == 3 and not learner.in_bc_phase


def test_discrete_actions_are_refused():
    with pytest.raises(ConfigError, match=r"Box action space; this env's is Discrete\(3\)"):
        make_learner(action_space=gym.spaces.Discrete(3))


# --- CQL-Lagrange: the penalty's weight learned against lagrangian_thresh -------------------------


def _fixed_penalty(learner: CQLLearner, monkeypatch, per_critic: list[float]) -> None:
    """The critics' penalty brackets fixed to `per_critic` (still attached to a critic
    parameter, so the critic loss keeps a gradient path)."""
    anchor = next(learner.module.qs.parameters())
    values = torch.tensor(per_critic)
    monkeypatch.setattr(learner, "penalty", lambda b: values + 0.0 * anchor.sum())


def test_lagrangian_losses_by_hand(monkeypatch):
    """min_q_weight 2, brackets [3, 4] -> gaps [6, 8]; tau 5; log alpha' 0.5 -> alpha' = e^0.5.
    Critic term: alpha' ((6 - 5) + (8 - 5)) = 4 e^0.5. alpha' loss: -alpha' mean(1, 3) = -2 e^0.5,
    whose gradient in log alpha' is -2 e^0.5 (alpha' rises while the gap exceeds tau)."""
    learner = make_learner(min_q_weight=2.0, lagrangian=True, lagrangian_thresh=5.0, bc_iters=0)
    with torch.no_grad():
        learner.log_alpha_prime.fill_(0.5)
    _fixed_penalty(learner, monkeypatch, [3.0, 4.0])
    losses, metrics = learner.compute_loss(batch(8))
    e = math.exp(0.5)
    assert float(metrics["cql_loss"]) == pytest.approx(4 * e, rel=1e-6)
    assert float(losses["alpha_prime"].detach()) == pytest.approx(-2 * e, rel=1e-6)
    assert float(metrics["alpha_prime"]) == pytest.approx(e, rel=1e-6)
    (grad,) = torch.autograd.grad(losses["alpha_prime"], [learner.log_alpha_prime])
    assert float(grad) == pytest.approx(-2 * e, rel=1e-6)
    # alpha' reaches the critic loss as a constant: no gradient to log alpha' from there.
    assert not torch.autograd.grad(losses["critic"], [learner.log_alpha_prime], allow_unused=True)[
        0
    ]


@pytest.mark.parametrize(("brackets", "direction"), [([4.0, 4.0], 1), ([1.0, 1.0], -1)])
def test_alpha_prime_moves_towards_the_threshold(monkeypatch, brackets, direction):
    """Gaps above tau make alpha' grow (the penalty weighs more), below tau shrink."""
    learner = make_learner(min_q_weight=2.0, lagrangian=True, lagrangian_thresh=5.0, bc_iters=0)
    _fixed_penalty(learner, monkeypatch, brackets)
    batches = [{k: v.numpy() for k, v in batch(16).items()} | {"indices": np.arange(16)}] * 3
    metrics, _ = learner.update_from_replay(batches, 0)
    assert direction * float(learner.log_alpha_prime.detach()) > 0
    assert "alpha_prime_loss" in metrics and "curr_alpha_prime_lr" in metrics


def test_lagrangian_state_round_trips_and_off_keeps_the_fixed_weight(monkeypatch):
    learner = make_learner(lagrangian=True, bc_iters=0)
    with torch.no_grad():
        learner.log_alpha_prime.fill_(1.25)
    state = learner.get_state()
    assert state["extra"]["log_alpha_prime"] == pytest.approx(1.25)
    assert any(k.startswith("alpha_prime/") for k in state["optimizer"])
    again = make_learner(lagrangian=True, bc_iters=0)
    again.set_state(state)
    assert float(again.log_alpha_prime.detach()) == pytest.approx(1.25)
    plain = make_learner(min_q_weight=2.0, bc_iters=0)
    assert "alpha_prime" not in plain.optimizers
    _fixed_penalty(plain, monkeypatch, [3.0, 4.0])
    _, metrics = plain.compute_loss(batch(8))
    assert float(metrics["cql_loss"]) == pytest.approx(14.0)
