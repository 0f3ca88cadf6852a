"""The offline workflow end to end through the CLI (docs/offline.md): train a tiny PPO, record
its episodes with `rlrun evaluate ... output=`, learn from them with BC, evaluate the result.
Tiny runs: this checks the plumbing, not the learning (tests/learning does that)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers.cli import Run, start, train


def test_train_record_learn_offline_evaluate(tmp_path: Path):
    ppo = Run(train(tmp_path / "ppo", "stop.iterations=2"), tmp_path / "ppo")
    assert ppo.rc == 0, ppo.explain()
    recorded = tmp_path / "episodes"
    record = Run(
        start("evaluate", f"checkpoint={ppo.checkpoints()[-1]}", "episodes=5",
              f"output={recorded}", "explore=true"),
        None,
    )  # fmt: skip
    assert record.rc == 0, record.explain()
    (folder,) = recorded.iterdir()
    assert folder.name.endswith("_evaluation")
    lines = (folder / "episodes-000000.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 5
    rec = records[0]
    assert len(rec["observations"]) == rec["length"] + 1 == len(rec["actions"]) + 1
    stats = json.loads((ppo.checkpoints()[-1] / "evaluation.json").read_text())
    returns = sorted(r["return"] for r in records)
    assert sum(returns) / 5 == stats["episode_return_mean"]

    bc = Run(
        start("train", "algo=bc", f"offline_data.input_={recorded}", "evaluation.interval=2",
              "evaluation.duration=2", "stop.iterations=2", f"results_dir={tmp_path / 'bc'}",
              "console=plain", "algo.train_batch_size_per_learner=200"),
        tmp_path / "bc",
    )  # fmt: skip
    assert bc.rc == 0, bc.explain()
    results = bc.results()
    last = results[-1]
    assert last["num_env_steps_sampled_lifetime"] == 0
    # Each batch holds 200 steps of whole episodes, or all of the data when it has fewer.
    steps = sum(r["length"] for r in records)
    assert last["num_env_steps_trained_lifetime"] >= 2 * min(200, steps)
    assert "policy_loss" in last["learners"]["default_policy"]
    assert "episode_return_mean" in last["evaluation"]["env_runners"]

    shutil.rmtree(recorded)  # evaluating the offline run's checkpoint needs no data
    final = Run(start("evaluate", f"checkpoint={bc.checkpoints()[-1]}", "episodes=2"), None)
    assert final.rc == 0, final.explain()
    assert "episode_return_mean" in final.stdout
