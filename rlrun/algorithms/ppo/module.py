"""PPO's default module: an MLP policy head and an MLP value head, shared torso optional."""

from __future__ import annotations

import torch
from torch import nn

from rlrun.core.columns import ACTION_DIST_INPUTS, OBS, VF_PREDS
from rlrun.core.distributions import DiagGaussian
from rlrun.core.rl_module import Batch, RLModule, mlp, obs_dim


class PPOModule(RLModule):
    def setup(self) -> None:
        cfg = self.model_config
        hiddens = list(cfg.get("fcnet_hiddens", [64, 64]))
        act = cfg.get("fcnet_activation", "tanh")
        in_dim = obs_dim(self.observation_space)
        n_out = self.action_dist_cls.required_input_dim(self.action_space)
        self._gaussian = issubclass(self.action_dist_cls, DiagGaussian)
        self._free_log_std = self._gaussian and cfg.get("free_log_std", True)
        if self._free_log_std:
            n_out //= 2  # the head outputs means; log-std is a parameter
            self.log_std = nn.Parameter(torch.full((n_out,), float(cfg.get("log_std_init", 0.0))))
        self.shared = bool(cfg.get("vf_share_layers", False))
        last = hiddens[-1] if hiddens else in_dim
        if self.shared:
            self.torso = mlp(in_dim, hiddens, act, None, 1.0)
            self.pi_head = mlp(last, [], act, n_out, 0.01)
            self.vf_head = mlp(last, [], act, 1, 1.0)
        else:
            # Small final gains: near-uniform initial policy, values start near zero.
            self.pi = mlp(in_dim, hiddens, act, n_out, 0.01)
            self.vf = mlp(in_dim, hiddens, act, 1, 1.0)

    def _dist_inputs(self, out: torch.Tensor) -> torch.Tensor:
        if self._free_log_std:
            return torch.cat([out, self.log_std.expand_as(out)], dim=-1)
        return out

    def forward_exploration(self, batch: Batch) -> Batch:
        obs = batch[OBS].flatten(1)
        out = self.pi_head(self.torso(obs)) if self.shared else self.pi(obs)
        return {ACTION_DIST_INPUTS: self._dist_inputs(out)}

    def forward_train(self, batch: Batch) -> Batch:
        obs = batch[OBS].flatten(1)
        if self.shared:
            h = self.torso(obs)
            return {
                ACTION_DIST_INPUTS: self._dist_inputs(self.pi_head(h)),
                VF_PREDS: self.vf_head(h).squeeze(-1),
            }
        return {
            ACTION_DIST_INPUTS: self._dist_inputs(self.pi(obs)),
            VF_PREDS: self.vf(obs).squeeze(-1),
        }

    def compute_values(self, batch: Batch) -> torch.Tensor:
        obs = batch[OBS].flatten(1)
        if self.shared:
            return self.vf_head(self.torso(obs)).squeeze(-1)
        return self.vf(obs).squeeze(-1)
