"""Modules that share an encoder, as in RLlib's RL Modules docs (a MultiRLModule with a shared
encoder): each agent's module keeps its own policy and value heads, and all of them encode
observations with one set of layers.

    rlrun train env.id=rlrun.env.multi_agent.example_envs:MultiAgentCartPole \\
        'multi_agent.policies=[p0,p1]' \\
        multi_agent.policy_mapping_fn=rlrun.env.multi_agent.mappings:by_agent_index \\
        multi_agent.multi_rl_module_class=examples.shared_encoder:SharedEncoder

(from the repository root, or with the folder on PYTHONPATH). Learners and env runners build
their modules through this class, so the sharing holds in both. Each module's learner steps
the shared layers with its own loss and its own Adam moments, module after module, where
RLlib steps them once with the summed loss (docs/architecture.md says why rlrun keeps one
learner per module). A checkpoint stores the shared tensors under each module's folder.
"""

from __future__ import annotations

from rlrun.algorithms.ppo.module import PPOModule
from rlrun.core.multi_rl_module import MultiRLModule
from rlrun.core.rl_module import RLModule


class SharedEncoder(MultiRLModule):
    """Every PPO module encodes with the first module's encoders."""

    def __init__(self, modules: dict[str, RLModule]) -> None:
        first = next(iter(modules.values()))
        for module in modules.values():
            if module is not first and isinstance(module, PPOModule):
                module.set_encoder(first.encoder, getattr(first, "vf_encoder", None))
        super().__init__(modules)
