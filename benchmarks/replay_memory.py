"""What a DQN replay buffer of image frames costs in memory: the peak RSS of a real run with a full
buffer against the buffer's own bytes (rlrun stores frames in their own dtype, bool or uint8,
never as float copies).

Two fresh processes, each timed from start to exit with the peak RSS of its process tree:
  full:     rlrun train algo=dqn env=MinAtar/Breakout-v1 algo.replay.capacity=100000
            stop.timesteps=110000 algo.training_intensity=1 stop.reward=null seed=0
  baseline: the same with algo.replay.capacity=1000
The step budget is past the capacity so the buffer is full at the end (only valid rows are
stored: autoreset rows are not transitions). training_intensity=1 (one 256-transition update per
256 env steps, the default is 64) keeps the run at a few seconds per 10k steps: how often the
learner replays changes the time, not what is resident. The difference of the two peaks is what
the buffer costs the process; the buffer's own bytes are the nbytes of its arrays (the same
ReplayBuffer built in this process from the same config, never filled here).

    .venv/bin/python benchmarks/replay_memory.py                    # ~1 min
    .venv/bin/python benchmarks/replay_memory.py --capacity 20000   # quicker
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _measure import print_report, run_measured, table  # noqa: E402
from time_to_solve import rlrun_cmd  # noqa: E402

ROOT = HERE.parent
ENV_ID = "MinAtar/Breakout-v1"
MB = 2**20


def overrides(capacity: int, timesteps: int, intensity: float, seed: int) -> list[str]:
    return [
        "algo=dqn",
        f"env={ENV_ID}",
        f"algo.replay.capacity={capacity}",
        f"stop.timesteps={timesteps}",
        f"algo.training_intensity={intensity}",
        "stop.reward=null",  # run the whole budget: the point is a full buffer
        f"seed={seed}",
    ]


def run_train(ov: list[str]) -> dict[str, Any]:
    """One `rlrun train` process: peak RSS, wall s, and the buffer's fill from its last result."""
    tmp = tempfile.mkdtemp(prefix="rlrun-bench-")
    try:
        cmd = [*rlrun_cmd(), "train", *ov, f"results_dir={tmp}", "console=plain"]
        p = run_measured(cmd, cwd=str(ROOT))
        rec: dict[str, Any] = {
            "overrides": ov,
            "rc": p.returncode,
            "wall_s": p.wall_s,
            "peak_mb": p.peak_rss_mb,
        }
        results = sorted(Path(tmp).rglob("result.json"))
        lines = results[0].read_text().splitlines() if results else []
        if lines:
            last = json.loads(lines[-1])
            rec["env_steps"] = last["num_env_steps_sampled_lifetime"]
            rec["replay"] = last.get("replay")
        if p.returncode != 0 or not lines:
            rec["error"] = f"exit code {p.returncode}; stderr: {p.stderr[-600:].strip()}"
        return rec
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def buffer_bytes(capacity: int, seed: int) -> dict[str, Any]:
    """The nbytes of every array of the run's ReplayBuffer (built from the same config in this
    process; np.zeros pages stay untouched, so this costs no memory), with the obs dtype."""
    import rlrun

    algo = rlrun.build(overrides(capacity, capacity, 1, seed))
    try:
        buf = algo.replay
        arrays = {k: v for k, v in buf._data.items()}
        arrays["priorities"] = buf._priorities
        per_key = {k: int(v.nbytes) for k, v in arrays.items()}
        extra = 0
        if buf._tree is not None:  # prioritized replay's sum tree
            extra = sum(int(v.nbytes) for v in vars(buf._tree).values() if hasattr(v, "nbytes"))
        obs = buf._data["obs"]
        return {
            "capacity": buf.capacity,
            "per_array_bytes": per_key,
            "sum_tree_bytes": extra,
            "total_bytes": sum(per_key.values()) + extra,
            "obs_dtype": str(obs.dtype),
            "obs_shape": list(obs.shape[2:]),
            "frame_bytes": int(obs[0, 0].nbytes),
        }
    finally:
        algo.stop()


def run(
    capacity: int, timesteps: int, baseline_capacity: int, intensity: float, seed: int, log: Any
) -> dict[str, Any]:
    res: dict[str, Any] = {
        "env_id": ENV_ID,
        "capacity": capacity,
        "timesteps": timesteps,
        "baseline_capacity": baseline_capacity,
        "training_intensity": intensity,
    }
    res["buffer"] = buffer_bytes(capacity, seed)
    log(f"  buffer's own arrays: {res['buffer']['total_bytes'] / MB:.1f} MB")
    for name, cap in (("full", capacity), ("baseline", baseline_capacity)):
        rec = run_train(overrides(cap, timesteps, intensity, seed))
        res[name] = rec
        log(
            f"  {name} (capacity {cap:,}): peak {rec['peak_mb']:.0f} MB, {rec['wall_s']:.1f} s, "
            f"replay {rec.get('replay')}" + (f"  [{rec['error']}]" if rec.get("error") else "")
        )
    return res


def report(res: dict[str, Any]) -> str:
    b, full, base = res["buffer"], res["full"], res["baseline"]
    diff = full["peak_mb"] - base["peak_mb"]
    total = b["total_bytes"] / MB
    fill = (full.get("replay") or {}).get("size")
    float_frames = b["frame_bytes"] * 4 if b["obs_dtype"] in ("bool", "uint8") else None
    rows = [
        [
            f"peak RSS, capacity {res['capacity']:,} (full: {fill:,} stored)"
            if fill is not None
            else f"peak RSS, capacity {res['capacity']:,}",
            f"{full['peak_mb']:.0f} MB",
        ],
        [f"peak RSS, capacity {res['baseline_capacity']:,}", f"{base['peak_mb']:.0f} MB"],
        ["difference: what the full buffer costs the process", f"{diff:.0f} MB"],
        ["the buffer's own arrays (nbytes)", f"{total:.1f} MB"],
    ]
    for key, n in b["per_array_bytes"].items():
        rows.append([f"  of which {key}", f"{n / MB:.2f} MB"])
    lines = [
        table(["DQN " + res["env_id"], "memory"], rows),
        "",
        f"Frames are stored as {b['obs_dtype']} {tuple(b['obs_shape'])}: {b['frame_bytes']} bytes "
        "each, obs and next_obs in their own arrays"
        + (
            f" (as float32 they would be {float_frames:,} bytes each, "
            f"{float_frames * 2 * b['capacity'] / MB:,.0f} MB for both arrays)."
            if float_frames
            else "."
        ),
        f"Runs: stop.timesteps={res['timesteps']:,}, algo.training_intensity="
        f"{res['training_intensity']:g}; each a fresh `rlrun train` process, peak RSS of its "
        "process tree (kernel high-water mark and /proc sampling).",
    ]
    for name in ("full", "baseline"):
        if res[name].get("error"):
            lines.append(f"{name} run FAILED: {res[name]['error']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--capacity", type=int, default=100_000)
    ap.add_argument(
        "--timesteps", type=int, help="env steps per run (default: capacity + 10%%, a full buffer)"
    )
    ap.add_argument("--baseline-capacity", type=int, default=1_000)
    ap.add_argument("--intensity", type=float, default=1.0, help="algo.training_intensity")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args(argv)
    timesteps = args.timesteps or args.capacity + args.capacity // 10
    print(f"replay memory, DQN on {ENV_ID}, capacity {args.capacity:,}:", flush=True)
    res = run(
        args.capacity,
        timesteps,
        args.baseline_capacity,
        args.intensity,
        args.seed,
        log=lambda m: print(m, flush=True),
    )
    print_report(report(res), res, args.json)
    return res


if __name__ == "__main__":
    main()
