"""SAC's defaults against Stable-Baselines3's on a 2-D reaching task: return at equal env steps.

The task is rlrun.env.debug_envs:PointReach (`env=PointReach`: a point in [-1,1]^2 steered to a
random goal, reward -distance, 50-step episodes; oracle about -5.4, random about -53). Neither
side is tuned: each runs its own SAC defaults on it, for the same env-step budget.

Per seed (default 0 1 2), interleaved (rlrun seed 0, SB3 seed 0, rlrun seed 1, ...), a fresh
process each, timed from just before it starts until it exits:
  rlrun: `rlrun train algo=sac env=PointReach seed=S stop.reward=null stop.timesteps=BUDGET
         evaluation.interval=4 evaluation.duration=100 ...`: iterations are 1,000 env steps
         (min_sample_timesteps_per_iteration), so it evaluates at 4k, 8k (12k, 16k, ...);
  SB3:   `python benchmarks/sac_reach.py --_sb3-child --seed S`: SAC("MlpPolicy") with SB3's
         defaults on one env, evaluated by a callback at the same env steps.
Each evaluation is 100 episodes of the deterministic policy (the Gaussian's mean); its time is
in both tools' wall time. The report gives the per-seed and median returns at each evaluated
step count, the gap (rlrun minus SB3; higher is better), the in-run seconds at each point and
the whole-process wall time, with SB3's wall over rlrun's.

    .venv/bin/python benchmarks/sac_reach.py                 # 3 seeds, 8k steps: ~8 min
    .venv/bin/python benchmarks/sac_reach.py --quick         # seed 0 only: ~2.5 min
    .venv/bin/python benchmarks/sac_reach.py --budget 16000  # also 12k and 16k: ~16 min
    .venv/bin/python benchmarks/sac_reach.py --no-sb3 --seeds 0 1 2 \\
        --rlrun-args algo.learning_starts=100                # one candidate default, rlrun only
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import time_to_solve  # noqa: E402
from _measure import median, print_report, run_measured, table  # noqa: E402

ROOT = HERE.parent
ENV_ID = "rlrun.env.debug_envs:PointReach"
EVAL_EVERY = 4_000  # env steps between evaluations (4 iterations of 1,000 env steps in rlrun)
EVAL_EPISODES = 100  # 20 left a spread of about 1 between sets of episodes (oracle -4.2 to -6.1)
FULL: dict[str, Any] = {"seeds": [0, 1, 2], "budget": 8_000}
QUICK: dict[str, Any] = {"seeds": [0], "budget": 8_000}
TIMEOUT_S = 900.0
_fmt = time_to_solve._fmt


def checkpoints(budget: int) -> list[int]:
    return list(range(EVAL_EVERY, budget + 1, EVAL_EVERY))


# --- rlrun ----------------------------------------------------------------------------------------


def run_rlrun(seed: int, budget: int, extra: list[str]) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="rlrun-bench-")
    try:
        cmd = [
            *time_to_solve.rlrun_cmd(),
            "train",
            "algo=sac",
            "env=PointReach",
            "stop.reward=null",
            f"stop.timesteps={budget}",
            f"evaluation.interval={EVAL_EVERY // 1000}",
            f"evaluation.duration={EVAL_EPISODES}",
            *extra,
            f"seed={seed}",
            f"results_dir={tmp}",
            "console=plain",
        ]
        p = run_measured(cmd, cwd=str(ROOT), timeout_s=TIMEOUT_S)
        rec = {"tool": "rlrun", "seed": seed, "rc": p.returncode, "wall_s": p.wall_s}
        results = sorted(Path(tmp).rglob("result.json"))
        rows = [json.loads(x) for x in results[0].read_text().splitlines()] if results else []
        evals = {}
        for r in rows:
            ret = (r.get("evaluation") or {}).get("env_runners", {}).get("episode_return_mean")
            if ret is not None:
                evals[int(r["num_env_steps_sampled_lifetime"])] = (ret, r["time_total_s"])
        rec["evals"] = evals
        if p.returncode != 0 or not evals:
            rec["error"] = f"exit code {p.returncode}; stderr: {p.stderr[-600:].strip()}"
        return rec
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- Stable-Baselines3 (a child process of this file) ---------------------------------------------


def run_sb3(seed: int, budget: int, threads: int) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_sb3-child", "--seed", str(seed)]
    cmd += ["--budget", str(budget), "--sb3-threads", str(threads)]
    p = run_measured(cmd, cwd=str(ROOT), timeout_s=TIMEOUT_S * 2)
    rec = {"tool": "sb3", "seed": seed, "rc": p.returncode, "wall_s": p.wall_s}
    try:
        out = json.loads(p.stdout.strip().splitlines()[-1])
        rec["evals"] = {int(k): tuple(v) for k, v in out["evals"].items()}
    except (IndexError, json.JSONDecodeError, KeyError):
        rec.update(evals={}, error=f"exit code {p.returncode}; stderr: {p.stderr[-600:].strip()}")
    return rec


def evaluate(policy: Any, env: Any, episodes: int, seed: int) -> float:
    """Mean return of `policy(obs)` over `episodes` seeded episodes."""
    total = 0.0
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total += float(reward)
            done = terminated or truncated
    return total / episodes


def _sb3_child(seed: int, budget: int, threads: int) -> None:
    """SB3's SAC with its defaults on PointReach for `budget` env steps, evaluated every
    EVAL_EVERY env steps; prints one JSON line {"evals": {steps: [return, in-run s]}}."""
    import torch
    from stable_baselines3 import SAC
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    from rlrun.env.debug_envs import PointReach

    if threads > 0:
        torch.set_num_threads(threads)
    env = make_vec_env(PointReach, n_envs=1, seed=seed)
    eval_env = PointReach()
    model = SAC("MlpPolicy", env, seed=seed, device="cpu", verbose=0)
    evals: dict[int, list[float]] = {}

    class Evaluate(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % EVAL_EVERY == 0:
                ret = evaluate(
                    lambda o: model.predict(o, deterministic=True)[0],
                    eval_env,
                    EVAL_EPISODES,
                    10_000 * (seed + 1),
                )
                evals[self.num_timesteps] = [ret, time.perf_counter() - t0]
            return True

    t0 = time.perf_counter()
    model.learn(total_timesteps=budget, callback=Evaluate())
    print(json.dumps({"evals": evals}), flush=True)


# --- all of it ------------------------------------------------------------------------------------


def run(
    seeds: list[int],
    budget: int,
    with_sb3: bool,
    sb3_threads: int,
    extra: list[str],
    log: Any = print,
) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    for seed in seeds:
        for tool in ("rlrun", "sb3") if with_sb3 else ("rlrun",):
            rec = (
                run_rlrun(seed, budget, extra)
                if tool == "rlrun"
                else run_sb3(seed, budget, sb3_threads)
            )
            runs.append(rec)
            got = ", ".join(f"{k // 1000}k {v[0]:.1f}" for k, v in sorted(rec["evals"].items()))
            log(
                f"  {tool:5s} seed {seed}: {rec['wall_s']:6.1f} s wall, eval return {got}"
                + (f"  [{rec['error']}]" if rec.get("error") else "")
            )
    return {
        "seeds": seeds,
        "budget": budget,
        "rlrun_args": extra,
        "with_sb3": with_sb3,
        "sb3_threads": sb3_threads,
        "runs": runs,
        "summary": summarize(runs, budget),
    }


def summarize(runs: list[dict[str, Any]], budget: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for tool in ("rlrun", "sb3"):
        rs = [r for r in runs if r["tool"] == tool]
        if not rs:
            continue
        out[tool] = {
            "wall_s": median([r["wall_s"] for r in rs]),
            "return": {
                s: median([r["evals"].get(s, (None,))[0] for r in rs]) for s in checkpoints(budget)
            },
            "in_run_s": {
                s: median([r["evals"].get(s, (None, None))[1] for r in rs])
                for s in checkpoints(budget)
            },
        }
    return out


def report(res: dict[str, Any]) -> str:
    steps, s = checkpoints(res["budget"]), res["summary"]
    r, b = s.get("rlrun"), s.get("sb3")
    head = ["tool", "seed", "wall s", *(f"return @{k // 1000}k" for k in steps)]
    per_run = table(
        head,
        [
            [x["tool"], str(x["seed"]), _fmt(x["wall_s"])]
            + [_fmt(x["evals"].get(k, (None,))[0]) for k in steps]
            for x in res["runs"]
        ],
    )
    rows = []
    for k in steps:
        row = [f"{k:,}", _fmt(r["return"][k]), _fmt(r["in_run_s"][k])]
        if b:
            row += [_fmt(b["return"][k]), _fmt(b["in_run_s"][k])]
            row += [
                _fmt(r["return"][k] - b["return"][k]),
                _ratio(b["in_run_s"][k], r["in_run_s"][k]),
            ]
        rows.append(row)
    cols = ["env steps", "rlrun return", "rlrun in-run s"]
    if b:
        cols += ["SB3 return", "SB3 in-run s", "return gap (rlrun - SB3)", "SB3 s / rlrun s"]
    medians = table(cols, rows)
    wall = f"Median whole-process wall: rlrun {_fmt(r['wall_s'])} s" + (
        f", SB3 {_fmt(b['wall_s'])} s (SB3 / rlrun {_ratio(b['wall_s'], r['wall_s'])})" if b else ""
    )
    extra = " ".join(res["rlrun_args"]) or "(none: rlrun's SAC defaults)"
    return "\n".join(
        [
            f"SAC on PointReach, {res['budget']:,} env steps, seeds "
            f"{' '.join(map(str, res['seeds']))} (interleaved); evaluation: {EVAL_EPISODES} "
            "episodes of the deterministic policy every 4k env steps.",
            f"rlrun overrides: {extra}. SB3: SAC('MlpPolicy') with its defaults, 1 env, 1 torch "
            "thread.",
            "",
            per_run,
            "",
            "Medians over seeds:",
            "",
            medians,
            "",
            wall,
        ]
    )


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b and a == a and b == b else "-"


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="seed 0 only")
    ap.add_argument("--seeds", type=int, nargs="+", help="default 0 1 2 (--quick: 0)")
    ap.add_argument("--budget", type=int, help="env steps per run (default 16000)")
    ap.add_argument("--rlrun-args", nargs="*", default=[], help="extra rlrun overrides")
    time_to_solve.add_baseline_options(ap)
    ap.add_argument("--_sb3-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    opts = QUICK if args.quick else FULL
    budget = args.budget or opts["budget"]
    if args._sb3_child:
        _sb3_child(args.seed, budget, args.sb3_threads)
        return None
    seeds = args.seeds if args.seeds is not None else opts["seeds"]
    with_sb3 = not args.no_sb3 and time_to_solve.sb3_available()
    if not args.no_sb3 and not with_sb3:
        print("stable-baselines3 is not installed: the baseline is NOT measured", file=sys.stderr)
    print(f"SAC on PointReach, seeds {seeds}, {budget:,} env steps:", flush=True)
    res = run(
        seeds,
        budget,
        with_sb3,
        args.sb3_threads,
        args.rlrun_args,
        log=lambda m: print(m, flush=True),
    )
    print_report(report(res), res, args.json)
    return res


if __name__ == "__main__":
    main()
