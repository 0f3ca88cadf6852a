"""MultiRLModule: one RLModule per module id, for multi-agent runs (RLlib's MultiRLModule).

The container adds nothing to its modules: each one is built from its own RLModuleSpec and is
any RLModule (the default ones, a user's class, recurrent or not). Its state_dict names a tensor
"<module_id>.<name>", which is also how the multi-agent learner hands out weights, so runners
sync with the same fused copy as single-agent ones, and checkpoints split the names back into
module/<module_id>/ folders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from rlrun.core.rl_module import RLModule, RLModuleSpec


class MultiRLModule(nn.ModuleDict):
    """Subclass it to wire modules together after they are built (e.g. one encoder shared by
    several modules: examples/shared_encoder.py), and name the subclass in
    `multi_agent.multi_rl_module_class`. Learners and runners build through it alike."""

    def __init__(self, modules: dict[str, RLModule]) -> None:
        super().__init__(modules)

    def __getitem__(self, module_id: str) -> RLModule:  # typed: ModuleDict says nn.Module
        return super().__getitem__(module_id)  # type: ignore[return-value]


@dataclass
class MultiRLModuleSpec:
    """What a multi-agent run's modules are built from, per module id (JSON-able, like
    RLModuleSpec): the module specs, each module's algorithm settings (the `algo` section with
    its per-module overrides applied) and which modules learn."""

    module_specs: dict[str, RLModuleSpec]
    algo_configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    trainable: list[str] = field(default_factory=list)
    multi_rl_module_class: str | None = None  # "pkg.module:Class", a MultiRLModule subclass

    def build(self) -> MultiRLModule:
        modules = {mid: spec.build() for mid, spec in self.module_specs.items()}
        if self.multi_rl_module_class is None:
            return MultiRLModule(modules)
        from rlrun.algorithms.registry import load_attr

        cls = load_attr(self.multi_rl_module_class)
        return cls(modules)

    @property
    def module_ids(self) -> list[str]:
        return list(self.module_specs)


@dataclass
class PrebuiltSpec:
    """A module spec whose `build()` hands out a module built already (one of a MultiRLModule's,
    which may share layers with its siblings): what a multi-agent learner gives each learner."""

    spec: RLModuleSpec
    module: RLModule

    def build(self) -> RLModule:
        return self.module

    def __getattr__(self, name: str) -> Any:
        return getattr(self.spec, name)


def prefixed(module_id: str, weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """One module's tensors under the MultiRLModule's names."""
    return {f"{module_id}.{k}": v for k, v in weights.items()}


def split_weights(
    weights: dict[str, torch.Tensor], module_ids: list[str]
) -> dict[str, dict[str, torch.Tensor]]:
    """A MultiRLModule's tensors by module id, with the module's own names."""
    out: dict[str, dict[str, torch.Tensor]] = {mid: {} for mid in module_ids}
    for name, tensor in weights.items():
        mid, _, rest = name.partition(".")
        out[mid][rest] = tensor
    return out
