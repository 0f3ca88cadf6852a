"""A real two-node Ray cluster on this machine: `ray start --head` plus a worker node joining
it, both with Ray's token authentication, and `rlrun train ... ray.address=HOST:PORT` placing
its env runners and data-parallel learners on both nodes.

The cluster (tests/helpers/ray_cluster.py) is ended even when the test fails.
Both raylets share this host's address, so the learners meet through the file rendezvous;
learners on separate hosts use TCP at rank 0's address (rlrun.core.remote_learner).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.ray_cluster import ray_cluster

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import ray
import rlrun
algo = rlrun.build(["experiment=cartpole_ppo", "env_runner=ray", "env_runner.num_env_runners=2",
                    "learner=ray", "learner.num_learners=2", "algo.train_batch_size_per_learner=1000",
                    "algo.minibatch_size=500", "ray.address=" + sys.argv[1]])
try:
    for _ in range(2):
        result = algo.train()
    def node(actor):
        return ray.get(actor.__ray_call__.remote(lambda self: ray.get_runtime_context().get_node_id()))
    print(json.dumps({
        "runners": [node(a) for a in algo.env_runner_group.runners.values()],
        "learners": [node(a) for a in algo.learner_group.actors],
        "nodes": [n["NodeID"] for n in ray.nodes() if n["Alive"]],
        "iteration": result["training_iteration"],
    }))
finally:
    algo.stop()
"""


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {**os.environ, "RAY_AUTH_MODE": "token", "PYTHONPATH": str(ROOT)}
    with ray_cluster(tmp_path, env, workers=1) as address:
        yield address, env


def test_runners_and_learners_spread_over_two_nodes(two_nodes, tmp_path):
    address, env = two_nodes
    deadline = time.monotonic() + 60
    out = None
    while time.monotonic() < deadline:  # the worker node joins a few seconds after its start
        proc = subprocess.run(
            [sys.executable, "-c", PROBE, address],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        if len(out["nodes"]) == 2:
            break
        time.sleep(2)
    assert out is not None and len(out["nodes"]) == 2, out
    assert out["iteration"] == 2
    # 2 runners and 2 learners of 1 CPU each fill both 2-CPU nodes: each node gets some.
    placed = out["runners"] + out["learners"]
    assert set(placed) == set(out["nodes"]), out
