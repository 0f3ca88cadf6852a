"""Custom RLModules that docs/models.md walks through: a recurrent one and a CNN one.

Use them with `algo.model.module_class=examples.custom_modules:GRUModule` (from the repository
root, or with the folder on PYTHONPATH). They receive the same tree batches and state as the
default modules; nothing else in rlrun changes for them.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rlrun.core.columns import ACTION_DIST_INPUTS, OBS, STATE_IN, STATE_OUT, VF_PREDS
from rlrun.core.rl_module import Batch, RLModule


class GRUModule(RLModule):
    """A GRU policy for vector observations. Being recurrent is two things: a non-empty
    `get_initial_state()` (one sub-env's state, no batch axis), and forwards that take obs
    [B, T, ...] plus `state_in` [B, ...] and return outputs [B, T, ...] plus `state_out`."""

    def setup(self) -> None:
        n_in = int(math.prod(self.observation_space.shape))
        hidden = int(self.model_config["custom"].get("hidden", 32))
        self.hidden = hidden
        self.embed = nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh())
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.pi = nn.Linear(hidden, self.action_dist_cls.required_input_dim(self.action_space))
        self.vf = nn.Linear(hidden, 1)

    def get_initial_state(self) -> dict[str, torch.Tensor]:
        return {"h": torch.zeros(self.hidden)}

    def _core(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        obs = batch[OBS].float()  # [B, T, d]
        x = self.embed(obs.flatten(2))
        out, h = self.gru(x, batch[STATE_IN]["h"].unsqueeze(0))
        return out, {"h": h.squeeze(0)}

    def forward_exploration(self, batch: Batch) -> Batch:
        out, state = self._core(batch)
        return {ACTION_DIST_INPUTS: self.pi(out), STATE_OUT: state}

    def forward_train(self, batch: Batch) -> Batch:
        out, state = self._core(batch)
        return {
            ACTION_DIST_INPUTS: self.pi(out),
            VF_PREDS: self.vf(out).squeeze(-1),
            STATE_OUT: state,
        }


class SmallCNNModule(RLModule):
    """A CNN policy for HWC uint8 images: frames arrive as uint8 (a quarter of float32's
    bytes through the batch) and are scaled here."""

    def setup(self) -> None:
        h, w, c = self.observation_space.shape
        self.conv = nn.Sequential(
            nn.Conv2d(c, 16, 3), nn.ReLU(), nn.Conv2d(16, 16, 3), nn.ReLU(), nn.Flatten()
        )
        n = 16 * (h - 4) * (w - 4)
        self.pi = nn.Linear(n, self.action_dist_cls.required_input_dim(self.action_space))
        self.vf = nn.Linear(n, 1)

    def _features(self, batch: Batch) -> torch.Tensor:
        x = batch[OBS].float().div(255.0).permute(0, 3, 1, 2)  # [B, H, W, C] -> [B, C, H, W]
        return self.conv(x)

    def forward_exploration(self, batch: Batch) -> Batch:
        return {ACTION_DIST_INPUTS: self.pi(self._features(batch))}

    def forward_train(self, batch: Batch) -> Batch:
        h = self._features(batch)
        return {ACTION_DIST_INPUTS: self.pi(h), VF_PREDS: self.vf(h).squeeze(-1)}
