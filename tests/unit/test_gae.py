"""GAE (rlrun.connectors.learner.gae) against advantages worked out by hand.

All hand examples use gamma=0.9, lambda=0.8 (so gamma*lambda=0.72), T=3 rows, one column:
rewards r = [1, 2, 3], values V = [0.5, 1.0, 1.5], bootstrap value 2.0. The TD errors with no
episode end are
    d0 = 1 + 0.9*1.0 - 0.5 = 1.4
    d1 = 2 + 0.9*1.5 - 1.0 = 2.35
    d2 = 3 + 0.9*2.0 - 1.5 = 3.3
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlrun.connectors.learner.gae import compute_gae
from rlrun.connectors.learner.pipeline import OnPolicyLearnerPipeline
from rlrun.core import columns as C
from rlrun.core.distributions import Categorical
from rlrun.env.rollout import Rollout

GAMMA, LAMBDA = 0.9, 0.8
R = [1.0, 2.0, 3.0]
V = [0.5, 1.0, 1.5]
BOOT = 2.0


def col(xs, dtype=np.float64) -> np.ndarray:
    """A [T] list as a [T, 1] time-major column."""
    return np.asarray(xs, dtype).reshape(-1, 1)


def flags(*idx: int, T: int = 3) -> np.ndarray:
    out = np.zeros((T, 1), bool)
    out[list(idx), 0] = True
    return out


def gae(rewards, values, boot, term, trunc):
    return compute_gae(
        col(rewards), col(values), np.asarray([boot], np.float64), term, trunc, GAMMA, LAMBDA
    )


def test_no_episode_end():
    adv, targets = gae(R, V, BOOT, flags(), flags())
    # A2 = 3.3; A1 = 2.35 + 0.72*3.3 = 4.726; A0 = 1.4 + 0.72*4.726 = 4.80272
    np.testing.assert_allclose(adv[:, 0], [4.80272, 4.726, 3.3], rtol=1e-10)
    # Value targets are advantages plus the values.
    np.testing.assert_allclose(targets[:, 0], [5.30272, 5.726, 4.8], rtol=1e-10)
    assert adv.shape == targets.shape == (3, 1)


def test_termination_mid_fragment_cuts_bootstrap_and_recursion():
    adv, targets = gae(R, V, BOOT, flags(1), flags())
    # d1 = 2 + 0 - 1.0 = 1.0 (no value past a termination); A1 = d1 (recursion cut);
    # A0 = 1.4 + 0.72*1.0 = 2.12; A2 = d2 = 3.3 (its own episode).
    np.testing.assert_allclose(adv[:, 0], [2.12, 1.0, 3.3], rtol=1e-10)
    np.testing.assert_allclose(targets[:, 0], [2.62, 2.0, 4.8], rtol=1e-10)


def test_truncation_mid_fragment_bootstraps_from_next_row_and_cuts_recursion():
    # The row after a truncated step holds the episode's final observation: V = 1.5 here.
    adv, _ = gae(R, V, BOOT, flags(), flags(1))
    # d1 = 2 + 0.9*1.5 - 1.0 = 2.35, A1 = 2.35 (not 2.35 + 0.72*A2);
    # A0 = 1.4 + 0.72*2.35 = 3.092; A2 = 3.3.
    np.testing.assert_allclose(adv[:, 0], [3.092, 2.35, 3.3], rtol=1e-10)


def test_termination_on_last_row_ignores_bootstrap_value():
    adv, _ = gae(R, V, BOOT, flags(2), flags())
    # d2 = 3 - 1.5 = 1.5; A1 = 2.35 + 0.72*1.5 = 3.43; A0 = 1.4 + 0.72*3.43 = 3.8696
    np.testing.assert_allclose(adv[:, 0], [3.8696, 3.43, 1.5], rtol=1e-10)
    adv_big_boot, _ = gae(R, V, 100.0, flags(2), flags())
    np.testing.assert_allclose(adv_big_boot, adv, rtol=1e-12)


def test_truncation_on_last_row_uses_bootstrap_value():
    adv, _ = gae(R, V, BOOT, flags(), flags(2))
    # d2 = 3 + 0.9*2.0 - 1.5 = 3.3: the same as no episode end within the fragment.
    np.testing.assert_allclose(adv[:, 0], [4.80272, 4.726, 3.3], rtol=1e-10)
    adv_other_boot, _ = gae(R, V, 0.0, flags(), flags(2))
    # d2 = 3 - 1.5 = 1.5 -> A2 moves by -1.8 and the earlier ones by 0.72^k * -1.8.
    np.testing.assert_allclose(
        adv_other_boot[:, 0] - adv[:, 0], [-1.8 * 0.72**2, -1.8 * 0.72, -1.8], rtol=1e-10
    )


@pytest.mark.parametrize("end", ["terminated", "truncated"])
def test_autoreset_row_does_not_leak_into_previous_episode(end: str):
    # T=4: the episode ends on row 1, row 2 is the autoreset step (obs = the final obs, reward 0,
    # no done flag), row 3 starts the next episode.
    T = 4
    term = flags(1, T=T) if end == "terminated" else flags(T=T)
    trunc = flags(1, T=T) if end == "truncated" else flags(T=T)
    rewards = [1.0, 2.0, 0.0, 5.0]
    values = [0.5, 1.0, 7.0, -3.0]  # V(row 2) = V(final observation) = 7.0
    adv, _ = gae(rewards, values, 4.0, term, trunc)
    # terminated: A1 = 2 - 1.0 = 1.0;          A0 = 1.4 + 0.72*1.0 = 2.12
    # truncated:  A1 = 2 + 0.9*7.0 - 1.0 = 7.3; A0 = 1.4 + 0.72*7.3 = 6.656
    expected = [2.12, 1.0] if end == "terminated" else [6.656, 7.3]
    np.testing.assert_allclose(adv[:2, 0], expected, rtol=1e-10)

    # Whatever happens on the autoreset row's reward and on the next episode is invisible to the
    # finished episode (only the final observation's value may matter, and only on truncation).
    adv2, _ = gae([1.0, 2.0, 123.0, -50.0], [0.5, 1.0, 7.0, 9.0], -8.0, term, trunc)
    np.testing.assert_allclose(adv2[:2], adv[:2], rtol=1e-12)


def test_columns_are_independent():
    # Column 0: no episode end; column 1: terminated on row 1, other rewards and values.
    rewards = np.array([[1.0, 0.5], [2.0, -1.0], [3.0, 2.0]])
    values = np.array([[0.5, 0.0], [1.0, 0.25], [1.5, -0.5]])
    boot = np.array([2.0, 3.0])
    term = np.array([[False, False], [False, True], [False, False]])
    trunc = np.zeros((3, 2), bool)
    adv, targets = compute_gae(rewards, values, boot, term, trunc, GAMMA, LAMBDA)
    np.testing.assert_allclose(adv[:, 0], [4.80272, 4.726, 3.3], rtol=1e-10)
    # Column 1: d0 = 0.5 + 0.9*0.25 - 0 = 0.725; d1 = -1 - 0.25 = -1.25;
    # d2 = 2 + 0.9*3.0 + 0.5 = 5.2; A = [0.725 + 0.72*-1.25, -1.25, 5.2] = [-0.175, -1.25, 5.2]
    np.testing.assert_allclose(adv[:, 1], [-0.175, -1.25, 5.2], rtol=1e-10)
    np.testing.assert_allclose(targets, adv + values, rtol=1e-12)
    for n in range(2):
        single, _ = compute_gae(
            rewards[:, n : n + 1], values[:, n : n + 1], boot[n : n + 1],
            term[:, n : n + 1], trunc[:, n : n + 1], GAMMA, LAMBDA,
        )  # fmt: skip
        np.testing.assert_allclose(single[:, 0], adv[:, n], rtol=1e-12)


def test_float32_inputs_as_the_env_runner_writes_them():
    adv, _ = compute_gae(
        col(R, np.float32), col(V, np.float32), np.asarray([BOOT], np.float32),
        flags(), flags(), GAMMA, LAMBDA,
    )  # fmt: skip
    np.testing.assert_allclose(adv[:, 0], [4.80272, 4.726, 3.3], rtol=1e-5)


# --- the learner connector ----------------------------------------------------------------


class ObsIsValueModule:
    """Duck-typed module for the connector: V(obs) = obs[0], Categorical actions."""

    action_dist_cls = Categorical
    is_stateful = False

    def compute_values(self, batch):
        return batch[C.OBS][..., 0].double()


class StateIsValueModule(ObsIsValueModule):
    """A recurrent stand-in: V = state h at the sequence start + the step's index in the
    sequence, so values show where each sequence starts and from which state."""

    is_stateful = True

    def compute_values(self, batch):
        obs = batch[C.OBS]  # [B, L, 1]
        steps = torch.arange(obs.shape[1], dtype=torch.float64)
        return batch[C.STATE_IN]["h"][:, None].double() + steps[None, :]


def hand_built_rollout() -> Rollout:
    # T=3, N=2. Sub-env 0 terminates on row 0, so row 1 is its autoreset row (invalid, its obs is
    # the final observation), row 2 starts a new episode. Sub-env 1 runs through.
    obs = np.array([[[0.5], [0.1]], [[9.0], [0.2]], [[1.0], [0.3]]], np.float32)  # [T, N, 1]
    data = {
        C.OBS: obs,
        C.ACTIONS: np.array([[1, 0], [0, 1], [1, 1]], np.int64),
        C.REWARDS: np.array([[1.0, 1.0], [0.0, 1.0], [2.0, 1.0]], np.float32),
        C.TERMINATEDS: np.array([[True, False], [False, False], [False, False]]),
        C.TRUNCATEDS: np.zeros((3, 2), bool),
        C.MASK: np.array([[True, True], [False, True], [True, True]]),
        C.ACTION_DIST_INPUTS: np.array(
            [
                [[0.0, 1.0], [2.0, -1.0]],
                [[5.0, 5.0], [0.3, 0.1]],
                [[-1.0, 0.5], [1.0, 1.0]],
            ],
            np.float32,
        ),
    }
    return Rollout(data, bootstrap_obs=np.array([[2.0], [0.4]], np.float32))


def pipeline(max_seq_len: int = 20) -> OnPolicyLearnerPipeline:
    return OnPolicyLearnerPipeline(GAMMA, LAMBDA, max_seq_len)


def test_pipeline_masks_autoreset_rows_and_computes_logp():
    ro = hand_built_rollout()
    batch = pipeline()(ObsIsValueModule(), [ro], torch.device("cpu"))[C.DEFAULT_MODULE_ID]

    # Rows in time-major, env-minor order; the autoreset row (t=1, n=0) stays, masked out.
    assert batch[C.MASK].tolist() == [True, True, False, True, True, True]
    assert set(batch) >= {
        C.OBS, C.ACTIONS, C.ACTION_DIST_INPUTS, C.ACTION_LOGP, C.VF_PREDS, C.ADVANTAGES,
        C.VALUE_TARGETS, C.MASK,
    }  # fmt: skip
    for k, v in batch.items():
        assert v.shape[0] == 6, k
    kept = batch[C.MASK]
    np.testing.assert_allclose(batch[C.OBS][kept, 0].numpy(), [0.5, 0.1, 0.2, 1.0, 0.3])
    assert batch[C.ACTIONS][kept].tolist() == [1, 0, 1, 1, 1]
    np.testing.assert_allclose(
        batch[C.VF_PREDS][kept].numpy(), [0.5, 0.1, 0.2, 1.0, 0.3], rtol=1e-6
    )

    # Advantages: sub-env 0 row 0 terminated -> A = 1 - 0.5 = 0.5; row 2: 2 + 0.9*2.0 - 1.0 = 2.8.
    # Sub-env 1 (no end, V = 0.1, 0.2, 0.3, bootstrap 0.4, reward 1 each):
    #   d = [1 + 0.18 - 0.1, 1 + 0.27 - 0.2, 1 + 0.36 - 0.3] = [1.08, 1.07, 1.06]
    #   A2 = 1.06; A1 = 1.07 + 0.72*1.06 = 1.8332; A0 = 1.08 + 0.72*1.8332 = 2.399904
    np.testing.assert_allclose(
        batch[C.ADVANTAGES][kept].numpy(), [0.5, 2.399904, 1.8332, 2.8, 1.06], rtol=1e-5
    )
    np.testing.assert_allclose(
        batch[C.VALUE_TARGETS].numpy(),
        batch[C.ADVANTAGES].numpy() + batch[C.VF_PREDS].numpy(),
        rtol=1e-6,
    )

    # action_logp is the sampling distribution's log-prob of the taken action.
    logits = batch[C.ACTION_DIST_INPUTS]
    ref = torch.distributions.Categorical(logits=logits).log_prob(batch[C.ACTIONS])
    torch.testing.assert_close(batch[C.ACTION_LOGP], ref)
    torch.testing.assert_close(batch[C.ACTION_LOGP], Categorical(logits).logp(batch[C.ACTIONS]))


def test_pipeline_concatenates_rollouts():
    ro = hand_built_rollout()
    conn = pipeline()
    one = conn(ObsIsValueModule(), [ro], torch.device("cpu"))[C.DEFAULT_MODULE_ID]
    two = conn(ObsIsValueModule(), [ro, ro], torch.device("cpu"))[C.DEFAULT_MODULE_ID]
    assert two[C.OBS].shape[0] == 2 * one[C.OBS].shape[0]
    torch.testing.assert_close(two[C.ADVANTAGES], torch.cat([one[C.ADVANTAGES]] * 2))


def test_pipeline_runs_user_pieces_before_advantages():
    def double_rewards(module_id, data):
        assert module_id == C.DEFAULT_MODULE_ID
        return {**data, C.REWARDS: data[C.REWARDS] * 2.0}

    ro = hand_built_rollout()
    conn = OnPolicyLearnerPipeline(GAMMA, LAMBDA, 20, [double_rewards])
    batch = conn(ObsIsValueModule(), [ro], torch.device("cpu"))[C.DEFAULT_MODULE_ID]
    # Sub-env 0, row 0 terminated: A = 2 * 1 - 0.5.
    assert batch[C.ADVANTAGES][0].item() == pytest.approx(1.5)


def test_recurrent_pipeline_cuts_sequences_with_their_start_state():
    ro = hand_built_rollout()
    # The state the runner used at each row; sub-env 0 restarts at row 2 (zero state).
    ro.data[C.STATE_IN] = {"h": np.array([[10.0, 20.0], [11.0, 21.0], [0.0, 22.0]], np.float32)}
    ro.bootstrap_state = {"h": np.array([1.0, 23.0], np.float32)}
    batch = pipeline(max_seq_len=2)(StateIsValueModule(), [ro], torch.device("cpu"))
    b = batch[C.DEFAULT_MODULE_ID]
    # Sequences: sub-env 0 rows [0, 1] (the episode and its autoreset row), [2]; sub-env 1
    # rows [0, 1], [2].
    assert b[C.STATE_IN]["h"].tolist() == [10.0, 0.0, 20.0, 22.0]
    assert b[C.MASK].tolist() == [[True, False], [True, False], [True, True], [True, False]]
    assert b[C.OBS].shape == (4, 2, 1)
    # Values: start state + position. Sub-env 0: V = [10, 11 (autoreset row), 0], bootstrap
    # V = 1 (the runner's last state, position 0). Row 0 terminated: A = 1 - 10 = -9;
    # row 2: 2 + 0.9 * 1 - 0 = 2.9.
    assert b[C.VF_PREDS][0].tolist() == [10.0, 11.0]
    assert b[C.ADVANTAGES][0, 0].item() == pytest.approx(-9.0)
    assert b[C.ADVANTAGES][1, 0].item() == pytest.approx(2.9)
    # Padding is zero everywhere.
    assert b[C.ADVANTAGES][1, 1].item() == 0.0 and b[C.OBS][1, 1, 0].item() == 0.0
