"""env_runner.observation_filter=MeanStdFilter in multi-agent runs: one filter per module,
learning from that module's agents only, applied to what the module sees (training rows,
bootstrap rows, compute_single_action), kept in checkpoints, frozen in evaluation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlrun.algorithms.registry import algorithm_class
from rlrun.connectors.per_module import PerModuleConnectors
from rlrun.core import columns as C
from tests.unit.test_multi_agent_learning import config, two_modules


def build_filtered(**extra):
    cfg = config(**two_modules())
    cfg["env_runner"]["observation_filter"] = "MeanStdFilter"
    cfg.update(extra)
    return algorithm_class("PPO")(cfg)


@pytest.fixture
def algo():
    a = build_filtered()
    yield a
    a.stop()


def test_one_filter_per_module_learns_from_its_agents(algo):
    result = algo.train()
    runner = algo.env_runner_group.local_runner
    filters = runner.env_to_module
    assert isinstance(filters, PerModuleConnectors) and set(filters.pipelines) == {"p0", "p1"}
    state = filters.get_state()
    counts = {m: float(state[f"{m}/0.count"]) for m in ("p0", "p1")}
    # Each module's filter saw its own agent's observations, one per act (plus final ones).
    steps = result["env_runners"]["num_module_steps_sampled_lifetime"]
    for m in ("p0", "p1"):
        assert counts[m] >= steps[m] > 0


def test_the_modules_see_filtered_observations(algo):
    algo.train()
    ro = algo.env_runner_group.local_runner.sample(60)
    for part in ro.module_parts():
        obs = part[C.OBS][part[C.MASK]]
        # Normalized by statistics of CartPole states: near zero mean, unit-ish scale, and
        # clipped; raw CartPole positions/angles would have a far smaller spread than 1.
        assert np.abs(obs).max() <= 10.0
        assert np.all(np.abs(obs.mean(axis=0)) < 1.5)
        assert np.all(obs.std(axis=0) > 0.3)


def test_filter_state_round_trips_through_a_checkpoint(tmp_path: Path):
    a = build_filtered()
    try:
        a.train()
        saved = a.env_runner_group.get_state()["connector"]
        path = a.save(str(tmp_path / "ckpt"))
        obs = np.array([0.01, 0.2, -0.02, 0.1], np.float32)
        action = a.compute_single_action(obs, policy_id="p0", explore=False)
    finally:
        a.stop()
    b = build_filtered()
    try:
        b.restore(path)
        restored = b.env_runner_group.get_state()["connector"]
        assert saved.keys() == restored.keys() and saved
        for k in saved:
            np.testing.assert_allclose(restored[k], saved[k])
        assert b.compute_single_action(obs, policy_id="p0", explore=False) == action
    finally:
        b.stop()


def test_evaluation_does_not_update_the_filters():
    a = build_filtered(evaluation={"interval": 1, "duration": 2})
    try:
        a.train()
        before = a.env_runner_group.get_state()["connector"]
        a.evaluate(episodes=2)
        after = a.env_runner_group.get_state()["connector"]
        for k in before:
            np.testing.assert_array_equal(after[k], before[k])
    finally:
        a.stop()
