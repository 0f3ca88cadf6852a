"""PPO with vf_share_layers: the runner stores V(s) from its acting forward, and the learner
pipeline takes those values instead of a second encoder pass over the batch. Both routes must
give the same advantages; without vf_share_layers the runner stores none."""

from __future__ import annotations

import numpy as np
import torch

from rlrun.connectors.learner.pipeline import OnPolicyLearnerPipeline
from rlrun.core import columns as C
from rlrun.env.env_runner import EnvRunner
from tests.helpers.modules import tiny_ppo_spec

ENV = {"id": "CartPole-v1"}


def runner(shared: bool) -> EnvRunner:
    spec = tiny_ppo_spec(ENV, vf_share_layers=shared)
    return EnvRunner(ENV, {"num_envs_per_env_runner": 3}, spec, seed=0)


def test_shared_encoder_values_come_from_the_runner_and_match_the_learner_pass():
    r = runner(shared=True)
    ro = r.sample(40)  # CartPole episodes end inside 40 steps at random: autoreset rows too
    assert ro[C.VF_PREDS].shape == (40, 3)
    module = r.module
    with torch.no_grad():
        direct = module.compute_values({C.OBS: torch.from_numpy(ro[C.OBS].reshape(120, 4))})
    np.testing.assert_allclose(ro[C.VF_PREDS].reshape(-1), direct.numpy(), rtol=1e-5, atol=1e-6)

    pipe = OnPolicyLearnerPipeline(0.99, 0.95, max_seq_len=20)
    cpu = torch.device("cpu")
    from_runner = pipe(module, [ro], cpu)[C.DEFAULT_MODULE_ID]
    ro.data.pop(C.VF_PREDS)  # the same fragment, valued by the learner's own pass
    from_learner = pipe(module, [ro], cpu)[C.DEFAULT_MODULE_ID]
    for key in (C.VF_PREDS, C.ADVANTAGES, C.VALUE_TARGETS):
        torch.testing.assert_close(from_runner[key], from_learner[key], rtol=1e-5, atol=1e-5)


def test_separate_value_encoder_stores_no_values():
    assert C.VF_PREDS not in runner(shared=False).sample(5).data
