"""Multi-agent runs through the `rlrun` command: a two-module train and evaluate in real
subprocesses, PettingZoo Parallel and AEC envs, and every bad multi-agent input (exit 2, one
paragraph naming the key, no traceback) in-process, where a failure costs no torch import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rlrun import cli
from tests.helpers.cli import Run, start, train

EXAMPLES = "rlrun.env.multi_agent.example_envs"
CARTPOLE2 = [f"env.id={EXAMPLES}:MultiAgentCartPole", "env.env_config.num_agents=2"]
TWO = [
    "multi_agent.policies=[p0,p1]",
    "multi_agent.policy_mapping_fn=tests.helpers.mapping:by_index",
]
TINY = [
    "algo.train_batch_size_per_learner=200",
    "algo.minibatch_size=100",
    "algo.num_epochs=1",
    "env_runner.num_envs_per_env_runner=2",
    "console=plain",
    "seed=0",
]


def trial_dir(results_dir: Path) -> Path:
    trials = [p for p in results_dir.glob("*/*") if (p / "params.json").exists()]
    assert len(trials) == 1, trials
    return trials[0]


def results(trial: Path) -> list[dict[str, Any]]:
    lines = (trial / "result.json").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def train_here(
    capsys: pytest.CaptureFixture[str], results_dir: Path, *args: str
) -> tuple[int, str, str]:
    """`rlrun train` in this process (no torch import per run)."""
    code = cli.main(["train", f"results_dir={results_dir}", *TINY, *args])
    out, err = capsys.readouterr()
    return code, out, err


# --- a two-module run, end to end in subprocesses ----------------------------------------------


@pytest.fixture(scope="module")
def two_module_run(tmp_path_factory) -> Run:
    root = tmp_path_factory.mktemp("ma_cli")
    proc = train(root, *CARTPOLE2, *TWO, *TINY, "stop.iterations=2")
    return Run(proc, root)


def test_two_module_train_writes_per_agent_and_per_module_results(two_module_run):
    run = two_module_run
    assert run.rc == 0, run.explain()
    assert "Traceback" not in run.stderr, run.explain()
    rs = run.results()
    assert [r["training_iteration"] for r in rs] == [1, 2]
    for r in rs:
        er = r["env_runners"]
        assert set(er["agent_episode_returns_mean"]) == {"0", "1"}
        assert set(er["module_episode_returns_mean"]) == {"p0", "p1"}
        # by_index: agent i is module p{i}, so the windows are the same episodes' returns
        assert er["module_episode_returns_mean"]["p0"] == er["agent_episode_returns_mean"]["0"]
        assert set(er["num_agent_steps_sampled_lifetime"]) == {"0", "1"}
        assert set(r["learners"]) == {"p0", "p1"}
        for mid in ("p0", "p1"):
            assert isinstance(r["learners"][mid]["policy_loss"], float)
    header = (run.trial_dir / "progress.csv").read_text().splitlines()[0].split(",")
    for key in (
        "env_runners/agent_episode_returns_mean/0",
        "env_runners/agent_episode_returns_mean/1",
        "env_runners/module_episode_returns_mean/p1",
        "learners/p0/policy_loss",
        "learners/p1/vf_loss",
    ):
        assert key in header, key
    ckpt = run.trial_dir / "checkpoint_000002"
    assert sorted(p.name for p in (ckpt / "module").iterdir()) == ["p0", "p1"]
    meta = json.loads((ckpt / "rlrun_checkpoint.json").read_text())
    assert meta["module_ids"] == ["p0", "p1"] and meta["multi_agent"] is True
    assert f"rlrun evaluate checkpoint={ckpt}" in run.stdout


def test_two_module_checkpoint_evaluates(two_module_run):
    assert two_module_run.rc == 0, two_module_run.explain()
    ckpt = two_module_run.trial_dir / "checkpoint_000002"
    run = Run(start("evaluate", f"checkpoint={ckpt}", "episodes=2", "seed=0"), None)
    assert run.rc == 0, run.explain()
    assert "Traceback" not in run.stderr, run.explain()
    stats = json.loads((ckpt / "evaluation.json").read_text())
    assert stats["episodes"] == 2
    # MultiAgentCartPole's return is the sum over both poles, each at least 8 steps
    assert stats["episode_return_mean"] >= 16.0
    assert "episode_return_mean" in run.stdout


def test_two_module_checkpoint_resumes(two_module_run, tmp_path, capsys):
    assert two_module_run.rc == 0, two_module_run.explain()
    ckpt = two_module_run.trial_dir / "checkpoint_000002"
    last = two_module_run.results()[-1]
    code = cli.main(
        ["train", f"results_dir={tmp_path}", f"resume={ckpt}", "stop.iterations=3", "console=plain"]
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    (r,) = results(trial_dir(tmp_path))
    assert r["training_iteration"] == 3
    assert r["num_env_steps_sampled_lifetime"] > last["num_env_steps_sampled_lifetime"]
    assert set(r["learners"]) == {"p0", "p1"}
    assert (trial_dir(tmp_path) / "checkpoint_000003" / "module" / "p1").is_dir()


# --- PettingZoo ------------------------------------------------------------------------------------


def test_pettingzoo_parallel_env_trains(tmp_path, capsys):
    pytest.importorskip("mpe2")
    code, out, err = train_here(
        capsys,
        tmp_path,
        "env.id=mpe2.simple_spread_v3:parallel_env",
        "env.env_config.max_cycles=10",
        "stop.iterations=1",
    )
    assert code == 0, out + err
    (r,) = results(trial_dir(tmp_path))
    er = r["env_runners"]
    assert er["episode_len_mean"] == 10.0  # max_cycles
    assert set(er["agent_episode_returns_mean"]) == {"agent_0", "agent_1", "agent_2"}
    assert set(r["learners"]) == {"default_policy"}


def test_pettingzoo_aec_env_trains_with_a_masking_module(tmp_path, capsys):
    pytest.importorskip("pettingzoo.classic")
    code, out, err = train_here(
        capsys,
        tmp_path,
        "env.id=pettingzoo.classic.tictactoe_v3:env",
        "algo.model.module_class=tests.helpers.modules:FlatMaskedModule",
        "stop.iterations=1",
    )
    assert code == 0, out + err
    (r,) = results(trial_dir(tmp_path))
    er = r["env_runners"]
    assert 5 <= er["episode_len_mean"] <= 9  # moves in a game of tic-tac-toe
    agents = er["agent_episode_returns_mean"]
    assert set(agents) == {"player_1", "player_2"}
    # zero-sum: the loser's -1 (given on the winner's move) is counted as well
    assert agents["player_1"] + agents["player_2"] == pytest.approx(0.0, abs=1e-9)
    assert er["episode_return_mean"] == pytest.approx(0.0, abs=1e-9)


def test_pettingzoo_aec_env_trains_with_the_default_module(tmp_path, capsys):
    """tictactoe's 3x3x2 board is flattened into the default MLP; its action mask is used."""
    pytest.importorskip("pettingzoo.classic")
    code, out, err = train_here(
        capsys, tmp_path, "env.id=pettingzoo.classic.tictactoe_v3:env", "stop.iterations=1"
    )
    assert code == 0, out + err
    (r,) = results(trial_dir(tmp_path))
    agents = r["env_runners"]["agent_episode_returns_mean"]
    assert agents["player_1"] + agents["player_2"] == pytest.approx(0.0, abs=1e-9)
    assert set(r["learners"]) == {"default_policy"}


# --- bad input: exit 2, one paragraph naming the key ----------------------------------------------


def assert_user_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2, out + err
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rlrun: error: "), err
    for frag in fragments:
        assert frag in err, err


BAD_INPUTS = {
    "unknown trainable module": (
        [*CARTPOLE2, *TWO, "multi_agent.policies_to_train=[p0,nope]"],
        ["multi_agent.policies_to_train=nope", "is not a module", "p0, p1"],
    ),
    "mapping returns an unknown id": (
        [*CARTPOLE2, *TWO[:1], "multi_agent.policy_mapping_fn=tests.helpers.mapping:unknown_id"],
        ["multi_agent.policy_mapping_fn=tests.helpers.mapping:unknown_id", "returned 'ghost'",
         "agent id 0", "p0, p1"],
    ),
    "mapping raises": (
        [*CARTPOLE2, *TWO[:1], "multi_agent.policy_mapping_fn=tests.helpers.mapping:raises"],
        ["multi_agent.policy_mapping_fn=tests.helpers.mapping:raises", "raised KeyError",
         "agent id 0"],
    ),
    "mapping not importable": (
        [*CARTPOLE2, *TWO[:1], "multi_agent.policy_mapping_fn=tests.helpers.mapping:nope"],
        ["multi_agent.policy_mapping_fn=tests.helpers.mapping:nope", "no attribute 'nope'"],
    ),
    "mapping not a path": (
        [*CARTPOLE2, "multi_agent.policy_mapping_fn=nope"],
        ["multi_agent.policy_mapping_fn=nope", "pkg.module:fn"],
    ),
    "different spaces in one module": (
        ["env.id=tests.helpers.ma_envs:MixedSpacesEnv", "multi_agent.policies=[shared]",
         "multi_agent.policy_mapping_fn=tests.helpers.mapping:shared"],
        ["multi_agent.policy_mapping_fn", "different observation spaces", "'left'", "'right'",
         "Box(-1.0, 1.0, (2,), float32)", "Box(-1.0, 1.0, (3,), float32)"],
    ),
    "different spaces in the default module": (
        ["env.id=tests.helpers.ma_envs:MixedSpacesEnv"],
        ["multi_agent.policy_mapping_fn", "'left'", "'right'", "(2,)", "(3,)"],
    ),
    "several modules, no mapping": (
        [*CARTPOLE2, "multi_agent.policies=[p0,p1]"],
        ["multi_agent.policy_mapping_fn=null", "several modules (p0, p1)"],
    ),
    "module no agent maps to": (
        [*CARTPOLE2, "multi_agent.policies=[p0,p1,p2]", TWO[1]],
        ["multi_agent.policies=p2", "no agent maps to this module"],
    ),
    "per-module key the algorithm lacks": (
        [*CARTPOLE2, "multi_agent.policies={p0:{config:{nope:1}}}"],
        ["multi_agent.policies.p0.config.nope=1", "is not a setting of PPO"],
    ),
    "per-module key, Hydra append syntax": (
        [*CARTPOLE2, "+multi_agent.policies.p0.config.nope=1"],
        ["multi_agent.policies.p0.config.nope=1", "is not a setting of PPO"],
    ),
    "override key the algorithm lacks": (
        [*CARTPOLE2, "multi_agent.policies=[p0]",
         "multi_agent.algorithm_config_overrides_per_module={p0:{nope:1}}"],
        ["multi_agent.algorithm_config_overrides_per_module.p0.nope=1", "not a setting of PPO"],
    ),
    "unknown per-module setting": (
        [*CARTPOLE2, "multi_agent.policies={p0:{confg:{lr:0.1}}}"],
        ["multi_agent.policies.p0.confg", "is not a per-module setting", "config"],
    ),
    "module id with a dot": (
        [*CARTPOLE2, "multi_agent.policies=[p.0]"],
        ["multi_agent.policies=p.0", "'.'"],
    ),
    "module id with a slash": (
        [*CARTPOLE2, "multi_agent.policies=[a/b]"],
        ["multi_agent.policies=a/b", "'/'"],
    ),
    "no module": (
        [*CARTPOLE2, "multi_agent.policies=[]"],
        ["multi_agent.policies=[]", "names no module"],
    ),
    "env-to-module connector": (
        [*CARTPOLE2, "connectors.env_to_module=[frame_stack]"],
        ["connectors.env_to_module", "frame_stack", "single-agent only"],
    ),
    "count_steps_by": (
        [*CARTPOLE2, "multi_agent.count_steps_by=agents"],
        ["multi_agent.count_steps_by=agents", "agent_steps"],
    ),
    # Settings inside per-module sections get the same checks as the algo section.
    "per-module model key typo": (
        [*CARTPOLE2, "multi_agent.policies={p0:{model:{fcnet_hidens:[8]}}}"],
        ["multi_agent.policies.p0.model.fcnet_hidens"],
    ),
    "per-module value of the wrong type": (
        [*CARTPOLE2, "multi_agent.policies={p0:{config:{lr:abc}}}"],
        ["multi_agent.policies.p0.config.lr"],
    ),
    "per-module value out of range": (
        [*CARTPOLE2, "multi_agent.policies={p0:{config:{gamma:5}}}"],
        ["multi_agent.policies.p0.config.gamma"],
    ),
    "override for an unknown module": (
        [*CARTPOLE2, "multi_agent.policies=[p0]",
         "multi_agent.algorithm_config_overrides_per_module={q0:{lr:0.1}}"],
        ["multi_agent.algorithm_config_overrides_per_module", "q0"],
    ),
    "per-module key rlrun does not have": (
        [*CARTPOLE2, "multi_agent.policies={p0:{observation_space:whatever}}"],
        ["multi_agent.policies.p0.observation_space"],
    ),
    "different spaces name the mapping function": (
        ["env.id=tests.helpers.ma_envs:MixedSpacesEnv", "multi_agent.policies=[shared]",
         "multi_agent.policy_mapping_fn=tests.helpers.mapping:shared"],
        ["multi_agent.policy_mapping_fn=tests.helpers.mapping:shared"],
    ),
    "missing module checkpoint": (
        [*CARTPOLE2, "multi_agent.policies={p0:{checkpoint:/no/such/checkpoint}}"],
        ["multi_agent.policies.p0.checkpoint"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_multi_agent_input_exits_2(case, tmp_path, capsys):
    args, fragments = BAD_INPUTS[case]
    code, out, err = train_here(capsys, tmp_path, *args, "stop.iterations=1")
    assert_user_error(code, out, err, *fragments)
    assert not list(tmp_path.glob("*/*/checkpoint_*"))  # nothing was trained


@pytest.mark.parametrize("algo", ["appo", "impala"])
def test_impala_and_appo_train_a_module_per_agent(
    algo: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The time-line batches and V-trace serve one learner per module as they serve one."""
    code, _, err = train_here(
        capsys, tmp_path, f"algo={algo}", *CARTPOLE2, *TWO, "stop.iterations=3",
        "stop.reward=null", "algo.minibatch_size=null",
    )  # fmt: skip
    assert code == 0, err
    last = results(trial_dir(tmp_path))[-1]
    for module in ("p0", "p1"):
        assert last["learners"][module]["num_module_steps_trained"] > 0
        assert module in last["env_runners"]["module_episode_returns_mean"]
