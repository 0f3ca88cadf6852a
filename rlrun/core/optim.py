"""Adam (Kingma & Ba 2015, https://arxiv.org/abs/1412.6980, Algorithm 1) in one fused kernel.

Why not torch.optim.Adam: every torch.optim.Optimizer method is wrapped to import torch._dynamo
on first use, which costs ~1.9 s of start-up on a 2-core machine, a fifth of our time-to-solve
budget. This one calls the kernel behind `torch.optim.Adam(fused=True)` (CPU and CUDA) directly:
on a CPU the foreach ops fall back to one op per tensor, ~170 ops and ~8x the time of the fused
kernel for a small MLP, and off-policy learners step after every few env steps. Its state is
plain named tensors (safetensors in checkpoints, no pickle).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from rlrun.config.rules import OPTIMIZER_TYPES as TORCH_OPTIMIZERS


class Adam:
    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.step_count = 0
        self.exp_avg = [torch.zeros_like(p) for p in self.params]  # m_t
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]  # v_t
        device = self.params[0].device if self.params else None
        self._step = torch.zeros((), dtype=torch.float32, device=device)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        idx = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not idx:
            return
        params = [self.params[i] for i in idx]
        grads = [self.params[i].grad for i in idx]
        m = [self.exp_avg[i] for i in idx]
        v = [self.exp_avg_sq[i] for i in idx]
        self.step_count += 1
        # The kernel reads t from a float tensor per parameter; all share one here.
        self._step.fill_(self.step_count)
        # Per element: m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
        # theta -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
        torch._fused_adam_(
            params,
            grads,
            m,
            v,
            [],
            [self._step] * len(params),
            lr=self.lr,
            beta1=self.beta1,
            beta2=self.beta2,
            weight_decay=0.0,
            eps=self.eps,
            amsgrad=False,
            maximize=False,
        )

    def state_dict(self) -> dict[str, torch.Tensor]:
        state = {"step": torch.tensor(self.step_count, dtype=torch.int64)}
        for i, (m, v) in enumerate(zip(self.exp_avg, self.exp_avg_sq, strict=True)):
            state[f"exp_avg.{i}"] = m.detach().cpu().clone()
            state[f"exp_avg_sq.{i}"] = v.detach().cpu().clone()
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        n = len(self.params)
        if sum(k.startswith("exp_avg.") for k in state) != n:
            raise ValueError(
                f"optimizer state holds moments for a different number of tensors than the module's {n}"
            )
        self.step_count = int(state["step"])
        for i in range(n):
            self.exp_avg[i].copy_(state[f"exp_avg.{i}"])
            self.exp_avg_sq[i].copy_(state[f"exp_avg_sq.{i}"])


def make_optimizer(
    params: Iterable[torch.nn.Parameter], lr: float, cfg: dict[str, Any], default_eps: float
) -> Optimizer:
    """The optimizer `algo.optimizer` asks for: without a `type`, this module's fused Adam
    (its `eps` is the algorithm's own default unless given: 1e-5 for PPO and DQN, 1e-8 for
    SAC); with one, that torch.optim class with the other keys as its keyword arguments."""
    kwargs = {k: v for k, v in cfg.items() if k != "type"}
    kind = cfg.get("type")
    if kind is None:
        extra = sorted(set(kwargs) - {"eps", "betas"})
        if extra:
            raise _optimizer_error(kwargs, f"the built-in Adam takes eps and betas, not {extra}")
        betas = tuple(kwargs.get("betas", (0.9, 0.999)))
        return Adam(params, lr=lr, betas=(float(betas[0]), float(betas[1])),
                    eps=float(kwargs.get("eps", default_eps)))  # fmt: skip
    cls_name = {n.lower(): n for n in dir(torch.optim)}.get(str(kind).lower())
    if str(kind).lower() not in TORCH_OPTIMIZERS or cls_name is None:
        raise _optimizer_error(kind, "is not an optimizer rlrun knows", ", ".join(TORCH_OPTIMIZERS))
    try:
        return TorchOptimizer(getattr(torch.optim, cls_name)(params, lr=lr, **kwargs))
    except (TypeError, ValueError) as e:
        raise _optimizer_error(cfg, f"was rejected by torch.optim.{cls_name}: {e}") from None


def _optimizer_error(value: Any, why: str, allowed: str | None = None) -> Exception:
    from rlrun.errors import ConfigError

    return ConfigError("algo.optimizer", value, why, allowed=allowed)


class TorchOptimizer:
    """A torch.optim optimizer behind the built-in Adam's interface (params, lr, step,
    zero_grad), with its state as flat named tensors, so checkpoints stay safetensors."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self.params = [p for group in optimizer.param_groups for p in group["params"]]

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = value

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)

    def step(self) -> None:
        self.optimizer.step()

    def state_dict(self) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        for idx, entries in self.optimizer.state_dict()["state"].items():
            for name, value in entries.items():
                out[f"state.{idx}.{name}"] = torch.as_tensor(value).detach().cpu().clone()
        return out

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        nested: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in state.items():
            _, idx, name = key.split(".", 2)
            nested.setdefault(int(idx), {})[name] = value
        groups = self.optimizer.state_dict()["param_groups"]
        self.optimizer.load_state_dict({"state": nested, "param_groups": groups})


Optimizer = Adam | TorchOptimizer  # what learners hold, by name
