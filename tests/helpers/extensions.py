"""A custom Learner and a custom Algorithm, selected from config (algo.learner_class,
algo.algorithm_class) in tests."""

from __future__ import annotations

from typing import Any

from rlrun.algorithms.ppo.algorithm import PPO
from rlrun.algorithms.ppo.learner import PPOLearner


class L2PPOLearner(PPOLearner):
    """PPO with an extra loss term: an L2 penalty on the weights, reported as `l2_loss`."""

    def compute_loss_for_module(self, module_id: str, batch: dict[str, Any]) -> Any:
        loss, metrics = super().compute_loss_for_module(module_id, batch)
        l2 = sum((p**2).sum() for p in self.module.parameters())
        metrics["l2_loss"] = l2.detach()
        return loss + 1e-4 * l2, metrics


class CountingPPO(PPO):
    """PPO whose training_step also reports how many times it ran."""

    def training_step(self) -> dict[str, Any]:
        out = super().training_step()
        out["custom_steps"] = self.iteration + 1
        return out


class NotALearner:
    pass


def three_episode_evaluation(algorithm: Any, evaluator: Any) -> dict[str, Any]:
    """A custom evaluation: three explored episodes with the algorithm's own evaluate()."""
    stats = algorithm.evaluate(episodes=3, explore=True)
    return {"env_runners": {"episode_return_mean": stats["episode_return_mean"]}, "custom": 1}


def not_a_dict(algorithm: Any, evaluator: Any) -> list[int]:
    return [1, 2]
