"""Soak: memory over a long run. PPO and DQN for 600k+ env steps, in one process and with two
Ray env runners, sampling the resident memory (RSS) of every process of the run once a second:
the driver and, when rlrun starts Ray itself, its GCS, raylet and actors (all descendants of the
driver). Reports each role's RSS after warm-up and at the end, and the growth; a growth above
10% is flagged. Also checks that a long run's outputs stay bounded: `checkpoint.num_to_keep`
honoured, result.json appended (one line per iteration).

    .venv/bin/python benchmarks/soak.py                  # 4 runs of 600k env steps (~25 min)
    .venv/bin/python benchmarks/soak.py --steps 200000 --cases ppo-local dqn-local
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _measure import tree_rss  # noqa: E402

CASES = {
    "ppo-local": ["experiment=cartpole_ppo", "stop.reward=null"],
    "ppo-ray": ["experiment=cartpole_ppo", "stop.reward=null", "env_runner=ray",
                "env_runner.num_cpus_per_env_runner=0.5", "ray.num_cpus=2"],
    "dqn-local": ["experiment=cartpole_dqn", "stop.reward=null"],
    "dqn-ray": ["experiment=cartpole_dqn", "stop.reward=null", "env_runner=ray",
                "env_runner.num_cpus_per_env_runner=0.5", "ray.num_cpus=2"],
}  # fmt: skip
WARMUP = 0.2  # the share of the run after which memory should have settled


def _role(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    for needle, role in (("ray::RemoteEnvRunner", "env runner actors"), ("ray::LearnerActor",
                         "learner actors"), ("gcs_server", "Ray GCS"), ("raylet", "raylet"),
                         ("ray::", "other Ray workers"), ("ray/", "other Ray processes")):  # fmt: skip
        if needle in cmd:
            return role
    return "driver" if "rlrun" in cmd else "other"


def _sample(root: int) -> dict[str, int]:
    """RSS bytes by role over `root` and its descendants."""
    out: dict[str, int] = {}
    for pid, rss in tree_rss(root):
        role = _role(pid)
        out[role] = out.get(role, 0) + rss
    return out


def run_case(name: str, steps: int, folder: Path) -> dict:
    cmd = [sys.executable, "-m", "rlrun", "train", *CASES[name], f"stop.timesteps={steps}",
           f"results_dir={folder}", "console=plain", "checkpoint.frequency=10",
           "checkpoint.num_to_keep=3", "seed=0"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    samples: list[tuple[float, dict[str, int]]] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            samples.append((time.perf_counter() - t0, _sample(proc.pid)))
            done.wait(1.0)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    _, err = proc.communicate()
    done.set()
    th.join()
    wall = time.perf_counter() - t0
    found = list(folder.glob("*/*/result.json"))
    lines = found[0].read_text().splitlines() if found else []
    ckpts = sorted(p.name for p in found[0].parent.glob("checkpoint_*")) if found else []
    return {
        "case": name,
        "rc": proc.returncode,
        "stderr_tail": err.decode(errors="replace")[-800:],
        "wall_s": wall,
        "iterations": len(lines),
        "last_iteration": json.loads(lines[-1])["training_iteration"] if lines else 0,
        "env_steps": json.loads(lines[-1])["num_env_steps_sampled_lifetime"] if lines else 0,
        "checkpoints": ckpts,
        "samples": samples,
    }


def growth(res: dict) -> dict[str, tuple[float, float, float]]:
    """Per role: (MB after warm-up, MB at the end, growth %), from medians of 5 samples."""
    samples = [s for _, s in res["samples"] if s]
    if len(samples) < 10:
        return {}
    start = max(1, int(len(samples) * WARMUP))
    roles = sorted({r for s in samples for r in s} - {"gone", "other"})
    out = {}
    for role in [*roles, "total"]:

        def mb(s: dict[str, int], role: str = role) -> float:
            return (sum(s.values()) if role == "total" else s.get(role, 0)) / 2**20

        a = sorted(mb(s) for s in samples[start : start + 5])[2 if len(samples) > start + 4 else 0]
        b = sorted(mb(s) for s in samples[-6:-1])[2]  # before the final checkpoint and exit
        out[role] = (a, b, 100.0 * (b - a) / a if a else float("nan"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=600_000)
    ap.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results = []
    for name in args.cases:
        with tempfile.TemporaryDirectory(prefix="rlrun_soak_") as tmp:
            res = run_case(name, args.steps, Path(tmp))
        results.append(res)
        print(f"\n## {name}: {res['env_steps']:,} env steps, {res['iterations']} iterations, "
              f"{res['wall_s']:.0f} s, exit {res['rc']}")  # fmt: skip
        if res["rc"]:
            print(res["stderr_tail"])
        bounded = res["iterations"] == res["last_iteration"] and len(res["checkpoints"]) <= 4
        print(f"outputs: result.json {res['iterations']} lines for {res['last_iteration']} "
              f"iterations, checkpoints kept {res['checkpoints']} -> "
              f"{'bounded' if bounded else 'NOT BOUNDED'}")  # fmt: skip
        print("| process | MB after warm-up | MB at the end | growth |")
        print("| --- | --- | --- | --- |")
        for role, (a, b, g) in growth(res).items():
            flag = " (over 10%)" if g > 10 else ""
            print(f"| {role} | {a:.0f} | {b:.0f} | {g:+.1f}%{flag} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
