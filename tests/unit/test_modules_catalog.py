"""PPO, DQN and SAC default modules on the catalog: Dict observations, action masks, the
recurrent PPO module, and model configs read from the schema."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlrun.algorithms.dqn.module import DQNModule
from rlrun.algorithms.ppo.module import PPOModule
from rlrun.algorithms.sac.module import Q_VALUES, SACModule
from rlrun.config.schema import ModelConfig
from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.errors import ConfigError

N_OBS, N_REPEATS = 200, 50  # 10k sampled actions: 200 observations' distributions, 50 times
OBS_SPACE = gym.spaces.Dict(
    {
        "action_mask": gym.spaces.MultiBinary(4),
        "img": gym.spaces.Box(0, 255, (10, 10, 3), np.uint8),
        "inner": gym.spaces.Dict(
            {"d": gym.spaces.Discrete(3), "v": gym.spaces.Box(-1, 1, (2,), np.float32)}
        ),
    }
)
ACT_SPACE = gym.spaces.Discrete(4)


def model_config(masked: bool = True, **overrides) -> dict:
    cfg = dataclasses.asdict(ModelConfig())
    cfg.update(fcnet_hiddens=[16], lstm_cell_size=8, **overrides)
    cfg["action_mask_key"] = "action_mask" if masked else None
    return cfg


def dqn_config(**overrides) -> dict:
    extras = {"dueling": True, "num_atoms": 1, "v_min": -10.0, "v_max": 10.0}
    return model_config(**{**extras, **overrides})


def sac_config(**overrides) -> dict:
    return model_config(**{"twin_q": True, "initial_alpha": 1.0, **overrides})


def obs_batch(n: int, lead: tuple[int, ...] = (), seed: int = 0, space=OBS_SPACE) -> dict:
    """n samples (reshaped to `lead` + leaf shape if given) as torch tensors."""
    space.seed(seed)
    samples = [tree.map_structure(np.asarray, space.sample()) for _ in range(n)]
    batch = tree.to_torch(tree.as_batch(space, tree.stack(samples)))
    return tree.reshape_lead(batch, 1, lead) if lead else batch


def with_mask(obs: dict, legal: list[int]) -> dict:
    mask = torch.zeros_like(obs["action_mask"])
    mask[..., legal] = 1
    return {**obs, "action_mask": mask}


# --- feed-forward forwards on Dict observations ------------------------------------------------


@pytest.mark.parametrize("share", [True, False])
def test_ppo_on_dict_obs(share):
    m = PPOModule(OBS_SPACE, ACT_SPACE, model_config(vf_share_layers=share))
    obs = obs_batch(5)
    assert m.forward_exploration({C.OBS: obs})[C.ACTION_DIST_INPUTS].shape == (5, 4)
    assert m.forward_inference({C.OBS: obs})[C.ACTION_DIST_INPUTS].shape == (5, 4)
    out = m.forward_train({C.OBS: obs})
    assert out[C.VF_PREDS].shape == (5,)
    torch.testing.assert_close(m.compute_values({C.OBS: obs}), out[C.VF_PREDS])
    assert hasattr(m, "vf_encoder") != share and not m.is_stateful


def test_ppo_head_hiddens_and_box_actions_with_free_log_std():
    box = gym.spaces.Box(-1, 1, (2,), np.float32)
    cfg = model_config(masked=False, head_fcnet_hiddens=[8], log_std_init=-0.5)
    m = PPOModule(OBS_SPACE, box, cfg)
    adi = m.forward_exploration({C.OBS: obs_batch(3)})[C.ACTION_DIST_INPUTS]
    assert adi.shape == (3, 4)
    torch.testing.assert_close(adi[:, 2:], torch.full((3, 2), -0.5))
    assert len([x for x in m.pi_head if isinstance(x, torch.nn.Linear)]) == 2


def test_dqn_on_dict_obs_dueling_and_c51():
    for cfg in (dqn_config(), dqn_config(dueling=False, num_atoms=5)):
        m = DQNModule(OBS_SPACE, ACT_SPACE, cfg)
        obs = obs_batch(5)
        assert m.q_values(obs).shape == m.target_q_values(obs).shape == (5, 4)
        out = m.forward_train({C.OBS: obs})
        assert out["q_values"].shape == (5, 4)
        assert ("q_logits" in out) == (cfg["num_atoms"] > 1)
        assert m.forward_exploration({C.OBS: obs})[C.ACTION_DIST_INPUTS].shape == (5, 4)


def test_sac_on_dict_obs_discrete_and_box():
    m = SACModule(OBS_SPACE, ACT_SPACE, sac_config())
    obs = obs_batch(5)
    out = m.forward_train({C.OBS: obs, C.ACTIONS: torch.zeros(5, dtype=torch.long)})
    assert out[C.ACTION_DIST_INPUTS].shape == (5, 4) and out[Q_VALUES].shape == (2, 5, 4)
    assert m.target_q_all(obs).shape == (2, 5, 4)
    box = gym.spaces.Box(-1, 1, (3,), np.float32)
    m = SACModule(OBS_SPACE, box, sac_config(masked=False))
    out = m.forward_train({C.OBS: obs, C.ACTIONS: torch.zeros(5, 3)})
    assert out[C.ACTION_DIST_INPUTS].shape == (5, 6) and out[Q_VALUES].shape == (2, 5)
    assert m.target_q(obs, torch.zeros(5, 3)).shape == (2, 5)


def test_box_critic_is_the_classic_mlp_on_obs_and_action():
    """Vector obs: concat(obs, a) -> MLP(fcnet_hiddens) -> 1, so Q is not linear in a."""
    obs_space = gym.spaces.Box(-1, 1, (3,), np.float32)
    m = SACModule(obs_space, gym.spaces.Box(-1, 1, (2,), np.float32), sac_config(masked=False))
    first = m.qs[0].mlp[0]
    assert first.in_features == 5 and first.out_features == 16


def test_schema_defaults_fill_missing_keys():
    """The issue: SAC fell back to [256, 256] and DQN to dueling=False; the schema says
    [64, 64] and dueling=True."""
    obs_space = gym.spaces.Box(-1, 1, (3,), np.float32)
    sac = SACModule(obs_space, gym.spaces.Box(-1, 1, (1,), np.float32), {})
    assert sac.pi.encoder.out_dim == 64 and len(sac.qs) == 2
    dqn = DQNModule(obs_space, ACT_SPACE, {})
    assert dqn.q_net.dueling and dqn.model_config["fcnet_activation"] == "relu"
    assert PPOModule(obs_space, ACT_SPACE, {}).model_config["fcnet_hiddens"] == [64, 64]


@pytest.mark.parametrize("cls", [DQNModule, SACModule])
def test_off_policy_modules_refuse_lstm(cls):
    cfg = dqn_config(use_lstm=True) if cls is DQNModule else sac_config(use_lstm=True)
    with pytest.raises(ConfigError, match="algo.model.use_lstm=true"):
        cls(OBS_SPACE, ACT_SPACE, cfg)


# --- action masks --------------------------------------------------------------------------------


def sampled(module, obs, explore=True) -> torch.Tensor:
    """N_REPEATS actions per observation (the network runs once per observation)."""
    forward = module.forward_exploration if explore else module.forward_inference
    adi = forward({C.OBS: obs})[C.ACTION_DIST_INPUTS]
    dist = module.action_dist_cls(adi.repeat(N_REPEATS, *([1] * (adi.dim() - 1))))
    return dist.sample() if explore else dist.to_deterministic().sample()


@pytest.mark.parametrize("legal", [[0, 2], [3]])
def test_masked_actions_never_sampled_ppo_and_sac(legal):
    torch.manual_seed(0)
    obs = with_mask(obs_batch(N_OBS), legal)
    for m in (
        PPOModule(OBS_SPACE, ACT_SPACE, model_config()),
        SACModule(OBS_SPACE, ACT_SPACE, sac_config()),
    ):
        with torch.no_grad():
            actions = sampled(m, obs)
            greedy = sampled(m, obs, explore=False)
        assert set(actions.tolist()) == set(legal)
        assert set(greedy.tolist()) <= set(legal)


@pytest.mark.parametrize("legal", [[1, 2], [0]])
def test_dqn_masked_greedy_and_epsilon_greedy(legal):
    torch.manual_seed(0)
    m = DQNModule(OBS_SPACE, ACT_SPACE, dqn_config())
    obs = with_mask(obs_batch(N_OBS), legal)
    with torch.no_grad():
        assert set(m.q_values(obs).argmax(-1).tolist()) <= set(legal)
        assert set(sampled(m, obs, explore=False).tolist()) <= set(legal)
        m.epsilon.fill_(1.0)
        assert set(sampled(m, obs).tolist()) == set(legal)
        logits = m.forward_exploration({C.OBS: obs})[C.ACTION_DIST_INPUTS]
    probs = m.action_dist_cls(logits).logits.exp()
    torch.testing.assert_close(probs[:, legal].sum(-1), torch.ones(N_OBS))


def test_multi_discrete_ppo_masks_each_component():
    torch.manual_seed(0)
    act_space = gym.spaces.MultiDiscrete([3, 1])  # 4 logits: the mask's 4 entries
    m = PPOModule(OBS_SPACE, act_space, model_config())
    obs = with_mask(obs_batch(N_OBS), [1, 3])
    with torch.no_grad():
        actions = sampled(m, obs)
    assert actions.shape == (N_OBS * N_REPEATS, 2)
    assert set(actions[:, 0].tolist()) == {1} and set(actions[:, 1].tolist()) == {0}


def test_fully_masked_rows_give_no_nan():
    obs = with_mask(obs_batch(4), [])
    for m in (
        PPOModule(OBS_SPACE, ACT_SPACE, model_config()),
        SACModule(OBS_SPACE, ACT_SPACE, sac_config()),
        DQNModule(OBS_SPACE, ACT_SPACE, dqn_config()),
    ):
        adi = m.forward_exploration({C.OBS: obs})[C.ACTION_DIST_INPUTS]
        dist = m.action_dist_cls(adi)
        assert torch.isfinite(dist.entropy()).all() and torch.isfinite(adi).all()


# --- the recurrent PPO module --------------------------------------------------------------------


def lstm_module(**overrides) -> PPOModule:
    torch.manual_seed(0)
    return PPOModule(OBS_SPACE, ACT_SPACE, model_config(use_lstm=True, **overrides))


def initial(m: PPOModule, b: int) -> dict:
    return tree.map_structure(lambda s: s.expand(b, *s.shape), m.get_initial_state())


def test_recurrent_shapes():
    m = lstm_module()
    init = m.get_initial_state()
    # Policy and value have their own LSTM unless vf_share_layers (the value's state: vf_*).
    assert m.is_stateful and set(init) == {"h", "c", "vf_h", "vf_c"} and init["h"].shape == (8,)
    shared = lstm_module(vf_share_layers=True).get_initial_state()
    assert set(shared) == {"h", "c"}
    batch = {C.OBS: obs_batch(12, (3, 4)), C.STATE_IN: initial(m, 3)}
    out = m.forward_train(batch)
    assert out[C.ACTION_DIST_INPUTS].shape == (3, 4, 4) and out[C.VF_PREDS].shape == (3, 4)
    assert out[C.STATE_OUT]["h"].shape == (3, 8) and out[C.STATE_OUT]["c"].shape == (3, 8)
    torch.testing.assert_close(m.compute_values(batch), out[C.VF_PREDS])
    explore = m.forward_exploration(batch)
    assert explore[C.ACTION_DIST_INPUTS].shape == (3, 4, 4) and C.STATE_OUT in explore


def test_recurrent_t_steps_equal_t_chained_one_step_calls():
    m = lstm_module(vf_share_layers=False)
    obs = obs_batch(10, (2, 5))
    with torch.no_grad():
        whole = m.forward_train({C.OBS: obs, C.STATE_IN: initial(m, 2)})
        state, steps = initial(m, 2), []
        for t in range(5):
            step_obs = tree.map_structure(lambda x, t=t: x[:, t : t + 1], obs)
            out = m.forward_train({C.OBS: step_obs, C.STATE_IN: state})
            steps.append(out[C.ACTION_DIST_INPUTS])
            state = out[C.STATE_OUT]
    torch.testing.assert_close(torch.cat(steps, dim=1), whole[C.ACTION_DIST_INPUTS])
    torch.testing.assert_close(state, whole[C.STATE_OUT])


def test_recurrent_state_carries_and_a_reset_state_is_fresh():
    m = lstm_module()
    first, second = obs_batch(6, (2, 3), seed=1), obs_batch(2, (2, 1), seed=2)
    with torch.no_grad():
        carried = m.forward_exploration({C.OBS: first, C.STATE_IN: initial(m, 2)})[C.STATE_OUT]
        fresh = m.forward_exploration({C.OBS: second, C.STATE_IN: initial(m, 2)})
        after = m.forward_exploration({C.OBS: second, C.STATE_IN: carried})
        reset = m.forward_exploration({C.OBS: second, C.STATE_IN: initial(m, 2)})
    assert not torch.allclose(after[C.ACTION_DIST_INPUTS], fresh[C.ACTION_DIST_INPUTS])
    torch.testing.assert_close(reset[C.ACTION_DIST_INPUTS], fresh[C.ACTION_DIST_INPUTS])


def test_recurrent_masking_never_samples_illegal_actions():
    m = lstm_module()
    obs = with_mask(obs_batch(N_OBS, (N_OBS // 2, 2)), [2])
    with torch.no_grad():
        adi = m.forward_exploration({C.OBS: obs, C.STATE_IN: initial(m, N_OBS // 2)})
    actions = m.action_dist_cls(adi[C.ACTION_DIST_INPUTS].repeat(N_REPEATS, 1, 1)).sample()
    assert actions.shape == (N_OBS // 2 * N_REPEATS, 2) and set(actions.flatten().tolist()) == {2}


def test_modules_pickle_and_deepcopy_with_multi_discrete_actions():
    """Ray ships modules and specs by pickle; MultiCategorical's class must survive it."""
    m = PPOModule(OBS_SPACE, gym.spaces.MultiDiscrete([3, 1]), model_config())
    obs = obs_batch(3)
    expected = m.forward_exploration({C.OBS: obs})[C.ACTION_DIST_INPUTS]
    for other in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert other.action_dist_cls is m.action_dist_cls
        torch.testing.assert_close(
            other.forward_exploration({C.OBS: obs})[C.ACTION_DIST_INPUTS], expected
        )
