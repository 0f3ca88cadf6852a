"""The hooks a callback class may define, and an optional base class with every hook as a no-op.

A callback class need not subclass `Callbacks`: rlrun calls only the hooks a class defines, with
only the keyword arguments its signature names (all of them when it takes **kwargs), so
`def on_episode_end(self, episode, metrics_logger): ...` is a complete callback.
"""

from __future__ import annotations

from typing import Any

# hook -> the keyword arguments rlrun passes to it. Driver hooks run in the process that trains;
# episode hooks run inside each EnvRunner (the driver's, or a Ray actor's).
HOOK_ARGS: dict[str, tuple[str, ...]] = {
    "on_algorithm_init": ("algorithm", "metrics_logger"),
    "on_train_result": ("algorithm", "result", "metrics_logger"),
    "on_evaluate_start": ("algorithm", "metrics_logger"),
    "on_evaluate_end": ("algorithm", "evaluation_metrics", "metrics_logger"),
    "on_checkpoint_saved": ("algorithm", "checkpoint_dir", "metrics_logger"),
    "on_episode_start": (
        "episode", "env_runner", "metrics_logger", "env", "env_index", "rl_module"
    ),
    "on_episode_step": (
        "episode", "env_runner", "metrics_logger", "env", "env_index", "rl_module"
    ),
    "on_episode_end": (
        "episode", "env_runner", "metrics_logger", "env", "env_index", "rl_module"
    ),
}  # fmt: skip
EPISODE_HOOKS = ("on_episode_start", "on_episode_step", "on_episode_end")


class Callbacks:
    """Optional base class: every hook does nothing. Override the ones you need.

    Driver hooks may log with `metrics_logger.log_value(...)` (reported under the key itself);
    episode hooks log into the env runner's logger (reported under `env_runners/<key>`).
    """

    def on_algorithm_init(self, *, algorithm: Any, metrics_logger: Any) -> None:
        """Once, when the Algorithm is built (before a resumed run restores its checkpoint)."""

    def on_train_result(
        self, *, algorithm: Any, result: dict[str, Any], metrics_logger: Any
    ) -> None:
        """After each training iteration; keys added to `result` are logged with it."""

    def on_evaluate_start(self, *, algorithm: Any, metrics_logger: Any) -> None:
        """Before an evaluation during training starts."""

    def on_evaluate_end(
        self, *, algorithm: Any, evaluation_metrics: dict[str, Any], metrics_logger: Any
    ) -> None:
        """After an evaluation; `evaluation_metrics` becomes the result's `evaluation` section."""

    def on_checkpoint_saved(
        self, *, algorithm: Any, checkpoint_dir: Any, metrics_logger: Any
    ) -> None:
        """After `rlrun train` wrote a checkpoint folder (a pathlib.Path)."""

    def on_episode_start(
        self, *, episode: Any, env_runner: Any, metrics_logger: Any, env: Any, env_index: int,
        rl_module: Any,
    ) -> None:  # fmt: skip
        """A sub-env reset: `episode` holds its first observation."""

    def on_episode_step(
        self, *, episode: Any, env_runner: Any, metrics_logger: Any, env: Any, env_index: int,
        rl_module: Any,
    ) -> None:  # fmt: skip
        """After each step of an episode, its last step included."""

    def on_episode_end(
        self, *, episode: Any, env_runner: Any, metrics_logger: Any, env: Any, env_index: int,
        rl_module: Any,
    ) -> None:  # fmt: skip
        """After an episode's last step (terminated or truncated)."""
