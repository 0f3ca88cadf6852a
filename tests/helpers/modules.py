"""A user's own module, named in the config as algo.model.module_class."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rlrun.core.columns import ACTION_DIST_INPUTS, OBS, STATE_IN, STATE_OUT, VF_PREDS
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


def tiny_ppo_spec(env_cfg: dict, **model: Any) -> Any:
    """A PPO module spec with one hidden layer of 8 (and `model`'s other settings) for
    `env_cfg`'s spaces (runner tests)."""
    from rlrun.core.rl_module import RLModuleSpec
    from rlrun.env.make_env import make_single_env

    probe = make_single_env(env_cfg)
    spec = RLModuleSpec(
        "rlrun.algorithms.ppo.module:PPOModule",
        probe.observation_space,
        probe.action_space,
        {"fcnet_hiddens": [8], **model},
    )
    probe.close()
    return spec


class StepCounterModule(RLModule):
    """A recurrent stand-in whose state counts the steps since its episode started: with
    FixedLengthEnv (obs[0] = steps taken in the episode) the stored state_in must equal obs[0]
    on every row, autoreset rows included (they end the old episode)."""

    def setup(self) -> None:
        self.n = self.action_dist_cls.required_input_dim(self.action_space)
        self.bias = nn.Parameter(torch.zeros(self.n))

    def get_initial_state(self) -> dict[str, torch.Tensor]:
        return {"count": torch.zeros(())}

    def _forward(self, batch: Batch) -> Batch:
        obs = batch[OBS]  # [B, T, ...]
        B, T = obs.shape[:2]
        steps = torch.arange(1, T + 1, dtype=torch.float32)
        counts = batch[STATE_IN]["count"][:, None] + steps[None, :]
        return {
            ACTION_DIST_INPUTS: self.bias.expand(B, T, self.n),
            VF_PREDS: counts - 1.0,
            STATE_OUT: {"count": counts[:, -1]},
        }

    def forward_exploration(self, batch: Batch) -> Batch:
        return self._forward(batch)

    def forward_train(self, batch: Batch) -> Batch:
        return self._forward(batch)


class FlatMaskedModule(RLModule):
    """Linear policy and value heads over every leaf of the observation, flattened; the Dict
    leaf named by `action_mask_key` (PettingZoo's classic games) masks the logits instead."""

    def setup(self) -> None:
        from gymnasium import spaces

        space = self.observation_space
        leaves = space.spaces if isinstance(space, spaces.Dict) else {None: space}
        self.mask_key = self.model_config.get("action_mask_key")
        self.keys = [k for k in leaves if k != self.mask_key]
        n_in = sum(obs_dim(leaves[k]) for k in self.keys)
        n_out = self.action_dist_cls.required_input_dim(self.action_space)
        self.pi = nn.Linear(n_in, n_out)
        self.vf = nn.Linear(n_in, 1)

    def _heads(self, obs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(obs, dict):
            x = obs.float().flatten(1)
        else:
            x = torch.cat([obs[k].float().flatten(1) for k in self.keys], dim=1)
        logits = self.pi(x)
        if isinstance(obs, dict) and self.mask_key:
            logits = logits.masked_fill(obs[self.mask_key] == 0, -1e9)
        return logits, self.vf(x).squeeze(-1)

    def forward_exploration(self, batch: Batch) -> Batch:
        return {ACTION_DIST_INPUTS: self._heads(batch[OBS])[0]}

    def forward_train(self, batch: Batch) -> Batch:
        logits, values = self._heads(batch[OBS])
        return {ACTION_DIST_INPUTS: logits, VF_PREDS: values}
