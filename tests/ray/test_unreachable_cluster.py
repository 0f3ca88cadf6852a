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
