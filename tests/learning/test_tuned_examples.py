"""Learning tests: every tuned example must reach its pass mark within its env-step budget.

The pass marks live in tuned_examples/<algo>/*.yaml; each run is a real `rlrun train` process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CARDS = sorted((ROOT / "tuned_examples").glob("*/*.yaml"))


def _run(args: list[str], results_dir: Path, timeout: int = 600) -> list[dict]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlrun",
            "train",
            *args,
            f"results_dir={results_dir}",
            "console=plain",
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (result_file,) = results_dir.glob("*/*/result.json")
    return [json.loads(line) for line in result_file.read_text().splitlines()]


def _metric(result: dict, path: str) -> float | None:
    for part in path.split("/"):
        result = result.get(part) if isinstance(result, dict) else None
    return result  # type: ignore[return-value]


def _card_param(card: Path) -> object:
    """A card with `long: true` (a minute or more here) is left out of `make test`."""
    marks = [pytest.mark.long] if yaml.safe_load(card.read_text()).get("long") else []
    return pytest.param(card, id=card.stem, marks=marks)


@pytest.mark.slow
@pytest.mark.parametrize("card", [_card_param(c) for c in CARDS])
def test_tuned_example_reaches_its_mark(card: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(card.read_text())
    # Offline algorithms sample no env steps: their budget is training iterations.
    offline = "budget_iterations" in spec
    budget = (
        f"stop.iterations={spec['budget_iterations']}"
        if offline
        else f"stop.timesteps={spec['budget_timesteps']}"
    )
    results = _run([f"experiment={spec['experiment']}", budget, "seed=0"], tmp_path)
    # A card names one metric, or several (e.g. every agent's return) that must all reach.
    metrics = spec["metric"] if isinstance(spec["metric"], list) else [spec["metric"]]
    for metric in metrics:
        best = max((v for r in results if (v := _metric(r, metric)) is not None), default=None)
        assert best is not None and best >= spec["reach"], (
            f"{spec['experiment']}: best {metric} {best} < {spec['reach']} "
            f"within {results[-1]['num_env_steps_sampled_lifetime']} env steps, "
            f"{results[-1]['training_iteration']} iterations"
        )
    if offline:
        assert results[-1]["training_iteration"] <= spec["budget_iterations"]
        assert results[-1]["num_env_steps_sampled_lifetime"] == 0
    else:
        assert results[-1]["num_env_steps_sampled_lifetime"] <= spec["budget_timesteps"] + 8192


@pytest.mark.slow
def test_plain_defaults_solve_cartpole(tmp_path: Path) -> None:
    """What `make train` runs: the schema defaults alone solve CartPole-v1 (stop.reward=auto)."""
    results = _run(["algo=ppo", "env=CartPole-v1", "stop.timesteps=400000", "seed=1"], tmp_path)
    assert results[-1]["env_runners"]["episode_return_mean"] >= 475


@pytest.mark.slow
@pytest.mark.ray
def test_cartpole_solves_on_remote_runners_and_learners(tmp_path: Path) -> None:
    """The same tuned example on Ray: 2 remote runners with the mean-std filter merged across
    them, a remote learner, and evaluation in a remote runner; it must still solve CartPole."""
    results = _run(
        [
            "experiment=cartpole_ppo",
            "env_runner=ray",
            "env_runner.num_cpus_per_env_runner=0.5",
            "env_runner.observation_filter=MeanStdFilter",
            "learner.num_learners=1",
            "learner.num_cpus_per_learner=0.5",
            "evaluation.interval=5",
            "evaluation.num_env_runners=1",
            "evaluation.num_cpus_per_env_runner=0.5",
            "stop.timesteps=250000",
            "seed=0",
        ],
        tmp_path,
    )
    assert results[-1]["env_runners"]["episode_return_mean"] >= 475, results[-1]["env_runners"]
    evals = [
        r["evaluation"]["env_runners"]["episode_return_mean"] for r in results if "evaluation" in r
    ]
    assert evals and max(evals) >= 400
