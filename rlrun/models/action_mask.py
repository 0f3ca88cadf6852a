"""Legal-action masks: illegal actions' logits become a very negative but finite number.

Finite, not -inf: Categorical normalizes with logsumexp and its entropy and KL multiply
exp(logits) by logits, so a masked entry gives exp(-1e9) * (-1e9) = 0 * finite = 0, where
-inf would give 0 * inf = NaN. -1e9 rather than the dtype's minimum: SAC multiplies log-probs
by alpha and subtracts them from Q-values, which must not overflow either. A row whose every
action is masked is left unmasked (the env gave no legal action; better a uniform-ish choice
than NaN).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

MASKED_LOGIT = -1e9


def legal_actions(mask: torch.Tensor) -> torch.Tensor:
    """Bool [..., n]: True where the action is legal (mask int8/uint8/bool/float, nonzero =
    legal); rows with no legal action count as all legal."""
    legal = mask if mask.dtype == torch.bool else mask > 0
    return legal | ~legal.any(dim=-1, keepdim=True)


def masked_value(dtype: torch.dtype) -> float:
    """MASKED_LOGIT, or the most it can be in a narrow float type (float16: -65504 / 16)."""
    return max(MASKED_LOGIT, torch.finfo(dtype).min / 16)


def mask_logits(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """logits [..., n] with illegal actions set to a very negative finite number."""
    return logits.masked_fill(~legal_actions(mask), masked_value(logits.dtype))


def mask_multi_logits(
    logits: torch.Tensor, mask: torch.Tensor, nvec: Sequence[int]
) -> torch.Tensor:
    """MultiDiscrete: logits and mask [..., sum(nvec)], masked component by component (a
    component with no legal value is left unmasked on its own)."""
    parts = zip(logits.split(list(nvec), dim=-1), mask.split(list(nvec), dim=-1), strict=True)
    return torch.cat([mask_logits(lg, m) for lg, m in parts], dim=-1)
