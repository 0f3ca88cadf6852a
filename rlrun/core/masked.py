"""Reductions over the rows that count: batches keep autoreset rows and sequence padding, marked
False in their `mask` column, so every loss and statistic reduces with these."""

from __future__ import annotations

import torch


def masked_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean of `x` over the True entries of `mask` (same leading shape); plain mean if None."""
    if mask is None:
        return x.mean()
    m = mask.to(x.dtype)
    while m.dim() < x.dim():
        m = m.unsqueeze(-1)
    m = m.expand_as(x)
    return (x * m).sum() / m.sum().clamp_min(1.0)


def masked_std(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Sample standard deviation over the True entries (Bessel-corrected, as Tensor.std)."""
    if mask is None:
        return x.std()
    m = mask.to(x.dtype)
    n = m.sum()
    mean = (x * m).sum() / n.clamp_min(1.0)
    return (((x - mean) ** 2 * m).sum() / (n - 1.0).clamp_min(1.0)).sqrt()


def masked_var(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    return masked_std(x, mask) ** 2
