"""Encoders: observation tree -> features [B, out_dim], one class per kind of space.

Leaves arrive shaped [B, *leaf_shape] in their column dtype (tree.space_dtype): float32
vectors, uint8 images (scaled to [0, 1] here, so the batch carries a quarter of the bytes),
int64 Discrete/MultiDiscrete indices (one-hot here). Recurrent modules fold their time axis
into B before calling. Which class a space gets is catalog.py's and spaces.py's decision.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from rlrun.core.rl_module import ACTIVATIONS, mlp
from rlrun.models.spaces import (
    Path,
    check_space,
    conv_out_size,
    conv_plan,
    flat_size,
    image_layout,
    leaf_kind,
    leaf_spaces,
)

# The CNN's dense layer when fcnet_hiddens is empty (otherwise its last entry).
CNN_DENSE_DEFAULT = 256


class Encoder(nn.Module):
    """obs tree (leaves [B, ...]) -> [B, out_dim]."""

    out_dim: int


class MLPEncoder(nn.Sequential, Encoder):
    """A vector leaf (Box, MultiBinary): flattened, cast to float, then the MLP (the identity
    when `hiddens` is empty). The CartPole hot path, so it is the Sequential itself (one
    module call, not an encoder calling a Sequential)."""

    def __init__(self, in_dim: int, hiddens: list[int], activation: str) -> None:
        super().__init__(*mlp(in_dim, list(hiddens), activation, None, 1.0))
        self.out_dim = hiddens[-1] if hiddens else in_dim

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = (obs.flatten(1) if obs.dim() > 1 else obs.unsqueeze(1)).float()
        for layer in self:
            x = layer(x)
        return x


class OneHotEncoder(Encoder):
    """Discrete(n, start) or MultiDiscrete(nvec, start): one one-hot per component,
    concatenated (sum(nvec) wide), then the MLP."""

    def __init__(self, space: Any, hiddens: list[int], activation: str) -> None:
        super().__init__()
        import numpy as np

        nvec = np.asarray(getattr(space, "nvec", [getattr(space, "n", 0)]), np.int64).ravel()
        start = np.broadcast_to(np.asarray(space.start, np.int64), space.shape or (1,)).ravel()
        # Component i's value v sits at column offset_i + v - start_i of the concatenation.
        offsets = np.concatenate([[0], np.cumsum(nvec)[:-1]]) - start
        self.register_buffer("offsets", torch.as_tensor(offsets), persistent=False)
        self.in_dim = int(nvec.sum())
        self.net = mlp(self.in_dim, list(hiddens), activation, None, 1.0)
        self.out_dim = hiddens[-1] if hiddens else self.in_dim

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        idx = obs.reshape(obs.shape[0], -1).long() + self.offsets
        one_hot = torch.zeros(idx.shape[0], self.in_dim, device=idx.device)
        return self.net(one_hot.scatter_(1, idx, 1.0))


class CNNEncoder(Encoder):
    """An image leaf: uint8 -> float / 255 (floats as they are), HWC -> CHW, valid-padded convs
    (conv_filters, or a default by size: spaces.default_conv_filters), flatten, then one dense
    layer of `dense_dim` units, all with conv_activation."""

    def __init__(self, space: Any, model_config: dict[str, Any], dense_dim: int) -> None:
        super().__init__()
        layout = image_layout(space)
        assert layout is not None, space
        filters = conv_plan(space, layout, model_config["conv_filters"])  # raises if no fit
        self.channels_first, self.has_channel_axis = layout.channels_first, layout.has_channel_axis
        act_cls = ACTIVATIONS[model_config["conv_activation"]]
        layers: list[nn.Module] = []
        prev = layout.channels
        for channels, kernel, stride in filters:
            conv = nn.Conv2d(prev, channels, kernel, stride)
            nn.init.orthogonal_(conv.weight, math.sqrt(2.0))
            nn.init.zeros_(conv.bias)
            layers.append(conv)
            if act_cls is not None:
                layers.append(act_cls())
            prev = channels
        layers.append(nn.Flatten())
        # Conv weights in channels-last memory too, matching the input below: oneDNN then
        # skips reordering the weights on every call (Nature CNN forward + backward on
        # [256, 4, 84, 84] in bfloat16, one thread: 0.089 s against 0.104 s). Same values;
        # checkpoints save contiguous copies.
        self.convs = nn.Sequential(*layers).to(memory_format=torch.channels_last)
        self.dense = mlp(
            conv_out_size(layout, filters), [dense_dim], model_config["conv_activation"], None, 1.0
        )
        self.out_dim = dense_dim
        self.bfloat16 = model_config["conv_dtype"] == "bfloat16"

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs
        if not self.has_channel_axis:
            x = x.unsqueeze(1)
        elif not self.channels_first:
            x = x.permute(0, 3, 1, 2)  # already channels-last in memory
        # Channels-last memory (NHWC) takes oneDNN's faster CPU convolutions: 13-28% less time
        # for a Nature-CNN forward and backward on [256, 4, 84, 84] (one thread). The maths and
        # the flatten order are the same; only the input's layout changes. The layout copy is
        # made while the frames are still uint8 (a quarter of float32's bytes), then the one
        # conversion to the compute type keeps the layout and scales in place: one float copy
        # of the frames per forward where converting first made three (Pong PPO: a fifth less
        # time per iteration).
        x = x.contiguous(memory_format=torch.channels_last)
        x = x.to(torch.bfloat16 if self.bfloat16 else torch.float32)
        if obs.dtype == torch.uint8:
            x = x.mul_(1.0 / 255.0)  # a fresh tensor: .to() copied the uint8 frames
        if self.bfloat16:
            # The convs and the dense layer in bfloat16 (autocast keeps float32 weights and
            # gradients); the features go on as float32, so heads and losses are unchanged.
            with torch.autocast(x.device.type, dtype=torch.bfloat16):
                return self.dense(self.convs(x)).float()
        return self.dense(self.convs(x))


class TreeEncoder(Encoder):
    """Dict/Tuple: one encoder per leaf (vectors flattened and one-hots without an MLP of
    their own, images through a CNN), concatenated, then one MLP over the concatenation.
    The top-level action-mask key is not encoded. `hiddens` is fcnet_hiddens (or [] for the
    concatenated features alone)."""

    def __init__(
        self, space: Any, model_config: dict[str, Any], mask_key: str | None, hiddens: list[int]
    ) -> None:
        super().__init__()
        self.paths: list[Path] = []
        encoders: list[Encoder] = []
        for path, leaf in leaf_spaces(space, mask_key):
            self.paths.append(path)
            encoders.append(_leaf_encoder(leaf, model_config, []))
        self.leaf_encoders = nn.ModuleList(encoders)
        in_dim = sum(e.out_dim for e in encoders)
        self.net = mlp(in_dim, hiddens, model_config["fcnet_activation"], None, 1.0)
        self.out_dim = hiddens[-1] if hiddens else in_dim

    def forward(self, obs: Any) -> torch.Tensor:
        parts = [enc(_at(obs, p)) for p, enc in zip(self.paths, self.leaf_encoders, strict=True)]
        return self.net(torch.cat(parts, dim=-1))


def make_encoder(
    space: Any, model_config: dict[str, Any], mask_key: str | None, features_only: bool = False
) -> Encoder:
    """The encoder for a whole observation space (see catalog.py's table). `features_only`
    leaves out the fcnet MLP: vectors come out flattened, Discrete one-hot, images through
    their CNN (dense layer included), Dict/Tuple concatenated."""
    from gymnasium import spaces

    check_space(space, {**model_config, "action_mask_key": mask_key})
    hiddens = [] if features_only else list(model_config["fcnet_hiddens"])
    if isinstance(space, spaces.Dict | spaces.Tuple):
        return TreeEncoder(space, model_config, mask_key, hiddens)
    return _leaf_encoder(space, model_config, hiddens)


def cnn_dense_dim(model_config: dict[str, Any]) -> int:
    """The CNN's dense width: fcnet_hiddens[-1] (so fcnet_hiddens=[512] gives Nature-DQN's
    head), or 256 when fcnet_hiddens is empty."""
    hiddens = model_config["fcnet_hiddens"]
    return int(hiddens[-1]) if hiddens else CNN_DENSE_DEFAULT


def _leaf_encoder(space: Any, model_config: dict[str, Any], hiddens: list[int]) -> Encoder:
    kind = leaf_kind(space)
    act = model_config["fcnet_activation"]
    if kind == "image":
        return CNNEncoder(space, model_config, cnn_dense_dim(model_config))
    if kind == "one_hot":
        return OneHotEncoder(space, hiddens, act)
    return MLPEncoder(flat_size(space), hiddens, act)


def _at(obs: Any, path: Path) -> Any:
    for key in path:
        obs = obs[key]
    return obs
