"""Envs with Discrete observations train, the model catalog one-hot encoding them (FrozenLake)."""

import rlrun
from rlrun import Algorithm


def test_frozenlake_trains_saves_and_acts(tmp_path):
    algo = rlrun.build(
        [
            "env=FrozenLake-v1",
            "env.env_config={is_slippery:false}",
            "algo.train_batch_size_per_learner=512",
            "algo.minibatch_size=128",
            "algo.num_epochs=2",
        ]
    )
    import gymnasium as gym

    # The module gets the env's index; its encoder one-hots it.
    assert algo.module_spec.observation_space == gym.spaces.Discrete(16)
    result = algo.train()
    assert result["num_env_steps_sampled_lifetime"] > 400
    restored = Algorithm.from_checkpoint(algo.save(tmp_path / "ckpt"))
    assert restored.compute_single_action(0) in range(4)
    assert restored.evaluate(episodes=2)["episodes"] == 2
