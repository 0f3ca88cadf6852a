"""A recurrent module in the EnvRunner: one state per sub-env, reset where an episode starts,
stored per row so the learner can start each sequence from it; and the learner pipeline on it."""

from __future__ import annotations

import numpy as np
import torch

from rlrun.connectors.learner.pipeline import OnPolicyLearnerPipeline
from rlrun.core import columns as C
from rlrun.core.rl_module import RLModuleSpec
from rlrun.env.env_runner import EnvRunner
from rlrun.env.make_env import make_single_env

FIXED = "tests.helpers.envs:FixedLengthEnv"


def counter_runner(length: int = 3, num_envs: int = 2) -> EnvRunner:
    env_cfg = {"id": FIXED, "env_config": {"length": length}}
    probe = make_single_env(env_cfg)
    spec = RLModuleSpec(
        "tests.helpers.modules:StepCounterModule", probe.observation_space, probe.action_space
    )
    probe.close()
    return EnvRunner(env_cfg, {"num_envs_per_env_runner": num_envs}, spec, seed=0)


def test_state_resets_at_episode_starts_and_is_stored_per_row():
    runner = counter_runner(length=3)
    for _ in range(3):  # across fragment boundaries too
        ro = runner.sample(5)
        state = ro[C.STATE_IN]["count"]
        assert state.shape == (5, 2)
        # Steps taken in the episode (obs[0]) == steps the state has counted since its reset.
        np.testing.assert_array_equal(state, ro[C.OBS][..., 0])
        assert ro.bootstrap_state["count"].shape == (2,)
        np.testing.assert_array_equal(ro.bootstrap_state["count"], ro.bootstrap_obs[:, 0])


def test_sequences_start_from_the_stored_state():
    runner = counter_runner(length=4)
    ro = runner.sample(10)
    module = runner.module
    batch = OnPolicyLearnerPipeline(0.99, 0.95, max_seq_len=3)(module, [ro], torch.device("cpu"))[
        C.DEFAULT_MODULE_ID
    ]
    # The stand-in values each row by the state it reaches there minus one, i.e. by the
    # observation's step count: equal on every real row if sequences start from the right state.
    mask = batch[C.MASK]
    obs0 = batch[C.OBS][..., 0]
    torch.testing.assert_close(batch[C.VF_PREDS][mask], obs0[mask].float())
    assert batch[C.STATE_IN]["count"].shape == (batch[C.OBS].shape[0],)
    assert (batch[C.OBS].shape[1]) == 3


def test_sample_episodes_and_single_actions_with_state():
    runner = counter_runner(length=3)
    rets, lens = runner.sample_episodes(4)
    assert lens == [3, 3, 3, 3]
