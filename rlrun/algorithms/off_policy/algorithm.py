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
        rcfg = self.algo_config["replay"]
        spec = self.module_spec
        act_space = spec.action_space
        self.envs_per_runner = int(self.config["env_runner"]["num_envs_per_env_runner"])
        num_runners = max(1, int(self.config["env_runner"]["num_env_runners"]))
        self.replay = ReplayBuffer(
            capacity=int(rcfg["capacity"]),
            num_columns=num_runners * self.envs_per_runner,
            obs_space=spec.observation_space,
            action_shape=tuple(act_space.shape),
            action_dtype=np.int64 if not act_space.shape else np.float32,
            prioritized=bool(rcfg["prioritized"]),
            alpha=float(rcfg["alpha"]),
            eps=float(rcfg["eps"]),
            seed=self.seed,
        )
        self.beta = Schedule(rcfg["beta"])
        self._update_debt = 0.0  # fractional batches owed by earlier rounds

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
                1, math.ceil(int(self.algo_config["min_sample_timesteps_per_iteration"]) / envs)
            )
        steps_per_update = self._batch_size() / float(self.algo_config["training_intensity"])
        return max(1, round(4 * steps_per_update / envs))

    def _batch_size(self) -> int:
        learners = max(1, int(self.config["learner"]["num_learners"]))
        return int(self.algo_config["train_batch_size_per_learner"]) * learners

    def training_step(self) -> dict[str, Any]:
        cfg = self.algo_config
        target = int(cfg["min_sample_timesteps_per_iteration"])
        sampled, metrics = 0, [{}]
        while sampled < target:
            with self.timer("env_runner_sampling_timer"):
                rollouts = self.sample_fragments(self.fragment_length())
                steps = sum(r.env_steps for r in rollouts)
                for ro in rollouts:
                    offset = max(0, ro.runner_index - 1) * self.envs_per_runner
                    self.replay.add(ro, column_offset=offset, fresh=ro.fresh)
            sampled += steps
            self.num_env_steps_sampled_lifetime += steps
            if self.num_env_steps_sampled_lifetime >= int(cfg["learning_starts"]):
                with self.timer("learner_update_timer"):
                    m = self._replay_and_update(steps)
                if m:  # weights changed: the runners act with them from the next round
                    metrics.append(m)
                    self.sync_weights()
        # Losses and rates are averaged over the rounds; counts of trained samples add up.
        learner = {
            k: float(
                (np.sum if k.startswith("num_") else np.mean)([m[k] for m in metrics if k in m])
            )
            for k in metrics[-1]
        }
        return {
            "learners": {DEFAULT_MODULE_ID: learner} if learner else {},
            "num_env_steps_sampled": sampled,
            "replay": {"size": len(self.replay), "capacity": self.replay.capacity},
        }

    def _replay_and_update(self, sampled: int) -> dict[str, float]:
        cfg = self.algo_config
        batch_size = self._batch_size()
        self._update_debt += sampled * float(cfg["training_intensity"]) / batch_size
        k = int(self._update_debt)
        if k == 0:
            return {}
        self._update_debt -= k
        beta = self.beta.value(self.num_env_steps_sampled_lifetime)
        n_step, gamma = int(cfg["n_step"]), float(cfg["gamma"])
        # One draw for all k batches: the buffer's per-call cost is most of a small batch's.
        drawn = self.replay.sample(k * batch_size, n_step, gamma, beta)
        batches = [
            {
                key: tree.index(v, slice(i * batch_size, (i + 1) * batch_size))
                for key, v in drawn.items()
            }
            for i in range(k)
        ]
        metrics, td_errors = self.learner_group.update_from_replay(
            batches, self.num_env_steps_sampled_lifetime
        )
        for batch, td in zip(batches, td_errors, strict=True):
            if td is not None:
                self.replay.update_priorities(batch["indices"], td)
        return metrics

    def save_extra(self, folder: Path) -> None:
        if self.config["checkpoint"].get("include_replay_buffer"):
            file = folder / REPLAY_FILE
            file.parent.mkdir(parents=True, exist_ok=True)
            self.replay.save(file)

    def restore_extra(self, folder: Path) -> None:
        file = folder / REPLAY_FILE
        if file.exists():
            from rlrun.errors import CheckpointError

            try:
                self.replay.load(file)
            except (ValueError, OSError, KeyError) as e:
                raise CheckpointError(f"{file}: unreadable replay buffer ({e})") from None
