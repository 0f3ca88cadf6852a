"""What the offline algorithms (BC, MARWIL, CQL) share: they sample no env step, so the recorded
steps trained on, `num_env_steps_trained_lifetime`, are what schedules and results count and
what a checkpoint must carry on. A mixin placed before the Algorithm class it extends."""

from __future__ import annotations

from typing import Any


class OfflineSteps:
    num_env_steps_trained_lifetime: int = 0  # recorded steps trained on, over the whole run

    def trained(self, steps: int) -> dict[str, int]:
        """Count `steps` more trained-on steps; the training step's counters for the result."""
        self.num_env_steps_trained_lifetime += int(steps)
        return {
            "num_env_steps_sampled": 0,
            "num_env_steps_trained": int(steps),
            "num_env_steps_trained_lifetime": self.num_env_steps_trained_lifetime,
        }

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()  # type: ignore[misc]
        state["counters"]["num_env_steps_trained_lifetime"] = self.num_env_steps_trained_lifetime
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)  # type: ignore[misc]
        trained = state["counters"].get("num_env_steps_trained_lifetime", 0)  # older checkpoints
        self.num_env_steps_trained_lifetime = int(trained)
