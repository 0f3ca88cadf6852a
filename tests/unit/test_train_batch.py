"""An explicit, small rollout_fragment_length still fills the train batch."""

import rlrun


def test_small_fragments_are_sampled_until_the_train_batch_is_full() -> None:
    algo = rlrun.build(
        [
            "env_runner.num_envs_per_env_runner=4",
            "env_runner.rollout_fragment_length=16",
            "algo.train_batch_size_per_learner=256",
            "algo.minibatch_size=64",
            "algo.num_epochs=1",
        ]
    )
    rollouts, env_steps = algo.sample_train_batch()
    assert len(rollouts) == 4  # 4 fragments of 16 steps x 4 envs = 256 rows
    assert all(r.num_steps == 16 for r in rollouts)
    assert env_steps == sum(r.env_steps for r in rollouts)
    assert algo.num_env_steps_sampled_lifetime == env_steps
    result = algo.train()
    assert result["env_runners"]["num_env_steps_sampled"] > 200  # valid steps of 256 rows
    assert result["num_env_steps_sampled_lifetime"] == algo.num_env_steps_sampled_lifetime
