"""Learner: owns the training copy of the module, the optimizer, schedules and gradient clipping.

An algorithm's learner subclass implements `compute_loss_for_module` (and, if it needs one, a
learner connector and an `after_update` hook); the update loop, clipping, schedules and state
handling live here once. Batches arrive keyed by module id (`default_policy` for single-agent
runs); each module's batch has leading axis [B] (rows) or [B, L] (sequences of a recurrent
module, with `state_in` per sequence), and a `mask` column that losses reduce over.
Replay-based learners add `update_from_replay` (rlrun.algorithms.off_policy.learner).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from rlrun.config.schema import AlgoConfig, LearnerConfig
from rlrun.config.sections import algo_section, typed
from rlrun.core import columns as C
from rlrun.core import tree
from rlrun.core.columns import DEFAULT_MODULE_ID
from rlrun.core.optim import Optimizer, make_optimizer
from rlrun.core.rl_module import RLModule, RLModuleSpec
from rlrun.core.schedules import Schedule
from rlrun.env.rollout import Rollout

logger = logging.getLogger(__name__)

TensorDict = dict[str, torch.Tensor]
DEFAULT = "default"  # the optimizer (and lr schedule) of single-optimizer learners
TD_ERROR = "td_error"  # per-sample metric handed back to prioritized replay, not averaged


class Learner:
    # True when each of compute_loss's losses depends on its own optimizer's parameters only:
    # then one backward pass of their sum replaces one pass per loss (SAC: about 1 ms a step).
    joint_backward: bool = False

    def __init__(
        self,
        algo_cfg: AlgoConfig | Mapping[str, Any],
        learner_cfg: LearnerConfig | Mapping[str, Any],
        module_spec: RLModuleSpec,
        learner_pieces: Sequence[Any] = (),
    ) -> None:
        # The algorithm's schema dataclass (PPOSchema, ...) and the learner section, typed;
        # plain dicts (tests, hand-built configs) are typed here, missing keys defaulted.
        self.config: Any = algo_section(algo_cfg)
        self.learner_config: LearnerConfig = typed(LearnerConfig, learner_cfg)
        # `connectors.learner` specs; built by user_learner_pieces, in whichever process
        # this learner lives (remote learners build their own).
        self.learner_piece_specs = list(learner_pieces)
        self.device = self._pick_device(self.learner_config)
        self.module: RLModule = module_spec.build().to(self.device)
        self.lr_schedules: dict[str, Schedule] = self.build_lr_schedules()
        self.optimizers: dict[str, Optimizer] = self.build_optimizers()
        self.learner_connector: Callable[..., TensorDict] | None = self.build_learner_connector()
        self.module_id = DEFAULT_MODULE_ID
        self.env_steps_lifetime = 0
        self.num_updates_lifetime = 0
        self.world_size = 1  # > 1: one of several data-parallel learners (torch.distributed)
        # Detached views of the module's tensors, which updates change in place: off-policy
        # algorithms hand them to their local runner after every few gradient steps.
        self._live_weights: dict[str, torch.Tensor] | None = None

    # --- hooks for algorithms ------------------------------------------------------------

    def build_lr_schedules(self) -> dict[str, Schedule]:
        """One learning-rate schedule per optimizer, by the optimizer's name."""
        return {DEFAULT: Schedule(self.config.lr)}

    def build_optimizers(self) -> dict[str, Optimizer]:
        """Optimizers by name. With several, `compute_loss` returns one loss per name, and each
        loss's gradients reach only its optimizer's parameters (e.g. SAC's actor, critic, alpha)."""
        # eps=1e-5 rather than 1e-8: the PPO implementations the paper's results come from use it.
        lr = self.lr_schedules[DEFAULT].value(0)
        return {DEFAULT: make_optimizer(self.module.parameters(), lr, self.config.optimizer, 1e-5)}

    def build_learner_connector(self) -> Callable[..., TensorDict] | None:
        return None

    def user_learner_pieces(self) -> list[Any]:
        """The `connectors.learner` pieces the Algorithm handed over (`learner_pieces`), built
        here so remote learners build theirs."""
        if not self.learner_piece_specs:
            return []
        from rlrun.connectors.registry import build_learner_pieces

        return build_learner_pieces(self.learner_piece_specs)

    def compute_loss_for_module(
        self, module_id: str, batch: TensorDict
    ) -> tuple[torch.Tensor | TensorDict, TensorDict]:
        """The algorithm's maths for one module's batch: the loss to minimize (a scalar, or one
        per optimizer name) and detached metrics (tensors) to report. A per-sample `td_error`
        metric ([B]) is not averaged but handed back to prioritized replay."""
        raise NotImplementedError

    def compute_loss(self, batch: TensorDict) -> tuple[torch.Tensor | TensorDict, TensorDict]:
        """The default module's loss (single-module learners, tests)."""
        return self.compute_loss_for_module(self.module_id, batch)

    def after_gradient_step(self) -> None:
        """Called after every optimizer step (e.g. to move target networks)."""

    def after_update(self, metrics: dict[str, float]) -> dict[str, float]:
        """Called once per `update` with the averaged metrics; may adapt coefficients."""
        return {}

    # --- the update loop -------------------------------------------------------------------

    def update(self, rollouts: list[Rollout], env_steps_lifetime: int) -> dict[str, float]:
        """One training update from freshly sampled rollouts; returns averaged metrics."""
        self.env_steps_lifetime = env_steps_lifetime
        assert self.learner_connector is not None
        batches = self.learner_connector(self.module, rollouts, self.device)
        return self.update_from_batch(
            batches[self.module_id],
            num_epochs=int(self.config.num_epochs),
            minibatch_size=self.config.minibatch_size,
        )

    def update_modules(
        self, rollouts: list[Rollout], env_steps_lifetime: int
    ) -> dict[str, dict[str, float]]:
        """`update`, with its metrics under the module's id: the call the LearnerGroup makes,
        which a multi-agent learner (rlrun.core.multi_agent_learner) answers for every module."""
        return {self.module_id: self.update(rollouts, env_steps_lifetime)}

    def set_module_weights(self, module_id: str, weights: dict[str, torch.Tensor]) -> None:
        assert module_id == self.module_id, f"no module {module_id!r} here"
        self.set_weights(weights)

    def update_from_batch(
        self, batch: TensorDict, num_epochs: int = 1, minibatch_size: int | None = None
    ) -> dict[str, float]:
        """Minibatch SGD over one module's batch: rows, or whole sequences for recurrent
        modules (a minibatch of `minibatch_size` rows then holds that many rows of sequences)."""
        lrs = self._set_learning_rates()
        size = tree.lead_size(batch[C.OBS])
        n = size
        if self.world_size > 1:
            # Every learner must take the same number of steps (each step is an all-reduce), so
            # all use the smallest shard's size; each epoch drops a different random remainder.
            n = int(self._all_reduce(torch.tensor([n]), "min")[0])
        rows_per_item = 1
        if C.STATE_IN in batch:  # sequences [B, L]: shuffled whole
            rows_per_item = int(tree.first_leaf(batch[C.OBS]).shape[1])
        mb = max(1, min(int(minibatch_size or n * rows_per_item) // rows_per_item, n))
        collected: dict[str, list[torch.Tensor]] = {}
        trained = 0
        self.module.train()
        for _ in range(num_epochs):
            perm = torch.randperm(size, device=self.device)[:n]
            # A ragged tail under half a minibatch would be a noisy step: skip it (the
            # permutation differs each epoch, so no sample is always left out).
            for start in range(0, n - mb // 2, mb):
                idx = perm[start : start + mb]
                mb_batch = {k: tree.index(v, idx) for k, v in batch.items()}
                loss, metrics = self.compute_loss_for_module(self.module_id, mb_batch)
                metrics.pop(TD_ERROR, None)
                metrics.update(self._gradient_step(loss))
                trained += len(idx) * rows_per_item
                for k, v in metrics.items():
                    collected.setdefault(k, []).append(v.detach())
        out = self._mean_metrics(collected, lrs)
        out["num_module_steps_trained"] = float(trained)
        out.update(self.after_update(out))
        return out

    def _set_learning_rates(self) -> dict[str, float]:
        lrs = {}
        for name, opt in self.optimizers.items():
            opt.lr = lrs[name] = self.lr_schedules[name].value(self.env_steps_lifetime)
        return lrs

    def _gradient_step(self, loss: torch.Tensor | TensorDict) -> TensorDict:
        """Backward, average across learners, clip, step every optimizer; returns grad norms."""
        for opt in self.optimizers.values():
            opt.zero_grad()
        if isinstance(loss, torch.Tensor):
            loss.backward()
        elif self.joint_backward:
            torch.stack(list(loss.values())).sum().backward()
        else:
            for name, part in loss.items():
                torch.autograd.backward(part, inputs=self.optimizers[name].params)
        if self.world_size > 1:
            self._average_gradients()
        norms = {}
        for name, opt in self.optimizers.items():
            key = "gradients_global_norm" if name == DEFAULT else f"gradients_{name}_global_norm"
            norms[key] = self.clip_gradients(opt.params)
            opt.step()
        self.num_updates_lifetime += 1
        self.after_gradient_step()
        return norms

    def _mean_metrics(
        self, collected: dict[str, list[torch.Tensor]], lrs: dict[str, float]
    ) -> dict[str, float]:
        names = sorted(collected)
        # With no step taken there is nothing to average, but data-parallel learners must still
        # join the all-reduce below: a zero stands in.
        none = torch.zeros((), device=self.device)
        means = torch.stack([torch.stack(collected[k]).float().mean() for k in names] or [none])
        if self.world_size > 1:
            # Learners report (and adapt coefficients on) the same averaged metrics.
            means = self._all_reduce(means, "sum") / self.world_size
        out = dict(zip(names, means.tolist(), strict=False))
        for name, lr in lrs.items():
            out["curr_lr" if name == DEFAULT else f"curr_{name}_lr"] = lr
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
        """Average gradients over all learners in one all-reduce of a flat buffer: every
        tensor an optimizer steps (module parameters, and learner-owned ones such as CQL's
        log alpha'), in the same order on every learner."""
        seen: set[int] = set()
        params = []
        for opt in self.optimizers.values():
            for p in opt.params:
                if p.requires_grad and id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
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

    def clip_gradients(self, params: list[torch.nn.Parameter] | None = None) -> torch.Tensor:
        """Clip by `grad_clip_by` (value | norm | global_norm); returns the pre-clip global norm."""
        if params is None:
            params = list(self.module.parameters())
        params = [p for p in params if p.grad is not None]
        if not params:
            return torch.zeros((), device=self.device)
        clip = self.config.grad_clip
        by = self.config.grad_clip_by
        grads = [p.grad for p in params]
        # Fused norms: torch.nn.utils.clip_grad_norm_'s wrappers cost more than the maths for
        # small networks, and off-policy learners clip after every step.
        norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
        if clip is None:
            return norm
        if by == "global_norm":
            torch._foreach_mul_(grads, (clip / (norm + 1e-6)).clamp(max=1.0))
        elif by == "value":
            torch.nn.utils.clip_grad_value_(params, clip)
        else:  # "norm": each tensor on its own
            for p in params:
                torch.nn.utils.clip_grad_norm_([p], clip)
        return norm

    # --- weights and state -------------------------------------------------------------------

    def get_weights(self, copy: bool = True) -> dict[str, torch.Tensor]:
        """The module's tensors on the CPU; `copy=False` may return the live tensors (for a
        consumer in this process that copies them at once)."""
        if not copy and self.device.type == "cpu":
            if self._live_weights is None:
                self._live_weights = {k: v.detach() for k, v in self.module.state_dict().items()}
            return dict(self._live_weights)
        state = self.module.state_dict()
        return {k: v.detach().to("cpu", copy=True) for k, v in state.items()}

    def set_weights(self, weights: dict[str, torch.Tensor]) -> None:
        self.module.load_state_dict(weights)

    def get_state(self) -> dict[str, Any]:
        """Tensors (module, optimizer) and a JSON-able dict of everything else."""
        return {
            "module": self.get_weights(),
            "optimizer": self._optimizer_state(),
            "extra": {
                "env_steps_lifetime": self.env_steps_lifetime,
                "num_updates_lifetime": self.num_updates_lifetime,
                **self.get_extra_state(),
            },
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["module"])
        self._load_optimizer_state(state["optimizer"])
        extra = state.get("extra", {})
        self.env_steps_lifetime = int(extra.get("env_steps_lifetime", 0))
        self.num_updates_lifetime = int(extra.get("num_updates_lifetime", 0))
        self.set_extra_state(extra)

    @property
    def optimizer(self) -> Optimizer:
        """The default optimizer (single-optimizer learners have only this one)."""
        return self.optimizers.get(DEFAULT) or next(iter(self.optimizers.values()))

    def _optimizer_state(self) -> dict[str, torch.Tensor]:
        # The default optimizer's keys stay unprefixed: single-optimizer checkpoints read as before.
        out: dict[str, torch.Tensor] = {}
        for name, opt in self.optimizers.items():
            prefix = "" if name == DEFAULT else f"{name}/"
            out.update({prefix + k: v for k, v in opt.state_dict().items()})
        return out

    def _load_optimizer_state(self, state: dict[str, torch.Tensor]) -> None:
        for name, opt in self.optimizers.items():
            if name == DEFAULT:
                part = {k: v for k, v in state.items() if "/" not in k}
            else:
                part = {k[len(name) + 1 :]: v for k, v in state.items() if k.startswith(f"{name}/")}
            if not part and name != DEFAULT:
                # An optimizer the saved run did not have (SAC's alpha, with autotune_alpha
                # turned on at resume) starts from scratch, as it would in a new run.
                logger.warning("optimizer '%s' is not in the checkpoint: it starts fresh", name)
                continue
            opt.load_state_dict(part)

    def get_extra_state(self) -> dict[str, Any]:
        return {}

    def set_extra_state(self, extra: dict[str, Any]) -> None:
        pass

    @staticmethod
    def _pick_device(learner_cfg: LearnerConfig) -> torch.device:
        if learner_cfg.num_gpus_per_learner > 0:
            if not torch.cuda.is_available():
                from rlrun.errors import ConfigError

                raise ConfigError(
                    "learner.num_gpus_per_learner",
                    learner_cfg.num_gpus_per_learner,
                    "asks for a GPU but torch sees none (torch.cuda.is_available() is False); use 0",
                )
            return torch.device("cuda")
        return torch.device("cpu")
