"""Multi-agent learning: per-module learners, frozen modules, per-module settings, checkpoints
(round trip, one module from another run) and the off-policy algorithms' per-module buffers.

Every run is a few tiny iterations on MultiAgentCartPole (agents 0 and 1; by_index maps agent i
to module "p{i}").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from rlrun.algorithms.algorithm import Algorithm
from rlrun.algorithms.ppo.learner import PPOLearner
from rlrun.algorithms.registry import algorithm_class
from rlrun.config.schema import LearnerConfig
from rlrun.config.sections import complete
from rlrun.core import columns as C
from rlrun.core.multi_agent_learner import MultiAgentLearner
from rlrun.env.multi_agent.env_runner import MultiAgentEnvRunner
from rlrun.errors import ConfigError
from rlrun.results.checkpoint import load_module

EXAMPLES = "rlrun.env.multi_agent.example_envs"
CARTPOLE = f"{EXAMPLES}:MultiAgentCartPole"
BY_INDEX = "tests.helpers.mapping:by_index"
TINY_PPO = {"train_batch_size_per_learner": 200, "minibatch_size": 100, "num_epochs": 1}
TINY_OFF_POLICY = {
    "min_sample_timesteps_per_iteration": 100,
    "learning_starts": 50,
    "train_batch_size_per_learner": 32,
}


def config(
    algo: str = "PPO",
    num_agents: int = 2,
    env_id: str = CARTPOLE,
    algo_extra: dict[str, Any] | None = None,
    **multi_agent: Any,
) -> dict[str, Any]:
    tiny = TINY_PPO if algo == "PPO" else TINY_OFF_POLICY
    env: dict[str, Any] = {"id": env_id}
    if env_id == CARTPOLE:
        env["env_config"] = {"num_agents": num_agents}
    return {
        "algo": {"name": algo, **tiny, **(algo_extra or {})},
        "env": env,
        "env_runner": {"num_envs_per_env_runner": 2},
        "multi_agent": multi_agent,
        "seed": 0,
    }


def two_modules(**extra: Any) -> dict[str, Any]:
    return {"policies": ["p0", "p1"], "policy_mapping_fn": BY_INDEX, **extra}


def build(cfg: dict[str, Any]) -> Algorithm:
    return algorithm_class(cfg["algo"]["name"])(cfg)


def weights(algo: Algorithm, module_id: str) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in algo.get_module(module_id).state_dict().items()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def num_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- the multi-agent path computes what the single-agent path does ----------------------------


def test_one_agent_rollout_and_update_equal_the_single_agent_ones():
    """MultiAgentCartPole(num_agents=1) under one module is CartPole-v1: with the same weights
    and seeds, the runner's module part equals the single-agent Rollout (no episode ends in 8
    steps), and one PPO update on either gives the same metrics and weights."""
    one_env = {"num_envs_per_env_runner": 1}  # CartPole-v1's native vector env draws otherwise
    ma = build({**config(num_agents=1), "env_runner": one_env})
    sa = build({**config(), "env": {"id": "CartPole-v1"}, "multi_agent": {}, "env_runner": one_env})
    try:
        assert ma.is_multi_agent and not sa.is_multi_agent
        ma.learner_group.set_module_weights("default_policy", sa.learner_group.get_weights())
        ma.sync_weights()
        torch.manual_seed(1)
        ma_ro = ma.env_runner_group.local_runner.sample(8)
        torch.manual_seed(1)
        sa_ro = sa.env_runner_group.local_runner.sample(8)
        (part,) = ma_ro.module_parts()
        assert part.data[C.MASK].all() and not part.data[C.TERMINATEDS].any()
        for key in (C.OBS, C.ACTIONS, C.REWARDS, C.TERMINATEDS, C.TRUNCATEDS, C.MASK):
            np.testing.assert_array_equal(part.data[key], sa_ro.data[key], err_msg=key)
        np.testing.assert_array_equal(
            part.data[C.ACTION_DIST_INPUTS], sa_ro.data["action_dist_inputs"]
        )
        np.testing.assert_array_equal(part.bootstrap_obs, sa_ro.bootstrap_obs)

        torch.manual_seed(2)
        m_ma = ma.learner_group.update([ma_ro], 8)
        torch.manual_seed(2)
        m_sa = sa.learner_group.update([sa_ro], 8)
        assert m_ma.keys() == m_sa.keys() == {"default_policy"}
        assert m_ma["default_policy"] == pytest.approx(m_sa["default_policy"], rel=1e-6)
        got = ma.learner_group.get_weights()
        want = sa.learner_group.get_weights()
        assert same({k.partition(".")[2]: v for k, v in got.items()}, want)
    finally:
        ma.stop()
        sa.stop()


@pytest.mark.parametrize(
    "env_cfg",
    [
        {"id": CARTPOLE, "env_config": {"num_agents": 1}},
        # both agents to one module: front padding and masked final rows in the batch
        {"id": f"{EXAMPLES}:TurnBasedGuess"},
    ],
)
def test_multi_agent_learner_update_equals_a_plain_learners(env_cfg):
    algo = build({**config(), "env": env_cfg, "multi_agent": {}})
    spec = algo.module_spec
    algo.stop()
    learner_cfg = complete(LearnerConfig, {})
    torch.manual_seed(0)
    multi = MultiAgentLearner(PPOLearner, {}, learner_cfg, spec)
    plain = PPOLearner(
        spec.algo_configs["default_policy"], learner_cfg, spec.module_specs["default_policy"]
    )
    plain.set_weights(multi.learners["default_policy"].get_weights())
    runner = MultiAgentEnvRunner(env_cfg, {"num_envs_per_env_runner": 2}, spec, seed=0)
    runner.set_weights(multi.get_weights())
    ro = runner.sample(50)
    runner.stop()
    parts = ro.module_parts()
    assert [p.module_id for p in parts] == ["default_policy"]
    if env_cfg["id"].endswith("TurnBasedGuess"):
        assert not parts[0].data[C.MASK].all()  # masked rows are in the batch

    torch.manual_seed(3)
    m_multi = multi.update_modules([ro], 100)
    torch.manual_seed(3)
    m_plain = plain.update(parts, 100)
    assert m_multi.keys() == {"default_policy"}
    assert m_multi["default_policy"] == pytest.approx(m_plain, rel=1e-6)
    assert m_plain["num_module_steps_trained"] > 0
    got = {k.partition(".")[2]: v for k, v in multi.get_weights().items()}
    assert same(got, plain.get_weights())


# --- which modules learn, and with which settings ----------------------------------------------


def test_frozen_module_keeps_its_weights():
    algo = build(config(**two_modules(policies_to_train=["p0"])))
    try:
        assert algo.trainable_module_ids == ["p0"]
        p0, p1 = weights(algo, "p0"), weights(algo, "p1")
        results = [algo.train() for _ in range(2)]
        for r in results:
            assert set(r["learners"]) == {"p0"}
        assert not same(weights(algo, "p0"), p0)
        assert same(weights(algo, "p1"), p1)
        # the runner acts with p1 too (its agent 1 keeps playing)
        assert results[-1]["env_runners"]["num_agent_steps_sampled_lifetime"]["1"] > 0
        assert set(results[-1]["env_runners"]["module_episode_returns_mean"]) == {"p0", "p1"}
    finally:
        algo.stop()


def test_per_module_settings():
    ma = {
        "policies": {
            "p0": {"config": {"lr": 0.01}, "model": {"fcnet_hiddens": [16]}},
            "p1": {},
            "p2": None,
        },
        "policy_mapping_fn": BY_INDEX,
        # p0's own `config` wins over the overrides; p1 gets its rate from them
        "algorithm_config_overrides_per_module": {"p0": {"lr": 0.5}, "p1": {"lr": 0.02}},
    }
    algo = build(config(num_agents=3, **ma))
    try:
        default_lr = algo.algo_config.lr
        assert default_lr not in (0.01, 0.02)
        result = algo.train()
        learners = result["learners"]
        assert set(learners) == {"p0", "p1", "p2"}
        assert learners["p0"]["curr_lr"] == pytest.approx(0.01)
        assert learners["p1"]["curr_lr"] == pytest.approx(0.02)
        assert learners["p2"]["curr_lr"] == pytest.approx(default_lr)
        assert algo.algo_configs["p0"].model.fcnet_hiddens == [16]
        assert algo.algo_configs["p2"].model.fcnet_hiddens == algo.algo_config.model.fcnet_hiddens
        sizes = {m: num_params(algo.get_module(m)) for m in ("p0", "p1", "p2")}
        assert sizes["p0"] < sizes["p1"] == sizes["p2"]
    finally:
        algo.stop()


def test_count_steps_by_agent_steps_counts_every_agents_steps():
    algo = build(config(**two_modules(count_steps_by="agent_steps")))
    try:
        result = algo.train()
        agent_steps = sum(result["env_runners"]["num_agent_steps_sampled_lifetime"].values())
        env_steps = result["num_env_steps_sampled_lifetime"]
        # The train batch (200) counts agent steps; env steps stay env steps (RLlib keeps both).
        assert agent_steps >= 200 and env_steps < agent_steps <= 2 * env_steps
        module_steps = result["env_runners"]["num_module_steps_sampled_lifetime"]
        assert set(module_steps) == {"p0", "p1"} and sum(module_steps.values()) == agent_steps
    finally:
        algo.stop()


# --- checkpoints ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_a(tmp_path_factory) -> dict[str, Any]:
    """A two-module PPO run trained one iteration and saved: its checkpoint and state."""
    path = tmp_path_factory.mktemp("run_a") / "checkpoint_000001"
    algo = build(config(**two_modules()))
    try:
        algo.train()
        algo.save(path)
        return {
            "path": path,
            "weights": {m: weights(algo, m) for m in ("p0", "p1")},
            "iteration": algo.iteration,
            "steps": algo.num_env_steps_sampled_lifetime,
            "learner": algo.learner_group.get_state(),
        }
    finally:
        algo.stop()


def test_checkpoint_round_trip(run_a):
    path: Path = run_a["path"]
    assert sorted(p.name for p in (path / "module").iterdir()) == ["p0", "p1"]
    for mid in ("p0", "p1"):
        assert (path / "module" / mid / "model.safetensors").is_file()
        assert (path / "module" / mid / "spec.json").is_file()
    algo = Algorithm.from_checkpoint(path)
    try:
        assert algo.is_multi_agent and list(algo.module_specs) == ["p0", "p1"]
        assert algo.iteration == run_a["iteration"] == 1
        assert algo.num_env_steps_sampled_lifetime == run_a["steps"] > 0
        for mid in ("p0", "p1"):
            assert same(weights(algo, mid), run_a["weights"][mid]), mid
        # each module's optimizer moments and counters
        state, saved = algo.learner_group.get_state(), run_a["learner"]
        assert state["optimizer"].keys() == saved["optimizer"].keys()
        assert {k.partition("/")[0] for k in state["optimizer"]} == {"p0", "p1"}
        assert same(state["optimizer"], saved["optimizer"])
        assert state["extra"] == saved["extra"]
        # the restored run trains on
        assert set(algo.train()["learners"]) == {"p0", "p1"}
    finally:
        algo.stop()
    module = load_module(path, "p1")
    assert same(module.state_dict(), run_a["weights"]["p1"])
    assert not same(run_a["weights"]["p0"], run_a["weights"]["p1"])


def test_module_from_another_runs_checkpoint(run_a, tmp_path):
    a_path: Path = run_a["path"]
    # a checkpoint: its module of the same id
    algo = build(
        config(
            **two_modules(
                policies={"p0": {}, "p1": {"checkpoint": str(a_path)}}, policies_to_train=["p0"]
            )
        )
    )
    try:
        assert same(weights(algo, "p1"), run_a["weights"]["p1"])
        assert not same(weights(algo, "p0"), run_a["weights"]["p0"])  # p0 starts fresh
        algo.train()
        assert same(weights(algo, "p1"), run_a["weights"]["p1"])  # frozen
    finally:
        algo.stop()

    # a module folder (run A's p0 into this run's p1), and a single-agent checkpoint's only
    # module (CartPole-v1 has the same spaces)
    single = build({**config(), "env": {"id": "CartPole-v1"}, "multi_agent": {}})
    single.save(tmp_path / "single")
    single_weights = single.learner_group.get_weights()
    single.stop()
    algo = build(
        config(
            **two_modules(
                policies={
                    "p0": {"checkpoint": str(a_path / "module" / "p0")},
                    "p1": {"checkpoint": str(tmp_path / "single")},
                }
            )
        )
    )
    try:
        assert same(weights(algo, "p0"), run_a["weights"]["p0"])
        assert same(weights(algo, "p1"), single_weights)
    finally:
        algo.stop()


@pytest.mark.parametrize(
    ("folder", "model", "says"),
    [
        ("module/p0", {"fcnet_hiddens": [16]}, "does not fit this module's networks"),
        (".", {}, "holds modules p0, p1 and none is named p2"),
    ],
)
def test_module_checkpoint_that_does_not_fit_is_a_config_error(run_a, folder, model, says):
    p2 = {"model": model, "checkpoint": str(run_a["path"] / folder)}
    cfg = config(num_agents=3, policies={"p0": {}, "p1": {}, "p2": p2}, policy_mapping_fn=BY_INDEX)
    with pytest.raises(ConfigError, match="multi_agent.policies.p2.checkpoint") as e:
        build(cfg)
    assert says in str(e.value)


# --- off-policy algorithms: a buffer per learning module ----------------------------------------


@pytest.mark.parametrize("name", ["DQN", "SAC"])
def test_off_policy_multi_agent(name):
    algo = build(config(name, **two_modules()))
    try:
        assert set(algo.replays) == {"p0", "p1"}
        assert algo.replays["p0"] is not algo.replays["p1"]
        p1 = weights(algo, "p1")
        for _ in range(2):
            result = algo.train()
        assert set(result["learners"]) == {"p0", "p1"}
        for mid in ("p0", "p1"):
            assert result["learners"][mid]["num_module_steps_trained"] > 0
        # every agent step of agent i is one transition in p{i}'s buffer
        steps = result["env_runners"]["num_agent_steps_sampled_lifetime"]
        assert len(algo.replays["p0"]) == steps["0"] > 0
        assert len(algo.replays["p1"]) == steps["1"] > 0
        assert result["replay"]["size"] == steps["0"] + steps["1"]
        assert not same(weights(algo, "p1"), p1)
    finally:
        algo.stop()


def test_off_policy_frozen_module_has_no_buffer():
    algo = build(config("DQN", **two_modules(policies_to_train=["p1"])))
    try:
        assert set(algo.replays) == {"p1"}
        p0 = weights(algo, "p0")
        result = algo.train()
        assert set(result["learners"]) == {"p1"}
        assert same(weights(algo, "p0"), p0)
    finally:
        algo.stop()


# --- what multi-agent runs do not support yet: say so, don't crash or ignore ---------------------


def test_episode_callbacks_run_or_are_refused():
    cfg = {**config(**two_modules()), "callbacks": ["tests.helpers.callbacks:CountingCallbacks"]}
    try:
        algo = build(cfg)
    except ConfigError as e:  # refusing up front is an answer too
        assert e.key == "callbacks"
        return
    try:
        result = algo.train()
        assert result["env_runners"]["episodes_started"] > 0
    finally:
        algo.stop()


def test_output_dir_writes_each_agents_episodes_with_agent_and_module_ids(tmp_path):
    cfg = {**config(**two_modules()), "output": str(tmp_path / "episodes")}
    algo = build(cfg)
    try:
        algo.train()
        algo.episode_writer.flush()
        records = [
            json.loads(line)
            for f in sorted((tmp_path / "episodes").glob("*/*.jsonl"))
            for line in f.read_text().splitlines()
        ]
    finally:
        algo.stop()
    assert records, "no episode was written"
    for rec in records:
        assert rec["module_id"] == f"p{rec['agent_id']}"
        assert rec["length"] == len(rec["rewards"]) == len(rec["observations"]) - 1
        assert rec["return"] == pytest.approx(sum(rec["rewards"]))
    assert {rec["agent_id"] for rec in records} == {0, 1}


def test_compute_single_action_takes_the_module_as_policy_id():
    algo = build(config(**two_modules()))
    try:
        with pytest.raises(ValueError, match="multi-agent.*policy_id"):
            algo.compute_single_action(np.zeros(4, np.float32))
        obs = np.array([0.01, 0.0, 0.02, 0.0], np.float32)
        for mid in ("p0", "p1"):
            action = algo.compute_single_action(obs, policy_id=mid, explore=False)
            assert action in (0, 1)
            greedy = algo.get_module(mid).forward_inference({"obs": torch.from_numpy(obs[None])})
            assert action == int(greedy["action_dist_inputs"].argmax())
    finally:
        algo.stop()


# --- modules of other kinds in multi-agent runs -------------------------------------------------


def test_a_shared_encoder_stays_one_set_of_weights_in_learners_and_runners():
    """examples/shared_encoder.py: both modules encode with one encoder, which both learners
    train; the runner's modules share it too."""
    cfg = config(**two_modules(multi_rl_module_class="examples.shared_encoder:SharedEncoder"))
    algo = build(cfg)
    try:
        before = weights(algo, "p0")
        algo.train()
        learned = algo.learner_group.get_weights()
        enc = [k.partition(".")[2] for k in learned if k.startswith("p0.encoder.")]
        assert enc
        for name in enc:
            assert torch.equal(learned[f"p0.{name}"], learned[f"p1.{name}"]), name
            assert not torch.equal(learned[f"p0.{name}"], before[name]), "it did not learn"
        heads = [k.partition(".")[2] for k in learned if k.startswith("p0.pi_head.")]
        assert any(not torch.equal(learned[f"p0.{h}"], learned[f"p1.{h}"]) for h in heads)
        runner_module = algo.env_runner_group.local_runner.module
        assert runner_module["p0"].encoder is runner_module["p1"].encoder
    finally:
        algo.stop()


def test_a_recurrent_module_beside_a_feed_forward_one():
    cfg = config(
        policies={"p0": {"model": {"use_lstm": True, "max_seq_len": 8}}, "p1": {}},
        policy_mapping_fn=BY_INDEX,
    )
    algo = build(cfg)
    try:
        result = algo.train()
        assert set(result["learners"]) == {"p0", "p1"}
        assert algo.get_module("p0").is_stateful and not algo.get_module("p1").is_stateful
        ro = algo.env_runner_group.local_runner.sample(12)
        parts = {p.module_id: p for p in ro.module_parts()}
        assert "state_in" in parts["p0"].data and "state_in" not in parts["p1"].data
        action, state = algo.compute_single_action(np.zeros(4, np.float32), policy_id="p0")
        assert action in (0, 1) and set(state) == set(algo.get_module("p0").get_initial_state())
    finally:
        algo.stop()
