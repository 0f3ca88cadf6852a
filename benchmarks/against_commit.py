"""No-regression check: this tree against an earlier commit, measured side by side.

Runs time_to_solve.py (rlrun only: time to CartPole 475 from process start) and
sampler_efficiency.py (the EnvRunner's share of the raw env+network limit) from each tree in
turn, alternating base and head every repetition, each with its own copy of the scripts and
the package on PYTHONPATH, and prints the medians and head/base ratios. The base tree is a
`git worktree` of `--base` in a temporary folder, removed afterwards.

    .venv/bin/python benchmarks/against_commit.py --base 68953ea --reps 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_script(tree: Path, script: str, args: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        env = {**os.environ, "PYTHONPATH": str(tree)}
        subprocess.run(
            [sys.executable, str(tree / "benchmarks" / script), *args, "--json", str(out)],
            cwd=tree,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.read_text())


def solve_seconds(res: dict) -> list[float]:
    return [r["wall_s"] for r in res["runs"] if r["tool"] == "rlrun" and r["reached"]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="68953ea", help="the commit to compare against")
    ap.add_argument("--reps", type=int, default=3, help="alternating repetitions")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(base), args.base],
                       cwd=ROOT, check=True)  # fmt: skip
        try:
            results: dict[str, dict[str, list]] = {"base": {}, "head": {}}
            for rep in range(args.reps):
                for name, tree in (("base", base), ("head", ROOT))[:: 1 if rep % 2 else -1]:
                    tts = run_script(
                        tree, "time_to_solve.py", ["--no-sb3", "--seeds", str(args.seed)]
                    )
                    results[name].setdefault("solve_s", []).extend(solve_seconds(tts))
                    eff = run_script(tree, "sampler_efficiency.py",
                                     ["--reps", "1", "--steps", "30000", "--no-pendulum"])  # fmt: skip
                    results[name].setdefault("sampler", []).append(eff)
                    print(f"rep {rep} {name}: solve {results[name]['solve_s'][-1:]} s", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT)
    report(results, args.base)


def report(results: dict, base: str) -> None:
    b, h = (statistics.median(results[k]["solve_s"]) for k in ("base", "head"))
    print("\nCartPole-v1 time to 475 from process start (experiment=cartpole_ppo, median):")
    print(f"  base {base}: {b:.2f} s   head: {h:.2f} s   head/base: {h / b:.2f}x")
    print("Sampler (EnvRunner env steps/s, and its share of the raw env+network limit):")
    for label in [c["label"] for c in results["head"]["sampler"][0]["cases"]]:
        row = {}
        for name in ("base", "head"):
            cases = [c for res in results[name]["sampler"] for c in res["cases"]]
            mine = [c for c in cases if c["label"] == label]
            row[name] = (
                statistics.median(c["rlrun_median"] for c in mine),
                statistics.median(c["ratio"] for c in mine),
            )
        (bs, br), (hs, hr) = row["base"], row["head"]
        print(
            f"  {label}: base {bs:,.0f} steps/s ({br:.0%}), head {hs:,.0f} steps/s ({hr:.0%}), "
            f"head/base {hs / bs:.2f}x"
        )


if __name__ == "__main__":
    main()
