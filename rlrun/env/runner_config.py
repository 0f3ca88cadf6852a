"""What an env runner is built from: the `env_runner` section plus what the Algorithm wires into
every runner of a run (training, evaluation, `evaluate`), as one typed object.

The wiring fields are not YAML keys of `env_runner`; they come from other sections (`connectors`,
`callbacks`, `multi_agent.policy_mapping_fn`) so that local, remote and evaluation runners all
build the same pipelines and hooks from the one object they receive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rlrun.config.schema import ConnectorsConfig, EnvRunnerConfig


@dataclass
class RunnerConfig(EnvRunnerConfig):
    connectors: ConnectorsConfig = field(default_factory=ConnectorsConfig)  # pieces to build
    callbacks: list[str] = field(default_factory=list)  # hook classes, for episode hooks
    policy_mapping_fn: str | None = None  # multi-agent: agent -> module id; None: the default
    in_evaluation: bool = False  # an evaluation runner (EnvRunner.in_evaluation, for hooks)
