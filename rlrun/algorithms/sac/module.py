"""SAC's default module: a stochastic policy, twin Q critics and their target copies, and the
entropy temperature log(alpha), all in one nn.Module so that they are checkpointed together.

Box actions (Haarnoja et al. 2018a): the policy outputs the mean and a state-dependent log-std of
a Gaussian over u; actions are a = tanh(u) in (-1, 1) (`SquashedGaussian`; the EnvRunner rescales
them to the Box bounds and stores the unscaled ones, so the critics work in (-1, 1) units).
The critics are Q(s, a) MLPs on concat(obs, a).

Discrete actions (Christodoulou 2019): the policy outputs logits, and each critic maps s to a
Q-value per action, Q(s) -> [B, |A|], so expectations over actions need no sampling.

Encoders come from the catalog (rlrun/models/catalog.py), one per network: the policy and each
critic encode the observation themselves. The policy and the Discrete critics are
encoder (with its fcnet MLP) -> head (head_fcnet_hiddens, then the output layer). A Box critic
concatenates the encoder's features (without the fcnet MLP: a flattened vector, one-hots, CNN
features) with the action and puts the fcnet MLP after: for a vector observation that is the
classic MLP on concat(obs, a), and Q is never linear in a.

With an action mask (Discrete actions, model_config["action_mask_key"]) the policy's logits are
masked in `pi_dist_inputs`, so illegal actions get probability 0 everywhere the learner takes an
expectation over the policy (the soft value of s', the actor and temperature losses).

The critics are separate networks evaluated in a short Python loop: stacking both into one
batched matmul per layer (bmm) measured no faster on CPU (slower at 256 units), and plain MLPs
keep the checkpoint and the code simple.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn

from rlrun.core.columns import ACTION_DIST_INPUTS, ACTIONS, OBS
from rlrun.core.distributions import Categorical, DiagGaussian, SquashedGaussian
from rlrun.core.rl_module import Batch, RLModule, mlp
from rlrun.models.action_mask import mask_logits
from rlrun.models.catalog import build_encoder, complete_model_config

Q_VALUES = "q_values"  # forward_train: the online critics' values (see there)
MODEL_EXTRAS = ("twin_q", "initial_alpha")  # SAC settings the module reads


class EncoderHead(nn.Module):
    """obs tree -> encoder -> head MLP(head_fcnet_hiddens) -> out_dim: the policy, and a
    Discrete critic (one Q-value per action)."""

    def __init__(self, observation_space: Any, cfg: dict[str, Any], out_dim: int, gain: float):
        super().__init__()
        self.encoder = build_encoder(observation_space, cfg)
        hiddens, act = list(cfg["head_fcnet_hiddens"]), cfg["head_fcnet_activation"]
        self.head = mlp(self.encoder.out_dim, hiddens, act, out_dim, gain)

    def forward(self, obs: Any) -> torch.Tensor:
        return self.head(self.encoder(obs))


class ActionCritic(nn.Module):
    """Box actions' Q(s, a): encoder features of s, concatenated with a, then the fcnet MLP
    and the head -> [B, 1]."""

    def __init__(self, observation_space: Any, cfg: dict[str, Any], action_dim: int) -> None:
        super().__init__()
        self.encoder = build_encoder(observation_space, cfg, features_only=True)
        hiddens = list(cfg["fcnet_hiddens"])
        in_dim = self.encoder.out_dim + action_dim
        self.mlp = mlp(in_dim, hiddens, cfg["fcnet_activation"], None, 1.0)
        last = hiddens[-1] if hiddens else in_dim
        head_hiddens, head_act = list(cfg["head_fcnet_hiddens"]), cfg["head_fcnet_activation"]
        self.head = mlp(last, head_hiddens, head_act, 1, 1.0)

    def forward(self, obs: Any, actions: torch.Tensor) -> torch.Tensor:
        h = self.encoder(obs)
        x = torch.cat([h, actions.flatten(1).to(h.dtype)], dim=-1)
        return self.head(self.mlp(x))


class SACModule(RLModule):
    def setup(self) -> None:
        from rlrun.algorithms.sac.config import SACSchema

        cfg = self.model_config = complete_model_config(self.model_config, SACSchema, MODEL_EXTRAS)
        if cfg["use_lstm"]:
            from rlrun.errors import ConfigError

            raise ConfigError(
                "algo.model.use_lstm",
                True,
                "SAC has no recurrent replay; use algo=ppo for an LSTM policy",
            )
        self.mask_key: str | None = cfg.get("action_mask_key")
        self.discrete = issubclass(self.action_dist_cls, Categorical)
        num_q = 2 if cfg["twin_q"] else 1
        space = self.observation_space
        if self.discrete:
            self.num_actions = int(self.action_space.n)
            pi_out = self.num_actions  # logits
            critics = [EncoderHead(space, cfg, self.num_actions, 1.0) for _ in range(num_q)]
        else:
            assert issubclass(self.action_dist_cls, DiagGaussian), self.action_dist_cls
            self.action_dist_cls = SquashedGaussian
            self.action_dim = int(math.prod(self.action_space.shape))
            pi_out = 2 * self.action_dim  # mean and log-std of u, a = tanh(u)
            critics = [ActionCritic(space, cfg, self.action_dim) for _ in range(num_q)]
        # Small final gain: the policy starts near mean 0, std 1 (or uniform over actions).
        self.pi = EncoderHead(space, cfg, pi_out, 0.01)
        self.qs = nn.ModuleList(critics)
        self.target_qs = copy.deepcopy(self.qs).requires_grad_(False)
        # Optimized in log space so that alpha = exp(log_alpha) stays positive.
        self.log_alpha = nn.Parameter(torch.tensor(math.log(float(cfg["initial_alpha"]))))

    # --- the pieces the learner uses ----------------------------------------------------------

    def target_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        """(target, online) pairs for OffPolicyLearner's Polyak averaging."""
        return [(self.target_qs, self.qs)]

    @property
    def alpha(self) -> torch.Tensor:
        return self.log_alpha.exp()

    def pi_dist_inputs(self, obs: Any) -> torch.Tensor:
        """Box: [mean, log_std] of u, [B, 2 * dim(A)]; Discrete: logits, [B, |A|] (illegal
        actions' very low under an action mask)."""
        out = self.pi(obs)
        if self.mask_key is not None:
            out = mask_logits(out, obs[self.mask_key])
        return out

    def q(self, obs: Any, actions: torch.Tensor) -> torch.Tensor:
        """Box: every online critic's Q(s, a), a in (-1, 1) units: [K, B], one row per critic."""
        return torch.stack([q(obs, actions).squeeze(-1) for q in self.qs])

    def target_q(self, obs: Any, actions: torch.Tensor) -> torch.Tensor:
        """Box: every target critic's Q(s, a): [K, B]."""
        return torch.stack([q(obs, actions).squeeze(-1) for q in self.target_qs])

    def q_all(self, obs: Any) -> torch.Tensor:
        """Discrete: every online critic's Q(s, .): [K, B, |A|] (unmasked: expectations over
        actions weight them by the masked policy)."""
        return torch.stack([q(obs) for q in self.qs])

    def target_q_all(self, obs: Any) -> torch.Tensor:
        """Discrete: every target critic's Q(s, .): [K, B, |A|]."""
        return torch.stack([q(obs) for q in self.target_qs])

    # --- forwards ---------------------------------------------------------------------------

    def forward_exploration(self, batch: Batch) -> Batch:
        # The runner samples from action_dist_cls; inference's deterministic action is
        # tanh(mean) (Box) or the argmax (Discrete).
        return {ACTION_DIST_INPUTS: self.pi_dist_inputs(batch[OBS])}

    def forward_train(self, batch: Batch) -> Batch:
        """The policy's distribution inputs at s, and the online critics' values: Box: Q_i(s, a)
        of the batch's actions, [K, B]; Discrete: Q_i(s, .) of every action, [K, B, |A|]."""
        obs = batch[OBS]
        q = self.q_all(obs) if self.discrete else self.q(obs, batch[ACTIONS])
        return {ACTION_DIST_INPUTS: self.pi_dist_inputs(obs), Q_VALUES: q}
