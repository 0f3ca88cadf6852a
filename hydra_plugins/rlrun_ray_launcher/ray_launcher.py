"""The Hydra Launcher plugin behind `hydra/launcher=ray`; the work is in rlrun.sweep.ray_launch.

Hydra discovers it by importing every module under `hydra_plugins`, which registers the config
below as the `ray` option of the `hydra/launcher` group. No `from __future__ import annotations`:
Hydra executes plugin modules outside sys.modules, where dataclasses cannot resolve string
annotations.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.utils import JobReturn
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


@dataclass
class RayLauncherConf:
    _target_: str = "hydra_plugins.rlrun_ray_launcher.ray_launcher.RayLauncher"
    # None: as many trials at once as the cluster's CPUs and GPUs hold.
    max_concurrent_trials: int | None = None


ConfigStore.instance().store(
    group="hydra/launcher", name="ray", node=RayLauncherConf, provider="rlrun"
)


class RayLauncher(Launcher):
    def __init__(self, max_concurrent_trials: int | None = None) -> None:
        self.max_concurrent_trials = max_concurrent_trials
        self.config: DictConfig | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.config = config

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        from rlrun.sweep.ray_launch import launch_on_ray

        kwargs: dict[str, Any] = {"max_concurrent": self.max_concurrent_trials}
        return launch_on_ray(job_overrides, initial_job_idx, self.config, **kwargs)
