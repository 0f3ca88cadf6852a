"""Checkpoints on disk: JSON, YAML and safetensors only, so loading one never runs code.

checkpoint_000010/
  rlrun_checkpoint.json            format, versions, algorithm, iteration, env steps, module ids
  config.yaml                      the resolved config the run used
  module/<module_id>/model.safetensors, spec.json    weights + how to build the module
  learner/optimizer.safetensors, learner/state.json  optimizer moments, coefficients, counters
  env_runner/connector.safetensors, env_runner/state.json   filter statistics, metric windows
  algorithm/state.json, algorithm/rng.safetensors    counters and RNG states
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from rlrun.errors import CheckpointError

if TYPE_CHECKING:
    from rlrun.algorithms.algorithm import Algorithm
    from rlrun.core.rl_module import RLModule, RLModuleSpec

FORMAT = "rlrun-checkpoint"
# 2: the model catalog's module layout (encoder / heads), Dict/Tuple spaces in the spec.
FORMAT_VERSION = 2
MARKER = "rlrun_checkpoint.json"


def checkpoint_dir_name(iteration: int) -> str:
    return f"checkpoint_{iteration:06d}"


def save_checkpoint(algo: Algorithm, path: Path) -> Path:
    """Write the algorithm's full state to `path` (written to a temp folder, then renamed, so a
    crash mid-write never leaves a half checkpoint that looks whole)."""
    from omegaconf import OmegaConf

    from rlrun import __version__

    path = Path(path).expanduser().resolve()
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    state = algo.get_state()
    specs = algo.module_specs
    by_module = _by_module(state["learner"]["module"], list(specs), algo.is_multi_agent)
    for module_id, weights in by_module.items():
        mdir = tmp / "module" / module_id
        mdir.mkdir(parents=True)
        save_file(_contiguous(weights), str(mdir / "model.safetensors"))
        _write_json(mdir / "spec.json", spec_to_json(specs[module_id]))

    ldir = tmp / "learner"
    ldir.mkdir()
    save_file(_contiguous(state["learner"]["optimizer"]), str(ldir / "optimizer.safetensors"))
    _write_json(ldir / "state.json", state["learner"]["extra"])

    edir = tmp / "env_runner"
    edir.mkdir()
    # np.array, not np.ascontiguousarray: the latter turns 0-d arrays (a filter's count) into 1-d.
    connector = {
        k: torch.from_numpy(np.array(v, copy=True))
        for k, v in state["env_runner"]["connector"].items()
    }
    save_file(connector, str(edir / "connector.safetensors"))
    _write_json(edir / "state.json", state["env_runner"]["counters"])

    adir = tmp / "algorithm"
    adir.mkdir()
    _write_json(adir / "state.json", {**state["counters"], "numpy_rng": _np_rng_state()})
    save_file({"torch": torch.get_rng_state()}, str(adir / "rng.safetensors"))

    (tmp / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(algo.config)))
    algo.save_extra(tmp)
    _write_json(
        tmp / MARKER,
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "rlrun_version": __version__,
            "algorithm": algo.algo_config.name,
            "iteration": algo.iteration,
            "num_env_steps_sampled_lifetime": algo.num_env_steps_sampled_lifetime,
            "module_ids": list(specs),
            "multi_agent": algo.is_multi_agent,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )
    if path.exists():
        shutil.rmtree(path)
    tmp.rename(path)
    return path


def read_metadata(path: Path) -> dict[str, Any]:
    meta = _read_json(Path(path) / MARKER, path)
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: {MARKER} does not describe an rlrun checkpoint (format={meta.get('format')!r})."
        )
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {meta['format_version']} is newer than this rlrun "
            f"reads ({FORMAT_VERSION}); upgrade rlrun to load it."
        )
    if int(meta.get("format_version", 0)) < 2:
        raise CheckpointError(
            f"{path}: checkpoint format version {meta.get('format_version')} was written by an "
            "rlrun from before the model catalog, whose networks are laid out differently "
            f"(this rlrun reads version {FORMAT_VERSION}); its weights cannot be loaded. Train "
            "anew, or evaluate it with the rlrun version that wrote it."
        )
    return meta


def read_checkpoint_config(path: Path) -> dict[str, Any]:
    """The resolved config stored in a checkpoint, as plain data."""
    from omegaconf import OmegaConf

    read_metadata(path)
    cfg_file = Path(path) / "config.yaml"
    try:
        return OmegaConf.to_container(OmegaConf.load(cfg_file), resolve=True)  # type: ignore[return-value]
    except Exception as e:  # noqa: BLE001 - any parse failure means a corrupt checkpoint
        raise CheckpointError(f"{cfg_file}: cannot read the checkpoint's config ({e}).") from None


def load_state(path: Path, module_spec: RLModuleSpec | None = None) -> dict[str, Any]:
    """Read everything `save_checkpoint` wrote back into the shape of `Algorithm.get_state()`.

    Also restores the global torch and numpy RNG states, so a resumed run samples as the
    original would have.
    """
    path = Path(path)
    meta = read_metadata(path)
    learner_extra = _read_json(path / "learner" / "state.json", path)
    runner_counters = _read_json(path / "env_runner" / "state.json", path)
    counters = _read_json(path / "algorithm" / "state.json", path)
    state = {
        "learner": {
            "module": _load_modules(path, meta),
            "optimizer": _load_tensors(path / "learner" / "optimizer.safetensors"),
            "extra": learner_extra,
        },
        "env_runner": {
            "connector": {
                k: v.numpy()
                for k, v in _load_tensors(path / "env_runner" / "connector.safetensors").items()
            },
            "counters": runner_counters,
        },
        "counters": counters,
    }
    rng = _load_tensors(path / "algorithm" / "rng.safetensors")
    if "torch" in rng:
        torch.set_rng_state(rng["torch"])
    if counters.get("numpy_rng"):
        _set_np_rng_state(counters["numpy_rng"])
    return state


def load_module(path: Path, module_id: str | None = None) -> RLModule:
    """Build a module from a checkpoint without the Algorithm (e.g. for deployment)."""
    path = Path(path)
    meta = read_metadata(path)
    module_id = module_id or meta["module_ids"][0]
    spec = spec_from_json(_read_json(path / "module" / module_id / "spec.json", path))
    module = spec.build()
    module.load_state_dict(_load_tensors(path / "module" / module_id / "model.safetensors"))
    return module


def load_module_weights(
    path: str | Path, spec: RLModuleSpec, key: str, module_id: str
) -> dict[str, torch.Tensor]:
    """Module `module_id`'s starting weights from another run, for config `key`: `path` is a
    checkpoint (its module of the same id, or its only one) or a checkpoint's module/<id>/
    folder. They must fit `spec`'s networks; a ConfigError names the tensor that differs."""
    from rlrun.errors import ConfigError

    folder = Path(path).expanduser()
    if not (folder / "model.safetensors").exists():
        try:
            meta = read_metadata(folder)
        except CheckpointError as e:
            raise ConfigError(key, str(path), str(e)) from None
        ids = list(meta["module_ids"])
        pick = module_id if module_id in ids else ids[0] if len(ids) == 1 else None
        if pick is None:
            raise ConfigError(
                key, str(path), f"holds modules {', '.join(ids)} and none is "
                f"named {module_id}: point at one, e.g. {folder}/module/{ids[0]}",
            )  # fmt: skip
        folder = folder / "module" / pick
    weights = _load_tensors(folder / "model.safetensors")
    expected = {k: tuple(v.shape) for k, v in spec.build().state_dict().items()}
    got = {k: tuple(v.shape) for k, v in weights.items()}
    if got != expected:
        diff = sorted(set(got) ^ set(expected)) or [k for k in got if got[k] != expected[k]]
        raise ConfigError(
            key, str(path), f"does not fit this module's networks (first "
            f"difference: {diff[0]}); the module's model settings must match the saved one's",
        )  # fmt: skip
    return weights


# --- helpers -------------------------------------------------------------------------------


def _by_module(
    weights: dict[str, torch.Tensor], module_ids: list[str], multi_agent: bool
) -> dict[str, dict[str, torch.Tensor]]:
    """A learner's weights by module: a multi-agent learner's names are "<id>.<name>"."""
    from rlrun.core.multi_rl_module import split_weights

    return split_weights(weights, module_ids) if multi_agent else {module_ids[0]: weights}


def _load_modules(path: Path, meta: dict[str, Any]) -> dict[str, torch.Tensor]:
    from rlrun.core.multi_rl_module import prefixed

    ids = list(meta["module_ids"])
    if not meta.get("multi_agent"):
        return _load_tensors(path / "module" / ids[0] / "model.safetensors")
    out: dict[str, torch.Tensor] = {}
    for mid in ids:
        out.update(prefixed(mid, _load_tensors(path / "module" / mid / "model.safetensors")))
    return out


def spec_to_json(spec: RLModuleSpec) -> dict[str, Any]:
    return {
        "module_class": spec.module_class,
        "observation_space": space_to_json(spec.observation_space),
        "action_space": space_to_json(spec.action_space),
        "model_config": spec.model_config,
    }


def spec_from_json(d: dict[str, Any]) -> RLModuleSpec:
    from rlrun.core.rl_module import RLModuleSpec

    return RLModuleSpec(
        d["module_class"],
        space_from_json(d["observation_space"]),
        space_from_json(d["action_space"]),
        d.get("model_config", {}),
    )


def space_to_json(space: Any) -> dict[str, Any]:
    """A gymnasium space as JSON data (never pickle): Box, Discrete, MultiDiscrete,
    MultiBinary, and Dict/Tuple of them."""
    from gymnasium import spaces

    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.Box):
        return {
            "type": "Box",
            "low": _bound_to_json(space.low),
            "high": _bound_to_json(space.high),
            "shape": list(space.shape),
            "dtype": str(space.dtype),
        }
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist(), "dtype": str(space.dtype)}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_to_json(v) for k, v in space.spaces.items()}}
    if isinstance(space, spaces.Tuple):
        return {"type": "Tuple", "spaces": [space_to_json(v) for v in space.spaces]}
    raise TypeError(f"cannot store space {space} in a checkpoint")


def _bound_to_json(bound: np.ndarray) -> Any:
    # An image's bounds are one number repeated 28,224 times: store it once.
    flat = bound.ravel()
    if flat.size and np.all(flat == flat[0]):
        return flat[0].item()
    return bound.tolist()


def space_from_json(d: dict[str, Any]) -> Any:
    from gymnasium import spaces

    kind = d["type"]
    if kind == "Discrete":
        return spaces.Discrete(d["n"], start=d.get("start", 0))
    if kind == "Box":
        shape, dtype = tuple(d["shape"]), d["dtype"]
        low = np.broadcast_to(np.asarray(d["low"], dtype), shape)
        high = np.broadcast_to(np.asarray(d["high"], dtype), shape)
        return spaces.Box(low.copy(), high.copy(), shape, dtype)
    if kind == "MultiDiscrete":
        return spaces.MultiDiscrete(np.asarray(d["nvec"]), dtype=d["dtype"])
    if kind == "MultiBinary":
        return spaces.MultiBinary(d["n"])
    if kind == "Dict":
        return spaces.Dict({k: space_from_json(v) for k, v in d["spaces"].items()})
    if kind == "Tuple":
        return spaces.Tuple(tuple(space_from_json(v) for v in d["spaces"]))
    raise CheckpointError(f"unknown space type {kind!r} in a checkpoint's spec.json")


def prune_checkpoints(
    trial_dir: Path,
    num_to_keep: int | None,
    scores: dict[str, float | None] | None = None,
    order: str = "max",
) -> None:
    """Keep `num_to_keep` checkpoint_* folders: the best by `scores` (folder name -> value; a
    missing or NaN score ranks last) when given, else the newest. The newest is always kept as
    well, so a run can resume from where it stopped."""
    if not num_to_keep:
        return
    ckpts = sorted(p for p in Path(trial_dir).glob("checkpoint_*") if (p / MARKER).exists())
    if scores is None:
        keep = set(ckpts[-num_to_keep:])
    else:
        sign = 1.0 if order == "max" else -1.0

        def rank(p: Path) -> float:
            v = scores.get(p.name)
            return -math.inf if v is None or math.isnan(v) else sign * v

        keep = set(sorted(ckpts, key=rank, reverse=True)[:num_to_keep]) | set(ckpts[-1:])
    for old in ckpts:
        if old not in keep:
            shutil.rmtree(old, ignore_errors=True)


def _contiguous(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}


def _load_tensors(file: Path) -> dict[str, torch.Tensor]:
    if not file.exists():
        raise CheckpointError(f"{file.parent}: missing {file.name}; the checkpoint is incomplete.")
    try:
        return load_file(str(file))
    except Exception as e:  # noqa: BLE001 - safetensors raises several types for bad files
        raise CheckpointError(f"{file}: unreadable ({e}); the checkpoint is corrupt.") from None


def _write_json(file: Path, data: Any) -> None:
    file.write_text(json.dumps(data, indent=1))


def _read_json(file: Path, ckpt: Path) -> dict[str, Any]:
    if not file.exists():
        raise CheckpointError(
            f"{ckpt}: missing {file.relative_to(ckpt) if file.is_relative_to(ckpt) else file}; the checkpoint is incomplete."
        )
    try:
        data = json.loads(file.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{file}: not valid JSON ({e}); the checkpoint is corrupt.") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{file}: expected a JSON object; the checkpoint is corrupt.")
    return data


def _np_rng_state() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "name": name,
        "keys": keys.tolist(),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached": float(cached),
    }


def _set_np_rng_state(s: dict[str, Any]) -> None:
    np.random.set_state(
        (s["name"], np.asarray(s["keys"], np.uint32), s["pos"], s["has_gauss"], s["cached"])
    )
