"""Action distributions built from a module's `action_dist_inputs`.

Written directly in tensor ops rather than on torch.distributions: sampling happens once per
env step in the EnvRunner, where torch.distributions' argument validation and object set-up
cost more than the maths itself.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

_LOG_2PI = math.log(2.0 * math.pi)


class Distribution:
    """A batch of action distributions; the leading dim of `inputs` is the batch."""

    def sample(self) -> torch.Tensor:
        raise NotImplementedError

    def logp(self, actions: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def entropy(self) -> torch.Tensor:
        raise NotImplementedError

    def kl(self, other: Distribution) -> torch.Tensor:
        """KL(self || other), per batch element."""
        raise NotImplementedError

    def to_deterministic(self) -> Deterministic:
        raise NotImplementedError

    @staticmethod
    def required_input_dim(action_space) -> int:  # noqa: ANN001 - gymnasium space
        raise NotImplementedError


class Categorical(Distribution):
    """Discrete actions from unnormalized logits, shape [B, n]."""

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)

    def sample(self) -> torch.Tensor:
        # Gumbel-max: one uniform draw per logit, no multinomial set-up cost.
        u = torch.rand_like(self.logits).clamp_(1e-20, 1.0)
        return (self.logits - torch.log(-torch.log(u))).argmax(dim=-1)

    def logp(self, actions: torch.Tensor) -> torch.Tensor:
        return self.logits.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        return -(self.logits.exp() * self.logits).sum(-1)

    def kl(self, other: Distribution) -> torch.Tensor:
        assert isinstance(other, Categorical)
        return (self.logits.exp() * (self.logits - other.logits)).sum(-1)

    def to_deterministic(self) -> Deterministic:
        return Deterministic(self.logits.argmax(dim=-1))

    @staticmethod
    def required_input_dim(action_space) -> int:  # noqa: ANN001
        return int(action_space.n)


class MultiCategorical(Distribution):
    """MultiDiscrete actions: one Categorical per component over consecutive slices of the
    logits [..., sum(nvec)]; actions are [..., k] int64, log-probs, entropies and KLs sum
    over the components (they are independent). `nvec` is a class attribute so the module
    can build it from the inputs alone: `multi_categorical_for(nvec)` gives the class."""

    nvec: tuple[int, ...] = ()

    def __init__(self, logits: torch.Tensor, nvec: tuple[int, ...] | None = None) -> None:
        self.nvec = tuple(nvec) if nvec is not None else self.nvec
        if not self.nvec:
            raise ValueError("MultiCategorical needs nvec: use multi_categorical_for(nvec)")
        self.parts = [Categorical(x) for x in logits.split(list(self.nvec), dim=-1)]

    def sample(self) -> torch.Tensor:
        return torch.stack([p.sample() for p in self.parts], dim=-1)

    def logp(self, actions: torch.Tensor) -> torch.Tensor:
        return torch.stack([p.logp(actions[..., i]) for i, p in enumerate(self.parts)], -1).sum(-1)

    def entropy(self) -> torch.Tensor:
        return torch.stack([p.entropy() for p in self.parts], dim=-1).sum(-1)

    def kl(self, other: Distribution) -> torch.Tensor:
        assert isinstance(other, MultiCategorical)
        pairs = zip(self.parts, other.parts, strict=True)
        return torch.stack([p.kl(q) for p, q in pairs], dim=-1).sum(-1)

    def to_deterministic(self) -> Deterministic:
        return Deterministic(torch.stack([p.logits.argmax(dim=-1) for p in self.parts], dim=-1))

    @staticmethod
    def required_input_dim(action_space) -> int:  # noqa: ANN001
        return int(sum(int(n) for n in action_space.nvec.ravel()))


_MULTI_CATEGORICALS: dict[tuple[int, ...], type[MultiCategorical]] = {}


def multi_categorical_for(nvec) -> type[MultiCategorical]:  # noqa: ANN001 - ints
    """The MultiCategorical subclass for `nvec`, one per nvec. It is named
    MultiCategorical_3_2 (for [3, 2]) and found again by name through this module's
    __getattr__, so pickle and deepcopy treat it as an ordinary module-level class."""
    key = tuple(int(n) for n in nvec)
    cls = _MULTI_CATEGORICALS.get(key)
    if cls is None:
        name = "MultiCategorical_" + "_".join(map(str, key))
        attrs = {"nvec": key, "__module__": __name__, "__qualname__": name}
        cls = _MULTI_CATEGORICALS[key] = type(name, (MultiCategorical,), attrs)
    return cls


def __getattr__(name: str) -> type[MultiCategorical]:
    if name.startswith("MultiCategorical_"):
        try:
            return multi_categorical_for(int(n) for n in name.split("_")[1:])
        except ValueError:
            pass
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class DiagGaussian(Distribution):
    """Box actions; inputs are [mean, log_std] concatenated on the last dim, shape [B, 2*d]."""

    def __init__(self, inputs: torch.Tensor) -> None:
        self.mean, self.log_std = inputs.chunk(2, dim=-1)
        self.std = self.log_std.exp()

    def sample(self) -> torch.Tensor:
        return self.mean + self.std * torch.randn_like(self.mean)

    def logp(self, actions: torch.Tensor) -> torch.Tensor:
        z = (actions - self.mean) / self.std
        return -0.5 * (z.pow(2) + _LOG_2PI).sum(-1) - self.log_std.sum(-1)

    def entropy(self) -> torch.Tensor:
        return (self.log_std + 0.5 * (_LOG_2PI + 1.0)).sum(-1)

    def kl(self, other: Distribution) -> torch.Tensor:
        assert isinstance(other, DiagGaussian)
        var_ratio = (self.std / other.std).pow(2)
        mean_term = ((self.mean - other.mean) / other.std).pow(2)
        return 0.5 * (var_ratio + mean_term - 1.0 - var_ratio.log()).sum(-1)

    def to_deterministic(self) -> Deterministic:
        return Deterministic(self.mean)

    @staticmethod
    def required_input_dim(action_space) -> int:  # noqa: ANN001
        return 2 * int(math.prod(action_space.shape))


class SquashedGaussian(DiagGaussian):
    """A Gaussian pushed through tanh (SAC, Haarnoja et al. 2018, appendix C).

    Actions live in (-1, 1); the EnvRunner rescales them to the Box bounds.
    """

    def __init__(self, inputs: torch.Tensor) -> None:
        super().__init__(inputs)
        self.log_std = self.log_std.clamp(-20.0, 2.0)
        self.std = self.log_std.exp()

    def sample(self) -> torch.Tensor:
        return torch.tanh(super().sample())

    def sample_with_logp(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterized sample and its log-prob, without the numerically poor atanh."""
        u = super().sample()
        # log(1 - tanh(u)^2) = 2 * (log 2 - u - softplus(-2u)), stable for large |u|.
        correction = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))
        return torch.tanh(u), super().logp(u) - correction.sum(-1)

    def logp(self, actions: torch.Tensor) -> torch.Tensor:
        a = actions.clamp(-1.0 + 1e-6, 1.0 - 1e-6)
        u = torch.atanh(a)
        return super().logp(u) - torch.log1p(-a.pow(2)).sum(-1)

    def entropy(self) -> torch.Tensor:
        raise NotImplementedError("a squashed Gaussian has no closed-form entropy; use -logp")

    def kl(self, other: Distribution) -> torch.Tensor:
        raise NotImplementedError("no closed-form KL between squashed Gaussians")

    def to_deterministic(self) -> Deterministic:
        return Deterministic(torch.tanh(self.mean))


class Deterministic(Distribution):
    """A point mass: what inference uses."""

    def __init__(self, actions: torch.Tensor) -> None:
        self.actions = actions

    def sample(self) -> torch.Tensor:
        return self.actions

    def logp(self, actions: torch.Tensor) -> torch.Tensor:
        return torch.zeros(actions.shape[0], device=actions.device)

    def entropy(self) -> torch.Tensor:
        return torch.zeros(self.actions.shape[0], device=self.actions.device)

    def to_deterministic(self) -> Deterministic:
        return self


def distribution_class_for(action_space) -> type[Distribution]:  # noqa: ANN001
    """The default distribution for a Gymnasium action space."""
    from gymnasium import spaces

    if isinstance(action_space, spaces.Discrete):
        return Categorical
    if isinstance(action_space, spaces.MultiDiscrete) and action_space.nvec.ndim == 1:
        return multi_categorical_for(action_space.nvec)
    if isinstance(action_space, spaces.Box):
        return DiagGaussian
    raise NotImplementedError(
        f"action space {action_space} is not supported yet (Discrete, MultiDiscrete with a "
        "1-d nvec, and Box are)"
    )
