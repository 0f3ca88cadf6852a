"""What a run reads on this machine: the env can be made, an offline algorithm's data exists.

`validate` checks the config alone, so a config (an RLlib file) converts anywhere; `train`,
`evaluate`, sweeps and the Python builder also call `check_env_id` before anything starts.
Imports gymnasium (and, for a class path, the user's module), never torch or Ray.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from omegaconf import DictConfig

from rlrun.config.rules import ABSENT, did_you_mean, get_key
from rlrun.errors import ConfigError


def check_env_id(cfg: DictConfig) -> None:
    """What the run reads on this machine exists: the env id names something that can be made
    (an importable class or a registered id), and an offline algorithm's recorded data is
    there. `validate` checks neither, so a config (an RLlib file) converts on any machine.

    Imports gymnasium (and, for a class path, the user's module) but never torch.
    """
    data = get_key(cfg, "offline_data.input_")
    if data not in (None, ABSENT):
        from rlrun.offline.loader import check_sources

        check_sources(data)
    env_id = get_key(cfg, "env.id")
    if not isinstance(env_id, str) or not env_id.strip():
        raise ConfigError(
            "env.id", env_id, "needs an environment.", allowed="a Gymnasium id or pkg.module:Class"
        )
    from rlrun.env.make_env import ensure_registered, is_class_path

    if is_class_path(env_id):
        _check_class_path(env_id)
    else:  # a Gymnasium id, perhaps "module:Id" or in a namespace a package registers
        _check_registered(ensure_registered(env_id))


def _check_class_path(env_id: str) -> None:
    module_name, _, attr = env_id.partition(":")
    if not module_name or not attr:
        raise ConfigError(
            "env.id", env_id, "a class path needs both parts.", allowed="pkg.module:Class"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigError("env.id", env_id, f"cannot import module '{module_name}': {e}.") from None
    except Exception as e:  # the user's module itself failed while importing
        raise ConfigError(
            "env.id", env_id, f"importing '{module_name}' failed: {type(e).__name__}: {e}"
        ) from None
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part, ABSENT)
        if obj is ABSENT:
            break
    if obj is ABSENT:
        # Gymnasium's own "module:EnvId" form: importing the module registers the id.
        import gymnasium

        if attr in gymnasium.registry:
            return
        classes = sorted(
            n for n, v in vars(module).items() if isinstance(v, type) and not n.startswith("_")
        )
        hint = did_you_mean(attr, classes)
        listing = f" Classes in {module_name}: {', '.join(classes[:12])}." if classes else ""
        raise ConfigError(
            "env.id", env_id, f"module '{module_name}' has no class '{attr}'{hint or '.'}{listing}"
        )
    # A class, or a factory function such as PettingZoo's `tictactoe_v3:env`.
    if not callable(obj):
        raise ConfigError(
            "env.id",
            env_id,
            f"'{attr}' is a {type(obj).__name__}, not a class or factory function.",
            allowed="pkg.module:Class naming a gymnasium.Env subclass, a multi-agent env "
            "class, or a function that returns an env (e.g. mpe2.simple_spread_v3:parallel_env)",
        )


def _check_registered(env_id: str) -> None:
    import gymnasium

    try:
        gymnasium.spec(env_id)
        return
    except (gymnasium.error.Error, ValueError) as e:
        said = str(e).strip().rstrip(".")
    ids = list(gymnasium.registry)
    close = difflib.get_close_matches(env_id, ids, n=3, cutoff=0.6)
    lowered = {i.lower(): i for i in ids}
    if env_id.lower() in lowered and lowered[env_id.lower()] not in close:
        close.insert(0, lowered[env_id.lower()])
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ConfigError(
        "env.id",
        env_id,
        f"not a registered Gymnasium environment (Gymnasium says: {said}).{hint} "
        "For your own class use env=pkg.module:Class; for an env that a package registers on import, "
        "use env=package:EnvId.",
    )
