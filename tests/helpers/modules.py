"""A user's own module, named in the config as algo.model.module_class."""

from __future__ import annotations

import torch
from torch import nn

from rlrun.core.columns import ACTION_DIST_INPUTS, OBS, VF_PREDS
from rlrun.core.rl_module import Batch, RLModule, obs_dim


class LinearModule(RLModule):
    """Linear policy and value heads; `custom.bias` shows free-form model config arriving."""

    def setup(self) -> None:
        n_in = obs_dim(self.observation_space)
        n_out = self.action_dist_cls.required_input_dim(self.action_space)
        bias = bool(self.model_config.get("custom", {}).get("bias", True))
        self.pi = nn.Linear(n_in, n_out, bias=bias)
        self.vf = nn.Linear(n_in, 1, bias=bias)

    def forward_exploration(self, batch: Batch) -> Batch:
        return {ACTION_DIST_INPUTS: self.pi(batch[OBS].flatten(1))}

    def forward_train(self, batch: Batch) -> Batch:
        obs = batch[OBS].flatten(1)
        return {ACTION_DIST_INPUTS: self.pi(obs), VF_PREDS: self.vf(obs).squeeze(-1)}


class NotAModule:
    pass


def make_tensor() -> torch.Tensor:
    return torch.zeros(1)
