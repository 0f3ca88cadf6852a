"""A Ray cluster of `ray start` processes for tests: a head and optional worker nodes, each
`ray start --block` in a process group of its own, ended by signalling those groups (even when
the test fails). `ray stop` would also end the Ray that the other tests share."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [RAY, "start", "--block", *args],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: ended below, alone
    )


def _end(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 8), (signal.SIGKILL, 10)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


@contextmanager
def ray_cluster(
    folder: Path, env: dict[str, str], workers: int = 0, cpus: int = 2
) -> Iterator[str]:
    """A head (and `workers` worker nodes) with `env` (e.g. RAY_AUTH_MODE=token); yields its
    address HOST:PORT."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    procs = [
        _start(
            ["--head", f"--port={port}", f"--num-cpus={cpus}", "--include-dashboard=false"],
            env,
            folder / "head.log",
        )
    ]
    try:
        time.sleep(4)  # the head's GCS comes up before a worker can join it
        for k in range(workers):
            procs.append(
                _start([f"--address={address}", f"--num-cpus={cpus}"], env, folder / f"w{k}.log")
            )
        yield address
    finally:
        for proc in reversed(procs):
            _end(proc)
        # `ray start` records its cluster for ray.init(address=None) to join; a killed one
        # leaves the record pointing at nothing.
        current = Path(os.environ.get("RAY_TMPDIR", "/tmp")) / "ray" / "ray_current_cluster"
        try:
            if current.read_text().strip().endswith(f":{port}"):
                current.unlink()
        except OSError:
            pass
