"""Learners as Ray actors (rlrun.core.learner_group, rlrun.core.remote_learner).

The key property of data-parallel learning: 2 learners, each given half of a batch and averaging
their gradients with torch.distributed (gloo), end with the same weights as 1 learner given the
whole batch.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlrun.algorithms.ppo.config import PPOSchema
from rlrun.algorithms.ppo.learner import PPOLearner
from rlrun.core import columns as C
from rlrun.core.learner_group import LearnerGroup
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.rollout import Rollout

pytestmark = pytest.mark.usefixtures("ray_session")

T, N = 12, 4  # a rollout of 12 steps of 4 sub-envs; each learner of 2 gets 2 sub-envs

SPEC = RLModuleSpec(
    "rlrun.algorithms.ppo.module:PPOModule",
    gym.spaces.Box(-1.0, 1.0, (3,), np.float32),
    gym.spaces.Discrete(2),
    {"fcnet_hiddens": [16]},
)


def algo_cfg(minibatch_size: int) -> dict:
    cfg = dataclasses.asdict(PPOSchema())
    # Advantages normalized per minibatch would differ between a half and the whole.
    cfg.update(normalize_advantages=False, num_epochs=4, minibatch_size=minibatch_size, lr=1e-2)
    return cfg


def rollout(seed: int = 0) -> Rollout:
    rng = np.random.default_rng(seed)
    data = {
        C.OBS: rng.uniform(-1, 1, (T, N, 3)).astype(np.float32),
        C.ACTIONS: rng.integers(0, 2, (T, N)),
        C.REWARDS: rng.normal(size=(T, N)).astype(np.float32),
        C.TERMINATEDS: rng.random((T, N)) < 0.1,
        C.TRUNCATEDS: np.zeros((T, N), bool),
        C.VALID: np.ones((T, N), bool),
        C.ACTION_DIST_INPUTS: rng.normal(size=(T, N, 2)).astype(np.float32),
    }
    return Rollout(data, bootstrap_obs=rng.uniform(-1, 1, (N, 3)).astype(np.float32))


def learner_cfg(num_learners: int) -> dict:
    return {
        "num_learners": num_learners,
        "num_cpus_per_learner": 1,
        "num_gpus_per_learner": 0,
        "torch_num_threads": 1,
    }


def test_two_learners_on_halves_match_one_learner_on_the_whole():
    torch.manual_seed(0)
    one = PPOLearner(algo_cfg(minibatch_size=T * N), learner_cfg(0), SPEC)
    start = one.get_state()
    # Each learner's minibatch is its whole half: one step per epoch, as for the single learner.
    two = LearnerGroup(PPOLearner, algo_cfg(minibatch_size=T * N), learner_cfg(2), SPEC, seed=1)
    try:
        two.set_state(start)  # different seed: prove the state, not the seed, makes them equal
        ro = rollout()
        # Metrics come back by module id: a single-agent run has only the default one.
        m_one = one.update([ro], env_steps_lifetime=T * N)
        (m_two,) = two.update([ro], env_steps_lifetime=T * N).values()  # split by columns: 2 + 2
        w_one, w_two = one.get_weights(), two.get_weights()
        changed = any(not torch.equal(w_one[k], start["module"][k]) for k in w_one)
        assert changed, "the update must have moved the weights"
        for k in w_one:
            torch.testing.assert_close(w_two[k], w_one[k], rtol=1e-5, atol=1e-6)
        # Both learners hold the same weights, not just rank 0.
        import ray

        w_rank1 = ray.get(two.actors[1].get_weights.remote())
        for k in w_one:
            torch.testing.assert_close(w_rank1[k], w_two[k], rtol=0, atol=0)
        assert m_two["policy_loss"] == pytest.approx(m_one["policy_loss"], rel=1e-4, abs=1e-6)
        assert m_two["num_module_steps_trained"] == m_one["num_module_steps_trained"] / 2
    finally:
        two.stop()


def test_one_remote_learner_learns_like_a_local_one():
    torch.manual_seed(0)
    local = PPOLearner(algo_cfg(minibatch_size=T * N), learner_cfg(0), SPEC)
    remote = LearnerGroup(PPOLearner, algo_cfg(minibatch_size=T * N), learner_cfg(1), SPEC, seed=3)
    try:
        remote.set_state(local.get_state())
        local.update([rollout(1)], env_steps_lifetime=100)
        remote.update([rollout(1)], env_steps_lifetime=100)
        state = remote.get_state()
        assert state["extra"]["env_steps_lifetime"] == 100
        for k, v in local.get_weights().items():
            torch.testing.assert_close(state["module"][k], v, rtol=1e-5, atol=1e-6)
    finally:
        remote.stop()
