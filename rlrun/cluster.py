"""Ray, when (and only when) something remote is asked for.

Three things live here: whether a config needs Ray, the resources a trial asks of it (one place,
used by the resource check, the docs and sweeps), and `init_ray`, which joins a cluster or starts
a local Ray with the dashboard bound to localhost. Ray is imported inside functions only.
"""

from __future__ import annotations

import logging
import math
import os
import time
from typing import Any

from rlrun.errors import ConfigError

log = logging.getLogger("rlrun")

_started_here = False  # this process started (not joined) the Ray it uses
startup_s: float | None = None  # how long init_ray took, for users choosing local vs Ray


def _section(config: dict[str, Any], name: str) -> dict[str, Any]:
    """One section with every key, defaults from the schema: configs built by hand (tests, Tune
    param spaces) may hold a few (rlrun.config.sections)."""
    from rlrun.config.sections import complete, root_sections

    return complete(root_sections()[name], config.get(name))


def remote_actor_counts(config: dict[str, Any]) -> dict[str, int]:
    return {
        "env_runners": int(_section(config, "env_runner")["num_env_runners"]),
        "learners": int(_section(config, "learner")["num_learners"]),
        "eval_env_runners": int(_section(config, "evaluation")["num_env_runners"]),
    }


def needs_ray(config: dict[str, Any]) -> bool:
    """Remote runners or learners, or a cluster address, need Ray; nothing else does."""
    return any(remote_actor_counts(config).values()) or bool(_section(config, "ray")["address"])


def actor_resources(config: dict[str, Any]) -> dict[str, float]:
    """CPUs and GPUs that a trial's Ray actors ask for (the driver process not included)."""
    n = remote_actor_counts(config)
    runner, learner = _section(config, "env_runner"), _section(config, "learner")
    cpu = n["env_runners"] * float(runner["num_cpus_per_env_runner"])
    cpu += n["eval_env_runners"] * eval_cpus_per_runner(config)
    gpu = (n["env_runners"] + n["eval_env_runners"]) * float(runner["num_gpus_per_env_runner"])
    cpu += n["learners"] * float(learner["num_cpus_per_learner"])
    gpu += n["learners"] * float(learner["num_gpus_per_learner"])
    return {"CPU": cpu, "GPU": gpu}


def eval_cpus_per_runner(config: dict[str, Any]) -> float:
    own = _section(config, "evaluation")["num_cpus_per_env_runner"]
    runner = _section(config, "env_runner")
    return float(runner["num_cpus_per_env_runner"] if own is None else own)


def local_cpus(config: dict[str, Any]) -> float:
    """CPUs of a Ray started on this machine."""
    return float(_section(config, "ray")["num_cpus"] or os.cpu_count() or 1)


def trial_resources(config: dict[str, Any]) -> dict[str, float]:
    """What one trial needs in all: one CPU for the driver (which also samples and learns when
    those parts are local, and holds a local GPU learner) plus its actors. This is the request
    documented in docs/ray.md, and what a launcher running trials in parallel must reserve."""
    actors = actor_resources(config)
    local_gpu = 0.0
    if not remote_actor_counts(config)["learners"]:
        local_gpu = float(_section(config, "learner")["num_gpus_per_learner"])
    return {"CPU": 1.0 + actors["CPU"], "GPU": actors["GPU"] + local_gpu}


def init_ray(ray_cfg: dict[str, Any]) -> None:
    """Join `ray.address`, or start a local Ray; a no-op if this process is connected already."""
    global _started_here, startup_s
    ray_cfg = _section({"ray": ray_cfg}, "ray")
    address = ray_cfg["address"]
    if address:
        # Ray retries the GCS about once a second, 20 times by default: keep to the timeout, so
        # a cluster that answers but refuses this driver (its token) fails as fast. Read when
        # Ray is imported, so set before (a Ray imported earlier keeps its 20).
        retries = max(1, math.ceil(float(ray_cfg["connect_timeout_s"])))
        os.environ.setdefault("RAY_NUM_REDIS_GET_RETRIES", str(retries))
    import ray

    if ray.is_initialized():
        return
    t0 = time.perf_counter()
    kwargs: dict[str, Any] = {
        # "local": always a Ray of our own; ray.init(address=None) would join a cluster that
        # `ray start` left running on this machine (and refuse num_cpus there).
        "address": address or "local",
        "runtime_env": dict(ray_cfg["runtime_env"] or {}) or None,
        "namespace": "rlrun",
        # The level rlrun.run sets for other libraries: WARNING unless log_level=DEBUG (-vv).
        "logging_level": logging.getLogger().getEffectiveLevel() or logging.WARNING,
        "log_to_driver": True,
    }
    if not address:
        kwargs.update(
            num_cpus=ray_cfg["num_cpus"],
            num_gpus=ray_cfg["num_gpus"],
            object_store_memory=ray_cfg["object_store_memory"],
            include_dashboard=ray_cfg["include_dashboard"],
            dashboard_host=ray_cfg["dashboard_host"],
        )
    if address:
        _probe(str(address), float(ray_cfg["connect_timeout_s"]))
    try:
        ray.init(**kwargs)
    except ConnectionError as e:
        raise _join_error(address, e) from None
    _started_here = not address
    startup_s = time.perf_counter() - t0
    log.info("Ray %s in %.1f s", "started" if _started_here else f"joined at {address}", startup_s)


def _join_error(address: Any, error: ConnectionError) -> ConfigError:
    """Why ray.init could not join `address`: a token the cluster refused, or no cluster."""
    cause = str(error.__cause__ or "")
    if "InvalidAuthToken" in cause or "AuthenticationError" in cause:
        mode = os.environ.get("RAY_AUTH_MODE", "disabled")
        return ConfigError(
            "ray.address",
            address,
            "a Ray cluster answers there but refuses this driver's authentication token "
            f"(RAY_AUTH_MODE={mode} here). A cluster started with RAY_AUTH_MODE=token needs "
            "RAY_AUTH_MODE=token in the driver's environment too, and the cluster's token: "
            "RAY_AUTH_TOKEN=<token>, RAY_AUTH_TOKEN_PATH=<file>, or the file ~/.ray/auth_token "
            "copied from the head node (docs/ray.md, 'Recipe')",
        )
    return ConfigError(
        "ray.address",
        address,
        f"no Ray cluster could be reached ({error}). Start one with `ray start --head`, or "
        "leave ray.address unset to start Ray in this process",
    )


def _probe(address: str, timeout_s: float) -> None:
    """Fail within `timeout_s` when nothing listens at HOST:PORT: ray.init would otherwise
    retry the GCS connection for minutes, printing warnings."""
    import socket

    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", "ray://...", or a form Ray itself will judge
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout_s):
            return
    except OSError as e:
        reason = e.strerror or type(e).__name__
    raise ConfigError(
        "ray.address",
        address,
        f"no Ray cluster answers there: a TCP connection to {host}:{port} failed within "
        f"{timeout_s:g} s ({reason}). Start a cluster with `ray start --head --port={port}` "
        "on that machine (docs/ray.md), check the address and that the port is reachable, or "
        "leave ray.address unset to start Ray in this process; ray.connect_timeout_s sets the "
        "wait",
    )


def check_resources(config: dict[str, Any]) -> None:
    """Fail fast when the actors cannot all be placed, instead of waiting forever for them."""
    import ray

    need = actor_resources(config)
    have = ray.cluster_resources()
    for kind in ("CPU", "GPU"):
        if need[kind] <= have.get(kind, 0.0) + 1e-9:
            continue
        message = resources_message(config, kind, need[kind], have.get(kind, 0.0))
        if _section(config, "ray")["address"]:
            # A cluster may grow (autoscaling): warn, and let Ray wait for the resources.
            log.warning("%s; waiting for the cluster to provide them", message)
        else:
            raise ConfigError(None, None, message)


def resources_message(config: dict[str, Any], kind: str, need: float, have: float) -> str:
    n = remote_actor_counts(config)
    unit = "cpus" if kind == "CPU" else "gpus"
    runner, learner = config["env_runner"], config["learner"]
    eval_each = eval_cpus_per_runner(config) if kind == "CPU" else runner["num_gpus_per_env_runner"]
    each = {
        "env_runners": runner[f"num_{unit}_per_env_runner"],
        "learners": learner[f"num_{unit}_per_learner"],
        "eval_env_runners": eval_each,
    }
    names = {
        "env_runners": "env runners",
        "learners": "learners",
        "eval_env_runners": "eval runners",
    }
    parts = [f"{n[k]} {names[k]} x {float(each[k]):g}" for k in names if n[k]]
    return (
        f"the remote actors ask Ray for {need:g} {kind}s ({'; '.join(parts)}) but the cluster has "
        f"{have:g}. Lower env_runner.num_{unit}_per_env_runner or learner.num_{unit}_per_learner "
        f"(fractions such as 0.5 are allowed), use fewer runners or learners, or give Ray more "
        f"with ray.num_{unit}"
    )


def shutdown_ray() -> None:
    """Stop the Ray this process started (a joined cluster is left running)."""
    global _started_here
    if _started_here:
        import ray

        ray.shutdown()
        _started_here = False
