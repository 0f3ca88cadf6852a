"""Sampler efficiency: the EnvRunner's env steps/s against the raw limit measured in the same run.

raw:   the same Gymnasium vector env (rlrun.env.make_env.make_vector_env, same num_envs) and the
       same network (built from the Algorithm's RLModuleSpec, same weights) in a tight loop:
       forward_exploration on the batch of observations, sample actions from the action
       distribution, step the env. No connectors, no buffers, no episode bookkeeping.
rlrun: EnvRunner.sample(T) of the Algorithm built from the same config, T being the fragment
       length the algorithm uses (train batch / num envs).
Both run in this process, with torch.set_num_threads(1) and under torch.no_grad, each case after
a warm-up call. Each measurement alternates one sample(T) call with T raw steps (swapping which
goes first) and sums each side's time, so load from elsewhere hits both alike; the repetitions
are interleaved across cases, and the medians are compared. Target: rlrun >= 70% of raw.

    .venv/bin/python benchmarks/sampler_efficiency.py
    .venv/bin/python benchmarks/sampler_efficiency.py --reps 2 --steps 20000 --no-pendulum
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _measure import median, print_report, table  # noqa: E402

TARGET_RATIO = 0.70

# (label, rlrun overrides). The CartPole cases use the tuned example's config.
CASES: list[tuple[str, list[str]]] = [
    ("CartPole-v1, 8 envs", ["experiment=cartpole_ppo", "env_runner.num_envs_per_env_runner=8"]),
    ("CartPole-v1, 16 envs", ["experiment=cartpole_ppo", "env_runner.num_envs_per_env_runner=16"]),
]
PENDULUM = (
    "Pendulum-v1, 8 sync envs",
    ["env=Pendulum-v1", "env_runner.num_envs_per_env_runner=8", "env_runner.vectorize_mode=sync"],
)


class Case:
    """One config: an Algorithm (for its EnvRunner) and a raw env + module beside it."""

    def __init__(self, label: str, overrides: list[str], seed: int = 0) -> None:
        import numpy as np
        import torch

        import rlrun
        from rlrun.core.columns import ACTION_DIST_INPUTS, OBS
        from rlrun.env.make_env import make_vector_env

        self.label = label
        self.overrides = overrides
        self.algo = rlrun.build([*overrides, f"seed={seed}"])
        torch.set_num_threads(1)  # the Algorithm does it too; be explicit for the raw loop
        self.runner = self.algo.env_runner_group.local_runner
        self.n = self.runner.num_envs
        self.T = self.algo.fragment_length()
        cfg = self.algo.config
        self.env = make_vector_env(
            cfg["env"], self.n, cfg["env_runner"].get("vectorize_mode", "sync")
        )
        self.module = self.algo.module_spec.build()
        self.module.load_state_dict(self.runner.module.state_dict())
        self.module.eval()
        self.runner.module.eval()
        self._obs, _ = self.env.reset(seed=seed)
        self._np, self._torch, self._OBS, self._ADI = np, torch, OBS, ACTION_DIST_INPUTS

    def raw(self, steps_per_env: int) -> None:
        np, torch, OBS, ADI = self._np, self._torch, self._OBS, self._ADI
        module, dist_cls, env = self.module, self.module.action_dist_cls, self.env
        obs = self._obs
        with torch.no_grad():
            for _ in range(steps_per_env):
                out = module.forward_exploration(
                    {OBS: torch.from_numpy(np.asarray(obs, np.float32))}
                )
                actions = dist_cls(out[ADI]).sample().numpy()
                obs, _r, _term, _trunc, _info = env.step(actions)
        self._obs = obs

    def rlrun(self, calls: int) -> None:
        for _ in range(calls):
            self.runner.sample(self.T)

    def close(self) -> None:
        self.env.close()
        self.algo.stop()


def _timed(fn: Any, *args: Any) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def run(
    reps: int = 5, steps: int = 50_000, pendulum: bool = True, log: Any = print
) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    specs = CASES + ([PENDULUM] if pendulum else [])
    cases = [Case(label, ov) for label, ov in specs]
    out: dict[str, Any] = {"reps": reps, "steps": steps, "cases": []}
    plan = []
    for c in cases:
        calls = max(1, math.ceil(steps / (c.T * c.n)))  # whole sample() calls per measurement
        env_steps = calls * c.T * c.n
        c.raw(c.T)  # warm-up: first forward passes, allocator, env caches
        c.rlrun(1)
        plan.append((c, calls, env_steps, {"raw": [], "rlrun": []}))
    for rep in range(reps):
        for c, calls, env_steps, rates in plan:
            # Interleaved call by call (one sample() against T raw steps, alternating which goes
            # first), so a burst of load from elsewhere on the machine hits both sides alike.
            spent = {"raw": 0.0, "rlrun": 0.0}
            for k in range(calls):
                order = ("raw", "rlrun") if (rep + k) % 2 == 0 else ("rlrun", "raw")
                for side in order:
                    spent[side] += _timed(c.raw, c.T) if side == "raw" else _timed(c.rlrun, 1)
            for side, dt in spent.items():
                rates[side].append(env_steps / dt)
            log(
                f"  rep {rep + 1}/{reps} {c.label}: raw {rates['raw'][-1]:,.0f} steps/s, "
                f"rlrun {rates['rlrun'][-1]:,.0f} steps/s "
                f"({rates['rlrun'][-1] / rates['raw'][-1]:.0%})"
            )
    for c, _calls, env_steps, rates in plan:
        raw_m, rl_m = median(rates["raw"]), median(rates["rlrun"])
        out["cases"].append(
            {
                "label": c.label,
                "overrides": c.overrides,
                "num_envs": c.n,
                "fragment": c.T,
                "env_steps_per_measurement": env_steps,
                "raw": rates["raw"],
                "rlrun": rates["rlrun"],
                "raw_median": raw_m,
                "rlrun_median": rl_m,
                "ratio": rl_m / raw_m,
                "ratio_median_of_pairs": median(
                    [a / b for a, b in zip(rates["rlrun"], rates["raw"], strict=True)]
                ),
            }
        )
        c.close()
    return out


def report(res: dict[str, Any]) -> str:
    rows = [
        [
            c["label"],
            str(c["fragment"]),
            f"{c['env_steps_per_measurement']:,}",
            f"{c['raw_median']:,.0f}",
            f"{c['rlrun_median']:,.0f}",
            f"{c['ratio']:.0%}",
            f"{c['ratio_median_of_pairs']:.0%}",
            "MET" if c["ratio"] >= TARGET_RATIO else "MISSED",
        ]
        for c in res["cases"]
    ]
    head = [
        "case",
        "T (steps/env per sample)",
        "env steps per measurement",
        "raw median steps/s",
        "EnvRunner median steps/s",
        "rlrun / raw",
        "median of paired ratios",
        f"target >= {TARGET_RATIO:.0%}",
    ]
    return "\n".join(
        [
            table(head, rows),
            "",
            f"Medians of {res['reps']} repetitions per case, after a warm-up call; each repetition "
            "alternates EnvRunner.sample(T) calls with T raw steps and sums each side's time. One "
            "torch thread. raw: the same vector env + the same network's batched "
            "forward_exploration + action sampling, nothing else. EnvRunner: sample(T) with its "
            "buffers, connectors and episode metrics. 'median of paired ratios': the ratio within "
            "each repetition, then the median; the two agree when the machine is quiet.",
        ]
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5, help="interleaved repetitions per case")
    ap.add_argument(
        "--steps",
        type=int,
        default=50_000,
        help="env steps per measurement (rounded up to whole sample() calls)",
    )
    ap.add_argument("--no-pendulum", action="store_true", help="CartPole cases only")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args(argv)
    print(f"sampler efficiency, {args.reps} repetitions per case:", flush=True)
    res = run(args.reps, args.steps, not args.no_pendulum, log=lambda m: print(m, flush=True))
    print_report(report(res), res, args.json)
    return res


if __name__ == "__main__":
    main()
