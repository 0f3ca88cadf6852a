"""PPO's clipped surrogate and adaptive KL coefficient (Schulman et al. 2017,
https://arxiv.org/abs/1707.06347, eq. 7 and section 4): the pieces PPO's and APPO's losses share
(APPO takes the ratio against its target network's policy, PPO against the sampling policy)."""

from __future__ import annotations

import torch

from rlrun.core.masked import masked_mean


def clipped_surrogate(
    ratio: torch.Tensor, advantages: torch.Tensor, eps: float, mask: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. (7), -E[min(r A, clip(r, 1 - eps, 1 + eps) A)], and the share of rows clipped."""
    surrogate = torch.min(ratio * advantages, ratio.clamp(1.0 - eps, 1.0 + eps) * advantages)
    with torch.no_grad():
        clip_fraction = masked_mean(((ratio - 1.0).abs() > eps).float(), mask)
    return -masked_mean(surrogate, mask), clip_fraction


def adapted_kl_coeff(coeff: float, kl: float, target: float) -> float:
    """Section 4: push the KL penalty's coefficient towards `target` after an update."""
    if kl > 2.0 * target:
        return coeff * 1.5
    if kl < 0.5 * target:
        return coeff * 0.5
    return coeff
