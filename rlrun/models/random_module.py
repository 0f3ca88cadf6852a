"""RandomModule: uniformly random legal actions, with no parameters (RLlib's RandomRLModule).

A baseline opponent or partner in multi-agent runs (`module_class:
rlrun.models.random_module:RandomModule` in `multi_agent.policies`, left out of
`policies_to_train`). Exploring, it samples from uniform logits; its "deterministic" inference
takes the argmax of fresh uniform noise, so evaluation with `explore=false` still plays at
random rather than always the first legal action. An `action_mask` (Dict observation key)
restricts both to legal actions.
"""

from __future__ import annotations

import torch

from rlrun.core import tree
from rlrun.core.columns import ACTION_DIST_INPUTS, OBS, VF_PREDS
from rlrun.core.rl_module import Batch, RLModule
from rlrun.models.action_mask import mask_logits


class RandomModule(RLModule):
    def setup(self) -> None:
        self.mask_key = self.model_config.get("action_mask_key")
        self.n_out = self.action_dist_cls.required_input_dim(self.action_space)

    def _inputs(self, batch: Batch, noise: bool) -> torch.Tensor:
        obs = batch[OBS]
        n = tree.first_leaf(obs).shape[0]  # feed-forward: leaves are [B, ...]
        logits = torch.rand(n, self.n_out) if noise else torch.zeros(n, self.n_out)
        if self.mask_key is not None:
            logits = mask_logits(logits, obs[self.mask_key])
        return logits

    def forward_exploration(self, batch: Batch) -> Batch:
        return {ACTION_DIST_INPUTS: self._inputs(batch, noise=False)}

    def forward_inference(self, batch: Batch) -> Batch:
        return {ACTION_DIST_INPUTS: self._inputs(batch, noise=True)}

    def forward_train(self, batch: Batch) -> Batch:
        logits = self._inputs(batch, noise=False)
        return {ACTION_DIST_INPUTS: logits, VF_PREDS: torch.zeros(logits.shape[:-1])}
