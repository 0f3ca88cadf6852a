"""SAC (rlrun.algorithms.sac): the squashed Gaussian's log-prob against a numeric change of
variables, the three losses against numbers worked out by hand (network outputs replaced by fixed
tensors), where each loss's gradients go, and a replayed update on Pendulum-like and discrete
spaces."""

from __future__ import annotations

import dataclasses
import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlrun.algorithms.sac import learner as sac_learner
from rlrun.algorithms.sac.config import SACSchema
from rlrun.algorithms.sac.learner import SACLearner, resolve_target_entropy
from rlrun.algorithms.sac.module import Q_VALUES
from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.core.distributions import SquashedGaussian
from rlrun.core.rl_module import RLModuleSpec
from rlrun.errors import ConfigError

OBS_SPACE = gym.spaces.Box(-8.0, 8.0, (3,), np.float32)  # Pendulum's
BOX_ACTIONS = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def make_learner(action_space=BOX_ACTIONS, initial_alpha=1.0, **overrides) -> SACLearner:
    algo_cfg = dataclasses.asdict(SACSchema())
    algo_cfg.update(overrides)
    model = {
        "fcnet_hiddens": [16, 16],
        "fcnet_activation": "relu",
        "initial_alpha": initial_alpha,
        "twin_q": algo_cfg["twin_q"],
    }
    spec = RLModuleSpec("rlrun.algorithms.sac.module:SACModule", OBS_SPACE, action_space, model)
    return SACLearner(algo_cfg, {"torch_num_threads": 1}, spec)


def random_batch(action_space, n=32, seed=0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    if isinstance(action_space, gym.spaces.Discrete):
        actions = rng.integers(0, action_space.n, n)
    else:  # stored in the squashed (-1, 1) units
        actions = rng.uniform(-1, 1, (n, *action_space.shape)).astype(np.float32)
    return {
        "obs": rng.normal(size=(n, 3)).astype(np.float32),
        "actions": actions,
        "rewards": rng.normal(size=n).astype(np.float32),
        "next_obs": rng.normal(size=(n, 3)).astype(np.float32),
        "terminateds": rng.random(n) < 0.1,
        "discounts": np.full(n, 0.99, np.float32),
        "weights": rng.uniform(0.5, 1.0, n).astype(np.float32),
        "indices": np.arange(n),
    }


def torch_batch(b: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in b.items() if k != "indices"}


# --- the squashed Gaussian ----------------------------------------------------------------------

U_MEANS = [0.0, 0.7, -2.5, 6.0, -9.0, 15.0]  # u far into tanh's flat tails too
LOG_STD = -1.0


def test_squashed_logp_is_the_change_of_variables():
    """log pi(a) = log N(u; mean, std) - log |da/du| with a = tanh(u), the Jacobian taken
    numerically: autograd of tanh in float64 where it is resolvable, else -2 log cosh(u)."""
    means = torch.tensor(U_MEANS).view(-1, 1)
    inputs = torch.cat([means, torch.full_like(means, LOG_STD)], dim=-1)
    torch.manual_seed(3)
    eps = torch.randn_like(means)  # the noise sample_with_logp will draw
    torch.manual_seed(3)
    actions, logp = SquashedGaussian(inputs).sample_with_logp()

    u = (means + math.exp(LOG_STD) * eps).double().squeeze(-1)
    std = math.exp(LOG_STD)
    gauss = -0.5 * ((u - means.double().squeeze(-1)) / std) ** 2 - math.log(
        std * math.sqrt(2 * math.pi)
    )
    u_ad = u.clone().requires_grad_(True)
    (jac_autograd,) = torch.autograd.grad(torch.tanh(u_ad).sum(), u_ad)
    log_jac = torch.tensor([-2.0 * math.log(math.cosh(x)) for x in u.tolist()], dtype=torch.float64)
    moderate = u.abs() < 8.0
    torch.testing.assert_close(
        jac_autograd[moderate].log(), log_jac[moderate], rtol=1e-6, atol=1e-6
    )
    # Finite differences agree where float64 resolves tanh's slope.
    h = 1e-5
    small = u.abs() < 3.0
    fd = (torch.tanh(u + h) - torch.tanh(u - h)) / (2 * h)
    torch.testing.assert_close(fd[small].log(), log_jac[small], rtol=1e-6, atol=1e-6)

    reference = gauss - log_jac
    assert torch.isfinite(logp).all()
    torch.testing.assert_close(logp.double(), reference, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(actions.double().squeeze(-1), torch.tanh(u), rtol=0, atol=1e-6)


def test_squashed_logp_of_actions_matches_sample_with_logp():
    """logp(a) (through atanh) equals the sampled log-prob where atanh is well conditioned."""
    inputs = torch.tensor([[0.0, 0.0], [0.5, -0.5], [-1.0, -1.5], [2.0, -2.0], [0.3, 0.2]])
    inputs = inputs.repeat(40, 1)
    actions, logp = SquashedGaussian(inputs).sample_with_logp()
    ok = actions.abs() < 0.999  # |u| < ~3.8: float32 atanh keeps ~1e-4 there
    ok = ok.squeeze(-1)
    assert ok.sum() > 150
    torch.testing.assert_close(
        SquashedGaussian(inputs[ok]).logp(actions[ok]), logp[ok], rtol=1e-4, atol=1e-3
    )


# --- losses on hand-worked examples ---------------------------------------------------------------


class FixedSample:
    """Stands in for SquashedGaussian in the learner: the policy's samples and log-probs are
    fixed, the first call (s') and the second (s) in compute_loss's order."""

    draws: list[tuple[torch.Tensor, torch.Tensor]] = []

    def __init__(self, inputs: torch.Tensor) -> None:
        self.inputs = inputs

    def sample_with_logp(self) -> tuple[torch.Tensor, torch.Tensor]:
        actions, logp = FixedSample.draws.pop(0)
        # Tie the actor's log-prob to the policy's output so that the actor loss has a graph.
        return actions, logp + 0.0 * self.inputs.sum(-1)


REWARDS = [1.0, 2.0, -1.0]
DISCOUNTS = [0.99, 0.9801, 0.99]  # the middle one a 2-step window: gamma^2
TERMINATEDS = [False, False, True]
WEIGHTS = [1.0, 0.5, 2.0]
TARGET_Q = [[10.0, 4.0, 7.0], [8.0, 5.0, 100.0]]  # twin target critics at (s', a')
NEXT_LOGP = [-1.0, 0.5, 2.0]  # log pi(a'|s')
ONLINE_Q = [[9.0, 6.0, 0.0], [10.0, 5.0, -2.0]]  # Q_i(s, a) of the replayed actions
ALPHA = 0.5
# y = r + discount * (1 - terminated) * (min_i Qtarget_i - alpha * logp'):
#   min = [8, 4, 7]; soft V = [8.5, 3.75, 6]; the third terminated: no bootstrap
Y = [1.0 + 0.99 * 8.5, 2.0 + 0.9801 * 3.75, -1.0]  # [9.415, 5.675375, -1.0]


def box_learner_with_fixed_outputs(monkeypatch, logp_pi, q_pi, initial_alpha=ALPHA, **overrides):
    learner = make_learner(initial_alpha=initial_alpha, **overrides)
    m = learner.module
    policy_out = m.pi(torch.zeros(3, 3))  # a real graph to the policy's parameters
    q_online = torch.tensor(ONLINE_Q, requires_grad=True)
    m.forward_train = lambda batch: {C.ACTION_DIST_INPUTS: policy_out, Q_VALUES: q_online}
    m.target_q = lambda obs, actions: torch.tensor(TARGET_Q)
    m.q = lambda obs, actions: torch.tensor(q_pi)
    monkeypatch.setattr(sac_learner, "SquashedGaussian", FixedSample)
    FixedSample.draws = [
        (torch.zeros(3, 1), torch.tensor(NEXT_LOGP)),  # a' ~ pi(.|s')
        (torch.zeros(3, 1), torch.tensor(logp_pi)),  # a~ ~ pi(.|s)
    ]
    return learner, q_online


def box_batch() -> dict[str, torch.Tensor]:
    return {
        C.OBS: torch.zeros(3, 3),
        C.ACTIONS: torch.zeros(3, 1),
        C.REWARDS: torch.tensor(REWARDS),
        "next_obs": torch.zeros(3, 3),
        C.TERMINATEDS: torch.tensor(TERMINATEDS),
        "discounts": torch.tensor(DISCOUNTS),
        "weights": torch.tensor(WEIGHTS),
    }


def test_box_losses_on_a_hand_worked_example(monkeypatch):
    logp_pi, q_pi = [0.2, -0.4, 1.1], [[3.0, 1.0, 2.0], [2.0, 4.0, 2.5]]
    learner, q_online = box_learner_with_fixed_outputs(monkeypatch, logp_pi, q_pi)
    losses, metrics = learner.compute_loss(box_batch())

    td = np.array(ONLINE_Q) - np.array(Y)  # [[-0.415, 0.324625, 1], [0.585, -0.675375, -1]]
    critic = 0.5 * sum(np.mean(np.array(WEIGHTS) * td_i**2) for td_i in td)
    assert losses["critic"].item() == pytest.approx(critic, rel=1e-6)
    torch.testing.assert_close(metrics["td_error"], torch.tensor([0.5, 0.5, 1.0]))
    # dJ_Q/dQ_i = w * (Q_i - y) / B: the target is a constant.
    (grad,) = torch.autograd.grad(losses["critic"], q_online)
    torch.testing.assert_close(grad, torch.tensor(np.array(WEIGHTS) * td / 3, dtype=torch.float32))

    # Actor: mean(alpha * logp - min_i Q_i(s, a~)); min = [2, 1, 2].
    actor = np.mean([ALPHA * 0.2 - 2.0, ALPHA * -0.4 - 1.0, ALPHA * 1.1 - 2.0])
    assert losses["actor"].item() == pytest.approx(actor, rel=1e-6)
    # Alpha: -mean(log_alpha * (logp + target_entropy)), target -1 for a 1-d Box.
    alpha_loss = -math.log(ALPHA) * np.mean(np.array(logp_pi) - 1.0)
    assert losses["alpha"].item() == pytest.approx(alpha_loss, rel=1e-6)
    assert metrics["alpha_value"].item() == pytest.approx(ALPHA)
    assert metrics["target_entropy"].item() == -1.0
    assert metrics["entropy"].item() == pytest.approx(-np.mean(logp_pi), rel=1e-6)
    assert metrics["qf_mean"].item() == pytest.approx(np.mean(ONLINE_Q))


def test_single_critic_bootstraps_from_it(monkeypatch):
    learner = make_learner(initial_alpha=ALPHA, twin_q=False)
    assert len(learner.module.qs) == len(learner.module.target_qs) == 1
    m = learner.module
    m.forward_train = lambda batch: {
        C.ACTION_DIST_INPUTS: m.pi(torch.zeros(3, 3)),
        Q_VALUES: torch.tensor([ONLINE_Q[0]]),
    }
    m.target_q = lambda obs, actions: torch.tensor([TARGET_Q[0]])  # no min: [10, 4, 7]
    m.q = lambda obs, actions: torch.zeros(1, 3)
    monkeypatch.setattr(sac_learner, "SquashedGaussian", FixedSample)
    FixedSample.draws = [(torch.zeros(3, 1), torch.tensor(NEXT_LOGP))] * 2
    _, metrics = learner.compute_loss(box_batch())
    y = [1.0 + 0.99 * 10.5, 2.0 + 0.9801 * 3.75, -1.0]
    torch.testing.assert_close(
        metrics["td_error"], (torch.tensor(ONLINE_Q[0]) - torch.tensor(y)).abs()
    )


@pytest.mark.parametrize(("logp", "grows"), [(2.0, True), (-3.0, False)])
def test_alpha_grows_when_entropy_is_below_target(monkeypatch, logp, grows):
    """Target entropy -1; logp = 2 is entropy ~ -2 (below target): alpha must grow; logp = -3
    is entropy ~ 3 (above): alpha must shrink."""
    learner, _ = box_learner_with_fixed_outputs(monkeypatch, [logp] * 3, [[0.0] * 3] * 2)
    before = learner.module.log_alpha.item()
    losses, _ = learner.compute_loss(box_batch())
    learner._gradient_step(losses)
    # d/dlog_alpha of -log_alpha * (logp + H) is -(logp + H)
    assert learner.module.log_alpha.grad.item() == pytest.approx(-(logp - 1.0))
    after = learner.module.log_alpha.item()
    assert (after > before) if grows else (after < before)


def test_target_entropy_auto_and_given():
    assert resolve_target_entropy("auto", BOX_ACTIONS) == -1.0
    assert resolve_target_entropy("auto", gym.spaces.Box(-1, 1, (2, 3))) == -6.0
    assert resolve_target_entropy("auto", gym.spaces.Discrete(4)) == pytest.approx(
        0.98 * math.log(4)
    )
    assert resolve_target_entropy(-0.5, BOX_ACTIONS) == -0.5
    with pytest.raises(ConfigError, match="target_entropy"):
        resolve_target_entropy("max", BOX_ACTIONS)
    assert make_learner(gym.spaces.Discrete(3)).target_entropy == pytest.approx(0.98 * math.log(3))


def test_each_loss_reaches_only_its_optimizer():
    """The actor loss runs through the critics (to a~), yet the critics' weights get no gradient
    from it, so one backward pass of the sum gives each optimizer its own loss's gradients."""
    learner = make_learner()
    m = learner.module
    batch = torch_batch(random_batch(BOX_ACTIONS))
    losses, _ = learner.compute_loss(batch)
    groups = {"critic": list(m.qs.parameters()), "actor": list(m.pi.parameters())}
    groups["alpha"] = [m.log_alpha]
    expected = {
        name: torch.autograd.grad(losses[name], params, retain_graph=True, allow_unused=True)
        for name, params in groups.items()
    }
    # The critics' weights are frozen while the actor loss evaluates them.
    from_actor = torch.autograd.grad(
        losses["actor"], groups["critic"], retain_graph=True, allow_unused=True
    )
    assert all(g is None for g in from_actor)
    assert learner.joint_backward
    learner._gradient_step(losses)
    for name, params in groups.items():
        for p, g in zip(params, expected[name], strict=True):
            torch.testing.assert_close(p.grad, g)
    assert all(p.grad is None for p in m.target_qs.parameters())


def test_fixed_alpha_stays():
    learner = make_learner(initial_alpha=0.2, autotune_alpha=False)
    assert set(learner.optimizers) == {"actor", "critic"}
    metrics, _ = learner.update_from_replay(
        [random_batch(BOX_ACTIONS, seed=i) for i in range(3)], 0
    )
    assert learner.module.log_alpha.item() == pytest.approx(math.log(0.2))
    assert metrics["alpha_value"] == pytest.approx(0.2)


def test_alpha_tuning_turned_on_at_resume_starts_its_optimizer_fresh():
    fixed = make_learner(initial_alpha=0.2, autotune_alpha=False)
    fixed.update_from_replay([random_batch(BOX_ACTIONS, seed=i) for i in range(2)], 0)
    state = fixed.get_state()
    assert not any(k.startswith("alpha/") for k in state["optimizer"])

    tuned = make_learner(initial_alpha=1.0, autotune_alpha=True)
    tuned.set_state(state)
    assert tuned.module.log_alpha.item() == pytest.approx(math.log(0.2))  # the saved value
    assert tuned.optimizers["alpha"].step_count == 0
    assert tuned.optimizers["critic"].step_count == 2
    tuned.update_from_replay([random_batch(BOX_ACTIONS, seed=5)], 0)
    assert tuned.module.log_alpha.item() != pytest.approx(math.log(0.2))  # now it is tuned


def test_discrete_losses_on_a_hand_worked_example():
    learner = make_learner(gym.spaces.Discrete(2), initial_alpha=ALPHA)
    m = learner.module
    pi_logits = torch.log(torch.tensor([[0.25, 0.75], [0.5, 0.5]])).requires_grad_(True)
    q_online = torch.tensor(
        [[[0.0, 2.0], [1.0, 3.0]], [[1.0, 1.0], [2.0, 0.0]]], requires_grad=True
    )
    m.forward_train = lambda batch: {C.ACTION_DIST_INPUTS: pi_logits, Q_VALUES: q_online}
    m.pi_dist_inputs = lambda obs: torch.log(torch.tensor([[0.5, 0.5], [0.2, 0.8]]))
    m.target_q_all = lambda obs: torch.tensor([[[1.0, 2.0], [3.0, 4.0]], [[2.0, 1.0], [5.0, 0.0]]])
    batch = {
        C.OBS: torch.zeros(2, 3),
        C.ACTIONS: torch.tensor([1, 0]),
        C.REWARDS: torch.tensor([1.0, 0.0]),
        "next_obs": torch.zeros(2, 3),
        C.TERMINATEDS: torch.tensor([False, False]),
        "discounts": torch.tensor([0.9, 0.9]),
        "weights": torch.ones(2),
    }
    losses, metrics = learner.compute_loss(batch)

    # min_i Qtarget(s', .) = [[1, 1], [3, 0]];  V(s') = sum_a pi (minQ - alpha log pi)
    v0 = 1.0 - 0.5 * math.log(0.5)
    v1 = 0.2 * (3.0 - 0.5 * math.log(0.2)) + 0.8 * (0.0 - 0.5 * math.log(0.8))
    y = np.array([1.0 + 0.9 * v0, 0.9 * v1])
    q = np.array([[2.0, 1.0], [1.0, 2.0]])  # Q_i(s, a) gathered at actions [1, 0]
    critic = 0.5 * sum(np.mean((q_i - y) ** 2) for q_i in q)
    assert losses["critic"].item() == pytest.approx(critic, rel=1e-6)
    torch.testing.assert_close(
        metrics["td_error"], torch.tensor(np.abs(q - y).mean(0), dtype=torch.float32)
    )
    # Actor: sum_a pi (alpha log pi - min_i Q(s, a)); min_i Q(s, .) = [[0, 1], [1, 0]]
    row0 = 0.25 * (0.5 * math.log(0.25)) + 0.75 * (0.5 * math.log(0.75) - 1.0)
    row1 = 0.5 * (0.5 * math.log(0.5) - 1.0) + 0.5 * (0.5 * math.log(0.5))
    assert losses["actor"].item() == pytest.approx((row0 + row1) / 2, rel=1e-6)
    # Alpha: -log_alpha * mean(E_pi[log pi] + 0.98 log 2)
    e_logp = [0.25 * math.log(0.25) + 0.75 * math.log(0.75), math.log(0.5)]
    alpha_loss = -math.log(ALPHA) * np.mean(np.array(e_logp) + 0.98 * math.log(2))
    assert losses["alpha"].item() == pytest.approx(alpha_loss, rel=1e-6)
    assert metrics["entropy"].item() == pytest.approx(-np.mean(e_logp), rel=1e-6)
    # The actor's gradient does not reach the critics' outputs (their values enter detached).
    (g,) = torch.autograd.grad(losses["actor"], q_online, retain_graph=True, allow_unused=True)
    assert g is None


# --- a replayed update ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action_space", [BOX_ACTIONS, gym.spaces.Discrete(3)], ids=["box", "discrete"]
)
def test_update_from_replay_moves_online_and_targets_by_tau(action_space):
    learner = make_learner(action_space, replay={"prioritized": True})
    m = learner.module
    for t, o in zip(m.target_qs.parameters(), m.qs.parameters(), strict=True):
        assert not t.requires_grad and torch.equal(t, o)
    online0 = {k: v.clone() for k, v in m.named_parameters()}
    targets0 = [p.clone() for p in m.target_qs.parameters()]

    metrics, td_errors = learner.update_from_replay([random_batch(action_space)], 1000)

    for key in ("qf_loss", "actor_loss", "alpha_loss", "alpha_value", "log_alpha_value", "qf_mean"):
        assert np.isfinite(metrics[key]), key
    for key in ("entropy", "target_entropy", "curr_actor_lr", "curr_critic_lr", "curr_alpha_lr"):
        assert key in metrics
    assert "td_error" not in metrics
    assert td_errors[0].shape == (32,) and (td_errors[0] >= 0).all()
    for name, p in m.named_parameters():
        assert not torch.equal(p, online0[name]), f"{name} did not move"
    tau = 0.005
    for t, t0, o in zip(m.target_qs.parameters(), targets0, m.qs.parameters(), strict=True):
        torch.testing.assert_close(t, t0 + tau * (o - t0))  # a tau step, not a copy
        assert not torch.allclose(t, o)


def test_masked_discrete_sac_aims_its_entropy_at_the_legal_actions():
    """With an action mask and target_entropy=auto, the target is 0.98 log(#legal) per state:
    a policy uniform over 2 legal actions of 5 is above its target, so alpha must shrink (the
    all-actions target, 0.98 log 5, would make it grow without end)."""
    obs_space = gym.spaces.Dict(
        {
            "action_mask": gym.spaces.Box(0, 1, (5,), np.int8),
            "observations": gym.spaces.Box(-1.0, 1.0, (3,), np.float32),
        }
    )
    model = {"fcnet_hiddens": [8], "action_mask_key": "action_mask"}
    spec = RLModuleSpec(
        "rlrun.algorithms.sac.module:SACModule", obs_space, gym.spaces.Discrete(5), model
    )
    learner = SACLearner(dataclasses.asdict(SACSchema()), {"torch_num_threads": 1}, spec)
    with torch.no_grad():  # a policy uniform over whatever is legal
        for p in learner.module.pi.parameters():
            p.zero_()
    n = 16
    mask = np.zeros((n, 5), np.int8)
    mask[:, [1, 3]] = 1
    obs = {"action_mask": mask, "observations": np.zeros((n, 3), np.float32)}
    batch = {
        C.OBS: tree.to_torch(obs),
        C.ACTIONS: torch.full((n,), 1),
        C.REWARDS: torch.zeros(n),
        "next_obs": tree.to_torch(obs),
        C.TERMINATEDS: torch.zeros(n, dtype=torch.bool),
        "discounts": torch.full((n,), 0.99),
        "weights": torch.ones(n),
    }
    target = learner._discrete_target(batch)
    torch.testing.assert_close(target, torch.full((n,), 0.98 * math.log(2)))
    losses, _ = learner.compute_loss(batch)
    learner.module.log_alpha.grad = None
    losses["alpha"].backward()
    # d loss / d log_alpha = -(E[log pi] + target) > 0 when the entropy is above its target.
    assert learner.module.log_alpha.grad.item() > 0
