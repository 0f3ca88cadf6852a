"""RLModule: the networks and their three forward passes. It never holds a loss or an optimizer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from rlrun.core.columns import VF_PREDS
from rlrun.core.distributions import Distribution, distribution_class_for

Batch = dict[str, torch.Tensor]

ACTIVATIONS: dict[str, type[nn.Module] | None] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "linear": None,
}


class RLModule(nn.Module):
    """Base class. Subclasses build their networks in `setup()` and implement the forwards.

    `forward_inference` is for deployment and evaluation (deterministic actions),
    `forward_exploration` for sampling during training, `forward_train` for the learner.
    Each returns a dict; `action_dist_inputs` is turned into actions by `action_dist_cls`.
    Parameters and buffers are updated in place, never reassigned: learners and env runners
    keep references to them and sync weights by copying into them.

    The batch: `obs` is a tree (a Dict/Tuple observation is a dict/tuple of tensors; images
    arrive as uint8). A feed-forward module gets leaves shaped [B, ...]. A recurrent module
    (one whose `get_initial_state()` is not empty) always gets a time axis, [B, T, ...], plus
    `state_in` (a tree of [B, ...]: the state before the first step; T is 1 when acting), and
    returns `state_out` with its other outputs, shaped [B, T, ...]. The env runner keeps one
    state per sub-env and starts a new episode from `get_initial_state()`.
    """

    def __init__(self, observation_space: Any, action_space: Any, model_config: dict[str, Any]):
        super().__init__()
        self.observation_space = observation_space
        self.action_space = action_space
        self.model_config = model_config
        self.action_dist_cls: type[Distribution] = distribution_class_for(action_space)
        self.setup()

    def setup(self) -> None:
        raise NotImplementedError

    def forward_inference(self, batch: Batch) -> Batch:
        return self.forward_exploration(batch)

    def forward_exploration(self, batch: Batch) -> Batch:
        raise NotImplementedError

    def forward_train(self, batch: Batch) -> Batch:
        raise NotImplementedError

    def compute_values(self, batch: Batch) -> torch.Tensor:
        """V(s) for value-based targets (GAE); modules with a cheaper value path override it."""
        return self.forward_train(batch)[VF_PREDS]

    def get_initial_state(self) -> dict[str, torch.Tensor]:
        """The state of one sub-env at an episode start, without a batch axis; {} for a
        feed-forward module (the stateless case of a recurrent one)."""
        return {}

    @property
    def is_stateful(self) -> bool:
        return bool(self.get_initial_state())


@dataclass
class RLModuleSpec:
    """Everything needed to build a module, in a form that survives a checkpoint as JSON."""

    module_class: str  # "pkg.module:Class"
    observation_space: Any
    action_space: Any
    model_config: dict[str, Any] = field(default_factory=dict)

    def build(self) -> RLModule:
        from rlrun.algorithms.registry import load_attr
        from rlrun.errors import ConfigError

        key = "algo.model.module_class"
        try:
            cls = load_attr(self.module_class)
        except (ImportError, AttributeError, ValueError) as e:
            raise ConfigError(
                key, self.module_class, f"cannot be imported ({e}); give it as pkg.module:Class"
            ) from None
        if not (isinstance(cls, type) and issubclass(cls, RLModule)):
            raise ConfigError(key, self.module_class, "must name a subclass of rlrun.RLModule")
        return cls(self.observation_space, self.action_space, self.model_config)


def obs_dim(observation_space: Any) -> int:
    return int(math.prod(observation_space.shape))


def mlp(
    in_dim: int, hiddens: list[int], activation: str, out_dim: int | None, out_gain: float
) -> nn.Sequential:
    """An MLP with orthogonal init (the PPO-implementation-details default: sqrt(2) hidden gain)."""
    layers: list[nn.Module] = []
    act_cls = ACTIVATIONS[activation]
    prev = in_dim
    for h in hiddens:
        layers.append(_init(nn.Linear(prev, h), math.sqrt(2.0)))
        if act_cls is not None:
            layers.append(act_cls())
        prev = h
    if out_dim is not None:
        layers.append(_init(nn.Linear(prev, out_dim), out_gain))
    return nn.Sequential(*layers)


def _init(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer
