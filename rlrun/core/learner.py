"""Learner: owns the training copy of the module, the optimizer, schedules and gradient clipping.

An algorithm's learner subclass implements `compute_loss` (and, if it needs one, a learner
connector and an `after_update` hook); the update loop, clipping, schedules and state handling
live here once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from rlrun.core import columns as C
from rlrun.core.optim import Adam
from rlrun.core.rl_module import RLModule, RLModuleSpec
from rlrun.core.schedules import Schedule
from rlrun.env.rollout import Rollout

TensorDict = dict[str, torch.Tensor]


class Learner:
    def __init__(
        self, algo_cfg: dict[str, Any], learner_cfg: dict[str, Any], module_spec: RLModuleSpec
    ) -> None:
        self.config = algo_cfg
        self.learner_config = learner_cfg
        self.device = self._pick_device(learner_cfg)
        self.module: RLModule = module_spec.build().to(self.device)
        self.lr_schedule = Schedule(algo_cfg["lr"])
        self.optimizer = self.build_optimizer()
        self.learner_connector: Callable[..., TensorDict] | None = self.build_learner_connector()
        self.env_steps_lifetime = 0
        self.num_updates_lifetime = 0
        self.world_size = 1  # > 1: one of several data-parallel learners (torch.distributed)

    # --- hooks for algorithms ------------------------------------------------------------

    def build_optimizer(self) -> Adam:
        # eps=1e-5 rather than 1e-8: the PPO implementations the paper's results come from use it.
        return Adam(self.module.parameters(), lr=self.lr_schedule.value(0), eps=1e-5)

    def build_learner_connector(self) -> Callable[..., TensorDict] | None:
        return None

    def compute_loss(self, batch: TensorDict) -> tuple[torch.Tensor, TensorDict]:
        """Return the scalar loss to minimize and detached metrics (tensors) to report."""
        raise NotImplementedError

    def after_update(self, metrics: dict[str, float]) -> dict[str, float]:
        """Called once per `update` with the averaged metrics; may adapt coefficients."""
        return {}

    # --- the update loop -------------------------------------------------------------------

    def update(self, rollouts: list[Rollout], env_steps_lifetime: int) -> dict[str, float]:
        """One training update from freshly sampled rollouts; returns averaged metrics."""
        self.env_steps_lifetime = env_steps_lifetime
        assert self.learner_connector is not None
        batch = self.learner_connector(self.module, rollouts, self.device)
        return self.update_from_batch(
            batch,
            num_epochs=int(self.config.get("num_epochs", 1)),
            minibatch_size=self.config.get("minibatch_size"),
        )

    def update_from_batch(
        self, batch: TensorDict, num_epochs: int = 1, minibatch_size: int | None = None
    ) -> dict[str, float]:
        lr = self.lr_schedule.value(self.env_steps_lifetime)
        self.optimizer.lr = lr
        n = len(batch[C.OBS])
        if self.world_size > 1:
            # Every learner must take the same number of steps (each step is an all-reduce), so
            # all use the smallest shard's size; each epoch drops a different random remainder.
            n = int(self._all_reduce(torch.tensor([n]), "min")[0])
        mb = max(1, min(int(minibatch_size or n), n))
        lr_t = torch.tensor(float(lr), device=self.device)
        collected: dict[str, list[torch.Tensor]] = {}
        self.module.train()
        for _ in range(num_epochs):
            perm = torch.randperm(len(batch[C.OBS]), device=self.device)[:n]
            # A ragged tail under half a minibatch would be a noisy step: skip it (the
            # permutation differs each epoch, so no sample is always left out).
            for start in range(0, n - mb // 2, mb):
                idx = perm[start : start + mb]
                loss, metrics = self.compute_loss({k: v[idx] for k, v in batch.items()})
                self.optimizer.zero_grad()
                loss.backward()
                if self.world_size > 1:
                    self._average_gradients()
                metrics["gradients_global_norm"] = self.clip_gradients()
                self.optimizer.step()
                self.num_updates_lifetime += 1
                for k, v in metrics.items():
                    collected.setdefault(k, []).append(v.detach())
        names = sorted(collected)
        means = torch.stack([torch.stack(collected[k]).float().mean() for k in names] or [lr_t])
        if self.world_size > 1:
            # Learners report (and adapt coefficients on) the same averaged metrics.
            means = self._all_reduce(means, "sum") / self.world_size
        out = dict(zip(names, means.tolist(), strict=False))
        out["curr_lr"] = lr
        out["num_module_steps_trained"] = float(n * num_epochs)
        out.update(self.after_update(out))
        return out

    # --- data-parallel learning -----------------------------------------------------------------

    def join_process_group(self, world_size: int) -> None:
        """Called once torch.distributed is initialized: start from rank 0's weights."""
        import torch.distributed as dist

        self.world_size = world_size
        for tensor in self.module.state_dict().values():
            dist.broadcast(tensor, src=0)

    def _all_reduce(self, tensor: torch.Tensor, op: str) -> torch.Tensor:
        import torch.distributed as dist

        out = tensor.to(self.device).clone()
        dist.all_reduce(out, op=dist.ReduceOp.MIN if op == "min" else dist.ReduceOp.SUM)
        return out

    def _average_gradients(self) -> None:
        """Average gradients over all learners in one all-reduce of a flat buffer."""
        params = list(self.module.parameters())
        for p in params:
            if p.grad is None:  # unused this step here, perhaps not elsewhere: count it as zero
                p.grad = torch.zeros_like(p)
        flat = self._all_reduce(torch.cat([p.grad.reshape(-1) for p in params]), "sum")
        flat /= self.world_size
        offset = 0
        for p in params:
            k = p.numel()
            p.grad.copy_(flat[offset : offset + k].view_as(p))
            offset += k

    def clip_gradients(self) -> torch.Tensor:
        """Clip by `grad_clip_by` (value | norm | global_norm); returns the pre-clip global norm."""
        params = [p for p in self.module.parameters() if p.grad is not None]
        clip = self.config.get("grad_clip")
        by = self.config.get("grad_clip_by", "global_norm")
        if clip is None or by == "global_norm":
            # clip_grad_norm_ with inf max_norm just measures.
            return torch.nn.utils.clip_grad_norm_(params, float("inf") if clip is None else clip)
        norm = torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(p.grad) for p in params])
        )
        if by == "value":
            torch.nn.utils.clip_grad_value_(params, clip)
        else:  # "norm": each tensor on its own
            for p in params:
                torch.nn.utils.clip_grad_norm_([p], clip)
        return norm

    # --- weights and state -------------------------------------------------------------------

    def get_weights(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().to("cpu", copy=True) for k, v in self.module.state_dict().items()}

    def set_weights(self, weights: dict[str, torch.Tensor]) -> None:
        self.module.load_state_dict(weights)

    def get_state(self) -> dict[str, Any]:
        """Tensors (module, optimizer) and a JSON-able dict of everything else."""
        return {
            "module": self.get_weights(),
            "optimizer": self.optimizer.state_dict(),
            "extra": {
                "env_steps_lifetime": self.env_steps_lifetime,
                "num_updates_lifetime": self.num_updates_lifetime,
                **self.get_extra_state(),
            },
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["module"])
        self.optimizer.load_state_dict(state["optimizer"])
        extra = state.get("extra", {})
        self.env_steps_lifetime = int(extra.get("env_steps_lifetime", 0))
        self.num_updates_lifetime = int(extra.get("num_updates_lifetime", 0))
        self.set_extra_state(extra)

    def get_extra_state(self) -> dict[str, Any]:
        return {}

    def set_extra_state(self, extra: dict[str, Any]) -> None:
        pass

    @staticmethod
    def _pick_device(learner_cfg: dict[str, Any]) -> torch.device:
        if float(learner_cfg.get("num_gpus_per_learner", 0) or 0) > 0:
            if not torch.cuda.is_available():
                from rlrun.errors import ConfigError

                raise ConfigError(
                    "learner.num_gpus_per_learner",
                    learner_cfg["num_gpus_per_learner"],
                    "asks for a GPU but torch sees none (torch.cuda.is_available() is False); use 0",
                )
            return torch.device("cuda")
        return torch.device("cpu")
