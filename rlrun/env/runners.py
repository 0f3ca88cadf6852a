"""Which env runner a module spec calls for: the single-agent EnvRunner (a Gymnasium vector env)
or the MultiAgentEnvRunner (several multi-agent envs). Both answer the same calls, so runner
groups, evaluation and the Algorithm build either through here."""

from __future__ import annotations

from typing import Any

from rlrun.core.multi_rl_module import MultiRLModuleSpec
from rlrun.env.env_runner import EnvRunner


def env_runner_class(module_spec: Any) -> type:
    if isinstance(module_spec, MultiRLModuleSpec):
        from rlrun.env.multi_agent.env_runner import MultiAgentEnvRunner

        return MultiAgentEnvRunner
    return EnvRunner


def make_env_runner(env_cfg: dict[str, Any], runner_cfg: dict[str, Any], module_spec: Any,
                    **kwargs: Any) -> Any:  # fmt: skip
    return env_runner_class(module_spec)(env_cfg, runner_cfg, module_spec, **kwargs)
