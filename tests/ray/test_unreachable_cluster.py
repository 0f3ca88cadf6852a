"""A ray.address nobody answers at fails fast with one paragraph (exit 2), instead of Ray
retrying the connection for minutes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_cluster_is_exit_2_within_the_timeout(tmp_path):
    port = free_port()
    t0 = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlrun",
            "train",
            "env_runner=ray",
            f"ray.address=127.0.0.1:{port}",
            "ray.connect_timeout_s=3",
            f"results_dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert time.monotonic() - t0 < 30
    err = proc.stderr
    assert "Traceback" not in err
    assert f"ray.address=127.0.0.1:{port}" in err and "ray start --head" in err
    assert "connect_timeout_s" in err


def test_a_cluster_refusing_the_drivers_token_is_exit_2_naming_the_token(tmp_path):
    """A token-authenticated cluster (RAY_AUTH_MODE=token) and a driver with the wrong token
    or none: one paragraph on how the token reaches the driver, within about the timeout."""
    from tests.helpers.ray_cluster import ray_cluster

    cluster_env = {**os.environ, "RAY_AUTH_MODE": "token", "PYTHONPATH": str(ROOT)}
    with ray_cluster(tmp_path, cluster_env) as address:
        for driver_env in ({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "not-the-token"},
                           {"RAY_AUTH_MODE": "disabled"}):  # fmt: skip
            t0 = time.monotonic()
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "rlrun",
                    "train",
                    "env_runner=ray",
                    f"ray.address={address}",
                    "ray.connect_timeout_s=5",
                    f"results_dir={tmp_path}",
                ],  # fmt: skip
                capture_output=True,
                text=True,
                timeout=120,
                env={**os.environ, "PYTHONPATH": str(ROOT), **driver_env},
            )
            elapsed = time.monotonic() - t0
            assert proc.returncode == 2, proc.stderr[-2000:]
            err = proc.stderr
            assert "ray.address=" in err and "refuses this driver's authentication token" in err
            assert "RAY_AUTH_TOKEN" in err and "Traceback" not in err
            assert elapsed < 30, elapsed
