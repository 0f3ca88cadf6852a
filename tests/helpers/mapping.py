"""Policy mapping functions for multi-agent tests (RLlib's signature)."""

from __future__ import annotations

from typing import Any


def by_index(agent_id: Any, episode: Any, **kwargs: Any) -> str:
    """Agent 0 -> p0, agent 1 -> p1, ... (MultiAgentCartPole's int ids)."""
    return f"p{agent_id}"


def shared(agent_id: Any, episode: Any, **kwargs: Any) -> str:
    """Every agent -> "shared"."""
    return "shared"


def a_alone(agent_id: Any, episode: Any, **kwargs: Any) -> str:
    """JoinLeaveEnv: agent "a" -> p0, the others ("b", "c") -> p1."""
    return "p0" if agent_id == "a" else "p1"


def unknown_id(agent_id: Any, episode: Any, **kwargs: Any) -> str:
    """Returns a module id no config names."""
    return "ghost"


def raises(agent_id: Any, episode: Any, **kwargs: Any) -> str:
    raise KeyError(f"no rule for {agent_id!r}")


def swap_each_episode(agent_id: Any, episode: Any, **kwargs: Any) -> str:
    """TurnBasedGuess self-play: p0 -> A and p1 -> B in even episodes, swapped in odd ones
    (by the counter that ends the episode's id)."""
    k = int(str(episode.id_).rsplit("-", 1)[-1])
    return "A" if (agent_id == "p0") == (k % 2 == 0) else "B"
