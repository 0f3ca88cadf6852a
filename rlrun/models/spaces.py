"""What the catalog can encode, decided from the observation space alone.

No torch here: `check_encodable` runs at config-check time, before torch is imported, and the
encoders in encoders.py build from the same decisions (image layout, conv filters), so a
config that passes the check builds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rlrun.errors import ConfigError

MIN_IMAGE_SIDE = 8
# A channel axis is at most this long when it comes first (e.g. 4 stacked Atari frames).
MAX_LEADING_CHANNELS = 16
SUPPORTED = (
    "Box (a vector; an image, HxWxC or CxHxW or a uint8 HxW, sides >= 8; a smaller rank-3 Box "
    "is flattened), Discrete, "
    "MultiDiscrete, MultiBinary, and Dict/Tuple of these"
)
# Default conv stacks by the image's shorter side (valid padding, [channels, kernel, stride]):
# the Nature-DQN stack for Atari-sized frames, smaller strides for small grids.
NATURE_FILTERS = [[32, 8, 4], [64, 4, 2], [64, 3, 1]]  # fits sides >= 36
MID_FILTERS = [[16, 4, 2], [32, 4, 2], [64, 3, 1]]  # fits sides >= 18
SMALL_FILTERS = [[16, 3, 1], [32, 3, 1]]  # fits sides >= 5

Path = tuple[Any, ...]  # keys/indices from the observation's root to a leaf


@dataclass(frozen=True)
class ImageLayout:
    channels: int
    height: int
    width: int
    channels_first: bool  # [C, H, W]; else [H, W, C]
    has_channel_axis: bool  # False: a rank-2 [H, W] image, one channel


def image_layout(space: Any) -> ImageLayout | None:
    """The image layout of a Box, or None when the Box is a vector (to flatten into an MLP).

    Rank 3 is an image: HWC unless the first axis is clearly the channels (shorter than the
    last and at most 16 long, as FrameStackObservation's [4, 84, 84]); but with a side under
    8 it is a board's planes (tic-tac-toe's 3x3x2), which a CNN's default filters do not fit
    and an MLP over the flattened cells learns well: a vector. Rank 2 is an image only when
    uint8 with both sides >= 8 (a grayscale frame); other rank-2 Boxes are vectors. Rank 4
    and more cannot be encoded.
    """
    import numpy as np

    shape = tuple(int(d) for d in space.shape)
    if len(shape) == 3:
        first = shape[0] < shape[2] and shape[0] <= MAX_LEADING_CHANNELS
        c, h, w = shape if first else (shape[2], shape[0], shape[1])
        layout = ImageLayout(c, h, w, channels_first=first, has_channel_axis=True)
    elif len(shape) == 2 and space.dtype == np.uint8 and min(shape) >= MIN_IMAGE_SIDE:
        layout = ImageLayout(1, shape[0], shape[1], channels_first=True, has_channel_axis=False)
    elif len(shape) <= 2:
        return None
    else:
        raise unencodable(space, f"a rank-{len(shape)} Box")
    if min(layout.height, layout.width) < MIN_IMAGE_SIDE:
        return None
    return layout


def default_conv_filters(height: int, width: int) -> list[list[int]]:
    side = min(height, width)
    if side >= 64:
        return NATURE_FILTERS
    return MID_FILTERS if side >= 18 else SMALL_FILTERS


def conv_plan(space: Any, layout: ImageLayout, conv_filters: Any) -> list[tuple[int, int, int]]:
    """The conv layers [(channels, kernel, stride), ...] for this image: conv_filters, or the
    default by size when None. Raises ConfigError when a layer would leave no pixels, before
    any torch layer is built."""
    key = "algo.model.conv_filters"
    raw = (
        default_conv_filters(layout.height, layout.width) if conv_filters is None else conv_filters
    )
    filters = _parse_filters(key, conv_filters, raw)
    h, w = layout.height, layout.width
    sides = [f"{h}x{w}"]
    for i, (c, k, s) in enumerate(filters):
        nh, nw = (h - k) // s + 1, (w - k) // s + 1
        if nh < 1 or nw < 1:
            raise ConfigError(
                key,
                conv_filters,
                f"do not fit the observation {_image_text(space, layout)}: layer {i} "
                f"[{c}, {k}, {s}] gets {h}x{w} pixels and would leave "
                f"{max(nh, 0)}x{max(nw, 0)} (sides so far: {' -> '.join(sides)}); use "
                "smaller kernels or strides, or fewer layers (null picks a stack that fits)",
            )
        h, w = nh, nw
        sides.append(f"{h}x{w}")
    return filters


def conv_out_size(layout: ImageLayout, filters: list[tuple[int, int, int]]) -> int:
    """Features after the conv stack, flattened (valid padding)."""
    h, w = layout.height, layout.width
    for _, k, s in filters:
        h, w = (h - k) // s + 1, (w - k) // s + 1
    return filters[-1][0] * h * w if filters else layout.channels * h * w


def _parse_filters(key: str, given: Any, raw: Any) -> list[tuple[int, int, int]]:
    ok = isinstance(raw, Sequence) and not isinstance(raw, str) and len(raw) > 0
    out: list[tuple[int, int, int]] = []
    for entry in raw if ok else []:
        if not (isinstance(entry, Sequence) and len(entry) == 3):
            ok = False
            break
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in entry):
            ok = False
            break
        out.append((int(entry[0]), int(entry[1]), int(entry[2])))
    if not ok:
        raise ConfigError(
            key, given, "must be a list of [out_channels, kernel, stride] of positive ints"
        )
    return out


def _image_text(space: Any, layout: ImageLayout) -> str:
    order = "CxHxW" if layout.channels_first else "HxWxC"
    if not layout.has_channel_axis:
        order = "HxW"
    return f"shape {tuple(space.shape)} ({order}: {layout.height}x{layout.width} pixels)"


# --- leaves and the check ------------------------------------------------------------------


def leaf_kind(space: Any) -> str:
    """The leaf's encoder kind: "vector" (flattened floats), "image" (CNN) or "one_hot"."""
    from gymnasium import spaces

    if isinstance(space, spaces.Discrete | spaces.MultiDiscrete):
        return "one_hot"
    if isinstance(space, spaces.MultiBinary):
        return "vector"
    if isinstance(space, spaces.Box):
        return "vector" if image_layout(space) is None else "image"
    raise unencodable(space, type(space).__name__)


def leaf_spaces(space: Any, skip_key: str | None = None) -> Iterator[tuple[Path, Any]]:
    """(path, leaf space) of a Dict/Tuple space in the order its observations' leaves come;
    `skip_key` (the action mask) is left out at the top level."""
    from gymnasium import spaces

    def walk(s: Any, path: Path) -> Iterator[tuple[Path, Any]]:
        if isinstance(s, spaces.Dict):
            for k, sub in s.spaces.items():
                if not (path == () and k == skip_key):
                    yield from walk(sub, (*path, k))
        elif isinstance(s, spaces.Tuple):
            for i, sub in enumerate(s.spaces):
                yield from walk(sub, (*path, i))
        else:
            yield path, s

    yield from walk(space, ())


def check_space(space: Any, model_config: dict[str, Any], env_id: str | None = None) -> None:
    """Raise ConfigError unless every leaf of `space` can be encoded with `model_config`."""
    found = images = False
    for path, leaf in leaf_spaces(space, model_config.get("action_mask_key")):
        found = True
        try:
            if leaf_kind(leaf) == "image":
                images = True
                conv_plan(leaf, image_layout(leaf), model_config["conv_filters"])
        except UnencodableError as e:
            where = f" at {'/'.join(map(str, path))}" if path else ""
            raise unencodable(space, f"{e.what}{where}", env_id) from None
    if not found:
        raise unencodable(space, "a Dict/Tuple with nothing to encode", env_id)
    if model_config.get("conv_filters") is not None and not images:
        # Filters nothing would use: most likely a wrapper flattened the image, or the wrong env.
        raise ConfigError(
            "algo.model.conv_filters",
            model_config["conv_filters"],
            f"the observation space {space} has no image for a CNN (a rank-3 Box, or a Dict/Tuple "
            "leaf that is one); remove conv_filters or give an env with image observations",
        )


class UnencodableError(ConfigError):
    """An observation space the catalog has no encoder for; `what` names the part."""

    def __init__(self, space: Any, what: str, env_id: str | None) -> None:
        self.what = what
        super().__init__(
            "env.id",
            env_id if env_id is not None else str(space),
            f"the observation space {space} holds {what}, which the default models cannot "
            f"encode; supported: {SUPPORTED}. Wrap the env (e.g. FlattenObservation) or give "
            "your own module as algo.model.module_class",
        )


def unencodable(space: Any, what: str, env_id: str | None = None) -> UnencodableError:
    return UnencodableError(space, what, env_id)


def flat_size(space: Any) -> int:
    return int(math.prod(space.shape)) if space.shape else 1
