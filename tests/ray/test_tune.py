"""rlrun's algorithms as Ray Tune Trainables: `tune.Tuner(PPO, param_space=config)` with a
scheduler, as RLlib users write it, and the Trainable's checkpoints and delegation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

METRIC = "env_runners/episode_return_mean"


def tiny(tune_lr: object = 1e-3):  # noqa: ANN201 - a PPOConfig
    from rlrun.algorithms.ppo import PPOConfig

    return (
        PPOConfig()
        .environment("CartPole-v1")
        .training(lr=tune_lr, train_batch_size_per_learner=128, minibatch_size=64, num_epochs=1)
        .env_runners(num_envs_per_env_runner=2)
    )


def test_tuner_runs_rlrun_trials_under_asha(ray_session: None, tmp_path: Path) -> None:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    from rlrun.algorithms.algorithm import Algorithm
    from rlrun.algorithms.ppo import PPO

    tuner = tune.Tuner(
        PPO,
        param_space=tiny(tune.grid_search([1e-3, 3e-3])),  # the builder itself, as in RLlib
        tune_config=tune.TuneConfig(
            scheduler=ASHAScheduler(metric=METRIC, mode="max", max_t=2, grace_period=1)
        ),
        run_config=tune.RunConfig(
            stop={"training_iteration": 2},
            storage_path=str(tmp_path),
            checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=True),
            verbose=0,
        ),
    )
    results = tuner.fit()
    assert not results.errors, results.errors
    assert sorted(r.config["algo"]["lr"] for r in results) == [1e-3, 3e-3]
    best = results.get_best_result(metric=METRIC, mode="max")
    assert best.metrics["training_iteration"] == 2
    assert best.metrics["num_env_steps_sampled_lifetime"] > 0
    # Tune's checkpoint is an rlrun checkpoint.
    algo = Algorithm.from_checkpoint(best.checkpoint)
    try:
        assert algo.iteration == 2
        assert algo.compute_single_action(np.zeros(4, np.float32)) in (0, 1)
    finally:
        algo.stop()


def test_the_trainable_alone_saves_restores_and_acts_like_the_algorithm() -> None:
    from rlrun.algorithms.ppo import PPO

    trainable = PPO(config=tiny())
    restored = PPO(config=tiny().to_dict())
    try:
        assert trainable.train()["training_iteration"] == 1
        saved = trainable.save()  # Tune's result: RLlib's `algo.save().checkpoint.path`
        restored.restore(saved.checkpoint.path)
        assert restored.algo.iteration == 1
        obs = np.array([0.01, 0.2, -0.03, 0.1], np.float32)
        # Names the Trainable lacks reach the Algorithm.
        assert restored.compute_single_action(
            obs, explore=False
        ) == trainable.compute_single_action(obs, explore=False)
        assert set(restored.get_weights()) == {"default_policy"}
    finally:
        trainable.stop()
        restored.stop()


def test_resource_request_has_a_bundle_per_remote_actor() -> None:
    from rlrun.algorithms.ppo import PPO

    config = tiny().env_runners(num_env_runners=2, num_cpus_per_env_runner=0.5)
    factory = PPO.default_resource_request(config.to_dict())
    assert factory.bundles == [{"CPU": 1.0}, {"CPU": 0.5}, {"CPU": 0.5}]


@pytest.mark.parametrize("name", ["PPO", "DQN", "SAC"])
def test_rllib_import_paths_give_tune_trainables(name: str) -> None:
    import importlib

    from ray.tune import Trainable

    module = importlib.import_module(f"rlrun.algorithms.{name.lower()}")
    assert issubclass(getattr(module, name), Trainable)
    assert getattr(module, f"{name}Config")().algo_name == name


def test_rlrun_stop_section_ends_a_tune_trial(ray_session: None, tmp_path: Path) -> None:
    """rlrun's stop.* ends a trial as it ends `rlrun train` (Tune's `done`), under Tune's own
    stop criteria; stop.reward=null and no other stop key leaves it to Tune."""
    from ray import tune

    from rlrun.algorithms.ppo import PPO

    trainable = PPO(config=tiny().update_from_dict({"stop.iterations": 2, "stop.reward": None}))
    try:
        assert trainable.train()["done"] is False
        assert trainable.train()["done"] is True
    finally:
        trainable.stop()
    tuner = tune.Tuner(
        PPO,
        param_space=tiny().update_from_dict({"stop.timesteps": 256, "stop.reward": None}),
        run_config=tune.RunConfig(
            stop={"training_iteration": 5}, storage_path=str(tmp_path), verbose=0
        ),
    )
    (result,) = tuner.fit()
    assert result.error is None, result.error
    # ~128 env steps an iteration (autoreset rows do not count): 256 well before Tune's 5.
    assert result.metrics["num_env_steps_sampled_lifetime"] >= 256
    assert result.metrics["training_iteration"] < 5
