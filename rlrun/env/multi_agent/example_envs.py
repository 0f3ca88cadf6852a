"""Small multi-agent envs in RLlib's MultiAgentEnv protocol (plain classes, no Ray needed).

* `MultiAgentCartPole`: RLlib's classic example, n independent CartPole-v1 poles.
* `TurnBasedGuess`: a deterministic two-player turn-based game whose rewards go to the player
  that did not move, for runner tests.
* `JoinLeaveEnv`: deterministic agents that join and leave mid-episode, for runner tests.

They speak the protocol that `rlrun.env.multi_agent.adapter` documents: `possible_agents`,
`observation_spaces`/`action_spaces` dicts, `reset(seed=, options=) -> (obs, infos)` and
`step(actions) -> (obs, rewards, terminateds, truncateds, infos)` with "__all__" flags.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

ALL = "__all__"
MultiAgentDict = dict[Any, Any]
StepResult = tuple[MultiAgentDict, MultiAgentDict, MultiAgentDict, MultiAgentDict, MultiAgentDict]


def _check_actors(actions: MultiAgentDict, expected: set[Any]) -> None:
    # A runner bug (acting for a done or absent agent) should fail loudly in tests.
    if set(actions) != expected:
        raise ValueError(f"expected actions for {sorted(expected, key=repr)}, got {list(actions)}")


class MultiAgentCartPole:
    """`num_agents` independent CartPole-v1 poles, agents 0..n-1 (ints, as RLlib's example).

    Each pole is its own episode of CartPole-v1 with its 500-step limit: an agent whose pole falls
    is terminated, one that reaches 500 steps is truncated, and either leaves; the episode ends
    ("__all__") when every agent is done. Solved at about 450 mean return per agent (so a summed
    return of about 450 * num_agents); `reward_threshold` is None because the sum depends on n.
    `config` (RLlib's convention) may hold "num_agents".
    """

    reward_threshold: ClassVar[float | None] = None
    max_steps: ClassVar[int] = 500

    def __init__(self, config: dict[str, Any] | None = None, num_agents: int = 2) -> None:
        n = int((config or {}).get("num_agents", num_agents))
        self._poles = [CartPoleEnv() for _ in range(n)]
        self.possible_agents: list[int] = list(range(n))
        self.agents: list[int] = []
        self.observation_spaces = {i: p.observation_space for i, p in enumerate(self._poles)}
        self.action_spaces = {i: p.action_space for i, p in enumerate(self._poles)}
        self._steps = [0] * n

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[MultiAgentDict, MultiAgentDict]:
        obs, infos = {}, {}
        for i, pole in enumerate(self._poles):
            # Pole 0 takes the seed itself (one agent is then exactly CartPole-v1), the others
            # one drawn from (seed, i): `seed + i` would give pole 1 of the env seeded s the
            # start of pole 0 of the env seeded s+1 (runners seed their envs s, s+1, ...).
            pole_seed = seed
            if seed is not None and i > 0:
                pole_seed = int(np.random.SeedSequence([seed, i]).generate_state(1)[0])
            obs[i], infos[i] = pole.reset(seed=pole_seed)
        self.agents = list(self.possible_agents)
        self._steps = [0] * len(self._poles)
        return obs, infos

    def step(self, actions: MultiAgentDict) -> StepResult:
        _check_actors(actions, set(self.agents))
        obs, rewards, terms, truncs, infos = {}, {}, {}, {}, {}
        for i, action in actions.items():
            obs[i], rewards[i], terms[i], _, infos[i] = self._poles[i].step(action)
            self._steps[i] += 1
            truncs[i] = not terms[i] and self._steps[i] >= self.max_steps
            if terms[i] or truncs[i]:
                self.agents.remove(i)
        over = not self.agents
        terms[ALL] = over and any(t for k, t in terms.items() if k != ALL)
        truncs[ALL] = over and not terms[ALL]
        return obs, rewards, terms, truncs, infos

    def close(self) -> None:
        for pole in self._poles:
            pole.close()


class TurnBasedGuess:
    """Two players, "p0" and "p1", alternate moves (p0 first); only the player to move is in obs.

    Actions: Discrete(3). Observation: Box(0, 1, (5,), float32) = one-hot of whose turn it is
    (2) + one-hot of the last move (3; zeros before the first move). After each move the OTHER
    player, who did not act, receives reward 1.0 if the move was 0, else 0.0 (reported either
    way). The episode lasts exactly 6 moves (3 each); the 6th step returns both players
    terminated, each with a final observation. Deterministic: the seed is ignored.
    """

    reward_threshold: ClassVar[float] = 3.0  # each player's most: the other plays 0 three times
    num_moves: ClassVar[int] = 6

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.possible_agents = ["p0", "p1"]
        space = gym.spaces.Box(0.0, 1.0, (5,), np.float32)
        self.observation_spaces = dict.fromkeys(self.possible_agents, space)
        self.action_spaces = {aid: gym.spaces.Discrete(3) for aid in self.possible_agents}
        self._moves = 0
        self._last_move: int | None = None

    def _observe(self, agent: str) -> np.ndarray:
        obs = np.zeros(5, np.float32)
        obs[self._moves % 2] = 1.0  # whose turn
        if self._last_move is not None:
            obs[2 + self._last_move] = 1.0
        return obs

    def _to_move(self) -> str:
        return self.possible_agents[self._moves % 2]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[MultiAgentDict, MultiAgentDict]:
        self._moves, self._last_move = 0, None
        return {"p0": self._observe("p0")}, {"p0": {}}

    def step(self, actions: MultiAgentDict) -> StepResult:
        mover = self._to_move()
        _check_actors(actions, {mover})
        other = "p1" if mover == "p0" else "p0"
        self._last_move = int(actions[mover])
        self._moves += 1
        rewards = {other: 1.0 if self._last_move == 0 else 0.0}
        if self._moves < self.num_moves:
            nxt = self._to_move()
            return {nxt: self._observe(nxt)}, rewards, {ALL: False}, {ALL: False}, {nxt: {}}
        obs = {aid: self._observe(aid) for aid in self.possible_agents}
        terms: MultiAgentDict = dict.fromkeys(self.possible_agents, True)
        terms[ALL] = True
        infos: MultiAgentDict = {aid: {} for aid in self.possible_agents}
        return obs, rewards, terms, {ALL: False}, infos


class JoinLeaveEnv:
    """Agents that come and go: "a" acts from the start; "b" gets its first observation from step
    2 (so it first acts in step 3); "c" gets its first from step 3 (acts in steps 4 and 5) and is
    terminated by step 5 while the others go on; step 8 truncates everyone left ("a" and "b",
    "__all__"). Every agent gets reward 1.0 for each step it acts in, so the returns are a: 8,
    b: 6, c: 2. Observation Box(0, 8, (2,)) = [step, agent index]; actions Discrete(2).
    Deterministic: the seed is ignored.
    """

    join_step: ClassVar[dict[str, int]] = {"a": 0, "b": 2, "c": 3}
    leave_step: ClassVar[int] = 5  # "c" is terminated by this step
    episode_len: ClassVar[int] = 8

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.possible_agents = ["a", "b", "c"]
        space = gym.spaces.Box(0.0, float(self.episode_len), (2,), np.float32)
        self.observation_spaces = dict.fromkeys(self.possible_agents, space)
        self.action_spaces = {aid: gym.spaces.Discrete(2) for aid in self.possible_agents}
        self.agents: list[str] = []
        self._t = 0

    def _observe(self, agent: str) -> np.ndarray:
        return np.array([self._t, self.possible_agents.index(agent)], np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[MultiAgentDict, MultiAgentDict]:
        self._t = 0
        self.agents = ["a"]
        return {"a": self._observe("a")}, {"a": {}}

    def step(self, actions: MultiAgentDict) -> StepResult:
        _check_actors(actions, set(self.agents))
        self._t += 1
        rewards = dict.fromkeys(actions, 1.0)
        terms: MultiAgentDict = {ALL: False}
        truncs: MultiAgentDict = {ALL: False}
        if self._t == self.leave_step:
            terms["c"] = True
            self.agents.remove("c")
        # Agents leaving on this step still get their final observation.
        obs_agents = list(self.agents) + (["c"] if "c" in terms else [])
        if self._t >= self.episode_len:
            truncs.update(dict.fromkeys(self.agents, True))
            truncs[ALL] = True
            self.agents = []
        else:
            self.agents += [aid for aid, t in self.join_step.items() if t == self._t]
            obs_agents += [aid for aid in self.agents if aid not in obs_agents]
        obs = {aid: self._observe(aid) for aid in obs_agents}
        return obs, rewards, terms, truncs, {aid: {} for aid in obs}
