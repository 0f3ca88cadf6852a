"""Schedules (rlrun.core.schedules) and the hand-written Adam (rlrun.core.optim) vs torch.optim."""

from __future__ import annotations

import pytest
import torch

from rlrun.core.optim import Adam
from rlrun.core.schedules import Schedule

# --- Schedule ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [3e-4, 5, 0.0])
def test_constant_schedule(spec):
    s = Schedule(spec)
    assert s.is_constant
    for t in (0, 1, 10**9):
        assert s.value(t) == float(spec)


def test_single_point_schedule_is_constant():
    s = Schedule([[100, 0.5]])
    assert s.is_constant
    assert s.value(0) == 0.5 and s.value(100) == 0.5 and s.value(10**6) == 0.5


def test_linear_interpolation_between_two_points():
    s = Schedule([[0, 1e-3], [100_000, 1e-4]])
    assert not s.is_constant
    assert s.value(0) == pytest.approx(1e-3)
    assert s.value(50_000) == pytest.approx(5.5e-4)
    assert s.value(25_000) == pytest.approx(7.75e-4)
    assert s.value(100_000) == pytest.approx(1e-4)


def test_before_first_and_after_last_points_hold():
    s = Schedule([[10, 1.0], [20, 2.0], [40, 0.0]])
    assert s.value(0) == 1.0  # before the first point: the first value
    assert s.value(-5) == 1.0
    assert s.value(15) == pytest.approx(1.5)
    assert s.value(20) == pytest.approx(2.0)
    assert s.value(30) == pytest.approx(1.0)  # on the second segment
    assert s.value(40) == 0.0
    assert s.value(10**9) == 0.0  # after the last point: the last value


def test_schedule_accepts_tuples_and_increasing_values():
    s = Schedule(((0, 0.0), (4, 1.0)))
    assert [s.value(t) for t in range(6)] == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0, 1.0])


@pytest.mark.parametrize("bad", [[], [[0, 1, 2]], [[0]], [1.0, 2.0]])
def test_bad_schedule_specs_are_rejected(bad):
    with pytest.raises((ValueError, TypeError)):
        Schedule(bad)


# --- Adam --------------------------------------------------------------------------------


def regression_problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=g)
    y = x @ torch.tensor([[1.5], [-2.0], [0.5]]) + 0.3 + 0.1 * torch.randn(64, 1, generator=g)
    return x, y


def make_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))


def train_steps(model, opt, x, y, steps: int) -> list[float]:
    losses = []
    for _ in range(steps):
        loss = (model(x) - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


@pytest.mark.parametrize("lr, betas, eps", [(1e-2, (0.9, 0.999), 1e-8), (3e-3, (0.8, 0.99), 1e-5)])
def test_adam_matches_torch_adam(lr, betas, eps):
    x, y = regression_problem()
    ours_model, ref_model = make_model(), make_model()
    ours = Adam(ours_model.parameters(), lr=lr, betas=betas, eps=eps)
    ref = torch.optim.Adam(ref_model.parameters(), lr=lr, betas=betas, eps=eps)
    l_ours = train_steps(ours_model, ours, x, y, 20)
    l_ref = train_steps(ref_model, ref, x, y, 20)
    assert l_ours[-1] < l_ours[0]  # it learns
    assert l_ours == pytest.approx(l_ref, rel=1e-5, abs=1e-7)
    for p, q in zip(ours_model.parameters(), ref_model.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    # The moments agree with torch's state too.
    sd = ours.state_dict()
    for i, q in enumerate(ref_model.parameters()):
        torch.testing.assert_close(
            sd[f"exp_avg.{i}"], ref.state[q]["exp_avg"], rtol=1e-5, atol=1e-7
        )
        torch.testing.assert_close(
            sd[f"exp_avg_sq.{i}"], ref.state[q]["exp_avg_sq"], rtol=1e-5, atol=1e-9
        )
    assert int(sd["step"]) == 20


def test_adam_lr_can_change_between_steps():
    x, y = regression_problem()
    ours_model, ref_model = make_model(), make_model()
    ours = Adam(ours_model.parameters(), lr=1e-2)
    ref = torch.optim.Adam(ref_model.parameters(), lr=1e-2)
    for lr in (1e-2, 5e-3, 1e-3, 2e-2):
        ours.lr = lr
        for group in ref.param_groups:
            group["lr"] = lr
        train_steps(ours_model, ours, x, y, 3)
        train_steps(ref_model, ref, x, y, 3)
    for p, q in zip(ours_model.parameters(), ref_model.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_adam_state_dict_round_trip_continues_identically():
    x, y = regression_problem()
    model = make_model()
    opt = Adam(model.parameters(), lr=1e-2, eps=1e-5)
    train_steps(model, opt, x, y, 10)
    state = opt.state_dict()
    assert all(isinstance(v, torch.Tensor) for v in state.values())  # safetensors-able
    weights = {k: v.clone() for k, v in model.state_dict().items()}

    # Continue the original ...
    cont = train_steps(model, opt, x, y, 10)

    # ... and a fresh model + optimizer restored from the snapshot.
    model2 = make_model(seed=123)
    model2.load_state_dict(weights)
    opt2 = Adam(model2.parameters(), lr=1e-2, eps=1e-5)
    opt2.load_state_dict(state)
    assert opt2.step_count == 10
    cont2 = train_steps(model2, opt2, x, y, 10)
    assert cont2 == cont  # bit-identical
    for p, q in zip(model.parameters(), model2.parameters(), strict=True):
        assert torch.equal(p, q)


def test_adam_state_dict_is_a_snapshot():
    x, y = regression_problem()
    model = make_model()
    opt = Adam(model.parameters(), lr=1e-2)
    train_steps(model, opt, x, y, 2)
    state = opt.state_dict()
    saved = state["exp_avg.0"].clone()
    train_steps(model, opt, x, y, 2)
    assert torch.equal(state["exp_avg.0"], saved)


def test_adam_load_state_dict_rejects_wrong_shape_of_state():
    model = make_model()
    opt = Adam(model.parameters(), lr=1e-2)
    other = Adam(torch.nn.Linear(3, 1).parameters(), lr=1e-2)
    with pytest.raises(ValueError, match="different number"):
        opt.load_state_dict(other.state_dict())


def test_adam_skips_parameters_without_grad():
    a = torch.nn.Parameter(torch.ones(2))
    b = torch.nn.Parameter(torch.ones(2))
    opt = Adam([a, b], lr=0.1)
    a.grad = torch.tensor([1.0, -1.0])
    opt.step()
    # First Adam step moves each coordinate by ~lr * sign(g).
    torch.testing.assert_close(a.detach(), torch.tensor([0.9, 1.1]), atol=1e-6, rtol=0)
    assert torch.equal(b.detach(), torch.ones(2))
    opt.zero_grad()
    assert a.grad is None
