"""Learners as Ray actors, and the torch.distributed group that data-parallel learners share.

The process group uses gloo on CPU and nccl on GPU. On one node it rendezvous through a file and
talks over the loopback interface, so no port is opened to the network; learners spread over
several nodes meet at rank 0's node address (a cluster the user set up, so its network is theirs).
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from rlrun.config.schema import LearnerConfig
from rlrun.env.rollout import Rollout


class LearnerActor:
    """Holds one Learner in a Ray actor process."""

    def __init__(
        self, learner_cls: Callable[..., Any], args: tuple[Any, ...], seed: int | None
    ) -> None:
        """`args`: the learner's (algo section, LearnerConfig, module spec, learner pieces)."""
        torch.set_num_threads(args[1].torch_num_threads)
        if seed is not None:
            torch.manual_seed(seed)
        self.learner = learner_cls(*args)

    def node_ip(self) -> str:
        import ray

        return ray.util.get_node_ip_address()

    def free_port(self) -> int:
        with socket.socket() as s:
            s.bind(("", 0))
            return int(s.getsockname()[1])

    def join(self, init_method: str, rank: int, world_size: int, loopback: bool) -> None:
        import torch.distributed as dist

        gpu = self.learner.device.type == "cuda"
        if loopback and os.path.exists("/sys/class/net/lo"):
            os.environ["NCCL_SOCKET_IFNAME" if gpu else "GLOO_SOCKET_IFNAME"] = "lo"
        dist.init_process_group(
            "nccl" if gpu else "gloo", init_method=init_method, rank=rank, world_size=world_size
        )
        self.learner.join_process_group(world_size)

    def update_modules(
        self, rollouts: list[Rollout], env_steps_lifetime: int
    ) -> dict[str, dict[str, float]]:
        return self.learner.update_modules(rollouts, env_steps_lifetime)

    def update_from_replay_modules(
        self, batches: dict[str, list[dict[str, np.ndarray]]], env_steps_lifetime: int
    ) -> tuple[dict[str, dict[str, float]], dict[str, list[np.ndarray | None]]]:
        return self.learner.update_from_replay_modules(batches, env_steps_lifetime)

    def set_module_weights(self, module_id: str, weights: dict[str, torch.Tensor]) -> None:
        self.learner.set_module_weights(module_id, weights)

    def get_weights(self) -> dict[str, torch.Tensor]:
        return self.learner.get_weights()

    def get_state(self) -> dict[str, Any]:
        return self.learner.get_state()

    def set_state(self, state: dict[str, Any]) -> None:
        self.learner.set_state(state)


def start_learner_actors(
    learner_cls: Callable[..., Any],
    args: tuple[Any, ...],
    seed: int | None,
    num_learners: int,
) -> list[Any]:
    """Start the actors, each building `learner_cls(*args)`, args[1] being the LearnerConfig;
    with more than one, join them in one torch.distributed group."""
    import ray

    learner_cfg: LearnerConfig = args[1]
    cls = ray.remote(LearnerActor).options(
        num_cpus=learner_cfg.num_cpus_per_learner,
        num_gpus=learner_cfg.num_gpus_per_learner,
        max_restarts=0,
        enable_task_events=False,  # as the env runners': the GCS would keep every update call
    )
    actors = [cls.remote(learner_cls, args, seed) for _ in range(num_learners)]
    ips = ray.get([a.node_ip.remote() for a in actors])
    if num_learners > 1:
        one_node = len(set(ips)) == 1
        if one_node:
            path = os.path.join(tempfile.gettempdir(), f"rlrun_dist_{uuid.uuid4().hex}")
            init_method = f"file://{path}"
        else:
            port = ray.get(actors[0].free_port.remote())
            init_method = f"tcp://{ips[0]}:{port}"
        ray.get(
            [
                a.join.remote(init_method, rank, num_learners, one_node)
                for rank, a in enumerate(actors)
            ]
        )
    return actors
