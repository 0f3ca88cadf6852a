"""Shared helpers of the benchmarks: timing a child process with its peak memory, medians,
markdown tables, the machine's description. No third-party imports."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class ProcResult:
    returncode: int
    wall_s: float  # from just before the fork until the child was reaped
    peak_rss_mb: float  # peak memory of the run's whole process tree (see run_measured)
    stdout: str
    stderr: str


def _children(pid: int) -> list[int]:
    """Direct children of `pid` (via /proc/PID/task/TID/children, else a scan of /proc)."""
    try:
        out: list[int] = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out.extend(int(c) for c in f.read().split())
        return out
    except FileNotFoundError:
        # The process is gone, or the kernel lacks CONFIG_PROC_CHILDREN: scan every process.
        if not os.path.exists(f"/proc/{pid}"):
            return []
    except OSError:
        return []
    kids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    stat = f.read()
                if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                    kids.append(int(name))
            except (OSError, ValueError):
                pass
    return kids


def _high_water_bytes(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_rss(root: int) -> Iterator[tuple[int, int]]:
    """(pid, resident bytes) of `root` and each of its living descendants."""
    stack, seen = [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm") as f:
                rss = int(f.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            continue
        yield pid, rss
        stack.extend(_children(pid))


def _tree_rss_bytes(root: int) -> int:
    """Current resident memory of `root` and all its descendants, summed."""
    return sum(rss for _, rss in tree_rss(root))


def run_measured(
    cmd: list[str],
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    poll_s: float = 0.05,
    timeout_s: float | None = None,
    new_session: bool = False,
) -> ProcResult:
    """Run `cmd`, timing it from just before it starts until it exits, and its peak memory.

    Peak memory is the larger of two readings, so it covers every process of the run:
    - the child's own high-water mark (VmHWM in /proc/PID/status), read every `poll_s`
      seconds: the kernel keeps it, so only growth in the last poll before exit is missed;
    - the sum of resident memory over the child's whole process tree, sampled as often:
      a sum over processes, but may miss a short spike.
    For a single-process run (rlrun's local mode) the first is the answer. Not wait4's
    ru_maxrss: Linux carries the parent's high-water mark through fork and exec into it, so
    every child of a big parent (run_all.py once it has imported Ray) would read as that big.
    `new_session`: start the child in a session (and process group) of its own, and on a
    timeout kill that whole group, not just the child (a Ray driver's raylet, GCS and workers).
    """
    out_f = open(_tmpfile(), "w+")  # noqa: SIM115 - closed below
    err_f = open(_tmpfile(), "w+")  # noqa: SIM115
    reaped: dict[str, object] = {}

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=out_f, stderr=err_f, env=env, cwd=cwd, start_new_session=new_session
    )

    def reap() -> None:
        # A blocking waitpid in its own thread: the exit time is exact, not rounded up to a poll.
        _, status = os.waitpid(proc.pid, 0)
        reaped["t"] = time.perf_counter()
        reaped["status"] = status

    waiter = threading.Thread(target=reap, daemon=True)
    waiter.start()
    peak_sampled = peak_hwm = 0
    try:
        while waiter.is_alive():
            peak_hwm = max(peak_hwm, _high_water_bytes(proc.pid))
            peak_sampled = max(peak_sampled, _tree_rss_bytes(proc.pid))
            waiter.join(poll_s)
            late = timeout_s is not None and time.perf_counter() - t0 > timeout_s
            if late and waiter.is_alive():
                _kill(proc, new_session)
    except BaseException:  # Ctrl-C: a child in a session of its own would not get it
        if new_session:
            _kill(proc, True)
        raise
    waiter.join()
    if new_session:
        _kill(proc, True)  # whatever of the group outlived its leader (a crashed Ray driver)
    proc.returncode = os.waitstatus_to_exitcode(reaped["status"])  # type: ignore[arg-type]
    out_f.seek(0)
    err_f.seek(0)
    stdout, stderr = out_f.read(), err_f.read()
    for f in (out_f, err_f):
        f.close()
        os.unlink(f.name)
    return ProcResult(
        returncode=proc.returncode,
        wall_s=reaped["t"] - t0,  # type: ignore[operator]
        peak_rss_mb=max(peak_sampled, peak_hwm) / 2**20,
        stdout=stdout,
        stderr=stderr,
    )


def _kill(proc: subprocess.Popen, group: bool) -> None:
    if not group:
        proc.kill()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the session's group id is the leader's pid


def _tmpfile() -> str:
    import tempfile

    fd, path = tempfile.mkstemp(prefix="rlrun-bench-", suffix=".log")
    os.close(fd)
    return path


def median(xs: list[float]) -> float:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table, padded so it also reads well on a terminal."""
    cells = [header, *rows]
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def machine() -> dict[str, str]:
    """nproc, CPU model, RAM, load average, OS: what a reader needs to place the figures."""
    cpu = platform.processor() or "unknown"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for ln in Path("/proc/meminfo").read_text().splitlines():
            if ln.startswith("MemTotal"):
                ram = f"{int(ln.split()[1]) / 2**20:.1f} GiB"
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    return {
        "nproc": str(os.cpu_count()),
        "usable cpus": str(len(os.sched_getaffinity(0)))
        if hasattr(os, "sched_getaffinity")
        else "?",
        "cpu": cpu,
        "ram": ram,
        "load average (1/5/15 min)": " / ".join(f"{x:.2f}" for x in load),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def print_report(report: str, res: dict, json_path: Path | None) -> None:
    """A script's ending: its report on stdout, and optionally the raw results as JSON."""
    print()
    print(report)
    if json_path:
        json_path.write_text(json.dumps(res, indent=1))
