"""Recorded values -> arrays in the column dtypes a space stores (rlrun.core.tree.space_dtype),
checked against the space the module sees. A mismatch is a ConfigError on
`offline_data.input_` that names the data's shape and the env's space."""

from __future__ import annotations

from typing import Any

import numpy as np

from rlrun.core import tree
from rlrun.errors import ConfigError

KEY = "offline_data.input_"


class Mismatch(Exception):
    """Recorded values that do not fit the space: `what` says how they look instead."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def as_space(value: Any, space: Any, steps: int) -> Any:
    """`value` (nested lists or arrays, `steps` rows) as a tree of arrays for `space`; raises
    Mismatch when it does not fit."""
    from gymnasium import spaces

    if isinstance(space, spaces.Dict):
        if not isinstance(value, dict) or set(value) != set(space.spaces):
            found = sorted(value) if isinstance(value, dict) else type(value).__name__
            raise Mismatch(f"keys {found}")
        return {k: as_space(value[k], s, steps) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        if not isinstance(value, list | tuple) or len(value) != len(space.spaces):
            raise Mismatch(f"a {type(value).__name__} where a Tuple of {len(space.spaces)} is")
        return tuple(as_space(v, s, steps) for v, s in zip(value, space.spaces, strict=True))
    try:
        arr = np.asarray(value)
    except ValueError:  # ragged nested lists
        raise Mismatch("rows of different shapes") from None
    shape = tuple(space.shape or ())
    if arr.shape != (steps, *shape):
        raise Mismatch(f"shape {arr.shape[1:]}")
    if arr.size and not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise Mismatch(f"values of type {arr.dtype}")
    dtype = tree.space_dtype(space)
    integral = np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
    if np.issubdtype(dtype, np.integer) and arr.size and not integral:
        raise Mismatch("non-integer values")
    return arr.astype(dtype, copy=False)


def check_range(actions: Any, space: Any) -> str | None:
    """How `actions` leave a leaf action space's range (None: they do not)."""
    from gymnasium import spaces

    a = np.asarray(actions)
    if not a.size:
        return None
    if isinstance(space, spaces.Discrete):
        lo, hi = int(space.start), int(space.start + space.n - 1)
        if a.min() < lo or a.max() > hi:
            return f"values {a.min()}..{a.max()} (the env's are {lo}..{hi})"
    elif isinstance(space, spaces.MultiDiscrete):
        if (a < space.start).any() or (a >= space.start + space.nvec).any():
            return "values outside the env's nvec"
    elif isinstance(space, spaces.Box):
        # Recorded actions are what the env received (clipped to the bounds), written as
        # float32 text: allow the rounding.
        tol = 1e-5 * np.maximum(1.0, np.abs(np.concatenate([space.low, space.high])).max())
        if (a < space.low - tol).any() or (a > space.high + tol).any():
            return f"values {a.min():.4g}..{a.max():.4g} outside the env's bounds"
    return None


def mismatch_error(value: Any, source: str, kind: str, found: str, space: Any) -> ConfigError:
    """The error for data whose observations or actions ("observation"/"action") do not fit."""
    return ConfigError(
        KEY,
        value,
        f"the {kind}s in {source} do not fit the env's {kind} space: the data has {found}, "
        f"the env's {kind} space is {space}. Record the data from this env (with the same "
        "env-to-module connectors), or pick the env the data came from with env=",
    )


def spaces_differ(data_space: Any, env_space: Any) -> bool:
    """Whether a dataset's declared space (Minari) differs from the env's in what the arrays
    hold: kind, shape, number of values, key structure or Box bounds (dtypes may differ)."""
    from gymnasium import spaces

    if type(data_space) is not type(env_space):
        return True
    if isinstance(env_space, spaces.Dict):
        if set(data_space.spaces) != set(env_space.spaces):
            return True
        return any(spaces_differ(data_space[k], s) for k, s in env_space.spaces.items())
    if isinstance(env_space, spaces.Tuple):
        if len(data_space.spaces) != len(env_space.spaces):
            return True
        return any(spaces_differ(d, e) for d, e in zip(data_space, env_space, strict=True))
    if data_space.shape != env_space.shape:
        return True
    if isinstance(env_space, spaces.Discrete):
        return data_space.n != env_space.n or data_space.start != env_space.start
    if isinstance(env_space, spaces.MultiDiscrete):
        return not np.array_equal(data_space.nvec, env_space.nvec)
    if isinstance(env_space, spaces.Box):
        return not (
            np.allclose(data_space.low, env_space.low)
            and np.allclose(data_space.high, env_space.high)
        )
    return False
