"""Policy mapping functions: loading the one `multi_agent.policy_mapping_fn` names (or RLlib's
default), and ready-made ones for two-player games and one module per agent.

RLlib's signature, `fn(agent_id, episode, **kwargs) -> module id`. Which side `main` plays is
decided per episode from a checksum of `episode.id_` (stable across processes, unlike hash()),
so it plays first in about half of the games; the other side gets the opponent module.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

# Per episode: the agents seen so far, in order (the first to appear is side 0).
_SEEN: OrderedDict[str, list[Any]] = OrderedDict()
_KEEP = 4096  # episodes remembered; mapping is asked once per agent per episode


def _side(agent_id: Any, episode: Any) -> int:
    agents = _SEEN.setdefault(episode.id_, [])
    _SEEN.move_to_end(episode.id_)
    while len(_SEEN) > _KEEP:
        _SEEN.popitem(last=False)
    if agent_id not in agents:
        agents.append(agent_id)
    return agents.index(agent_id) % 2


def _main_side(episode: Any) -> int:
    return zlib.crc32(str(episode.id_).encode()) % 2


def main_vs_opponent(agent_id: Any, episode: Any, **kwargs: Any) -> str:
    """Self-play: `main` on one side, `main_opponent` (its frozen snapshot) on the other."""
    return "main" if _side(agent_id, episode) == _main_side(episode) else "main_opponent"


def main_vs_random(agent_id: Any, episode: Any, **kwargs: Any) -> str:
    """Evaluation: `main` against `random` (rlrun.models.random_module:RandomModule)."""
    return "main" if _side(agent_id, episode) == _main_side(episode) else "random"


def by_agent_index(agent_id: Any, episode: Any, **kwargs: Any) -> str:
    """Agent i -> module "p{i}" (one module per agent of MultiAgentCartPole, ids 0..n-1)."""
    return f"p{agent_id}"


def load_mapping(
    path: str | None, module_ids: list[str], key: str = "multi_agent.policy_mapping_fn"
) -> Callable[..., str]:
    """The user's mapping function, or RLlib's default: every agent to the one module."""
    if path:
        from rlrun.callbacks.hooks import load_attr_path

        fn = load_attr_path(key, path, "pkg.module:function, fn(agent_id, episode, **kwargs)")
        if not callable(fn):
            from rlrun.errors import ConfigError

            raise ConfigError(key, path, f"is a {type(fn).__name__}, not a function")
        return fn
    only = module_ids[0]
    return lambda agent_id, episode, **kwargs: only
