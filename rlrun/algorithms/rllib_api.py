"""RLlib's Algorithm method names on rlrun's Algorithm (a mixin; docs/python_api.md):
save() returning a path with `.checkpoint.path`, save_to_path / restore_from_path, and
get_weights / set_weights by module id."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rlrun.algorithms.algorithm import Algorithm


@dataclass(frozen=True)
class CheckpointRef:
    """What `algo.save().checkpoint` is in RLlib's docs (a Tune Checkpoint): its `.path`."""

    path: str

    def __fspath__(self) -> str:
        return self.path

    def to_directory(self, path: str | None = None) -> str:
        return self.path if path is None else str(Path(path))


class CheckpointPath(type(Path())):  # type: ignore[misc]
    """The checkpoint folder `save()` wrote: a pathlib Path, as rlrun has always returned, that
    also answers RLlib's `algo.save().checkpoint.path`."""

    @property
    def checkpoint(self) -> CheckpointRef:
        return CheckpointRef(str(self))


def checkpoint_path(path: Any) -> Path:
    """A folder given as a path, a Tune/RLlib Checkpoint (`.path`) or a save() result
    (`.checkpoint.path`)."""
    inner = getattr(path, "checkpoint", None)
    if inner is not None and not isinstance(path, str | Path):
        path = inner
    return Path(getattr(path, "path", path)).expanduser()


class RLlibAPI:
    """Mixed into Algorithm: every method here uses only its public state and calls."""

    def save(self: Algorithm, path: Any = None) -> CheckpointPath:
        """Write a checkpoint to `path`; without one, to the next checkpoint_NNNNNN folder of
        this algorithm's trial folder under results_dir (as RLlib saves into its logdir)."""
        from rlrun.results.checkpoint import checkpoint_dir_name, save_checkpoint

        if path is None:
            path = self.logdir / checkpoint_dir_name(self.iteration)
        return CheckpointPath(save_checkpoint(self, checkpoint_path(path)))

    def save_to_path(self: Algorithm, path: Any = None) -> str:
        """RLlib's save_to_path: the folder written; without `path`, a new temporary folder."""
        if path is None:
            path = tempfile.mkdtemp(prefix="rlrun_checkpoint_")
        return str(self.save(path))

    def restore_from_path(self: Algorithm, path: Any) -> None:
        self.restore(checkpoint_path(path))

    @property
    def logdir(self: Algorithm) -> Path:
        """This algorithm's trial folder, <results_dir>/<name>/<trial>, made on first use."""
        if getattr(self, "_logdir", None) is None:
            from rlrun.config.schema import RootConfig
            from rlrun.results.trial import create_trial_dir, experiment_name, trial_name

            # A config built by hand may lack the top-level keys: the schema's default then.
            results_dir = self.config.get("results_dir") or RootConfig.results_dir
            self._logdir = create_trial_dir(
                results_dir,
                experiment_name(self.config),
                trial_name(self.algo_config.name, self.config["env"]["id"]),
            )
        return self._logdir

    def get_weights(self: Algorithm, modules: Any = None) -> dict[str, dict[str, Any]]:
        """{module_id: {parameter name: numpy array}}, as RLlib's new stack returns them;
        `modules` (an id or a list of ids) picks some."""
        from rlrun.core.multi_rl_module import split_weights

        weights = self.learner_group.get_weights()
        by_module = (
            split_weights(weights, list(self.module_specs))
            if self.is_multi_agent
            else {self.module_id: weights}
        )
        wanted = [modules] if isinstance(modules, str) else list(modules or by_module)
        unknown = [m for m in wanted if m not in by_module]
        if unknown:
            raise KeyError(f"no module {unknown[0]!r}; this algorithm has {list(by_module)}")
        return {m: {k: v.detach().cpu().numpy() for k, v in by_module[m].items()} for m in wanted}

    def set_weights(self: Algorithm, weights: dict[str, Any]) -> None:
        """Load {module_id: {name: array or tensor}} (what get_weights returns) into the
        learners and every env runner; a module left out keeps its weights."""
        import numpy as np
        import torch

        if weights and all(isinstance(v, np.ndarray | torch.Tensor) for v in weights.values()):
            weights = {self.module_id: weights}  # one module's flat weights
        for module_id, tensors in weights.items():
            if module_id not in self.module_specs:
                raise KeyError(
                    f"no module {module_id!r}; this algorithm has {list(self.module_specs)}"
                )
            state = {k: torch.as_tensor(np.asarray(v)) for k, v in tensors.items()}
            self.learner_group.set_module_weights(module_id, state)
        self.sync_weights()
