"""The model catalog (rlrun/models): encoders per observation space, the config-time checks,
action masks, the LSTM core and MultiCategorical."""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlrun.config.schema import ModelConfig
from rlrun.core import tree
from rlrun.core.distributions import (
    Categorical,
    DiagGaussian,
    MultiCategorical,
    distribution_class_for,
    multi_categorical_for,
)
from rlrun.errors import ConfigError
from rlrun.models import encoders
from rlrun.models.action_mask import MASKED_LOGIT, mask_logits, mask_multi_logits
from rlrun.models.catalog import action_mask_key, build_encoder, check_encodable
from rlrun.models.recurrent import LSTMCore
from rlrun.models.spaces import MID_FILTERS, NATURE_FILTERS, SMALL_FILTERS

Box, Dict, Discrete = gym.spaces.Box, gym.spaces.Dict, gym.spaces.Discrete


def model_config(**overrides) -> dict:
    return {**dataclasses.asdict(ModelConfig()), **overrides}


def obs_batch(space: gym.Space, n: int, seed: int = 0) -> object:
    """n samples of `space` as a tree of torch tensors in their column dtypes."""
    space.seed(seed)
    samples = [tree.map_structure(np.asarray, space.sample()) for _ in range(n)]
    return tree.to_torch(tree.as_batch(space, tree.stack(samples)))


def image(shape: tuple[int, ...]) -> Box:
    return Box(0, 255, shape, np.uint8)


def convs(encoder: torch.nn.Module) -> list[torch.nn.Conv2d]:
    return [m for m in encoder.modules() if isinstance(m, torch.nn.Conv2d)]


# --- encoders by space ---------------------------------------------------------------------------


def test_vector_box_mlp_and_identity():
    space = Box(-1.0, 1.0, (2, 3), np.float32)
    enc = build_encoder(space, model_config(fcnet_hiddens=[32, 16]))
    assert enc.out_dim == 16
    assert enc(obs_batch(space, 5)).shape == (5, 16)
    ident = build_encoder(space, model_config(fcnet_hiddens=[]))
    x = obs_batch(space, 4)
    assert ident.out_dim == 6
    torch.testing.assert_close(ident(x), x.reshape(4, 6))


def test_scalar_box_and_rank2_float_box_are_vectors():
    assert build_encoder(Box(-1, 1, (), np.float32), model_config()).out_dim == 64
    enc = build_encoder(Box(-1, 1, (9, 9), np.float32), model_config(fcnet_hiddens=[]))
    assert enc.out_dim == 81 and not convs(enc)  # a float rank-2 Box is not an image


@pytest.mark.parametrize(
    ("shape", "in_channels", "filters"),
    [
        ((84, 84, 3), 3, NATURE_FILTERS),  # HWC
        ((4, 84, 84), 4, NATURE_FILTERS),  # CHW: FrameStackObservation over AtariPreprocessing
        ((42, 42, 1), 1, MID_FILTERS),
        ((10, 10, 3), 3, SMALL_FILTERS),
        ((10, 12), 1, SMALL_FILTERS),  # rank-2 uint8: one channel
        ((8, 8, 2), 2, SMALL_FILTERS),
    ],
)
def test_image_encoders(shape, in_channels, filters):
    space = image(shape)
    enc = build_encoder(space, model_config(fcnet_hiddens=[32]))
    layers = convs(enc)
    assert layers[0].in_channels == in_channels
    assert [[c.out_channels, c.kernel_size[0], c.stride[0]] for c in layers] == filters
    x = obs_batch(space, 3)
    assert x.dtype == torch.uint8  # nothing converts it before the encoder
    assert enc(x).shape == (3, 32) and enc.out_dim == 32


def test_uint8_is_scaled_inside_and_floats_taken_as_they_are():
    space = image((10, 10, 3))
    enc = build_encoder(space, model_config())
    x = obs_batch(space, 2)
    torch.testing.assert_close(enc(x), enc(x.float() / 255.0))


def test_cnn_dense_layer_defaults_to_256_without_fcnet_hiddens():
    enc = build_encoder(image((84, 84, 4)), model_config(fcnet_hiddens=[]))
    assert enc.out_dim == encoders.CNN_DENSE_DEFAULT == 256


def test_bfloat16_cnn_keeps_float32_weights_features_and_gradients():
    """conv_dtype=bfloat16 computes the CNN under autocast: same weights (float32), features
    within bfloat16's precision of the float32 ones, gradients as float32."""
    space = image((16, 16, 3))
    torch.manual_seed(0)
    fp32 = build_encoder(space, model_config())
    bf16 = build_encoder(space, model_config(conv_dtype="bfloat16"))
    bf16.load_state_dict(fp32.state_dict())
    x = obs_batch(space, 8)
    out = bf16(x)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, fp32(x), atol=5e-2, rtol=5e-2)
    out.sum().backward()
    grads = [p.grad for p in bf16.parameters()]
    assert all(g is not None and g.dtype == torch.float32 for g in grads)
    assert all(p.dtype == torch.float32 for p in bf16.parameters())


def test_given_conv_filters_are_used():
    enc = build_encoder(image((16, 16, 3)), model_config(conv_filters=[[8, 4, 4]]))
    assert [c.out_channels for c in convs(enc)] == [8]
    assert enc(obs_batch(image((16, 16, 3)), 2)).shape == (2, 64)


def test_discrete_one_hot_respects_start():
    space = Discrete(4, start=2)
    enc = build_encoder(space, model_config(fcnet_hiddens=[]))
    out = enc(torch.tensor([2, 5, 3]))
    torch.testing.assert_close(out, torch.eye(4)[[0, 3, 1]])
    assert build_encoder(space, model_config()).out_dim == 64


def test_multi_discrete_one_hots_concatenated():
    space = gym.spaces.MultiDiscrete([3, 2], start=[1, 0])
    enc = build_encoder(space, model_config(fcnet_hiddens=[]))
    assert enc.out_dim == 5
    out = enc(torch.tensor([[1, 1], [3, 0]]))
    torch.testing.assert_close(out, torch.tensor([[1.0, 0, 0, 0, 1], [0, 0, 1, 1, 0]]))


def test_multi_binary_is_a_float_vector():
    space = gym.spaces.MultiBinary(6)
    enc = build_encoder(space, model_config(fcnet_hiddens=[]))
    x = obs_batch(space, 3)
    assert x.dtype == torch.int8
    torch.testing.assert_close(enc(x), x.float())


def dict_space() -> Dict:
    inner = Dict({"img": image((10, 10, 3)), "d": Discrete(3)})
    return Dict(
        {
            "inner": inner,
            "v": Box(-1, 1, (2,), np.float32),
            "action_mask": gym.spaces.MultiBinary(3),
        }
    )


def test_dict_with_nested_dict_image_and_discrete():
    space = dict_space()
    feats = build_encoder(space, model_config(fcnet_hiddens=[]))
    # CNN dense (256 without fcnet_hiddens) + one-hot 3 + vector 2 + the mask's 3 (no key set)
    assert feats.out_dim == 256 + 3 + 2 + 3
    enc = build_encoder(space, model_config(fcnet_hiddens=[32]))
    assert enc(obs_batch(space, 4)).shape == (4, 32)


def test_dict_skips_the_action_mask_key():
    space = dict_space()
    cfg = model_config(fcnet_hiddens=[], action_mask_key="action_mask")
    enc = build_encoder(space, cfg)
    assert enc.out_dim == 256 + 3 + 2
    x = obs_batch(space, 2)
    out = enc(x)
    x["action_mask"] = 1 - x["action_mask"]  # the mask does not reach the features
    torch.testing.assert_close(enc(x), out)


def test_tuple_space():
    space = gym.spaces.Tuple((Box(-1, 1, (3,), np.float32), Discrete(2)))
    enc = build_encoder(space, model_config(fcnet_hiddens=[]))
    assert enc.out_dim == 5
    assert enc(obs_batch(space, 6)).shape == (6, 5)


def test_features_only_leaves_out_the_mlp():
    space = Box(-1, 1, (3,), np.float32)
    assert build_encoder(space, model_config(), features_only=True).out_dim == 3


# --- what cannot be encoded ----------------------------------------------------------------------


def test_conv_filters_that_do_not_fit_name_shape_and_layer(monkeypatch):
    def no_torch_layers(*args, **kwargs):
        raise AssertionError("torch layers built before the check")

    monkeypatch.setattr(encoders.nn, "Conv2d", no_torch_layers)
    cfg = model_config(conv_filters=[[16, 8, 4], [32, 4, 2]])
    with pytest.raises(ConfigError, match="conv_filters") as info:
        build_encoder(image((10, 10, 3)), cfg)
    msg = str(info.value)
    assert "(10, 10, 3)" in msg and "layer 1 [32, 4, 2]" in msg and "1x1" in msg, msg
    with pytest.raises(ConfigError, match="conv_filters"):
        check_encodable(image((10, 10, 3)), cfg)


def test_conv_filters_without_an_image_to_use_them_are_an_error():
    cfg = model_config(conv_filters=[[16, 4, 2]])
    with pytest.raises(ConfigError, match="has no image for a CNN") as info:
        check_encodable(Box(-1, 1, (4,), np.float32), cfg)
    assert info.value.key == "algo.model.conv_filters"
    # An image leaf of a Dict uses them.
    check_encodable(Dict({"img": image((16, 16, 3)), "v": Box(-1, 1, (2,), np.float32)}), cfg)


@pytest.mark.parametrize("bad", [[[16, 3]], [[16, 3, 0]], "big", [], [[16.5, 3, 1]]])
def test_malformed_conv_filters(bad):
    with pytest.raises(ConfigError, match=r"out_channels, kernel, stride"):
        check_encodable(image((16, 16, 3)), model_config(conv_filters=bad))


@pytest.mark.parametrize(
    ("space", "what"),
    [
        (gym.spaces.Text(5), "Text"),
        (Box(0, 1, (2, 3, 4, 5), np.float32), "rank-4"),
        (Dict({"ok": Discrete(2), "bad": gym.spaces.Text(3)}), "Text at bad"),
    ],
)
def test_unencodable_spaces(space, what):
    with pytest.raises(ConfigError, match="env.id") as info:
        check_encodable(space, model_config(), env_id="MyEnv-v0")
    msg = str(info.value)
    assert msg.startswith("env.id=MyEnv-v0") and what in msg and "MultiDiscrete" in msg, msg
    with pytest.raises(ConfigError, match="env.id"):
        build_encoder(space, model_config())


def test_a_small_rank3_box_is_a_board_flattened_into_the_mlp():
    """Tic-tac-toe's 3x3x2 planes: no CNN fits, an MLP over the 18 cells does."""
    space = image((3, 3, 2))
    check_encodable(space, model_config())
    encoder = build_encoder(space, model_config(fcnet_hiddens=[8]))
    out = encoder(torch.zeros(5, 3, 3, 2, dtype=torch.uint8))
    assert out.shape == (5, encoder.out_dim)


def test_a_dict_holding_only_the_mask_is_refused():
    space = Dict({"action_mask": gym.spaces.MultiBinary(2)})
    with pytest.raises(ConfigError, match="nothing to encode"):
        check_encodable(space, model_config(action_mask_key="action_mask"))


# --- action_mask_key -----------------------------------------------------------------------------


def test_action_mask_key_found_configured_or_refused():
    space = dict_space()
    assert action_mask_key(space, None) == "action_mask"
    assert action_mask_key(space, None, Discrete(3)) == "action_mask"
    assert action_mask_key(Box(-1, 1, (2,)), None) is None
    assert action_mask_key(Dict({"v": Box(-1, 1, (2,))}), None) is None
    assert action_mask_key(space, "v") == "v"
    with pytest.raises(
        ConfigError, match=r"env.action_mask_key=legal.*keys are action_mask, inner, v"
    ):
        action_mask_key(space, "legal")
    with pytest.raises(ConfigError, match="not a Dict"):
        action_mask_key(Box(-1, 1, (2,)), "mask")
    with pytest.raises(ConfigError, match=r"MultiBinary\(4\)"):
        action_mask_key(space, None, Discrete(4))  # 3 mask entries for 4 actions
    assert action_mask_key(space, None, gym.spaces.MultiDiscrete([2, 1])) == "action_mask"


# --- masks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.int8, torch.uint8, torch.bool, torch.float32])
def test_mask_logits_dtypes(dtype):
    logits = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]])
    mask = torch.tensor([[1, 0, 1], [0, 0, 0]]).to(dtype)
    out = mask_logits(logits, mask)
    torch.testing.assert_close(out[0], torch.tensor([1.0, MASKED_LOGIT, 3.0]))
    torch.testing.assert_close(out[1], logits[1])  # nothing legal: left as it was


def test_masked_categorical_has_no_nan_and_zero_probability():
    logits = torch.randn(3, 4, requires_grad=True)
    mask = torch.tensor([[1, 0, 0, 1], [0, 0, 0, 0], [0, 0, 1, 0]], dtype=torch.int8)
    dist = Categorical(mask_logits(logits, mask))
    other = Categorical(mask_logits(torch.randn(3, 4), mask))
    values = [dist.entropy(), dist.kl(other), dist.logp(torch.tensor([0, 1, 2]))]
    assert all(torch.isfinite(v).all() for v in values)
    assert dist.logits.exp()[0, 1] == 0.0 and dist.logp(torch.tensor([2, 2, 2]))[2] == 0.0
    sum(v.sum() for v in values).backward()
    assert torch.isfinite(logits.grad).all()


def test_mask_multi_logits_per_component():
    logits = torch.zeros(1, 5)
    mask = torch.tensor([[1, 0, 1, 0, 0]])  # nvec [3, 2]: the second component has no legal value
    out = mask_multi_logits(logits, mask, (3, 2))
    torch.testing.assert_close(out, torch.tensor([[0.0, MASKED_LOGIT, 0.0, 0.0, 0.0]]))


# --- LSTM core -----------------------------------------------------------------------------------


def test_lstm_core_shapes_and_state():
    core = LSTMCore(5, 8)
    init = core.get_initial_state()
    assert set(init) == {"h", "c"} and init["h"].shape == (8,)
    state = tree.map_structure(lambda s: s.expand(3, -1), init)
    out, new = core(torch.randn(3, 4, 5), state)
    assert out.shape == (3, 4, 8) and new["h"].shape == (3, 8) and new["c"].shape == (3, 8)
    torch.testing.assert_close(out[:, -1], new["h"])


# --- distributions -------------------------------------------------------------------------------


def test_multi_categorical_against_hand_computation():
    nvec = (3, 2)
    logits = torch.log(torch.tensor([[0.2, 0.3, 0.5, 0.6, 0.4]]))
    other_logits = torch.log(torch.tensor([[1 / 3, 1 / 3, 1 / 3, 0.5, 0.5]]))
    dist, other = MultiCategorical(logits, nvec), MultiCategorical(other_logits, nvec)
    logp = dist.logp(torch.tensor([[2, 0]]))
    assert logp.item() == pytest.approx(math.log(0.5) + math.log(0.6), rel=1e-5)
    h = -sum(p * math.log(p) for p in [0.2, 0.3, 0.5]) - sum(p * math.log(p) for p in [0.6, 0.4])
    assert dist.entropy().item() == pytest.approx(h, rel=1e-5)
    kl = sum(p * math.log(p * 3) for p in [0.2, 0.3, 0.5]) + sum(
        p * math.log(p * 2) for p in [0.6, 0.4]
    )
    assert dist.kl(other).item() == pytest.approx(kl, rel=1e-5)
    torch.testing.assert_close(dist.to_deterministic().sample(), torch.tensor([[2, 0]]))


def test_multi_categorical_class_from_the_space():
    space = gym.spaces.MultiDiscrete([3, 2])
    cls = distribution_class_for(space)
    assert cls is multi_categorical_for([3, 2]) and issubclass(cls, MultiCategorical)
    assert cls.required_input_dim(space) == 5
    assert pickle.loads(pickle.dumps(cls)) is cls and copy.deepcopy(cls) is cls
    samples = cls(torch.zeros(1000, 5)).sample()
    assert samples.shape == (1000, 2) and samples.dtype == torch.int64
    assert set(samples[:, 0].tolist()) == {0, 1, 2} and set(samples[:, 1].tolist()) == {0, 1}


@pytest.mark.parametrize(
    ("cls", "width", "action"),
    [
        (Categorical, 4, lambda: torch.randint(0, 4, (2, 3))),
        (multi_categorical_for([3, 2]), 5, lambda: torch.zeros(2, 3, 2, dtype=torch.long)),
        (DiagGaussian, 4, lambda: torch.randn(2, 3, 2)),
    ],
)
def test_distributions_take_any_leading_shape(cls, width, action):
    """Recurrent losses call them on [B, T, ...] inputs."""
    dist, other = cls(torch.randn(2, 3, width)), cls(torch.randn(2, 3, width))
    for value in (dist.logp(action()), dist.entropy(), dist.kl(other)):
        assert value.shape == (2, 3)
    assert dist.sample().shape[:2] == (2, 3)
