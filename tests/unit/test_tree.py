"""Tree helpers (rlrun.core.tree) and masked reductions (rlrun.core.masked)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlrun.core import tree
from rlrun.core.masked import masked_mean, masked_std

SPACE = gym.spaces.Dict(
    {
        "img": gym.spaces.Box(0, 255, (4, 4, 3), np.uint8),
        "pos": gym.spaces.Box(-1.0, 1.0, (2,), np.float64),
        "more": gym.spaces.Tuple((gym.spaces.Discrete(3), gym.spaces.MultiBinary(4))),
    }
)


def test_alloc_follows_the_space_with_column_dtypes():
    cols = tree.alloc(SPACE, (5, 2), fill=0)
    assert cols["img"].shape == (5, 2, 4, 4, 3) and cols["img"].dtype == np.uint8
    assert cols["pos"].dtype == np.float32  # float64 boxes are stored as what networks take
    assert cols["more"][0].dtype == np.int64 and cols["more"][1].shape == (5, 2, 4)


def test_assign_index_concat_and_reshape_keep_the_structure():
    cols = tree.alloc(SPACE, (3, 2), fill=0)
    sample = tree.as_batch(SPACE, tree.stack([SPACE.sample(), SPACE.sample()]))
    tree.assign(cols, 1, sample)
    row = tree.index(cols, 1)
    np.testing.assert_array_equal(row["img"], sample["img"])
    assert row["more"][0].tolist() == list(sample["more"][0])
    both = tree.concat([cols, cols])
    assert tree.lead_size(both) == 6
    flat = tree.reshape_lead(cols, 2, (6,))
    assert flat["img"].shape == (6, 4, 4, 3)


def test_paths_and_unflatten():
    cols = tree.alloc(SPACE, (1,), fill=0)
    paths = [p for p, _ in tree.flatten_with_paths(cols, "obs")]
    # In the space's key order (gymnasium sorts a plain dict's keys).
    assert paths == ["obs/img", "obs/more/0", "obs/more/1", "obs/pos"]
    back = tree.unflatten_like(cols, tree.leaves(cols))
    assert isinstance(back["more"], tuple) and back["img"] is cols["img"]
    with pytest.raises(ValueError):
        tree.unflatten_like(cols, [*tree.leaves(cols), np.zeros(1)])


def test_to_torch_shares_memory_and_keeps_uint8():
    cols = tree.alloc(SPACE, (2,), fill=0)
    t = tree.to_torch(cols)
    assert t["img"].dtype == torch.uint8
    t["pos"][0, 0] = 5.0
    assert cols["pos"][0, 0] == 5.0


def test_batch_of_one_follows_the_space_not_the_value():
    box = gym.spaces.Box(-1, 1, (3,), np.float32)
    assert tree.batch_of_one(box, [0.1, 0.2, 0.3]).shape == (1, 3)  # a list is an array here
    one = tree.batch_of_one(SPACE, SPACE.sample())
    assert one["img"].shape == (1, 4, 4, 3) and one["more"][0].shape == (1,)


def test_masked_mean_and_std_ignore_masked_entries():
    x = torch.tensor([[1.0, 2.0, 100.0], [3.0, 4.0, -100.0]])
    mask = torch.tensor([[True, True, False], [True, True, False]])
    assert masked_mean(x, mask).item() == pytest.approx(2.5)
    assert masked_std(x, mask).item() == pytest.approx(torch.tensor([1.0, 2, 3, 4]).std().item())
    assert masked_mean(x, None).item() == pytest.approx(x.mean().item())
    # Trailing dims broadcast over the mask; an all-False mask gives 0, not NaN.
    y = torch.ones(2, 3, 4)
    assert masked_mean(y, mask).item() == 1.0
    assert masked_mean(x, torch.zeros_like(mask)).item() == 0.0


def test_masked_mean_equals_the_plain_mean_without_padding():
    """The masked PPO loss on a batch with no masked row is the old unmasked one."""
    x = torch.randn(64)
    assert masked_mean(x, torch.ones(64, dtype=torch.bool)).item() == pytest.approx(x.mean().item())
    assert masked_std(x, torch.ones(64, dtype=torch.bool)).item() == pytest.approx(x.std().item())
