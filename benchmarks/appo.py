"""APPO: time to solve CartPole with 1 and 2 asynchronous Ray runners, against PPO, and APPO's
sampler throughput from 1 to 2 runners on a CPU-heavy env.

1. Time to CartPole-v1 450 (100-episode mean): `rlrun train experiment=cartpole_appo` and
   `experiment=cartpole_ppo stop.reward=450`, each with `env_runner=ray` and 1 or 2 runners
   (`num_cpus_per_env_runner=0.5`, `rollout_fragment_length=64` so fragments turn over while
   the learner trains), fresh processes timed from start to exit (Ray start-up included),
   configurations interleaved within each seed. Medians over seeds; APPO/PPO ratios.
2. Sampler throughput: APPO on BurnCPUEnv (CartPole-v1 whose step burns 1 ms of CPU, so the
   env dominates), 1 and 2 remote runners (1 CPU each, Ray with 2 CPUs), 4 sub-envs each,
   fragments of 32: env steps sampled per second of training, over `iters` iterations after
   a warm-up, the learner training in the driver meanwhile. Each configuration runs in a fresh
   process; repetitions interleave them. Target: 2 runners / 1 runner >= 1.8x.

    .venv/bin/python benchmarks/appo.py            # ~10 min on 2 cores
    .venv/bin/python benchmarks/appo.py --quick    # one seed, fewer iterations: ~3 min
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TARGET_SCALING = 1.8
SOLVE = {
    "APPO": ["experiment=cartpole_appo"],
    "PPO": ["experiment=cartpole_ppo", "stop.reward=450"],
}
RAY = ["env_runner=ray", "env_runner.num_cpus_per_env_runner=0.5",
       "env_runner.rollout_fragment_length=64", "stop.timesteps=600000", "console=off"]  # fmt: skip


def solve_once(algo: str, runners: int, seed: int, results_dir: str) -> dict[str, Any]:
    """One `rlrun train` to CartPole 450: wall seconds to exit, env steps, whether it reached."""
    args = [*SOLVE[algo], *RAY, f"env_runner.num_env_runners={runners}", f"seed={seed}",
            f"results_dir={results_dir}", f"name={algo}_{runners}_{seed}"]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "rlrun", "train", *args], env=ENV, cwd=ROOT,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    wall = time.perf_counter() - t0
    (result,) = Path(results_dir, f"{algo}_{runners}_{seed}").glob("*/result.json")
    last = json.loads(result.read_text().splitlines()[-1])
    ret = last["env_runners"]["episode_return_mean"]
    return {"algo": algo, "runners": runners, "seed": seed, "wall_s": wall, "rc": proc.returncode,
            "env_steps": last["num_env_steps_sampled_lifetime"], "return": ret,
            "solved": ret >= 450}  # fmt: skip


def throughput_child(runners: int, iters: int) -> None:
    """In a fresh process: APPO's sampled env steps per second on BurnCPUEnv; prints JSON."""
    from rlrun.algorithms.registry import algorithm_class_for
    from rlrun.config.compose import compose

    cfg = compose([
        "algo=appo", "env.id=rlrun.env.debug_envs:BurnCPUEnv", "+env.env_config.burn_us=1000",
        "env_runner=ray", f"env_runner.num_env_runners={runners}",
        "env_runner.num_envs_per_env_runner=4", "env_runner.rollout_fragment_length=32",
        "env_runner.num_cpus_per_env_runner=1", "ray.num_cpus=2",
        f"algo.train_batch_size_per_learner={128 * runners}",
    ])  # fmt: skip
    algo = algorithm_class_for(cfg)(cfg)
    try:
        for _ in range(3):  # warm-up: actors started, first fragments in flight
            algo.train()
        steps0, t0 = algo.num_env_steps_sampled_lifetime, time.perf_counter()
        for _ in range(iters):
            algo.train()
        rate = (algo.num_env_steps_sampled_lifetime - steps0) / (time.perf_counter() - t0)
    finally:
        algo.stop()
    print(json.dumps({"runners": runners, "env_steps_per_s": rate}))


def throughput(runners: int, iters: int) -> float:
    proc = subprocess.run(
        [sys.executable, __file__, "--_throughput", str(runners), "--iters", str(iters)],
        env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["env_steps_per_s"])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one seed, one repetition, 10 iterations")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--reps", type=int, default=3, help="throughput repetitions")
    ap.add_argument("--iters", type=int, default=30, help="throughput iterations measured")
    ap.add_argument("--parts", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--_throughput", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._throughput is not None:
        throughput_child(args._throughput, args.iters)
        return {}
    if args.quick:
        args.seeds, args.reps, args.iters = args.seeds[:1], 1, 10
    res: dict[str, Any] = {}
    if 1 in args.parts:
        res["solve"] = solve_part(args.seeds)
    if 2 in args.parts:
        res["throughput"] = throughput_part(args.reps, args.iters)
    if args.json is not None:
        args.json.write_text(json.dumps(res, indent=2))
    return res


def solve_part(seeds: list[int]) -> list[dict[str, Any]]:
    import tempfile

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for algo in ("APPO", "PPO"):
                for runners in (1, 2):
                    run = solve_once(algo, runners, seed, tmp)
                    print(f"  {algo} {runners} runner(s) seed {seed}: {run['wall_s']:.1f} s, "
                          f"{run['env_steps']} steps, return {run['return']:.0f}", flush=True)  # fmt: skip
                    runs.append(run)
    print("\nTime to CartPole-v1 450 (s, start to exit, median over seeds; * = not all solved)")
    med: dict[tuple[str, int], float] = {}
    for algo in ("APPO", "PPO"):
        for runners in (1, 2):
            mine = [r for r in runs if r["algo"] == algo and r["runners"] == runners]
            med[algo, runners] = statistics.median(r["wall_s"] for r in mine)
            star = "" if all(r["solved"] for r in mine) else " *"
            steps = statistics.median(r["env_steps"] for r in mine)
            print(f"  {algo:5s} {runners} runner(s): {med[algo, runners]:6.1f} s{star}, "
                  f"{steps:,.0f} env steps")  # fmt: skip
    for runners in (1, 2):
        print(
            f"  APPO / PPO, {runners} runner(s): {med['APPO', runners] / med['PPO', runners]:.2f}x time"
        )
    print(f"  APPO 2 / 1 runners: {med['APPO', 2] / med['APPO', 1]:.2f}x time")
    return runs


def throughput_part(reps: int, iters: int) -> dict[str, Any]:
    rates: dict[int, list[float]] = {1: [], 2: []}
    for rep in range(reps):
        for runners in (1, 2) if rep % 2 == 0 else (2, 1):
            rates[runners].append(throughput(runners, iters))
            print(
                f"  rep {rep} {runners} runner(s): {rates[runners][-1]:,.0f} env steps/s",
                flush=True,
            )
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    ok = "meets" if two / one >= TARGET_SCALING else "misses"
    print(f"\nAPPO sampler throughput on BurnCPUEnv (1 ms/step), median of {reps}:")
    print(f"  1 runner: {one:,.0f} env steps/s; 2 runners: {two:,.0f} env steps/s")
    print(f"  2 / 1 runners: {two / one:.2f}x ({ok} the {TARGET_SCALING}x target)")
    return {"rates": rates, "ratio": two / one}


if __name__ == "__main__":
    main()
