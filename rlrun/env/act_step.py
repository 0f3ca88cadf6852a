"""The act step every runner shares (observation -> module -> action), and what runners share
around it: copying weights into a module in place, a recurrent module's initial state per
sub-env, and the driver's sync (weights and connector state; `RunnerSync`). Sampling,
evaluation, `compute_single_action` and the multi-agent runner all act through `act`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.core.rl_module import RLModule


def act(
    module: RLModule, obs: Any, state: Any, explore: bool
) -> tuple[np.ndarray, torch.Tensor, Any, torch.Tensor | None]:
    """One forward pass for a batch of module inputs: (actions, action_dist_inputs, state out,
    values), values being the module's V(s) where its forward returned them, else None.

    The one place observations become actions: sampling, evaluation and
    `Algorithm.compute_single_action` all come through here. Exploration samples from
    `forward_exploration`'s distribution, otherwise `forward_inference`'s deterministic action
    is taken. `state` is a recurrent module's state ([B, ...] tree), None for a feed-forward one.
    """
    # A plain array skips the tree walk: this runs once per env step.
    x = torch.from_numpy(obs) if isinstance(obs, np.ndarray) else tree.to_torch(obs)
    batch: dict[str, Any] = {C.OBS: x}
    if state is not None:  # recurrent modules always see a time axis (T=1 when acting)
        batch[C.OBS] = tree.map_structure(lambda x: x.unsqueeze(1), x)
        batch[C.STATE_IN] = state
    out = module.forward_exploration(batch) if explore else module.forward_inference(batch)
    dist_inputs = out[C.ACTION_DIST_INPUTS]
    values = out.get(C.VF_PREDS)  # optional: only modules for which it is free return it
    if state is not None:
        dist_inputs = dist_inputs.squeeze(1)
        state = out[C.STATE_OUT]
        values = None if values is None else values.squeeze(1)
    dist = module.action_dist_cls(dist_inputs)
    actions = dist.sample() if explore else dist.to_deterministic().sample()
    return actions.numpy(), dist_inputs, state, values


def load_weights(
    module: torch.nn.Module,
    targets: dict[str, torch.Tensor] | None,
    weights: dict[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    """Copy `weights` into `module`'s tensors; returns those tensors by name (`targets`, built
    on the first call), for the runner to keep for the next one.

    One fused copy instead of load_state_dict's walk over every submodule: off-policy
    algorithms sync after every few gradient steps. Names that differ go through
    load_state_dict, which raises naming them."""
    if targets is None:
        targets = module.state_dict(keep_vars=True)
    if weights.keys() != targets.keys():
        module.load_state_dict(weights)
        return targets
    with torch.no_grad():
        torch._foreach_copy_([t.data for t in targets.values()], list(weights.values()))
    return targets


def initial_state(initial: dict[str, torch.Tensor], n: int) -> dict[str, torch.Tensor]:
    """A recurrent module's `get_initial_state()` for `n` sub-envs ([n, ...], writable)."""
    return {k: v.expand(n, *v.shape).clone() for k, v in initial.items()}


class RunnerSync:
    """What the single- and the multi-agent runner do alike when the driver syncs them: take
    the learner's weights (copied in place) and the merged connector state, and hand their
    connector state over for checkpoints. Needs `module`, `env_to_module`, `_weight_targets`
    and `worker_index`."""

    module: Any
    env_to_module: Any
    _weight_targets: dict[str, torch.Tensor] | None
    worker_index: int

    def set_weights(self, weights: dict[str, torch.Tensor]) -> None:
        assert self.module is not None
        self._weight_targets = load_weights(self.module, self._weight_targets, weights)

    def sync(
        self, weights: dict[str, torch.Tensor], connector_state: dict[str, np.ndarray] | None
    ) -> None:
        """Take the learner's weights and, if given, the driver's merged connector state."""
        self.set_weights(weights)
        if connector_state is not None:
            self.env_to_module.set_state(connector_state)

    def get_state(self) -> dict[str, Any]:
        """The connector state (arrays); the env itself is re-seeded on restore."""
        return {"connector": self.env_to_module.get_state()}

    def set_state(self, state: dict[str, Any]) -> None:
        self.env_to_module.set_state(state.get("connector", {}))

    def ping(self) -> int:
        """A cheap call that a remote runner answers once it is built (its env made)."""
        return self.worker_index
