"""The learner connector of on-policy algorithms: time-major Rollouts -> the loss's batch.

A pipeline of small steps, each with one job, run on every fragment of one module:
  1. the user's learner pieces (`connectors.learner`, e.g. reward shaping), on [T, N] columns;
  2. values: V of every observation and of the bootstrap observation, with the learner's
     module (one batched forward; recurrent modules over their stored states). Values the
     runner's module returned while acting (a `vf_preds` column: PPO with vf_share_layers)
     are taken as they are, and only the bootstrap observation is valued: in synchronous
     training the runner acted with the learner's weights. A user piece that changes
     observations should drop that column;
  3. advantages and value targets (GAE, rlrun.connectors.learner.gae.compute_gae);
  4. the layout the loss wants: rows [T*N] for feed-forward modules, or zero-padded
     `max_seq_len` sequences [B, L] with `state_in` at each start for recurrent ones.
Rows that must not count (autoreset rows, padding) stay, marked False in the `mask` column;
losses take masked means. The batch comes back keyed by module id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from rlrun.connectors.learner import sequences as S
from rlrun.connectors.learner.gae import compute_gae
from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.core.rl_module import RLModule
from rlrun.env.rollout import Rollout

TensorDict = dict[str, Any]
LearnerPiece = Callable[[str, dict[str, Any]], dict[str, Any]]

# What the loss needs from a fragment, besides the columns this pipeline computes.
_KEPT = (C.OBS, C.ACTIONS, C.ACTION_DIST_INPUTS, C.MASK)


class RolloutPipeline:
    """The frame every learner connector shares: the user's pieces on each fragment, the
    subclass's `layout` of it, one batch per module, and the behaviour policy's log-probs
    (from the sampled `action_dist_inputs`; recorded data has none)."""

    def __init__(self, max_seq_len: int, user_pieces: list[LearnerPiece] | None = None) -> None:
        self.max_seq_len = int(max_seq_len)
        self.user_pieces = list(user_pieces or [])

    def __call__(
        self, module: RLModule, rollouts: list[Rollout], device: torch.device
    ) -> dict[str, TensorDict]:
        parts: dict[str, list[TensorDict]] = {}
        for ro in rollouts:
            data = dict(ro.data)
            for piece in self.user_pieces:
                data = piece(ro.module_id, data)
            parts.setdefault(ro.module_id, []).append(self.layout(module, ro, data, device))
        batches = {}
        for module_id, ps in parts.items():
            batch = tree.to_torch(self.combine(ps), device)
            if C.ACTION_DIST_INPUTS in batch:
                with torch.no_grad():
                    dist = module.action_dist_cls(batch[C.ACTION_DIST_INPUTS])
                    batch[C.ACTION_LOGP] = dist.logp(batch[C.ACTIONS])
            batches[module_id] = batch
        return batches

    def layout(
        self, module: RLModule, ro: Rollout, data: dict[str, Any], device: torch.device
    ) -> TensorDict:
        """One fragment's columns as the loss wants them."""
        raise NotImplementedError

    def combine(self, parts: list[TensorDict]) -> TensorDict:
        """One module's fragments as one batch."""
        return tree.concat(parts) if len(parts) > 1 else parts[0]


class OnPolicyLearnerPipeline(RolloutPipeline):
    def __init__(
        self,
        gamma: float,
        lambda_: float,
        max_seq_len: int,
        user_pieces: list[LearnerPiece] | None = None,
    ) -> None:
        super().__init__(max_seq_len, user_pieces)
        self.gamma, self.lambda_ = gamma, lambda_

    @classmethod
    def for_learner(cls, learner: Any) -> OnPolicyLearnerPipeline:
        """The pipeline of a GAE-based learner (PPO, MARWIL) from its config section."""
        cfg = learner.config
        return cls(cfg.gamma, cfg.lambda_, cfg.model.max_seq_len, learner.user_learner_pieces())

    def layout(
        self, module: RLModule, ro: Rollout, data: dict[str, Any], device: torch.device
    ) -> TensorDict:
        if module.is_stateful:
            return self._sequences(module, ro, data, device)
        return self._rows(module, ro, data, device)

    # --- feed-forward: rows -------------------------------------------------------------------

    def _rows(
        self, module: RLModule, ro: Rollout, data: dict[str, Any], device: torch.device
    ) -> TensorDict:
        T, N = ro.num_steps, ro.num_envs
        if C.VF_PREDS in data:
            values = data[C.VF_PREDS]
            boot = self._values(module, ro.bootstrap_obs, device)
        else:
            flat_obs = tree.reshape_lead(data[C.OBS], 2, (T * N,))
            v = self._values(module, tree.concat([flat_obs, ro.bootstrap_obs]), device)
            values, boot = v[: T * N].reshape(T, N), v[T * N :]
        adv, targets = self._gae(data, values, boot)
        cols = {k: data[k] for k in _KEPT if k in data}
        cols.update({C.VF_PREDS: values, C.ADVANTAGES: adv, C.VALUE_TARGETS: targets})
        return {k: tree.reshape_lead(v, 2, (T * N,)) for k, v in cols.items()}

    @staticmethod
    def _values(module: RLModule, obs: Any, device: torch.device) -> np.ndarray:
        with torch.no_grad():
            return module.compute_values({C.OBS: tree.to_torch(obs, device)}).float().cpu().numpy()

    def _gae(
        self, data: dict[str, Any], values: np.ndarray, boot: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return compute_gae(
            data[C.REWARDS],
            values,
            boot,
            data[C.TERMINATEDS],
            data[C.TRUNCATEDS],
            self.gamma,
            self.lambda_,
        )

    # --- recurrent: sequences -----------------------------------------------------------------

    def _sequences(
        self, module: RLModule, ro: Rollout, data: dict[str, Any], device: torch.device
    ) -> TensorDict:
        T, N = ro.num_steps, ro.num_envs
        idx = S.sequence_index(data[C.MASK], self.max_seq_len)
        seq_obs = S.gather(data[C.OBS], idx)
        state_in = S.gather_starts(data[C.STATE_IN], idx)
        with torch.no_grad():
            v_seq = module.compute_values(
                {C.OBS: tree.to_torch(seq_obs, device), C.STATE_IN: tree.to_torch(state_in, device)}
            )
            # The bootstrap observation continues each sub-env's last sequence: a one-step
            # sequence from the state the runner ended in.
            boot = module.compute_values(
                {
                    C.OBS: tree.to_torch(
                        tree.map_structure(lambda x: x[:, None], ro.bootstrap_obs), device
                    ),
                    C.STATE_IN: tree.to_torch(ro.bootstrap_state, device),
                }
            )
        values = S.scatter(v_seq.cpu().numpy(), idx, (T, N))
        adv, targets = self._gae(data, values, boot[:, 0].cpu().numpy())
        cols = {k: data[k] for k in _KEPT if k in data}
        cols.update({C.VF_PREDS: values, C.ADVANTAGES: adv, C.VALUE_TARGETS: targets})
        out = {k: S.gather(v, idx) for k, v in cols.items()}
        out[C.MASK] = out[C.MASK] & idx.valid
        out[C.STATE_IN] = state_in
        return out
