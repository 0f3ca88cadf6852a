"""The training step that DQN and SAC share: sample a little, store it, replay a lot, sync.

Each round samples one fragment from every runner into the replay buffer, then, once
`learning_starts` env steps are in, takes `training_intensity` replayed transitions per sampled
step (in batches of `train_batch_size_per_learner`; fractions carry over to the next round), and
sends the new weights to the runners. Rounds repeat until `min_sample_timesteps_per_iteration`
env steps make one reported iteration.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from rlrun.algorithms.algorithm import Algorithm
from rlrun.core import tree
from rlrun.core.columns import DEFAULT_MODULE_ID
from rlrun.core.schedules import Schedule
from rlrun.replay.buffer import ReplayBuffer

REPLAY_FILE = "replay/buffer.npz"


class OffPolicyAlgorithm(Algorithm):
    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.envs_per_runner = int(self.config["env_runner"]["num_envs_per_env_runner"])
        # A stream per sub-env (single-agent) or per sub-env and agent (multi-agent).
        self.columns_per_runner = self.envs_per_runner * self.streams_per_env
        num_runners = max(1, int(self.config["env_runner"]["num_env_runners"]))
        self.replays: dict[str, ReplayBuffer] = self._make_replays(
            num_runners * self.columns_per_runner
        )
        self.beta = Schedule(self.algo_config.replay.beta)
        # Fractional batches owed by earlier rounds, per module.
        self._update_debt = dict.fromkeys(self.replays, 0.0)

    def _make_replays(self, num_columns: int) -> dict[str, ReplayBuffer]:
        """One buffer per module that learns (RLlib's multi-agent buffer keyed by module)."""
        return {mid: self._make_replay(mid, num_columns) for mid in self.trainable_module_ids}

    def _make_replay(
        self, module_id: str, num_columns: int, capacity: int | None = None
    ) -> ReplayBuffer:
        """The module's buffer: `replay.capacity` transitions unless `capacity` is given."""
        rcfg = self.algo_configs[module_id].replay
        spec = self.module_specs[module_id]
        act_space = spec.action_space
        return ReplayBuffer(
            capacity=int(rcfg.capacity if capacity is None else capacity),
            num_columns=num_columns,
            obs_space=spec.observation_space,
            action_shape=tuple(act_space.shape),
            action_dtype=np.int64 if not act_space.shape else np.float32,
            prioritized=bool(rcfg.prioritized),
            alpha=float(rcfg.alpha),
            eps=float(rcfg.eps),
            seed=self.seed,
        )

    @property
    def replay(self) -> ReplayBuffer:
        """The default module's buffer (single-agent runs have only this one)."""
        return self.replays.get(DEFAULT_MODULE_ID) or next(iter(self.replays.values()))

    def fragment_length(self) -> int:
        """ "auto": in the driver, enough steps per sub-env for about 4 gradient steps per round
        (updates interleave finely with sampling, and a round's fixed costs are shared); remote
        runners bring a whole iteration's steps per call, so Ray's round trip is paid once per
        iteration, not once per step."""
        frag = self.config["env_runner"]["rollout_fragment_length"]
        if frag != "auto":
            return int(frag)
        envs = self.env_runner_group.num_envs_total
        if int(self.config["env_runner"]["num_env_runners"]):
            return max(
                1, math.ceil(int(self.algo_config.min_sample_timesteps_per_iteration) / envs)
            )
        steps_per_update = self._batch_size() / float(self.algo_config.training_intensity)
        return max(1, round(4 * steps_per_update / envs))

    def _batch_size(self, module_id: str | None = None) -> int:
        learners = max(1, int(self.config["learner"]["num_learners"]))
        cfg = self.algo_configs[module_id] if module_id else self.algo_config
        return int(cfg.train_batch_size_per_learner) * learners

    def training_step(self) -> dict[str, Any]:
        target = int(self.algo_config.min_sample_timesteps_per_iteration)
        sampled = sampled_env_steps = 0
        rounds: dict[str, list[dict[str, float]]] = {}
        while sampled < target:
            with self.timer("env_runner_sampling_timer"):
                rollouts = self.sample_fragments(self.fragment_length())
                env_steps = sum(r.env_steps for r in rollouts)
                added = self._store(rollouts)
            # The iteration's size counts env steps, or agent steps (multi_agent.count_steps_by).
            sampled += self.count_steps(rollouts)
            sampled_env_steps += env_steps
            self.num_env_steps_sampled_lifetime += env_steps
            if self.num_env_steps_sampled_lifetime >= int(self.algo_config.learning_starts):
                with self.timer("learner_update_timer"):
                    m = self._replay_and_update(added)
                if m:  # weights changed: the runners act with them from the next round
                    for mid, metrics in m.items():
                        rounds.setdefault(mid, []).append(metrics)
                    self.sync_weights()
        return {
            "learners": {mid: _average_rounds(ms) for mid, ms in rounds.items()},
            "num_env_steps_sampled": sampled_env_steps,
            "replay": {
                "size": sum(len(b) for b in self.replays.values()),
                "capacity": sum(b.capacity for b in self.replays.values()),
            },
        }

    def _store(self, rollouts: list[Any]) -> dict[str, int]:
        """Add every learning module's fragments to its buffer; transitions added per module."""
        added = dict.fromkeys(self.replays, 0)
        for ro in rollouts:
            offset = max(0, ro.runner_index - 1) * self.columns_per_runner
            for part in ro.module_parts():
                buf = self.replays.get(part.module_id)
                if buf is not None:  # frozen modules keep no buffer
                    added[part.module_id] += buf.add(
                        part, column_offset=offset, fresh=ro.fresh, columns=part.columns
                    )
        return added

    def _replay_and_update(self, added: dict[str, int]) -> dict[str, dict[str, float]]:
        num_batches: dict[str, int] = {}
        for mid, buf in self.replays.items():
            cfg = self.algo_configs[mid]
            batch_size = self._batch_size(mid)
            self._update_debt[mid] += added[mid] * float(cfg.training_intensity) / batch_size
            k = int(self._update_debt[mid])
            if k == 0 or len(buf) == 0:
                continue
            self._update_debt[mid] -= k
            num_batches[mid] = k
        return self.replay_and_update(num_batches, self.num_env_steps_sampled_lifetime)

    def replay_and_update(
        self, num_batches: dict[str, int], steps_lifetime: int
    ) -> dict[str, dict[str, float]]:
        """`num_batches[module_id]` gradient steps on batches replayed from the module's buffer;
        `steps_lifetime` is what schedules (lr, beta) and target updates count."""
        beta = self.beta.value(steps_lifetime)
        batches: dict[str, list[dict[str, Any]]] = {}
        for mid, k in num_batches.items():
            cfg = self.algo_configs[mid]
            batch_size = self._batch_size(mid)
            buf = self.replays[mid]
            # One draw for all k batches: the buffer's per-call cost is most of a small batch's.
            drawn = buf.sample(k * batch_size, int(cfg.n_step), float(cfg.gamma), beta)
            batches[mid] = [
                {
                    key: tree.index(v, slice(i * batch_size, (i + 1) * batch_size))
                    for key, v in drawn.items()
                }
                for i in range(k)
            ]
        if not batches:
            return {}
        metrics, td_errors = self.learner_group.update_from_replay(batches, steps_lifetime)
        for mid, tds in td_errors.items():
            for batch, td in zip(batches[mid], tds, strict=True):
                if td is not None:
                    self.replays[mid].update_priorities(batch["indices"], td)
        return metrics

    def save_extra(self, folder: Path) -> None:
        if self.config["checkpoint"].get("include_replay_buffer"):
            for mid, buf in self.replays.items():
                file = folder / _replay_file(mid)
                file.parent.mkdir(parents=True, exist_ok=True)
                buf.save(file)

    def restore_extra(self, folder: Path) -> None:
        from rlrun.errors import CheckpointError

        for mid, buf in self.replays.items():
            file = folder / _replay_file(mid)
            if file.exists():
                try:
                    buf.load(file)
                except (ValueError, OSError, KeyError) as e:
                    raise CheckpointError(f"{file}: unreadable replay buffer ({e})") from None


def _replay_file(module_id: str) -> str:
    return REPLAY_FILE if module_id == DEFAULT_MODULE_ID else f"replay/{module_id}.npz"


def _average_rounds(metrics: list[dict[str, float]]) -> dict[str, float]:
    """Losses and rates averaged over an iteration's rounds; counts of trained samples add up."""
    return {
        k: float((np.sum if k.startswith("num_") else np.mean)([m[k] for m in metrics if k in m]))
        for k in metrics[-1]
    }
