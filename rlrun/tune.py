"""rlrun's algorithms as Ray Tune Trainables: `tune.Tuner(PPO, param_space=config)`.

This module imports Ray Tune, so nothing imports it until asked: `from rlrun.algorithms.ppo
import PPO` reaches it on first access (the package's `__getattr__`), as RLlib users write it.
Each Trainable holds one rlrun Algorithm: its config is a `to_dict()` result (or a builder, or
RLlib-named keys) with Tune's search spaces resolved, composed and checked as `rlrun train`
does; `step()` is one `train()`, and checkpoints are rlrun checkpoints (docs/checkpoints.md),
so Tune's schedulers (ASHA stops trials, PBT clones them from checkpoints) work unchanged.
Outside Tune, `PPO(config=config)` is a Trainable that passes every other attribute
(compute_single_action, evaluate, get_weights, ...) to its Algorithm.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from ray.tune import PlacementGroupFactory, Trainable

from rlrun.algorithms.algorithm_config import AlgorithmConfig


def _register_config_type() -> None:
    """Tuner(param_space=config) calls to_dict() on RLlib's configs, which subclass Tune's
    private `_Config`; rlrun's builder registers as one without importing Ray itself."""
    try:
        from ray.tune.tune import _Config
    except ImportError:  # another Ray: pass config.to_dict() instead
        return
    _Config.register(AlgorithmConfig)


_register_config_type()


class RLrunTrainable(Trainable):
    """One rlrun Algorithm behind Tune's Trainable interface."""

    algo_name: ClassVar[str]

    def __init__(self, config: Any = None, **kwargs: Any) -> None:
        # RLlib's `PPO(config=PPOConfig()...)`: Tune's Trainable wants a dict.
        if isinstance(config, AlgorithmConfig):
            config = config.to_dict()
        super().__init__(config, **kwargs)

    def setup(self, config: dict[str, Any]) -> None:
        self.algo = _builder(config, self.algo_name).build()
        stop = self.algo.config["stop"]
        self._target = self.algo.reward_threshold if stop["reward"] == "auto" else stop["reward"]
        self._wall_s = 0.0

    def step(self) -> dict[str, Any]:
        """One `train()`. rlrun's `stop.*` ends the trial as it ends `rlrun train` (Tune's
        `done`), beside whatever Tune's own `RunConfig(stop=...)` says."""
        from rlrun.stop import stop_reason

        t0 = time.perf_counter()
        result = self.algo.train()
        self._wall_s += time.perf_counter() - t0
        if stop_reason(result, self.algo.config["stop"], self._target, self._wall_s):
            result["done"] = True
        return result

    def save_checkpoint(self, checkpoint_dir: str) -> None:
        self.algo.save(checkpoint_dir)

    def load_checkpoint(self, checkpoint: Any) -> None:
        self.algo.restore(checkpoint if isinstance(checkpoint, str) else checkpoint["path"])

    def cleanup(self) -> None:
        if "algo" in self.__dict__:
            self.algo.stop()

    def reset_config(self, new_config: dict[str, Any]) -> bool:
        return False  # a new config means new runners and learners: Tune starts a new actor

    @classmethod
    def default_resource_request(cls, config: Any) -> PlacementGroupFactory:
        """One bundle for the trial's driver (it samples and learns when those parts are
        local), one per remote env runner, eval runner and learner (docs/ray.md)."""
        from rlrun.cluster import remote_actor_counts

        cfg = config if _is_full(config) else _builder(config, cls.algo_name).to_dict()
        n = remote_actor_counts(cfg)
        runner, learner = cfg["env_runner"], cfg["learner"]
        eval_cpus = cfg["evaluation"].get("num_cpus_per_env_runner")
        runner_b = {
            "CPU": runner["num_cpus_per_env_runner"],
            "GPU": runner["num_gpus_per_env_runner"],
        }
        eval_b = {
            **runner_b,
            "CPU": runner["num_cpus_per_env_runner"] if eval_cpus is None else eval_cpus,
        }
        learner_b = {"CPU": learner["num_cpus_per_learner"], "GPU": learner["num_gpus_per_learner"]}
        # A learner in the driver holds its GPU there.
        bundles = [{"CPU": 1.0, "GPU": 0.0 if n["learners"] else learner["num_gpus_per_learner"]}]
        bundles += [runner_b] * n["env_runners"] + [eval_b] * n["eval_env_runners"]
        bundles += [learner_b] * n["learners"]
        bundles = [{k: float(v) for k, v in b.items() if v} for b in bundles]
        return PlacementGroupFactory([b for b in bundles if b], strategy="PACK")

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the Trainable lacks: the Algorithm's API.
        algo = self.__dict__.get("algo")
        if algo is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(algo, name)


def _trainables() -> dict[str, type[RLrunTrainable]]:
    """A Trainable per registered algorithm, named like it (PPO, DQN, ..., CQL) and defined at
    module level, so Ray pickles it by reference as it would a hand-written class."""
    from rlrun.algorithms.registry import ALGORITHMS

    out = {}
    for name in ALGORITHMS:
        cls = type(name, (RLrunTrainable,), {"algo_name": name, "__module__": __name__})
        globals()[name] = out[name] = cls
    return out


TRAINABLES: dict[str, type[RLrunTrainable]] = _trainables()


def algorithm(name: str) -> type:
    """The Trainable for `name` (what rlrun.algorithms.<algo>.<NAME> resolves to)."""
    return TRAINABLES[name.upper()]


def _builder(config: Any, algo_name: str) -> AlgorithmConfig:
    if isinstance(config, AlgorithmConfig):
        return config
    from rlrun.algorithms.algorithm_config import builder_class

    config = dict(config or {})
    config.setdefault("algo", {})
    if isinstance(config["algo"], dict):
        config["algo"] = {"name": algo_name, **config["algo"]}
    return builder_class(algo_name).from_dict(config)


def _is_full(config: Any) -> bool:
    """A `to_dict()` result: every section there already."""
    return isinstance(config, dict) and all(
        isinstance(config.get(s), dict) for s in ("env_runner", "learner", "evaluation")
    )
