"""Tree-valued columns: a Dict or Tuple observation is a nested dict/tuple of arrays.

One small set of helpers serves the env runner, connectors, the replay buffer and the learner,
so none of them special-cases Dict/Tuple observations. A "tree" is an array (numpy or torch),
or a dict / tuple / list of trees; leaves are never None. Dict keys keep the space's order.
Nothing here imports torch at module level: trees of numpy arrays need no torch.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

Tree = Any


def is_leaf(tree: Tree) -> bool:
    return not isinstance(tree, dict | tuple | list)


def map_structure(fn: Callable[..., Any], *trees: Tree) -> Tree:
    """fn applied leaf by leaf to trees of the same structure (the first one's)."""
    first = trees[0]
    if isinstance(first, dict):
        return {k: map_structure(fn, *(t[k] for t in trees)) for k in first}
    if isinstance(first, tuple | list):
        return type(first)(map_structure(fn, *parts) for parts in zip(*trees, strict=True))
    return fn(*trees)


def leaves(tree: Tree) -> list[Any]:
    """The leaves in a fixed order (dict insertion order, tuple order)."""
    return [leaf for _, leaf in flatten_with_paths(tree)]


def first_leaf(tree: Tree) -> Any:
    while not is_leaf(tree):
        tree = next(iter(tree.values())) if isinstance(tree, dict) else tree[0]
    return tree


def flatten_with_paths(tree: Tree, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path, leaf) pairs, paths joined with "/" ("obs/camera", "obs/0"); a bare leaf's path
    is `prefix`. The names checkpoints, episode files and error messages use."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from flatten_with_paths(v, f"{prefix}/{k}" if prefix else str(k))
    elif isinstance(tree, tuple | list):
        for i, v in enumerate(tree):
            yield from flatten_with_paths(v, f"{prefix}/{i}" if prefix else str(i))
    else:
        yield prefix, tree


def unflatten_like(structure: Tree, flat: list[Any]) -> Tree:
    """The inverse of `leaves`: put `flat` (in `leaves` order) into `structure`'s shape."""
    it = iter(flat)
    out = map_structure(lambda _: next(it), structure)
    if next(it, None) is not None:
        raise ValueError("more leaves than the structure holds")
    return out


# --- arrays along the leading axes --------------------------------------------------------


def index(tree: Tree, idx: Any) -> Tree:
    """tree[idx] on every leaf (a row, a slice, an index array, or a tuple of them)."""
    return map_structure(lambda x: x[idx], tree)


def assign(dst: Tree, idx: Any, src: Tree) -> None:
    """dst[idx] = src on every leaf, in place."""

    def put(d: Any, s: Any) -> None:
        d[idx] = s

    map_structure(put, dst, src)


def concat(trees: list[Tree], axis: int = 0) -> Tree:
    return map_structure(lambda *xs: _cat(xs, axis), *trees)


def stack(trees: list[Tree], axis: int = 0) -> Tree:
    return map_structure(lambda *xs: _stack(xs, axis), *trees)


def reshape_lead(tree: Tree, old_ndim: int, new_lead: tuple[int, ...]) -> Tree:
    """Replace the first `old_ndim` axes of every leaf by `new_lead` (e.g. [T, N] -> [T*N])."""
    return map_structure(lambda x: x.reshape(*new_lead, *x.shape[old_ndim:]), tree)


def lead_size(tree: Tree) -> int:
    """Length of the leading axis (the batch)."""
    return int(first_leaf(tree).shape[0])


def nbytes(tree: Tree) -> int:
    return sum(int(x.nbytes) for x in leaves(tree))


def _is_torch(x: Any) -> bool:
    return hasattr(x, "detach")  # a torch.Tensor, without importing torch for numpy trees


def _cat(xs: tuple[Any, ...], axis: int) -> Any:
    if not _is_torch(xs[0]):
        return np.concatenate(xs, axis=axis)
    import torch

    return torch.cat(list(xs), dim=axis)


def _stack(xs: tuple[Any, ...], axis: int) -> Any:
    if not _is_torch(xs[0]):
        return np.stack(xs, axis=axis)
    import torch

    return torch.stack(list(xs), dim=axis)


# --- torch ----------------------------------------------------------------------------------


def to_torch(tree: Tree, device: Any = None) -> Tree:
    """numpy leaves -> torch tensors (sharing memory on the CPU); dtypes kept (uint8 images
    stay uint8 until the module's encoder)."""
    import torch

    def conv(x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            t = x
        else:
            x = np.ascontiguousarray(x)
            if x.flags.writeable:
                t = torch.from_numpy(x)
            else:
                # Arrays from Ray's object store are read-only; batches are only read, so share
                # them rather than copy (torch would warn that writes are undefined).
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    t = torch.from_numpy(x)
        return t if device is None else t.to(device)

    return map_structure(conv, tree)


def to_numpy(tree: Tree) -> Tree:
    return map_structure(lambda x: x.detach().cpu().numpy() if hasattr(x, "detach") else x, tree)


# --- spaces ---------------------------------------------------------------------------------


def space_dtype(space: Any) -> np.dtype:
    """The dtype a column of this (leaf) space is stored in: images stay uint8, float64 boxes
    become float32 (what the networks take), discrete values int64."""
    from gymnasium import spaces

    if isinstance(space, spaces.Discrete | spaces.MultiDiscrete):
        return np.dtype(np.int64)
    if isinstance(space, spaces.MultiBinary):
        return np.dtype(np.int8)
    if isinstance(space, spaces.Box):
        if np.issubdtype(space.dtype, np.floating):
            return np.dtype(np.float32)
        return np.dtype(space.dtype)
    raise TypeError(f"no array layout for {space}")


def map_space(fn: Callable[[Any], Any], space: Any) -> Tree:
    """fn applied to every leaf space of a Dict/Tuple space, in a tree of the same shape."""
    from gymnasium import spaces

    if isinstance(space, spaces.Dict):
        return {k: map_space(fn, s) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(map_space(fn, s) for s in space.spaces)
    return fn(space)


def alloc(space: Any, lead: tuple[int, ...], fill: Any = None) -> Tree:
    """Arrays for `space` with leading axes `lead` (e.g. (T, N)); zeros if `fill` is 0."""

    def make(s: Any) -> np.ndarray:
        shape = (*lead, *(s.shape or ()))
        dtype = space_dtype(s)
        return np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)

    return map_space(make, space)


def batch_of_one(space: Any, obs: Tree) -> Tree:
    """One observation (lists allowed where the space has an array) as a batch of one,
    following the space's structure rather than the value's."""
    from gymnasium import spaces

    if isinstance(space, spaces.Dict):
        return {k: batch_of_one(s, obs[k]) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(batch_of_one(s, o) for s, o in zip(space.spaces, obs, strict=True))
    return np.asarray(obs, space_dtype(space))[None]


def as_batch(space: Any, obs: Tree) -> Tree:
    """An observation batch from a vector env, with each leaf in its column dtype."""
    dtypes = map_space(space_dtype, space)
    return map_structure(lambda x, dt: np.asarray(x, dt), obs, dtypes)
