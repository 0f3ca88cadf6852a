"""DQN (rlrun.algorithms.dqn): targets and losses against numbers worked out by hand, the C51
projection, the dueling combination, epsilon-greedy exploration and target-network updates.

For the loss checks the module's Q-value methods are replaced by functions returning fixed
tensors (as tests/unit/test_ppo_loss.py does), so every term is known exactly. The batch has 3
transitions and 2 actions:

  Q(s, .)           actions  Q(s,a)   Q_online(s', .)  a*(double)  Q_target(s', .)  max_a Q_target
  [1.0,  2.0]       1        2.0      [1.0, 0.0]       0           [2.0, 4.0]       4.0
  [0.5, -1.0]       0        0.5      [0.0, 1.0]       1           [3.0, 1.0]       3.0
  [3.0,  0.0]       0        3.0      [5.0, 4.0]       0           [1.0, 6.0]       6.0

rewards [1.0, 0.0, 0.5]; discounts [0.9, 0.81, 0.9] (the second a 2-step return, gamma 0.9);
the third transition terminated, so its target is just r = 0.5.
  double Q: y = [1 + 0.9*2, 0.81*1, 0.5] = [2.8, 0.81, 0.5];  td = [-0.8, -0.31, 2.5]
  plain Q:  y = [1 + 0.9*4, 0.81*3, 0.5] = [4.6, 2.43, 0.5];  td = [-2.6, -1.93, 2.5]
"""

from __future__ import annotations

import dataclasses
import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlrun.algorithms.dqn.config import DQNSchema
from rlrun.algorithms.dqn.learner import DQNLearner, project_distribution
from rlrun.algorithms.dqn.module import DQNModule
from rlrun.core import columns as C
from rlrun.core.distributions import Categorical
from rlrun.core.rl_module import RLModuleSpec
from rlrun.errors import ConfigError

OBS_SPACE = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
ACT_SPACE = gym.spaces.Discrete(2)

Q_S = [[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]]
ACTIONS = [1, 0, 0]
Q_ONLINE_NEXT = [[1.0, 0.0], [0.0, 1.0], [5.0, 4.0]]
Q_TARGET_NEXT = [[2.0, 4.0], [3.0, 1.0], [1.0, 6.0]]
REWARDS = [1.0, 0.0, 0.5]
DISCOUNTS = [0.9, 0.81, 0.9]
TERMINATEDS = [False, False, True]
TD_DOUBLE = [-0.8, -0.31, 2.5]
TD_PLAIN = [-2.6, -1.93, 2.5]


def huber(x: float) -> float:
    return 0.5 * x * x if abs(x) <= 1.0 else abs(x) - 0.5


def make_learner(model: dict | None = None, **overrides) -> DQNLearner:
    algo_cfg = dataclasses.asdict(DQNSchema())
    algo_cfg.update(overrides)
    model_config = {"fcnet_hiddens": [8], "fcnet_activation": "relu", **(model or {})}
    spec = RLModuleSpec("rlrun.algorithms.dqn.module:DQNModule", OBS_SPACE, ACT_SPACE, model_config)
    return DQNLearner(algo_cfg, {"torch_num_threads": 1}, spec)


def fixed_q_learner(**overrides) -> DQNLearner:
    learner = make_learner(**overrides)
    m = learner.module
    m.forward_train = lambda batch: {"q_values": torch.tensor(Q_S, requires_grad=True)}
    m.q_values = lambda obs: torch.tensor(Q_ONLINE_NEXT)
    m.target_q_values = lambda obs: torch.tensor(Q_TARGET_NEXT)
    return learner


def fixed_batch(weights=(1.0, 1.0, 1.0)) -> dict[str, torch.Tensor]:
    return {
        C.OBS: torch.zeros(3, 3),
        C.ACTIONS: torch.tensor(ACTIONS),
        C.REWARDS: torch.tensor(REWARDS),
        "next_obs": torch.zeros(3, 3),
        C.TERMINATEDS: torch.tensor(TERMINATEDS),
        "discounts": torch.tensor(DISCOUNTS),
        "weights": torch.tensor(weights),
    }


def random_replay_batch(n: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "obs": rng.uniform(-1, 1, (n, 3)).astype(np.float32),
        "actions": rng.integers(0, 2, n).astype(np.int64),
        "rewards": rng.normal(size=n).astype(np.float32),
        "next_obs": rng.uniform(-1, 1, (n, 3)).astype(np.float32),
        "terminateds": rng.random(n) < 0.2,
        "discounts": np.full(n, 0.99, np.float32),
        "weights": rng.uniform(0.5, 1.0, n).astype(np.float32),
        "indices": np.arange(n),
    }


# --- expected-Q targets and losses --------------------------------------------------------------


def test_double_q_target_terminal_and_n_step_discounts():
    loss, metrics = fixed_q_learner(double_q=True).compute_loss(fixed_batch())
    assert metrics["td_error"].tolist() == pytest.approx(TD_DOUBLE, abs=1e-6)
    assert loss.item() == pytest.approx(sum(map(huber, TD_DOUBLE)) / 3, abs=1e-6)
    assert float(metrics["qf_loss"]) == pytest.approx(loss.item())
    assert float(metrics["qf_mean"]) == pytest.approx((2.0 + 0.5 + 3.0) / 3)
    assert float(metrics["qf_max"]) == pytest.approx(3.0)
    assert float(metrics["td_error_mean"]) == pytest.approx((0.8 + 0.31 + 2.5) / 3)


def test_plain_q_target_takes_the_target_nets_max():
    loss, metrics = fixed_q_learner(double_q=False).compute_loss(fixed_batch())
    assert metrics["td_error"].tolist() == pytest.approx(TD_PLAIN, abs=1e-6)
    assert loss.item() == pytest.approx(sum(map(huber, TD_PLAIN)) / 3, abs=1e-6)


def test_importance_weights_scale_each_sample():
    w = [1.0, 2.0, 0.5]
    loss, _ = fixed_q_learner().compute_loss(fixed_batch(weights=w))
    expected = sum(wi * huber(td) for wi, td in zip(w, TD_DOUBLE, strict=True)) / 3
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_mse_is_half_squared_td_and_differs_from_huber_beyond_one():
    loss, _ = fixed_q_learner(td_error_loss_fn="mse").compute_loss(fixed_batch())
    assert loss.item() == pytest.approx(sum(0.5 * td * td for td in TD_DOUBLE) / 3, abs=1e-6)
    huber_loss, _ = fixed_q_learner(td_error_loss_fn="huber").compute_loss(fixed_batch())
    # Equal for |td| <= 1; for td = 2.5: mse 3.125, Huber 2.0.
    assert loss.item() - huber_loss.item() == pytest.approx((3.125 - 2.0) / 3, abs=1e-6)


def test_loss_gradient_flows_through_q_of_taken_action_only():
    learner = fixed_q_learner()
    q = torch.tensor(Q_S, requires_grad=True)
    learner.module.forward_train = lambda batch: {"q_values": q}
    loss, _ = learner.compute_loss(fixed_batch())
    loss.backward()
    # d huber / d td = clip(td, -1, 1), divided by the batch of 3, at the taken action only.
    expected = torch.zeros(3, 2)
    for i, (a, td) in enumerate(zip(ACTIONS, TD_DOUBLE, strict=True)):
        expected[i, a] = max(-1.0, min(1.0, td)) / 3
    torch.testing.assert_close(q.grad, expected)


# --- C51 -----------------------------------------------------------------------------------------

SUPPORT5 = torch.linspace(-2.0, 2.0, 5)  # [-2, -1, 0, 1, 2], spacing 1


def project(probs, r, discount, terminated):
    return project_distribution(
        torch.tensor([probs], dtype=torch.float32),
        torch.tensor([r]),
        torch.tensor([discount]),
        torch.tensor([terminated]),
        SUPPORT5,
    )[0].tolist()


def test_projection_splits_mass_between_neighbouring_atoms():
    # All mass on z=0, shifted by r=0.5: halfway between 0 and 1.
    assert project([0, 0, 1, 0, 0], 0.5, 1.0, False) == pytest.approx([0, 0, 0.5, 0.5, 0])


def test_projection_clips_mass_at_v_max():
    # r=1 shifts every atom up by one; the top atom's 0.1 would land on 3 and is clipped to 2.
    got = project([0.1, 0.2, 0.4, 0.2, 0.1], 1.0, 1.0, False)
    assert got == pytest.approx([0, 0.1, 0.2, 0.4, 0.3])


def test_projection_shrinks_by_the_discount_including_exact_landings():
    # gamma^n = 0.5: atoms land on [-1, -0.5, 0, 0.5, 1]; three exactly on atoms (l == u).
    got = project([0.2] * 5, 0.0, 0.5, False)
    assert got == pytest.approx([0, 0.3, 0.4, 0.3, 0])


def test_projection_of_a_terminated_transition_collapses_onto_r():
    assert project([0.1, 0.2, 0.4, 0.2, 0.1], 0.3, 0.99, True) == pytest.approx([0, 0, 0.7, 0.3, 0])
    assert project([0.2] * 5, -5.0, 0.99, True) == pytest.approx([1, 0, 0, 0, 0])  # below v_min


def test_projection_rows_sum_to_one():
    g = torch.Generator().manual_seed(0)
    probs = torch.rand(64, 5, generator=g).softmax(-1)
    rewards = torch.randn(64, generator=g) * 3
    discounts = torch.rand(64, generator=g)
    terminated = torch.rand(64, generator=g) < 0.3
    target = project_distribution(probs, rewards, discounts, terminated, SUPPORT5)
    assert (target >= 0).all()
    torch.testing.assert_close(target.sum(-1), torch.ones(64))


def test_c51_loss_is_cross_entropy_to_the_projected_target():
    # 3 atoms on [-1, 1]; one transition, action 0, r = 0, gamma^n = 1: the target is the next
    # distribution itself. Target net at s': action 0 -> [0.5, 0.5, 0] (Q = -0.5), action 1 ->
    # [0, 0.5, 0.5] (Q = 0.5). The online net prefers action 0 at s' (double Q picks it), the
    # target net action 1. Online p(s, a=0) = [0.2, 0.5, 0.3].
    model = {"num_atoms": 3, "v_min": -1.0, "v_max": 1.0}
    p_sa = torch.tensor([0.2, 0.5, 0.3])
    logits_s = torch.stack([p_sa.log(), torch.zeros(3)]).unsqueeze(0)  # [1, A=2, 3]
    neg = -1e9
    target_logits = torch.tensor([[[0.0, 0.0, neg], [neg, 0.0, 0.0]]])
    batch = {
        C.OBS: torch.zeros(1, 3),
        C.ACTIONS: torch.tensor([0]),
        C.REWARDS: torch.tensor([0.0]),
        "next_obs": torch.zeros(1, 3),
        C.TERMINATEDS: torch.tensor([False]),
        "discounts": torch.tensor([1.0]),
        "weights": torch.tensor([2.0]),
    }
    q_s = (logits_s.softmax(-1) * torch.tensor([-1.0, 0.0, 1.0])).sum(-1)
    for double_q, expected_target in ((True, [0.5, 0.5, 0.0]), (False, [0.0, 0.5, 0.5])):
        learner = make_learner(model, double_q=double_q)
        m = learner.module
        m.forward_train = lambda batch: {"q_values": q_s, "q_logits": logits_s}
        m.q_values = lambda obs: torch.tensor([[1.0, 0.0]])
        m.target_q_logits = lambda obs: target_logits
        support = torch.tensor([-1.0, 0.0, 1.0])
        m.target_q_values = lambda obs, s=support: (target_logits.softmax(-1) * s).sum(-1)
        loss, metrics = learner.compute_loss(batch)
        pairs = zip(expected_target, p_sa.tolist(), strict=True)
        ce = -sum(t * math.log(p) for t, p in pairs if t > 0)
        assert float(metrics["td_error"][0]) == pytest.approx(ce, abs=1e-5)
        assert loss.item() == pytest.approx(2.0 * ce, abs=1e-5)
        assert float(metrics["qf_mean"]) == pytest.approx(-0.2 + 0.3, abs=1e-6)


# --- the module ----------------------------------------------------------------------------------


def make_module(**model) -> DQNModule:
    return DQNModule(OBS_SPACE, ACT_SPACE, {"fcnet_hiddens": [8], **model})


@pytest.mark.parametrize("num_atoms", [1, 5])
def test_dueling_combines_value_and_mean_centred_advantage(num_atoms):
    torch.manual_seed(0)
    m = make_module(dueling=True, num_atoms=num_atoms, v_min=-2.0, v_max=2.0)
    obs = torch.randn(4, 3)
    h = m.q_net.torso(obs)
    v = m.q_net.value(h).view(4, 1, num_atoms)
    a = m.q_net.head(h).view(4, 2, num_atoms)
    expected_logits = v + a - a.mean(dim=1, keepdim=True)
    torch.testing.assert_close(m.q_net(obs), expected_logits)
    q = m.q_values(obs)
    if num_atoms == 1:
        torch.testing.assert_close(q, expected_logits.squeeze(-1))
    else:
        torch.testing.assert_close(m.q_logits(obs), expected_logits)
        expected_q = (expected_logits.softmax(-1) * torch.linspace(-2, 2, 5)).sum(-1)
        torch.testing.assert_close(q, expected_q)
        assert set(m.forward_train({C.OBS: obs})) == {"q_values", "q_logits"}


def test_target_network_starts_equal_frozen_and_in_the_state_dict():
    m = make_module(dueling=True)
    obs = torch.randn(5, 3)
    torch.testing.assert_close(m.target_q_values(obs), m.q_values(obs))
    assert all(not p.requires_grad for p in m.target_q_net.parameters())
    assert all(p.requires_grad for p in m.q_net.parameters())
    assert m.target_pairs() == [(m.target_q_net, m.q_net)]
    state = m.state_dict()
    assert "epsilon" in state and state["epsilon"].dtype == torch.float32
    assert any(k.startswith("target_q_net.") for k in state)
    assert "support" not in state  # only C51 has a support


def test_epsilon_greedy_logits():
    m = make_module()
    q = torch.tensor([[0.0, 3.0, 1.0, -1.0], [2.0, 0.0, 0.0, 1.0]])
    m.num_actions = 4
    m.q_values = lambda obs: q
    greedy = torch.tensor([1, 0])

    m.epsilon.fill_(0.0)
    logits = m.forward_exploration({C.OBS: torch.zeros(2, 3)})[C.ACTION_DIST_INPUTS]
    assert torch.isfinite(logits).all()
    torch.testing.assert_close(logits.softmax(-1), torch.eye(4)[greedy])

    m.epsilon.fill_(1.0)
    logits = m.forward_exploration({C.OBS: torch.zeros(2, 3)})[C.ACTION_DIST_INPUTS]
    torch.testing.assert_close(logits.softmax(-1), torch.full((2, 4), 0.25))
    # Uniform sampling, yet the deterministic action (explore=false) is still the greedy one.
    assert Categorical(logits).to_deterministic().sample().tolist() == greedy.tolist()

    eps = 0.3
    m.epsilon.fill_(eps)
    logits = m.forward_exploration({C.OBS: torch.zeros(2, 3)})[C.ACTION_DIST_INPUTS]
    torch.manual_seed(0)
    n = 20_000
    samples = Categorical(logits.repeat(n, 1)).sample().view(n, 2)
    for row in range(2):
        freq = torch.bincount(samples[:, row], minlength=4).float() / n
        expected = torch.full((4,), eps / 4)
        expected[greedy[row]] += 1.0 - eps
        torch.testing.assert_close(freq, expected, atol=0.015, rtol=0.0)
    # Inference: the Q-values themselves, whose argmax is greedy.
    out = m.forward_inference({C.OBS: torch.zeros(2, 3)})[C.ACTION_DIST_INPUTS]
    assert Categorical(out).to_deterministic().sample().tolist() == greedy.tolist()


def test_box_action_space_is_refused_naming_dqn():
    with pytest.raises(ConfigError) as err:
        DQNModule(OBS_SPACE, gym.spaces.Box(-1.0, 1.0, (2,), np.float32), {})
    assert err.value.key == "algo.name"
    assert "DQN" in str(err.value) and "Discrete" in str(err.value)


def test_bad_c51_settings_are_refused():
    with pytest.raises(ConfigError, match="algo.v_max"):
        make_module(num_atoms=5, v_min=1.0, v_max=1.0)
    with pytest.raises(ConfigError, match="algo.num_atoms"):
        make_module(num_atoms=0)


# --- the learner's update loop and target updates ------------------------------------------------


def online_and_target(learner: DQNLearner) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    m = learner.module
    return (
        [p.detach().clone() for p in m.q_net.parameters()],
        [p.detach().clone() for p in m.target_q_net.parameters()],
    )


def test_optimizer_holds_only_the_online_network():
    learner = make_learner({"dueling": True})
    assert {id(p) for p in learner.optimizer.params} == {
        id(p) for p in learner.module.q_net.parameters()
    }


@pytest.mark.parametrize("num_atoms", [1, 5])
def test_update_moves_online_weights_not_target_and_sets_epsilon(num_atoms):
    torch.manual_seed(0)
    learner = make_learner(
        {"dueling": True, "num_atoms": num_atoms},
        epsilon=[[0, 1.0], [100, 0.0]],
        target_network_update_freq=500,
        replay={"prioritized": True},
    )
    assert float(learner.get_weights()["epsilon"]) == 1.0  # eps(0), before any update
    online0, target0 = online_and_target(learner)
    metrics, td_errors = learner.update_from_replay(
        [random_replay_batch(seed=0), random_replay_batch(seed=1)], env_steps_lifetime=50
    )
    online1, target1 = online_and_target(learner)
    assert any(not torch.equal(a, b) for a, b in zip(online0, online1, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(target0, target1, strict=True))
    assert len(td_errors) == 2 and all(t.shape == (16,) and (t >= 0).all() for t in td_errors)
    for key in ("qf_loss", "qf_mean", "qf_max", "td_error_mean", "curr_epsilon", "curr_lr"):
        assert math.isfinite(metrics[key]), key
    assert "td_error" not in metrics
    # A uniform buffer has no use for them: none are computed.
    uniform = make_learner({"num_atoms": num_atoms})
    _, td_errors = uniform.update_from_replay([random_replay_batch(seed=0)], env_steps_lifetime=50)
    assert td_errors == [None]
    assert metrics["curr_epsilon"] == pytest.approx(0.5)
    assert float(learner.get_weights()["epsilon"]) == pytest.approx(0.5)


def test_live_weights_follow_updates_and_restores():
    """get_weights(copy=False) hands out cached views: they must show every in-place change."""
    torch.manual_seed(0)
    learner = make_learner()
    live = learner.get_weights(copy=False)
    live.pop("epsilon")  # the caller's dict is its own
    learner.update_from_replay([random_replay_batch(seed=0)], env_steps_lifetime=50)
    now = learner.get_weights(copy=False)
    assert "epsilon" in now
    for name, tensor in learner.module.state_dict().items():
        assert torch.equal(now[name], tensor), name
    other = make_learner()
    other.update_from_replay([random_replay_batch(seed=3)], env_steps_lifetime=80)
    learner.set_state(other.get_state())
    for name, tensor in other.get_weights().items():
        assert torch.equal(learner.get_weights(copy=False)[name], tensor), name


def test_hard_target_update_copies_after_the_update_freq():
    torch.manual_seed(0)
    learner = make_learner(tau=1.0, target_network_update_freq=500)
    learner.update_from_replay([random_replay_batch()], env_steps_lifetime=499)
    online, target = online_and_target(learner)
    assert any(not torch.equal(a, b) for a, b in zip(online, target, strict=True))
    learner.update_from_replay([random_replay_batch(seed=1)], env_steps_lifetime=500)
    online, target = online_and_target(learner)
    assert all(torch.equal(a, b) for a, b in zip(online, target, strict=True))
    assert learner.last_target_update == 500


def test_soft_target_update_moves_halfway():
    torch.manual_seed(0)
    learner = make_learner(tau=0.5, target_network_update_freq=0)
    _, target0 = online_and_target(learner)
    learner.update_from_replay([random_replay_batch()], env_steps_lifetime=10)
    online1, target1 = online_and_target(learner)
    for t0, o1, t1 in zip(target0, online1, target1, strict=True):
        torch.testing.assert_close(t1, 0.5 * (t0 + o1))


# --- the config ----------------------------------------------------------------------------------


def test_config_defaults_and_every_field_documented_on_its_line():
    from rlrun.config.docs import field_docs

    cfg = DQNSchema()
    # Rainbow's options that cost nothing on a CPU are on; C51 and prioritized replay are opt-in.
    assert (cfg.name, cfg.double_q, cfg.dueling, cfg.num_atoms, cfg.n_step) == (
        "DQN",
        True,
        True,
        1,
        3,
    )
    assert cfg.epsilon[0] == [0, 1.0] and cfg.epsilon[-1][1] < 0.1  # explore fully, then little
    assert DQNSchema().epsilon is not cfg.epsilon  # no shared mutable default
    docs = field_docs(DQNSchema)
    own = ("double_q", "dueling", "num_atoms", "v_min", "v_max", "epsilon", "td_error_loss_fn")
    for name in own:
        assert docs[name][1], f"{name} has no comment on its line"
