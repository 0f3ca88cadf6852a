"""PPO's default module: catalog encoder(s), optionally an LSTM, and a policy and a value head.

With vf_share_layers one encoder (and, with use_lstm, one LSTM) feeds both heads; without it
the policy and the value each have their own encoder and LSTM (the state then holds both
LSTMs' h and c). Sharing an LSTM lets the value loss, whose returns are far larger than the
policy's advantages, dominate the shared gradients: on StatelessCartPole the shared LSTM
stalled near a return of 30 at 100k steps, the separate ones learn (as sb3-contrib's
RecurrentPPO, whose default is also one LSTM for the critic). Heads are
MLP(head_fcnet_hiddens) -> output layer, the output layers initialized with small gains
(0.01 policy: a near-uniform initial policy; 1.0 value).

With an action mask (model_config["action_mask_key"], a key of the Dict observation) every
forward sets illegal actions' logits to a very negative number (per component for
MultiDiscrete), so they are never sampled and their log-probs stay finite.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rlrun.core import tree
from rlrun.core.columns import ACTION_DIST_INPUTS, OBS, STATE_IN, STATE_OUT, VF_PREDS
from rlrun.core.distributions import DiagGaussian, MultiCategorical
from rlrun.core.rl_module import Batch, RLModule, mlp
from rlrun.models.action_mask import mask_logits, mask_multi_logits
from rlrun.models.catalog import build_encoder, complete_model_config
from rlrun.models.encoders import MLPEncoder
from rlrun.models.recurrent import LSTMCore


class PPOModule(RLModule):
    def setup(self) -> None:
        from rlrun.algorithms.ppo.config import PPOSchema

        cfg = self.model_config = complete_model_config(self.model_config, PPOSchema)
        self.mask_key: str | None = cfg.get("action_mask_key")
        multi = issubclass(self.action_dist_cls, MultiCategorical)
        self._nvec = self.action_dist_cls.nvec if multi else None  # mask per component
        n_out = self.action_dist_cls.required_input_dim(self.action_space)
        self._free_log_std = issubclass(self.action_dist_cls, DiagGaussian) and cfg["free_log_std"]
        if self._free_log_std:
            n_out //= 2  # the head outputs means; log-std is a parameter
            self.log_std = nn.Parameter(torch.full((n_out,), float(cfg["log_std_init"])))
        self.recurrent = bool(cfg["use_lstm"])
        self.shared = bool(cfg["vf_share_layers"])
        self.encoder = build_encoder(self.observation_space, cfg)
        features = self.encoder.out_dim
        if not self.shared:
            self.vf_encoder = build_encoder(self.observation_space, cfg)
        if self.recurrent:
            self.lstm = LSTMCore(features, int(cfg["lstm_cell_size"]))
            if not self.shared:
                self.vf_lstm = LSTMCore(features, int(cfg["lstm_cell_size"]))
            features = self.lstm.out_dim
        hiddens, act = list(cfg["head_fcnet_hiddens"]), cfg["head_fcnet_activation"]
        self.pi_head = mlp(features, hiddens, act, n_out, 0.01)
        self.vf_head = mlp(features, hiddens, act, 1, 1.0)
        # Sampling calls forward_exploration once per env step: for a vector observation
        # (an MLP encoder, no mask, no shared value head to feed) run the encoder's and the
        # head's layers as one flat list, saving two module calls (~10%) per step. Not
        # registered: the same layers, no copies.
        self._build_fast_path()

    def _build_fast_path(self) -> None:
        self._pi_layers: tuple[nn.Module, ...] | None = None
        plain = not (self.recurrent or self.shared or self.mask_key is not None)
        if plain and isinstance(self.encoder, MLPEncoder):
            object.__setattr__(self, "_pi_layers", (*self.encoder, *self.pi_head))

    def set_encoder(self, encoder: nn.Module, vf_encoder: nn.Module | None = None) -> None:
        """Encode with `encoder` (and the value with `vf_encoder`, unless vf_share_layers):
        e.g. layers shared with other modules (examples/shared_encoder.py)."""
        self.encoder = encoder
        if vf_encoder is not None and not self.shared:
            self.vf_encoder = vf_encoder
        self._build_fast_path()

    def get_initial_state(self) -> dict[str, torch.Tensor]:
        if not self.recurrent:
            return {}
        state = self.lstm.get_initial_state()
        if not self.shared:
            state.update({f"vf_{k}": v for k, v in self.vf_lstm.get_initial_state().items()})
        return state

    # --- forwards ---------------------------------------------------------------------------

    def forward_exploration(self, batch: Batch) -> Batch:
        if self._pi_layers is not None:
            x = batch[OBS]
            x = (x.flatten(1) if x.dim() > 1 else x.unsqueeze(1)).float()
            for layer in self._pi_layers:
                x = layer(x)
            return {ACTION_DIST_INPUTS: self._dist_inputs(x, None)}
        if self.recurrent:
            return self._recurrent(batch, values=False)
        obs = batch[OBS]
        h = self.encoder(obs)
        out = {ACTION_DIST_INPUTS: self._dist_inputs(self.pi_head(h), obs)}
        if self.shared:
            # The value head on features already computed costs next to nothing here and
            # spares the learner a second encoder pass over the whole batch (the runner's
            # weights are the learner's in synchronous PPO): ~10% of an image iteration.
            out[VF_PREDS] = self.vf_head(h).squeeze(-1)
        return out

    def forward_train(self, batch: Batch) -> Batch:
        if self.recurrent:
            return self._recurrent(batch, values=True)
        obs = batch[OBS]
        h = self.encoder(obs)
        vf_h = h if self.shared else self.vf_encoder(obs)
        return {
            ACTION_DIST_INPUTS: self._dist_inputs(self.pi_head(h), obs),
            VF_PREDS: self.vf_head(vf_h).squeeze(-1),
        }

    def compute_values(self, batch: Batch) -> torch.Tensor:
        """V(s): [B] feed-forward; [B, T] recurrent (which needs batch["state_in"])."""
        if self.recurrent:
            if self.shared:
                return self.vf_head(self._lstm_features(batch)[0]).squeeze(-1)
            return self.vf_head(self._vf_lstm_features(batch)[0]).squeeze(-1)
        encoder = self.encoder if self.shared else self.vf_encoder
        return self.vf_head(encoder(batch[OBS])).squeeze(-1)

    # --- pieces -----------------------------------------------------------------------------

    def _recurrent(self, batch: Batch, values: bool) -> Batch:
        """obs leaves [B, T, ...] and state_in [B, ...] -> outputs [B, T, ...] and state_out."""
        h, state = self._lstm_features(batch)
        vf_h = h
        if not self.shared:
            # Acting needs no value, but the value LSTM's state must still follow the episode.
            vf_h, vf_state = self._vf_lstm_features(batch)
            state.update({f"vf_{k}": v for k, v in vf_state.items()})
        out = {
            ACTION_DIST_INPUTS: self._dist_inputs(self.pi_head(h), batch[OBS]),
            STATE_OUT: state,
        }
        if values:
            out[VF_PREDS] = self.vf_head(vf_h).squeeze(-1)
        return out

    def _lstm_features(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        state = {k: v for k, v in batch[STATE_IN].items() if not k.startswith("vf_")}
        return self._run_lstm(self.encoder, self.lstm, batch[OBS], state)

    def _vf_lstm_features(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        state = {k[3:]: v for k, v in batch[STATE_IN].items() if k.startswith("vf_")}
        return self._run_lstm(self.vf_encoder, self.vf_lstm, batch[OBS], state)

    @staticmethod
    def _run_lstm(
        encoder: nn.Module, lstm: LSTMCore, obs: object, state: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        b, t = tree.first_leaf(obs).shape[:2]
        # The encoder sees [B*T, ...] leaves; the LSTM gets its time axis back.
        features = encoder(tree.reshape_lead(obs, 2, (b * t,))).view(b, t, -1)
        return lstm(features, state)

    def _dist_inputs(self, out: torch.Tensor, obs: Any) -> torch.Tensor:
        if self.mask_key is not None:
            mask = obs[self.mask_key]
            if self._nvec is None:
                out = mask_logits(out, mask)
            else:
                out = mask_multi_logits(out, mask, self._nvec)
        if self._free_log_std:
            return torch.cat([out, self.log_std.expand_as(out)], dim=-1)
        return out
