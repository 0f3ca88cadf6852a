"""The baseline of time_to_solve.py: Stable-Baselines3 PPO on CartPole-v1 with rl-zoo3's tuned
hyperparameters, stopped as soon as the mean return of the last 100 finished episodes is >= 475.

Run as its own process (time_to_solve.py times it from process start to exit, like rlrun):

    .venv/bin/python benchmarks/sb3_cartpole.py --seed 0

The last stdout line is a JSON object: env_steps, reached, return_mean, learn_s, in_process_s,
torch_threads.

rl-zoo3 hyperparams/ppo.yml, CartPole-v1:
    n_envs: 8, n_timesteps: 1e5, policy: MlpPolicy, n_steps: 32, batch_size: 256,
    gae_lambda: 0.8, gamma: 0.98, n_epochs: 20, ent_coef: 0.0,
    learning_rate: lin_1e-3, clip_range: lin_0.2
The zoo trains for exactly n_timesteps, so its linear schedules reach 0 at 1e5 steps. Here
training may run on to `--cap` steps (a generous budget, in case a seed is slow): the schedules
still follow the zoo's 1e5-step horizon and stay at 0 after it, so the algorithm is the zoo's.
The zoo also does not touch torch's thread count; neither does this script (see --threads).
"""

from __future__ import annotations

import argparse
import json
import time

from _sb3 import learn_until  # the script's folder is on sys.path when run

ZOO = {
    "n_envs": 8,
    "n_timesteps": 100_000,
    "policy": "MlpPolicy",
    "n_steps": 32,
    "batch_size": 256,
    "gae_lambda": 0.8,
    "gamma": 0.98,
    "n_epochs": 20,
    "ent_coef": 0.0,
    "learning_rate": 1e-3,  # lin_1e-3
    "clip_range": 0.2,  # lin_0.2
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target", type=float, default=475.0)
    ap.add_argument("--window", type=int, default=100, help="episodes in the moving mean")
    ap.add_argument("--cap", type=int, default=300_000, help="give up after this many env steps")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()

    t_start = time.perf_counter()
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    horizon, cap = ZOO["n_timesteps"], args.cap

    def lin(initial: float):
        # SB3 passes progress_remaining = 1 - t / total_timesteps, with total_timesteps = cap.
        def schedule(progress_remaining: float) -> float:
            t = (1.0 - progress_remaining) * cap
            return initial * max(0.0, 1.0 - t / horizon)

        return schedule

    env = make_vec_env("CartPole-v1", n_envs=ZOO["n_envs"], seed=args.seed)
    model = PPO(
        ZOO["policy"],
        env,
        n_steps=ZOO["n_steps"],
        batch_size=ZOO["batch_size"],
        gae_lambda=ZOO["gae_lambda"],
        gamma=ZOO["gamma"],
        n_epochs=ZOO["n_epochs"],
        ent_coef=ZOO["ent_coef"],
        learning_rate=lin(ZOO["learning_rate"]),
        clip_range=lin(ZOO["clip_range"]),
        seed=args.seed,
        device="cpu",
        verbose=0,
    )
    out = learn_until(model, env, cap, args.target, args.window, t_start)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
