"""RLlib's "Getting Started" Python example on rlrun: the code of RLlib's documentation, with
`ray.rllib` replaced by `rlrun` in the imports and nothing else changed (docs/python_api.md).

Build a PPO config, train a few iterations, save checkpoints, rebuild the algorithm from a
checkpoint, and run one CartPole episode with compute_single_action:

    python examples/rllib_getting_started.py --stop-iters 10

Everything runs in this process; `--num-env-runners 2` samples in Ray actors, as in RLlib.
"""

import argparse
from pprint import pprint

import gymnasium as gym

from rlrun.algorithms.algorithm import Algorithm
from rlrun.algorithms.ppo import PPOConfig

parser = argparse.ArgumentParser()
parser.add_argument("--stop-iters", type=int, default=10)
parser.add_argument("--num-env-runners", type=int, default=0)
args = parser.parse_args()

# Configure the algorithm.
config = (
    PPOConfig()
    .environment("CartPole-v1")
    .env_runners(num_env_runners=args.num_env_runners)
    .training(
        lr=0.0002,
        train_batch_size_per_learner=2000,
        num_epochs=10,
    )
)

# Build the Algorithm (PPO) and train it, saving a checkpoint every 5 iterations.
algo = config.build()
for i in range(args.stop_iters):
    result = algo.train()
    result.pop("config", None)
    pprint(result)
    if i % 5 == 0:
        checkpoint_dir = algo.save().checkpoint.path
        print(f"Checkpoint saved in directory {checkpoint_dir}")

checkpoint_path = algo.save_to_path()
algo.stop()

# Add evaluation after every training iteration, and rebuild.
config.evaluation(
    evaluation_interval=1,
    evaluation_duration_unit="episodes",
    evaluation_duration=10,
)
ppo_with_evaluation = config.build_algo()
pprint(ppo_with_evaluation.train()["evaluation"])
ppo_with_evaluation.stop()

# Restore the trained algorithm from its checkpoint and run one episode with it.
algo = Algorithm.from_checkpoint(checkpoint_path)
env = gym.make("CartPole-v1")
obs, info = env.reset()
episode_return = 0.0
terminated = truncated = False
while not terminated and not truncated:
    action = algo.compute_single_action(obs)
    obs, reward, terminated, truncated, info = env.step(action)
    episode_return += reward
print(f"Reached episode return of {episode_return}.")
algo.stop()
