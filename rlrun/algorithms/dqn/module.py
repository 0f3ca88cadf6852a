"""DQN's default module: a Q network (optionally dueling, optionally C51) and its target copy.

The Q network maps obs to logits of shape [B, A, atoms]: with one atom these are the Q-values
themselves, with several (C51, Bellemare et al. 2017) they are the logits of a categorical
return distribution on a fixed support z_1..z_N, and Q(s, a) = sum_i p_i(s, a) z_i.
Dueling (Wang et al. 2016, eq. 9) splits the head into a value and an advantage stream,
Q = V + A - mean_a A; with C51 the streams are combined per atom on the logits (Hessel et al.
2018, section 3).

Actions come from `action_dist_inputs` through Categorical: `forward_exploration` returns the
log-probabilities of the epsilon-greedy distribution (so sampling is epsilon-greedy and the
deterministic action is greedy), `forward_inference` the Q-values (argmax: greedy).
`epsilon` is a buffer, so the value the learner sets travels to the env runners with the weights.

The torso is the catalog's encoder for the observation space (rlrun/models/catalog.py). With an
action mask (model_config["action_mask_key"]) the Q-values of illegal actions are set to a very
low number wherever they are read (`q_values`, `target_q_values`, the forwards), so argmax and
the double-Q bootstrap action are always legal; epsilon-greedy spreads eps over legal actions
only. C51's per-atom logits (`q_logits`) are left as they are.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rlrun.core.columns import ACTION_DIST_INPUTS, OBS
from rlrun.core.rl_module import Batch, RLModule, mlp
from rlrun.models.action_mask import legal_actions, mask_logits
from rlrun.models.catalog import build_encoder, complete_model_config

MODEL_EXTRAS = ("dueling", "num_atoms", "v_min", "v_max")  # DQN settings the module reads


class QNetwork(nn.Module):
    """obs tree [B, ...] -> logits [B, A, atoms] (Q-values when atoms == 1)."""

    def __init__(
        self,
        observation_space: Any,
        model_config: dict[str, Any],
        num_actions: int,
        num_atoms: int,
        dueling: bool,
    ) -> None:
        super().__init__()
        self.num_actions, self.num_atoms, self.dueling = num_actions, num_atoms, dueling
        self.torso = build_encoder(observation_space, model_config)
        last, cfg = self.torso.out_dim, model_config
        hiddens, act = list(cfg["head_fcnet_hiddens"]), cfg["head_fcnet_activation"]
        # Q itself, or with dueling heads the advantage stream A (then V is a second head).
        self.head = mlp(last, hiddens, act, num_actions * num_atoms, 1.0)
        if dueling:
            self.value = mlp(last, hiddens, act, num_atoms, 1.0)

    def forward(self, obs: Any) -> torch.Tensor:
        h = self.torso(obs)
        adv = self.head(h).view(-1, self.num_actions, self.num_atoms)
        if not self.dueling:
            return adv
        # Wang et al. 2016, eq. (9): Q(s,a) = V(s) + (A(s,a) - 1/|A| sum_a' A(s,a')).
        value = self.value(h).view(-1, 1, self.num_atoms)
        return value + adv - adv.mean(dim=1, keepdim=True)


class DQNModule(RLModule):
    def setup(self) -> None:
        from rlrun.algorithms.dqn.config import DQNSchema

        cfg = self.model_config = complete_model_config(self.model_config, DQNSchema, MODEL_EXTRAS)
        _check_setup(self.action_space, cfg)
        self.mask_key: str | None = cfg.get("action_mask_key")
        self.num_actions = int(self.action_space.n)
        self.num_atoms = int(cfg["num_atoms"])
        self.distributional = self.num_atoms > 1
        self.q_net = QNetwork(
            self.observation_space, cfg, self.num_actions, self.num_atoms, bool(cfg["dueling"])
        )
        # The target network starts equal to the online one and is moved only by the learner's
        # target updates (OffPolicyLearner), never by gradients.
        self.target_q_net = copy.deepcopy(self.q_net).requires_grad_(False)
        # C51's fixed support z_i = v_min + i * (v_max - v_min) / (N - 1), i = 0..N-1.
        support = None
        if self.distributional:
            support = torch.linspace(float(cfg["v_min"]), float(cfg["v_max"]), self.num_atoms)
        self.register_buffer("support", support)
        # Probability of a uniformly random action; the learner sets it from its schedule.
        self.register_buffer("epsilon", torch.tensor(1.0, dtype=torch.float32))

    def target_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return [(self.target_q_net, self.q_net)]

    # --- Q-values and logits ----------------------------------------------------------------

    def _expected(self, logits: torch.Tensor, obs: Any) -> torch.Tensor:
        """[B, A, atoms] -> Q-values [B, A]: the logits themselves, or sum_i p_i z_i for C51;
        illegal actions' values very low when there is an action mask."""
        if self.distributional:
            q = (logits.softmax(dim=-1) * self.support).sum(-1)
        else:
            q = logits.squeeze(-1)
        if self.mask_key is not None:
            q = mask_logits(q, obs[self.mask_key])
        return q

    def q_logits(self, obs: Any) -> torch.Tensor:
        """C51: the online net's return-distribution logits, [B, A, atoms]."""
        return self.q_net(obs)

    def target_q_logits(self, obs: Any) -> torch.Tensor:
        """C51: the target net's return-distribution logits, [B, A, atoms]."""
        return self.target_q_net(obs)

    def q_values(self, obs: Any) -> torch.Tensor:
        """The online net's Q(s, a), [B, A]."""
        return self._expected(self.q_net(obs), obs)

    def target_q_values(self, obs: Any) -> torch.Tensor:
        """The target net's Q(s, a), [B, A]."""
        return self._expected(self.target_q_net(obs), obs)

    # --- the three forwards -------------------------------------------------------------------

    def forward_inference(self, batch: Batch) -> Batch:
        # As Categorical logits, the Q-values' deterministic action is the argmax: greedy.
        return {ACTION_DIST_INPUTS: self.q_values(batch[OBS])}

    def forward_exploration(self, batch: Batch) -> Batch:
        obs = batch[OBS]
        q = self.q_values(obs)
        # Epsilon-greedy as a distribution: pi(a|s) = eps / |A| + (1 - eps) [a = argmax_a' Q],
        # |A| counting only the legal actions under a mask (illegal ones get probability 0).
        eps = self.epsilon.to(q.dtype)
        greedy = F.one_hot(q.argmax(dim=-1), self.num_actions).to(q.dtype)
        if self.mask_key is None:
            probs = eps / self.num_actions + (1.0 - eps) * greedy
        else:
            legal = legal_actions(obs[self.mask_key]).to(q.dtype)
            probs = eps * legal / legal.sum(-1, keepdim=True) + (1.0 - eps) * greedy
        # log(0) would be -inf (NaN in entropies): floor at the smallest normal float. The
        # 1e-6 nudge keeps argmax on the greedy action at eps = 1 (to_deterministic: greedy).
        logits = probs.clamp_min(torch.finfo(q.dtype).tiny).log() + 1e-6 * greedy
        return {ACTION_DIST_INPUTS: logits}

    def forward_train(self, batch: Batch) -> Batch:
        obs = batch[OBS]
        logits = self.q_net(obs)
        out = {"q_values": self._expected(logits, obs)}
        if self.distributional:
            out["q_logits"] = logits
        return out


def _check_setup(action_space: Any, cfg: dict[str, Any]) -> None:
    """ConfigErrors for what this module cannot be built from."""
    from gymnasium import spaces

    from rlrun.errors import ConfigError

    if not isinstance(action_space, spaces.Discrete):
        raise ConfigError(
            "algo.name",
            "DQN",
            f"needs a Discrete action space; this env's is {action_space}: "
            "use algo=sac or algo=ppo",
        )
    if cfg["use_lstm"]:
        raise ConfigError(
            "algo.model.use_lstm",
            True,
            "DQN has no recurrent replay; use algo=ppo for an LSTM policy",
        )
    if int(cfg["num_atoms"]) < 1:
        raise ConfigError(
            "algo.num_atoms", cfg["num_atoms"], "must be 1 (expected Q) or more (C51)"
        )
    v_min, v_max = float(cfg["v_min"]), float(cfg["v_max"])
    if int(cfg["num_atoms"]) > 1 and not v_min < v_max:
        raise ConfigError("algo.v_max", v_max, f"must be above algo.v_min={v_min}")
