"""The LSTM core of recurrent default modules: encoder features [B, T, D] -> [B, T, cell]."""

from __future__ import annotations

import torch
from torch import nn


class LSTMCore(nn.Module):
    """One nn.LSTM layer (batch_first). The state is {"h", "c"}: without a batch axis from
    `get_initial_state()`, [B, cell] in and out of `forward`, as RLModule's contract has it."""

    def __init__(self, in_dim: int, cell_size: int) -> None:
        super().__init__()
        self.cell_size = cell_size
        self.lstm = nn.LSTM(in_dim, cell_size, batch_first=True)
        self.out_dim = cell_size

    def get_initial_state(self) -> dict[str, torch.Tensor]:
        zeros = torch.zeros(self.cell_size, device=self.lstm.weight_hh_l0.device)
        return {"h": zeros, "c": zeros.clone()}

    def forward(
        self, x: torch.Tensor, state: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        # nn.LSTM wants [num_layers, B, cell] states; ours have no layer axis.
        out, (h, c) = self.lstm(x, (state["h"].unsqueeze(0), state["c"].unsqueeze(0)))
        return out, {"h": h.squeeze(0), "c": c.squeeze(0)}
