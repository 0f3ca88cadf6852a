"""Replay for off-policy algorithms (DQN, SAC): a per-stream ring buffer with n-step targets."""

from __future__ import annotations

from rlrun.replay.buffer import ReplayBuffer
from rlrun.replay.sum_tree import SumTree

__all__ = ["ReplayBuffer", "SumTree"]
