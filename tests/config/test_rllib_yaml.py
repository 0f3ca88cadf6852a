"""RLlib tuned-example files: `rlrun train file=x.yaml` and `rlrun convert` (docs/rllib_yaml.md).

The files under tests/data/rllib/ are written in RLlib's format for this test: PPO under old and
new key names, DQN and SAC in the old stack's shape, a grid_search and keys with no rlrun home.
tests/data/rllib/real/ holds RLlib's own tuned-example files (each names its commit). Nothing
here trains; tests/smoke/test_rllib_file.py runs files end to end.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from rlrun import cli
from rlrun.config.compose import compose
from rlrun.config.keys import schema_keys
from rlrun.config.paths import conf_dir
from rlrun.config.validate import validate
from rlrun.errors import ConfigError, TrainingFailed
from rlrun.rllib_yaml import commands
from rlrun.rllib_yaml import mapping as M
from rlrun.rllib_yaml.convert import convert_file
from rlrun.rllib_yaml.emit import hydra_value, option_name, to_overrides, to_yaml
from rlrun.rllib_yaml.values import env_id, translate_metric

DATA = Path(__file__).resolve().parents[1] / "data" / "rllib"
FILES = sorted(p.name for p in DATA.glob("*.yaml"))
REAL = sorted(str(p.relative_to(DATA)) for p in (DATA / "real").glob("*/*.yaml"))


def one(path: Path | str) -> Any:
    (exp,) = convert_file(str(path))
    return exp


def write(tmp_path: Path, text: str, name: str = "x.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def plain(cfg: Any) -> dict[str, Any]:
    out = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(out, dict)
    out.pop("name")
    return out


# --- the table ------------------------------------------------------------------------------------


def test_every_target_is_an_rlrun_key() -> None:
    keys = schema_keys()
    tables = [M.CONFIG, M.MODEL, M.REPLAY, M.OPTIMIZATION, M.EVALUATION_CONFIG]
    tables += [M.EXPERIMENT, M.CHECKPOINT_CONFIG]
    targets = {t.key for table in tables for t in table.values()}
    assert targets <= set(keys), targets - set(keys)


# --- each file: composes, validates, and its conversion composes to the same config --------------


@pytest.mark.parametrize("name", FILES)
def test_converted_yaml_composes_like_the_file(name: str, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    shutil.copytree(conf_dir(), conf)
    for exp in convert_file(str(DATA / name)):
        from_file = compose(to_overrides(exp, first_only=True), config_dir=conf)
        validate(from_file)
        (conf / "experiment" / f"{option_name(exp)}.yaml").write_text(to_yaml(exp))
        converted = compose([f"experiment={option_name(exp)}"], config_dir=conf)
        assert plain(converted) == plain(from_file)
        assert from_file.name == exp.name


def test_old_and_new_key_names_mean_the_same() -> None:
    old, new = one(DATA / "cartpole-ppo.yaml"), one(DATA / "cartpole-ppo-new.yaml")
    assert old.values == new.values
    assert old.notes == [] and new.notes == ["framework: tf2 -> rlrun runs on torch."]
    cfg = compose(to_overrides(old))
    assert (cfg.algo.lambda_, cfg.algo.num_epochs, cfg.algo.minibatch_size) == (0.95, 6, 128)
    assert cfg.algo.model.fcnet_hiddens == [32] and cfg.algo.model.vf_share_layers is True
    assert cfg.env_runner.observation_filter == "MeanStdFilter"
    # RLlib's PPO adds the KL term by default; rlrun turns it on when kl_coeff is given.
    assert cfg.algo.use_kl_loss is True and cfg.algo.kl_coeff == 0.0
    assert (cfg.stop.reward, cfg.stop.timesteps, cfg.stop.metric) == (
        150,
        100000,
        "env_runners/episode_return_mean",
    )


def test_dqn_file() -> None:
    exp = one(DATA / "cartpole-dqn.yaml")
    cfg = compose(to_overrides(exp))
    validate(cfg)
    assert cfg.algo.name == "DQN" and cfg.algo.n_step == 3
    assert cfg.algo.epsilon == [[0, 1.0], [10000, 0.02]]
    assert cfg.algo.replay.prioritized is True and cfg.algo.replay.capacity == 50000
    assert cfg.algo.replay.eps == 1e-6 and cfg.algo.learning_starts == 1000
    assert cfg.algo.train_batch_size_per_learner == 64 and cfg.algo.training_intensity == 16
    assert (cfg.evaluation.interval, cfg.evaluation.explore) == (5, False)
    assert (cfg.stop.timesteps, cfg.stop.iterations) == (100000, 50)  # 1e5 read as an integer
    # RLlib's hiddens: a ReLU layer of 256 in each head, on top of the encoder.
    assert cfg.algo.model.head_fcnet_hiddens == [256]
    assert cfg.algo.model.head_fcnet_activation == "relu"
    # An old-stack file: the old stack's 4-step fragments, so 16 replayed per sampled step is
    # one batch of 64 per round, as in RLlib.
    assert exp.stack == "old" and cfg.env_runner.rollout_fragment_length == 4
    assert exp.ignored == {}


def test_sac_file() -> None:
    exp = one(DATA / "pendulum-sac.yaml")
    cfg = compose(to_overrides(exp))
    validate(cfg)
    assert (cfg.algo.actor_lr, cfg.algo.critic_lr, cfg.algo.alpha_lr) == (0.001, 0.001, 0.001)
    # One MLP shape for both: the policy's wins and the Q network's is reported.
    assert cfg.algo.model.fcnet_hiddens == [64, 64]
    assert "q_model_config.fcnet_hiddens" in exp.ignored
    assert "normalize_actions" not in exp.ignored  # SAC rescales squashed actions, as RLlib
    assert cfg.algo.replay.prioritized is False and cfg.algo.learning_starts == 500
    assert cfg.env.max_episode_steps == 200 and cfg.env_runner.rollout_fragment_length == 1
    assert (cfg.checkpoint.frequency, cfg.checkpoint.num_to_keep) == (5, 2)
    assert cfg.checkpoint.score_attribute == "env_runners/episode_return_mean"
    assert cfg.checkpoint.score_order == "min"


# --- single conversions --------------------------------------------------------------------------


def spec(tmp_path: Path, config: str = "", stop: str = "", run: str = "PPO") -> Any:
    text = f"e:\n  run: {run}\n  env: CartPole-v1\n"
    if stop:
        text += f"  stop: {stop}\n"
    if config:
        text += f"  config: {config}\n"
    return one(write(tmp_path, text))


@pytest.mark.parametrize(
    ("stop", "expected"),
    [
        ("{episode_reward_mean: 100}", {"stop.reward": 100}),
        ("{sampler_results/episode_reward_mean: 100}", {"stop.reward": 100}),
        ("{env_runners/episode_return_mean: 100}", {"stop.reward": 100}),
        (
            "{evaluation/sampler_results/episode_reward_mean: 90}",
            {"stop.reward": 90, "stop.metric": "evaluation/env_runners/episode_return_mean"},
        ),
        (
            "{evaluation/env_runners/episode_return_mean: 90}",
            {"stop.reward": 90, "stop.metric": "evaluation/env_runners/episode_return_mean"},
        ),
        ("{episode_len_mean: 50}", {"stop.reward": 50, "stop.metric": "env_runners/episode_len_mean"}),
        ("{timesteps_total: 5000}", {"stop.timesteps": 5000, "stop.reward": None}),
        ("{num_env_steps_sampled_lifetime: 5000}", {"stop.timesteps": 5000, "stop.reward": None}),
        ("{num_env_steps_sampled: 5000}", {"stop.timesteps": 5000, "stop.reward": None}),
        ("{training_iteration: 3, time_total_s: 60}", {"stop.iterations": 3, "stop.time_s": 60, "stop.reward": None}),
        # Tune stops at the first criterion met: of two budgets, the smaller.
        ("{timesteps_total: 9000, num_env_steps_sampled_lifetime: 4000}", {"stop.timesteps": 4000, "stop.reward": None}),
    ],
)  # fmt: skip
def test_stop_keys(tmp_path: Path, stop: str, expected: dict[str, Any]) -> None:
    assert spec(tmp_path, stop=stop).values == expected


def test_no_stop_keeps_rlrun_default(tmp_path: Path) -> None:
    cfg = compose(to_overrides(spec(tmp_path)))
    assert cfg.stop.reward == "auto"


def test_a_second_metric_is_reported(tmp_path: Path) -> None:
    exp = spec(tmp_path, stop="{episode_reward_mean: 100, episode_len_mean: 50}")
    assert exp.values == {"stop.reward": 100}
    assert list(exp.ignored) == ["stop.episode_len_mean"]


def test_train_batch_size_is_over_all_learners(tmp_path: Path) -> None:
    exp = spec(tmp_path, config="{train_batch_size: 4000, num_learners: 2, minibatch_size: 500}")
    assert exp.values["algo.train_batch_size_per_learner"] == 2000
    assert exp.values["learner.num_learners"] == 2
    assert any("2 learners" in n for n in exp.notes)
    both = spec(tmp_path, config="{train_batch_size: 4000, train_batch_size_per_learner: 512}")
    assert both.values["algo.train_batch_size_per_learner"] == 512
    assert "train_batch_size is superseded by train_batch_size_per_learner" in both.notes[0]


def test_schedules_and_renames(tmp_path: Path) -> None:
    exp = spec(
        tmp_path,
        config="{lr: 0.1, lr_schedule: [[0, 0.001], [1000, 0.0001]], entropy_coeff: 0.01, "
        "fcnet: 1, observation_filter: ConcurrentMeanStdFilter, remote_worker_envs: true, "
        "evaluation_interval: null, model: {fcnet_activation: swish}}",
    )
    assert exp.values["algo.lr"] == [[0, 0.001], [1000, 0.0001]]
    assert exp.values["env_runner.observation_filter"] == "MeanStdFilter"
    assert exp.values["env_runner.vectorize_mode"] == "async"
    assert exp.values["evaluation.interval"] == 0
    assert exp.values["algo.model.fcnet_activation"] == "silu"
    assert list(exp.ignored) == ["fcnet"]
    assert any("lr is superseded by lr_schedule" in n for n in exp.notes)


def test_keys_of_another_algorithm_have_no_home(tmp_path: Path) -> None:
    exp = spec(tmp_path, config="{n_step: 3, clip_param: 0.1}")
    assert exp.ignored == {"n_step": "rlrun's PPO has no n_step"}
    assert exp.values == {"algo.clip_param": 0.1}


def test_epsilon_schedule_with_warmup(tmp_path: Path) -> None:
    exp = spec(
        tmp_path,
        run="DQN",
        config="{exploration_config: {initial_epsilon: 0.5, epsilon_timesteps: 100, "
        "warmup_timesteps: 10}}",
    )
    assert exp.values["algo.epsilon"] == [[0, 0.5], [10, 0.5], [110, 0.02]]


def test_env_config_and_free_form(tmp_path: Path) -> None:
    exp = spec(tmp_path, config="{env_config: {size: 8, mode: {grid_search: [a, b]}}}")
    assert exp.values["env.env_config.size"] == 8
    assert exp.is_sweep and "env.env_config.mode=a,b" in to_overrides(exp)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("CartPole-v1", "CartPole-v1"),
        ("ALE/Pong-v5", "ALE/Pong-v5"),
        ("my_pkg.envs:MyEnv", "my_pkg.envs:MyEnv"),
        ("my_pkg.envs.MyEnv", "my_pkg.envs:MyEnv"),
        ("tests.helpers.envs.FixedLengthEnv", "tests.helpers.envs:FixedLengthEnv"),
    ],
)
def test_env_forms(given: str, expected: str) -> None:
    assert env_id(given) == expected


def test_class_path_env_composes(tmp_path: Path) -> None:
    exp = one(write(tmp_path, "e: {run: PPO, env: tests.helpers.envs.FixedLengthEnv}"))
    cfg = compose(to_overrides(exp))
    assert cfg.env.id == "tests.helpers.envs:FixedLengthEnv"


def test_translate_metric_keeps_unknown_keys() -> None:
    assert translate_metric("info/learner/x") == "info/learner/x"
    assert translate_metric("episode_reward_max") == "env_runners/episode_return_max"


@pytest.mark.parametrize(
    "value",
    [0.0003, 1e-05, 3, -2, True, None, "auto", "true", "a b", "it's", "x,y", "1e-4", "",
     "back\\slash", "end\\", "ALE/Pong-v5", "my.mod:Cls", "é", [32, 64], [[0, 1.0], [10, 0.5]],
     {"a": 1, "b-c": [1, "x y"]}, float("inf")],
)  # fmt: skip
def test_hydra_value_round_trips(value: Any) -> None:
    parsed = OverridesParser.create().parse_override(f"k={hydra_value(value)}").value()
    assert parsed == value and type(parsed) is type(value)


# --- grid_search -------------------------------------------------------------------------------


def test_grid_search_becomes_a_sweep_override() -> None:
    exp = one(DATA / "grid-ppo.yaml")
    assert exp.is_sweep
    overrides = to_overrides(exp)
    assert "algo.lr=0.001,0.0003" in overrides
    assert "algo.model.fcnet_hiddens=[32],[64,64]" in overrides
    assert "algo.gamma=0.99" in overrides  # a grid of one value is no sweep
    first = to_overrides(exp, first_only=True)
    assert "algo.lr=0.001" in first and "algo.model.fcnet_hiddens=[32]" in first
    sweep = [o for o in overrides if "," in o]
    parsed = [OverridesParser.create().parse_override(o) for o in sweep]
    assert all(p.is_sweep_override() for p in parsed)
    assert exp.notes == ["framework: a grid_search over ['tf', 'torch'] is one run here, on torch."]


def test_a_sweep_runs_as_train_m(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(cli, "train_command", lambda args: calls.append(args) or 0)
    assert commands.train_file([f"file={DATA / 'grid-ppo.yaml'}", "seed=3", "-v"]) == 0
    (args,) = calls
    assert args[:2] == ["-m", "-v"] and "algo.lr=0.001,0.0003" in args and args[-1] == "seed=3"


def test_user_sweeps_with_m_go_through(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(cli, "train_command", lambda args: calls.append(args) or 0)
    argv = [f"file={DATA / 'cartpole-ppo.yaml'}", "-m", "seed=0,1", "algo.gamma=0.9"]
    assert commands.train_file(argv) == 0
    (args,) = calls
    assert args[0] == "-m" and args[-2:] == ["seed=0,1", "algo.gamma=0.9"]
    assert commands.first_trial(["seed=0,1", "x=[1,2]", "+a.b=c"]) == [
        "seed=0",
        "x=[1,2]",
        "+a.b=c",
    ]


def test_experiments_run_in_order_and_the_worst_code_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "".join(f"{n}: {{run: PPO, env: CartPole-v1}}\n" for n in ("a", "b", "c"))
    path = write(tmp_path, text)
    outcomes = iter([0, TrainingFailed("runners kept failing"), 0])

    def fake(args: list[str]) -> int:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(cli, "train_command", fake)
    assert commands.train_file([f"file={path}"]) == 1
    err = capsys.readouterr().err
    assert "experiment 'b': runners kept failing" in err and "(3 of 3)" in err


def test_command_line_overrides_win(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train", f"file={DATA / 'cartpole-ppo.yaml'}", "--cfg", "algo.lr=0.1", "env=Acrobot-v1"]
    code, out, _ = run_cli(argv, capsys)
    cfg = OmegaConf.create(out)
    assert code == 0 and cfg.algo.lr == 0.1 and cfg.env.id == "Acrobot-v1"
    assert cfg.algo.num_epochs == 6 and cfg.name == "cartpole-ppo"


# --- warnings, strict, notices -------------------------------------------------------------------


def test_unknown_keys_warn_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["convert", f"file={DATA / 'unknown-keys.yaml'}"], capsys)
    assert code == 0
    (line,) = [x for x in err.splitlines() if "warning" in x]
    for key in ("resources_per_trial", "model.use_attention", "adam_epsilon", "some_made_up_key"):
        assert len(re.findall(rf"(?<![\w.]){re.escape(key)}\b", line)) == 1, key
    assert "strict=true" in line


def test_strict_makes_them_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train", f"file={DATA / 'unknown-keys.yaml'}", "strict=true"]
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and "strict=true" in err and "some_made_up_key" in err
    assert "adam_epsilon" in err
    code, _, _ = run_cli(
        ["train", f"file={DATA / 'cartpole-ppo.yaml'}", "strict=true", "--cfg"], capsys
    )
    assert code == 0


def test_framework_tf_is_a_one_line_notice(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["train", f"file={DATA / 'cartpole-ppo-new.yaml'}", "--cfg"], capsys)
    assert code == 0
    assert err.strip().splitlines() == [
        f"rlrun: note: {DATA / 'cartpole-ppo-new.yaml'}, experiment 'cartpole-ppo': "
        "framework: tf2 -> rlrun runs on torch."
    ]


# --- malformed files: one paragraph, exit 2 ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("- run: PPO\n", ["holds a list, not a mapping of experiments"]),
        ("", ["is empty"]),
        ("{}", ["holds no experiments"]),
        ("e: {run: {grid_search: [PPO, DQN]}, env: CartPole-v1}", ["run={'grid_search'"]),
        ("e: {run: PPO, env: [", ["not valid YAML", "line 1"]),
        ("e: {run: PPO, run: DQN, env: CartPole-v1}", ["'run' appears twice"]),
        ("e: 3\n", ["experiment 'e'", "is a number, not a mapping"]),
        ("e: {env: CartPole-v1}\n", ["experiment 'e'", "has no 'run'"]),
        ("e: {run: DreamerV3, env: CartPole-v1}\n", ["run=DreamerV3", "Allowed: PPO, DQN, SAC"]),
        ("e: {run: PPO}\n", ["env=null", "needs an environment"]),
        ("e: {run: PPO, env: CartPol-v1}\n", ["env.id=CartPol-v1", "Did you mean CartPole-v1"]),
        ("e: {run: PPO, env: CartPole-v1, config: 3}\n", ["config=3", "must be a mapping"]),
        ("e: {run: PPO, env: CartPole-v1, config: {framework: pytorch}}\n", ["framework=pytorch"]),
        ("e: {run: PPO, env: CartPole-v1, stop: {timesteps_total: lots}}\n",
         ["stop.timesteps_total=lots", "must be a number"]),
        ("e: {run: PPO, env: CartPole-v1, config: {num_workers: -1}}\n",
         ["(num_workers in the file)", "env_runner.num_env_runners=-1", "an integer >= 0"]),
        ("e: {run: PPO, env: CartPole-v1, config: {gamma: abc}}\n",
         ["(gamma in the file)", "algo.gamma=abc", "wrong type"]),
        ("e: {run: PPO, env: CartPole-v1, config: {lr: fast}}\n", ["(lr in the file)", "algo.lr=fast"]),
        ("e: {run: PPO, env: CartPole-v1, config: {train_batch_size: big}}\n",
         ["train_batch_size=big", "must be an integer"]),
        ("e: {run: PPO, env: CartPole-v1, config: {model: {fcnet_activation: gelu}}}\n",
         ["algo.model.fcnet_activation=gelu", "(model.fcnet_activation in the file)"]),
        ("e: {run: PPO, env: CartPole-v1, config: {num_workers: 1, num_env_runners: 2}}\n",
         ["num_env_runners=2", "as num_workers does", "keep one"]),
        ("e: {run: PPO, env: CartPole-v1, config: {lr: {grid_search: []}}}\n",
         ["non-empty list"]),
        ("e: {run: PPO, env: CartPole-v1, config: {model: {fcnet_hiddens: [{grid_search: [1, 2]}]}}}\n",
         ["grid_search inside a list"]),
        ("e: {run: PPO, env: {grid_search: [CartPole-v1, 3]}}\n", ["needs an environment"]),
        ("e: {run: PPO, env: {grid_search: [CartPole-v1, CartPol-v1]}}\n",
         ["env.id=CartPol-v1", "Did you mean CartPole-v1"]),
    ],
)  # fmt: skip
def test_malformed_files(
    tmp_path: Path, text: str, needles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, text)
    code, _, err = run_cli(["train", f"file={path}"], capsys)
    assert code == 2
    assert err.startswith("rlrun: error:") and len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["train", "file=/no/such/file.yaml"], ["file=/no/such/file.yaml", "no such file"]),
        (["train", "file=tests"], ["is not a file"]),
        (["train", "strict=true"], ["needs file=PATH"]),
        (["train", f"file={DATA / 'cartpole-ppo.yaml'}", "strict=maybe"], ["strict=maybe", "true or false"]),
        (["convert", "file=/no/such/file.yaml"], ["no such file"]),
        (["convert", f"file={DATA / 'cartpole-ppo.yaml'}", "seed=3"], ["not seed=3"]),
        (["convert", f"file={DATA / 'cartpole-ppo.yaml'}", "--bogus"], ["unknown option '--bogus'"]),
        (["convert", f"file={DATA / 'cartpole-ppo.yaml'}", "--out"], ["--out needs a directory"]),
    ],
)  # fmt: skip
def test_bad_arguments(
    argv: list[str], needles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    for needle in needles:
        assert needle in err, (needle, err)


def test_a_bad_value_in_a_later_experiment_fails_before_any_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "a: {run: PPO, env: CartPole-v1}\nb: {run: PPO, env: CartPole-v1, "
                 "config: {gamma: 2}}\n")  # fmt: skip
    monkeypatch.setattr(cli, "train_command", lambda args: pytest.fail("trained"))
    with pytest.raises(ConfigError, match=r"experiment 'b' \(gamma in the file\): algo.gamma=2"):
        commands.train_file([f"file={path}"])


# --- convert ---------------------------------------------------------------------------------------


def test_convert_prints_one_document_per_experiment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "a: {run: PPO, env: CartPole-v1}\nb: {run: DQN, env: MountainCar-v0}\n")
    code, out, _ = run_cli(["convert", f"file={path}"], capsys)
    assert code == 0
    docs = out.split("\n---\n")
    assert len(docs) == 2 and all(d.startswith("# @package _global_\n") for d in docs)
    assert "override /env: gym" in docs[1] and "id: MountainCar-v0" in docs[1]


def test_convert_out_writes_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "exp"
    code, out, _ = run_cli(
        ["convert", f"file={DATA / 'pendulum-sac.yaml'}", "--out", str(out_dir)], capsys
    )
    assert code == 0 and f"wrote {out_dir / 'pendulum-sac.yaml'}" in out
    assert (out_dir / "pendulum-sac.yaml").read_text().startswith("# @package _global_\n")


def test_convert_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["convert", "--help"], capsys)
    assert code == 0 and "usage: rlrun convert file=" in out
    code, out, _ = run_cli(["--help"], capsys)
    assert "convert" in out and "file=cartpole-ppo.yaml" in out
    code, out, _ = run_cli(["train", "--help"], capsys)
    assert "file=PATH" in out and "strict=true" in out


def test_the_docs_table_names_every_mapped_key() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "rllib_yaml.md").read_text()
    tables = [M.CONFIG, M.MODEL, M.REPLAY, M.OPTIMIZATION, M.EVALUATION_CONFIG, M.EXPERIMENT]
    keys = [k for table in [*tables, M.CHECKPOINT_CONFIG] for k in table]
    keys += [*M.STOP_TIMESTEPS, *M.NO_EFFECT, *M.SAME_AS_RLRUN, *M.WHY_NOT]
    missing = [
        k for k in keys if not re.search(rf"(?<![\w]){re.escape(k.split('.')[-1])}(?![\w])", doc)
    ]
    assert not missing, f"docs/rllib_yaml.md does not mention {missing}"


# --- RLlib's defaults for what a file leaves out (docs/rllib_yaml.md, "Defaults that differ") ---

# RLlib 2.x's values, read from its AlgorithmConfig, PPOConfig, DQNConfig and SACConfig (and, for
# the old API stack, the 2.x releases' old-stack configs), in rlrun's keys. Keys where RLlib and
# rlrun agree are here too: the composed config must hold RLlib's value for every one.
RLLIB_DEFAULTS: dict[str, dict[str, Any]] = {
    "PPO": {
        "algo.lr": 5e-5,
        "algo.gamma": 0.99,
        "algo.train_batch_size_per_learner": 4000,
        "algo.minibatch_size": 128,
        "algo.num_epochs": 30,
        "algo.lambda_": 1.0,
        "algo.clip_param": 0.3,
        "algo.vf_loss_coeff": 2.0,  # RLlib's 1.0 on (V - T)^2 is 2.0 on rlrun's 0.5 (V - T)^2
        "algo.vf_loss_clip": 10.0,  # RLlib's vf_clip_param
        "algo.vf_clip_param": None,
        "algo.use_kl_loss": True,
        "algo.kl_coeff": 0.2,
        "algo.kl_target": 0.01,
        "algo.entropy_coeff": 0.0,
        "algo.grad_clip": None,
        "algo.model.fcnet_hiddens": [256, 256],
        "algo.model.fcnet_activation": "tanh",
        "algo.model.head_fcnet_hiddens": [],
        "algo.model.vf_share_layers": False,
        "algo.model.free_log_std": False,
        "algo.model.use_lstm": False,
        "algo.model.lstm_cell_size": 256,
        "algo.model.max_seq_len": 20,
        # RLlib's 2 remote env runners x 1 env: the same two env streams, in the driver.
        "env_runner.num_env_runners": 0,
        "env_runner.num_envs_per_env_runner": 2,
        "env_runner.rollout_fragment_length": "auto",
        "env_runner.observation_filter": "NoFilter",
        "env_runner.metrics_num_episodes_for_smoothing": 100,
        "env_runner.sample_timeout_s": 60.0,
        "evaluation.interval": 0,
        "evaluation.duration": 10,
        "evaluation.explore": True,
        "checkpoint.at_end": False,
        "fault_tolerance.delay_between_env_runner_restarts_s": 60.0,
    },
    "DQN": {
        "algo.lr": 5e-4,
        "algo.gamma": 0.99,
        "algo.train_batch_size_per_learner": 32,
        "algo.grad_clip": 40.0,
        "algo.learning_starts": 1000,
        "algo.n_step": 1,
        "algo.tau": 1.0,
        "algo.target_network_update_freq": 500,
        "algo.double_q": True,
        "algo.dueling": True,
        "algo.num_atoms": 1,
        "algo.epsilon": [[0, 1.0], [10000, 0.05]],
        "algo.replay.prioritized": True,
        "algo.replay.capacity": 50000,
        "algo.replay.alpha": 0.6,
        "algo.replay.beta": 0.4,
        "algo.min_sample_timesteps_per_iteration": 1000,
        "algo.model.fcnet_hiddens": [256, 256],
        "algo.model.fcnet_activation": "tanh",
        "algo.model.head_fcnet_hiddens": [],
        # "auto": the batch of 32 over 1 sub-env; one update per round: 32 replayed per 32.
        "env_runner.rollout_fragment_length": 32,
        "algo.training_intensity": 1.0,
        "env_runner.num_env_runners": 0,
        "env_runner.num_envs_per_env_runner": 1,
        "evaluation.explore": False,
        "checkpoint.at_end": False,
    },
    "SAC": {
        "algo.actor_lr": 3e-5,
        "algo.critic_lr": 3e-4,
        "algo.alpha_lr": 3e-4,
        "algo.gamma": 0.99,
        "algo.tau": 0.005,
        "algo.target_network_update_freq": 0,
        "algo.initial_alpha": 1.0,
        "algo.target_entropy": "auto",
        "algo.twin_q": True,
        "algo.n_step": 1,
        "algo.grad_clip": None,
        "algo.train_batch_size_per_learner": 256,
        "algo.learning_starts": 1500,
        "algo.min_sample_timesteps_per_iteration": 100,
        "algo.replay.capacity": 1_000_000,
        "algo.replay.prioritized": True,
        "algo.model.fcnet_hiddens": [256, 256],
        "algo.model.fcnet_activation": "tanh",
        "env_runner.rollout_fragment_length": 256,
        "algo.training_intensity": 1.0,
        "env_runner.num_env_runners": 0,
        "env_runner.num_envs_per_env_runner": 1,
        "evaluation.explore": True,
        "checkpoint.at_end": False,
    },
    # RLlib's IMPALAConfig and APPOConfig: 2 remote runners as 2 sub-envs in the driver.
    "IMPALA": {
        "algo.lr": 5e-4,
        "algo.train_batch_size_per_learner": 500,
        "algo.vtrace_clip_rho_threshold": 1.0,
        "algo.vtrace_clip_pg_rho_threshold": 1.0,
        "algo.vf_loss_coeff": 0.5,
        "algo.entropy_coeff": 0.01,
        "algo.grad_clip": 40.0,
        "algo.broadcast_interval": 1,
        "algo.max_requests_in_flight_per_env_runner": 1,
        "algo.circular_buffer_num_batches": 1,
        "algo.circular_buffer_iterations_per_batch": 1,
        "algo.model.fcnet_hiddens": [256, 256],
        "env_runner.rollout_fragment_length": 50,
        "env_runner.num_env_runners": 0,
        "env_runner.num_envs_per_env_runner": 2,
        "evaluation.explore": True,
        "checkpoint.at_end": False,
    },
    "APPO": {
        "algo.lr": 5e-4,
        "algo.train_batch_size_per_learner": 500,
        "algo.clip_param": 0.4,
        "algo.use_kl_loss": False,
        "algo.kl_coeff": 1.0,
        "algo.kl_target": 0.01,
        "algo.target_network_update_freq": 2,
        "algo.tau": 1.0,
        "algo.circular_buffer_num_batches": 8,
        "algo.circular_buffer_iterations_per_batch": 2,
        "algo.max_requests_in_flight_per_env_runner": 1,
        "algo.model.fcnet_hiddens": [256, 256],
        "env_runner.rollout_fragment_length": 50,
        "env_runner.num_envs_per_env_runner": 2,
        "evaluation.explore": True,
    },
}
# Where the old API stack's defaults differ (a file marked # @OldAPIStack, or with old keys).
RLLIB_OLD_STACK: dict[str, dict[str, Any]] = {
    "PPO": {},
    "IMPALA": {},
    "APPO": {},
    "DQN": {
        "algo.model.head_fcnet_hiddens": [256],  # hiddens: [256], ReLU
        "algo.model.head_fcnet_activation": "relu",
        "algo.epsilon": [[0, 1.0], [10000, 0.02]],  # EpsilonGreedy
        "env_runner.rollout_fragment_length": 4,
        "algo.training_intensity": 8.0,  # one batch of 32 per 4 steps
    },
    "SAC": {
        "algo.actor_lr": 3e-4,
        "algo.model.fcnet_activation": "relu",
        "env_runner.rollout_fragment_length": 1,
        "algo.training_intensity": 256.0,  # one batch of 256 per step
    },
}


def composed(tmp_path: Path, text: str) -> Any:
    (exp,) = convert_file(write(tmp_path, text))
    cfg = compose(to_overrides(exp))
    validate(cfg)
    return exp, cfg


@pytest.mark.parametrize("algo", ["PPO", "DQN", "SAC", "IMPALA", "APPO"])
@pytest.mark.parametrize("stack", ["new", "old"])
def test_an_empty_file_gets_rllibs_defaults(tmp_path: Path, algo: str, stack: str) -> None:
    env = "Pendulum-v1" if algo == "SAC" else "CartPole-v1"
    mark = "# @OldAPIStack\n" if stack == "old" else ""
    exp, cfg = composed(tmp_path, f"{mark}e: {{run: {algo}, env: {env}}}\n")
    assert exp.stack == stack and exp.values == {}
    expected = {**RLLIB_DEFAULTS[algo], **(RLLIB_OLD_STACK[algo] if stack == "old" else {})}
    wrong = {
        key: (OmegaConf.select(cfg, key), want)
        for key, want in expected.items()
        if OmegaConf.select(cfg, key) != want
    }
    assert not wrong, wrong
    assert cfg.seed == 0  # rlrun's seed stays: RLlib's None is a random one


@pytest.mark.parametrize("algo", ["MARWIL", "BC", "CQL"])
def test_offline_files_read_their_data_and_budget_in_iterations(algo: str, tmp_path: Path) -> None:
    env = "Pendulum-v1" if algo == "CQL" else "CartPole-v1"
    data = str(Path(__file__).resolve().parents[2] / "tuned_examples" / "data" / "cartpole_expert")
    text = f"e: {{run: {algo}, env: {env}, stop: {{timesteps_total: 20000}},"
    text += f" config: {{input: {data}}}}}\n"
    (exp,) = convert_file(write(tmp_path, text))
    batch = {"MARWIL": 2000, "BC": 2000, "CQL": 256}[algo]
    assert exp.values["offline_data.input_"] == data
    assert exp.values["stop.iterations"] == -(-20000 // batch)
    assert "stop.timesteps" not in exp.values and "stop.timesteps" not in exp.settings
    assert any("recorded steps read" in n for n in exp.notes)
    if algo != "CQL":  # the CartPole data does not fit Pendulum; composing does not read it
        validate(compose(to_overrides(exp)))
    with pytest.raises(ConfigError, match="learns from recorded data only"):
        convert_file(write(tmp_path, text.replace(f"input: {data}", "input: sampler")))


def test_simple_q_is_dqn_without_its_improvements(tmp_path: Path) -> None:
    exp, cfg = composed(tmp_path, "e: {run: SimpleQ, env: CartPole-v1}\n")
    assert (exp.algo, exp.preset, exp.stack) == ("DQN", "SimpleQ", "old")
    assert cfg.algo.name == "DQN"
    assert (cfg.algo.double_q, cfg.algo.dueling, cfg.algo.n_step) == (False, False, 1)
    assert cfg.algo.replay.prioritized is False and cfg.algo.model.head_fcnet_hiddens == []
    # SimpleQ's old-stack DQN values: one batch of 32 per 4-step fragment, 8 per step.
    assert cfg.algo.train_batch_size_per_learner == 32 and cfg.algo.training_intensity == 8.0
    assert cfg.algo.target_network_update_freq == 500
    assert any("SimpleQ" in n for n in exp.notes)


def test_apex_is_dqn_on_many_runners_with_prioritized_replay(tmp_path: Path) -> None:
    (exp,) = convert_file(write(tmp_path, "e: {run: APEX, env: CartPole-v1}\n"))
    cfg = compose(to_overrides(exp))  # validated as on a cluster: 32 runners do not fit here
    assert (exp.algo, exp.preset) == ("DQN", "APEX")
    assert cfg.env_runner.num_env_runners == 32 and cfg.env_runner.rollout_fragment_length == 50
    assert (cfg.algo.n_step, cfg.algo.replay.prioritized, cfg.algo.replay.capacity) == (
        3,
        True,
        2_000_000,
    )
    assert cfg.algo.train_batch_size_per_learner == 512
    assert (cfg.algo.learning_starts, cfg.algo.min_sample_timesteps_per_iteration) == (
        50_000,
        25_000,
    )
    # Ape-X replays training_intensity transitions per sampled one, rlrun's meaning too; its
    # target update counts trained samples, rlrun's env steps.
    assert cfg.algo.training_intensity == 1.0
    assert cfg.algo.target_network_update_freq == 500_000
    exp, cfg = composed(
        tmp_path,
        "e: {run: APEX, env: CartPole-v1, config: {num_workers: 1, training_intensity: 4,"
        " target_network_update_freq: 500}}\n",
    )
    assert cfg.algo.training_intensity == 4.0 and cfg.algo.target_network_update_freq == 125


def test_cli_presets_simple_q_and_apex() -> None:
    cfg = compose(["algo=simple_q"])
    assert (cfg.algo.name, cfg.algo.double_q, cfg.algo.dueling, cfg.algo.n_step) == (
        "DQN",
        False,
        False,
        1,
    )
    cfg = compose(["algo=apex", "env_runner=ray"])
    assert (cfg.algo.name, cfg.algo.n_step, cfg.algo.replay.prioritized) == ("DQN", 3, True)
    assert cfg.env_runner.num_env_runners == 2


def test_every_default_is_in_the_docs_table() -> None:
    from rlrun.rllib_yaml import defaults as D

    doc = (Path(__file__).resolve().parents[2] / "docs" / "rllib_yaml.md").read_text()
    section = doc.split("## Defaults that differ", 1)[1].split("\n## ", 1)[0]
    tables = (D.COMMON, *D.TABLES.values(), *D.PRESETS.values())
    keys = {d.key for table in tables for d in table}
    keys |= {"algo.train_batch_size_per_learner", "algo.minibatch_size", "algo.training_intensity"}
    keys |= {"env_runner.num_env_runners", "env_runner.rollout_fragment_length"}
    missing = [k for k in sorted(keys) if f"`{k.removeprefix('algo.')}`" not in section]
    assert not missing, f"the defaults table does not name {missing}"


def test_defaults_follow_the_files_own_values(tmp_path: Path) -> None:
    # Two learners: RLlib's train_batch_size counts both.
    _, cfg = composed(tmp_path, "e: {run: PPO, env: CartPole-v1, config: {num_learners: 2}}")
    assert cfg.algo.train_batch_size_per_learner == 2000
    # A batch below RLlib's minibatch of 128: the minibatch is the batch (RLlib would refuse).
    _, cfg = composed(tmp_path, "e: {run: PPO, env: CartPole-v1, config: {train_batch_size: 64}}")
    assert cfg.algo.minibatch_size == 64
    # PPO's 2 env runners with 4 envs each: 8 sub-envs in the driver.
    _, cfg = composed(
        tmp_path, "e: {run: PPO, env: CartPole-v1, config: {num_envs_per_env_runner: 4}}"
    )
    assert (cfg.env_runner.num_env_runners, cfg.env_runner.num_envs_per_env_runner) == (0, 8)
    # Runners the file asks for are Ray actors, each with RLlib's 1 env.
    _, cfg = composed(tmp_path, "e: {run: PPO, env: CartPole-v1, config: {num_workers: 1}}")
    assert (cfg.env_runner.num_env_runners, cfg.env_runner.num_envs_per_env_runner) == (1, 1)


@pytest.mark.parametrize(
    ("config", "fragment", "intensity"),
    [
        # pendulum-sac: 1-step fragments, one batch of 256 each: one update per env step.
        ("{rollout_fragment_length: 1, train_batch_size: 256}", 1, 256.0),
        # RLlib's auto fragment is the batch over the sub-envs: 1 replayed per sampled step.
        ("{train_batch_size: 64, num_envs_per_env_runner: 4}", 16, 1.0),
        ("{rollout_fragment_length: auto, train_batch_size: 100}", 100, 1.0),
        # A given ratio holds without remote runners ...
        ("{rollout_fragment_length: 4, training_intensity: 16}", 4, 16.0),
        # ... with them, RLlib's ratio counts the driver's runner too: 2 runners -> x 3/2.
        (
            "{rollout_fragment_length: 4, training_intensity: 16, num_workers: 2, "
            "train_batch_size: 32, num_cpus_per_worker: 0.5}",
            4,
            24.0,
        ),
        # null is RLlib's natural ratio.
        ("{rollout_fragment_length: 2, training_intensity: null}", 2, 128.0),
    ],
)
def test_replay_ratio_is_rllibs(
    tmp_path: Path, config: str, fragment: int, intensity: float
) -> None:
    exp, cfg = composed(tmp_path, f"e: {{run: SAC, env: Pendulum-v1, config: {config}}}")
    assert cfg.env_runner.rollout_fragment_length == fragment
    assert cfg.algo.training_intensity == pytest.approx(intensity)
    assert "training_intensity" not in exp.ignored


def test_replay_ratio_rounds_as_rllib() -> None:
    from rlrun.rllib_yaml.defaults import replay_ratio

    # RLlib's weights: intensity / native ratio, rounded to whole rounds of sampling or updates.
    assert replay_ratio(None, 32, 4, 1, 0) == 8.0
    assert replay_ratio(12, 32, 4, 1, 0) == 16.0  # 12/8 = 1.5 rounds to 2 batches per round
    assert replay_ratio(2, 32, 4, 1, 0) == 2.0  # 2/8: one batch every 4 rounds
    assert replay_ratio(16, 32, 4, 1, 3) == pytest.approx(16 * 4 / 3)


def test_the_files_values_beat_the_defaults(tmp_path: Path) -> None:
    exp, cfg = composed(
        tmp_path,
        "e: {run: DQN, env: CartPole-v1, config: {lr: 0.01, n_step: 3, grad_clip: null, "
        "model: {fcnet_activation: relu}, replay_buffer_config: {type: ReplayBuffer}}}",
    )
    assert (cfg.algo.lr, cfg.algo.n_step, cfg.algo.grad_clip) == (0.01, 3, None)
    assert cfg.algo.model.fcnet_activation == "relu" and cfg.algo.replay.prioritized is False
    assert "algo.lr" not in exp.defaults or exp.settings["algo.lr"] == 0.01


# --- which API stack a file was written for ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stack"),
    [
        ("e: {run: DQN, env: CartPole-v1}", "new"),
        ("# @OldAPIStack\ne: {run: DQN, env: CartPole-v1}", "old"),
        ("e: {run: DQN, env: CartPole-v1, config: {model: {fcnet_hiddens: [64]}}}", "old"),
        ("e: {run: DQN, env: CartPole-v1, config: {model_config: {fcnet_hiddens: [64]}}}", "new"),
        ("e: {run: DQN, env: CartPole-v1, stop: {episode_reward_mean: 100}}", "old"),
        ("e: {run: SAC, env: Pendulum-v1, config: {replay_buffer_config: "
         "{type: MultiAgentPrioritizedReplayBuffer}}}", "old"),
        ("e: {run: SAC, env: Pendulum-v1, config: {replay_buffer_config: "
         "{type: PrioritizedEpisodeReplayBuffer}}}", "new"),
        # The switches say it outright, whatever the keys.
        ("# @OldAPIStack\ne: {run: DQN, env: CartPole-v1, config: "
         "{enable_rl_module_and_learner: true, model: {}}}", "new"),
        ("e: {run: DQN, env: CartPole-v1, config: {api_stack: "
         "{enable_rl_module_and_learner: false}}}", "old"),
    ],
)  # fmt: skip
def test_the_stack_is_read_from_the_file(tmp_path: Path, text: str, stack: str) -> None:
    assert one(write(tmp_path, text)).stack == stack


def test_an_old_stack_file_says_so(tmp_path: Path) -> None:
    exp = one(write(tmp_path, "e: {run: DQN, env: CartPole-v1, config: {hiddens: [64]}}"))
    assert any("old-API-stack" in n and "hiddens" in n for n in exp.notes)
    ppo = one(write(tmp_path, "e: {run: PPO, env: CartPole-v1, config: {model: {}}}"))
    assert ppo.notes == []  # PPO's defaults are the same on both stacks


# --- keys of RLlib's real files -----------------------------------------------------------------


def test_q_model_and_policy_model_are_the_old_spellings(tmp_path: Path) -> None:
    exp, cfg = composed(
        tmp_path,
        "e: {run: SAC, env: Pendulum-v1, config: {Q_model: {fcnet_hiddens: [32], "
        "fcnet_activation: relu}, policy_model: {fcnet_hiddens: [32], fcnet_activation: relu}}}",
    )
    assert cfg.algo.model.fcnet_hiddens == [32] and exp.ignored == {}
    dqn = one(write(tmp_path, "e: {run: DQN, env: CartPole-v1, config: {Q_model: {}}}"))
    assert "Q_model" in dqn.ignored


def test_hiddens_are_dqns_head_layers(tmp_path: Path) -> None:
    _, cfg = composed(tmp_path, "e: {run: DQN, env: CartPole-v1, config: {hiddens: [128, 64]}}")
    assert cfg.algo.model.head_fcnet_hiddens == [128, 64]
    _, cfg = composed(tmp_path, "e: {run: DQN, env: CartPole-v1, config: {hiddens: []}}")
    assert cfg.algo.model.head_fcnet_hiddens == []
    # rlrun's heads are per head: the linear encoder keeps its ReLU head on top, as in RLlib.
    _, cfg = composed(
        tmp_path, "# @OldAPIStack\ne: {run: DQN, env: CartPole-v1, config: "
        "{model: {fcnet_hiddens: [64], fcnet_activation: linear}}}",
    )  # fmt: skip
    assert cfg.algo.model.fcnet_activation == "linear"
    assert (cfg.algo.model.head_fcnet_hiddens, cfg.algo.model.head_fcnet_activation) == (
        [256],
        "relu",
    )
    ppo = one(write(tmp_path, "e: {run: PPO, env: CartPole-v1, config: {hiddens: [64]}}"))
    assert "hiddens" in ppo.ignored


@pytest.mark.parametrize(
    ("config", "ignored", "epsilon"),
    [
        ("{exploration_config: {type: EpsilonGreedy, final_epsilon: 0.1}}", [], [[0, 1.0], [10000, 0.1]]),
        ("{exploration_config: {type: ray.rllib.utils.exploration.EpsilonGreedy}}", [],
         [[0, 1.0], [10000, 0.02]]),
        # Other explorations: reported, and RLlib's EpsilonGreedy defaults explore instead.
        ("{exploration_config: {type: SoftQ, temperature: 0.5}}", ["exploration_config"],
         [[0, 1.0], [10000, 0.02]]),
        ("{exploration_config: {type: ParameterNoise}}", ["exploration_config"],
         [[0, 1.0], [10000, 0.02]]),
    ],
)  # fmt: skip
def test_dqn_exploration(tmp_path: Path, config: str, ignored: list[str], epsilon: Any) -> None:
    exp, cfg = composed(tmp_path, f"e: {{run: DQN, env: CartPole-v1, config: {config}}}")
    assert list(exp.ignored) == ignored and cfg.algo.epsilon == epsilon
    if ignored:
        assert "explores epsilon-greedily" in exp.ignored["exploration_config"]


def test_ppo_and_sac_exploration(tmp_path: Path) -> None:
    for config in ("{exploration_config: {}}", "{exploration_config: {type: StochasticSampling}}"):
        assert (
            one(write(tmp_path, f"e: {{run: PPO, env: CartPole-v1, config: {config}}}")).ignored
            == {}
        )
    exp = one(write(tmp_path, "e: {run: SAC, env: Pendulum-v1, config: "
                    "{exploration_config: {type: GaussianNoise}}}"))  # fmt: skip
    assert "by sampling its policy" in exp.ignored["exploration_config"]


def test_noisy_without_epsilon_warns_that_exploration_is_missing(tmp_path: Path) -> None:
    exp = one(write(tmp_path, "e: {run: DQN, env: CartPole-v1, config: {noisy: true, "
                    "exploration_config: {epsilon_timesteps: 2, final_epsilon: 0.0}}}"))  # fmt: skip
    assert "no exploration" in exp.ignored["noisy"]
    exp = one(write(tmp_path, "e: {run: DQN, env: CartPole-v1, config: {noisy: true}}"))
    assert "noisy nets" in exp.ignored["noisy"] and "no exploration" not in exp.ignored["noisy"]
    assert (
        one(write(tmp_path, "e: {run: DQN, env: CartPole-v1, config: {noisy: false}}")).ignored
        == {}
    )


def test_fake_gpus_run_on_cpu(tmp_path: Path) -> None:
    exp, cfg = composed(
        tmp_path,
        "e: {run: PPO, env: CartPole-v1, config: {num_gpus: 2, _fake_gpus: true, "
        "num_gpus_per_worker: 0.5}}",
    )
    assert cfg.learner.num_gpus_per_learner == 0 and cfg.env_runner.num_gpus_per_env_runner == 0
    assert exp.ignored == {}
    (note,) = exp.notes
    assert "runs on CPU" in note and "num_gpus: 2" in note
    # Without _fake_gpus the GPUs are asked for.
    _, cfg = composed(tmp_path, "e: {run: PPO, env: CartPole-v1, config: {num_gpus: 1}}")
    assert cfg.learner.num_gpus_per_learner == 1


def test_a_gpu_error_after_start_names_the_files_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_gpu(args: list[str]) -> int:  # what the learner raises where torch sees no GPU
        raise ConfigError("learner.num_gpus_per_learner", 2.0, "asks for a GPU but torch sees none")

    monkeypatch.setattr(cli, "train_command", no_gpu)
    path = write(tmp_path, "e: {run: PPO, env: CartPole-v1, config: {num_gpus: 2}}")
    with pytest.raises(ConfigError, match=r"experiment 'e' \(num_gpus in the file\): learner"):
        commands.train_file([f"file={path}"])


@pytest.mark.parametrize(
    ("config", "notes", "ignored"),
    [
        ("{no_done_at_end: false, soft_horizon: false}", 0, []),
        ("{no_done_at_end: true}", 1, []),
        ("{soft_horizon: true}", 0, ["soft_horizon"]),
        ("{clip_actions: true}", 0, []),
        ("{clip_actions: false, normalize_actions: false}", 0, []),
    ],
)
def test_episode_and_action_keys(
    tmp_path: Path, config: str, notes: int, ignored: list[str]
) -> None:
    exp = one(write(tmp_path, f"e: {{run: SAC, env: Pendulum-v1, config: {config}}}"))
    own = [n for n in exp.notes if not n.startswith("read as an old-API-stack file")]
    assert len(own) == notes and list(exp.ignored) == ignored


def test_normalize_actions_rescales_ppos_actions(tmp_path: Path) -> None:
    from rlrun.rllib_yaml.actions import NormalizeActions

    # RLlib's default: on Pendulum's [-2, 2] the policy acts in [-1, 1].
    exp, cfg = composed(tmp_path, "e: {run: PPO, env: Pendulum-v1}")
    (piece,) = OmegaConf.to_container(cfg.connectors.module_to_env)
    assert piece == {
        "name": "rlrun.rllib_yaml.actions:NormalizeActions",
        "low": [-2.0],
        "high": [2.0],
    }
    assert exp.default_sources["connectors.module_to_env"] == "normalize_actions"
    rescale = NormalizeActions(low=[-2.0, 0.0], high=[2.0, 10.0])
    out = rescale(np.array([[-1.0, -1.0], [0.0, 0.5], [1.5, 1.0]], dtype=np.float32))
    assert out.tolist() == [[-2.0, 0.0], [0.0, 7.5], [3.0, 10.0]]  # rlrun then clips 3.0 to 2.0
    # Turned off, on Discrete actions, and for SAC (which rescales anyway): no piece.
    for text in (
        "e: {run: PPO, env: Pendulum-v1, config: {normalize_actions: false}}",
        "e: {run: PPO, env: CartPole-v1, config: {normalize_actions: true}}",
        "e: {run: SAC, env: Pendulum-v1, config: {normalize_actions: true}}",
    ):
        exp, cfg = composed(tmp_path, text)
        assert cfg.connectors.module_to_env == [] and exp.ignored == {}, text


def test_vf_clip_param_is_rllibs_loss_clip(tmp_path: Path) -> None:
    exp, cfg = composed(
        tmp_path,
        "e: {run: PPO, env: CartPole-v1, config: {vf_clip_param: 5.0, vf_loss_coeff: 0.5}}",
    )
    assert (cfg.algo.vf_loss_clip, cfg.algo.vf_clip_param, cfg.algo.vf_loss_coeff) == (
        5.0,
        None,
        1.0,
    )
    assert exp.sources["algo.vf_loss_clip"] == "vf_clip_param" and exp.ignored == {}
    _, cfg = composed(tmp_path, "e: {run: PPO, env: CartPole-v1, config: {vf_clip_param: .inf}}")
    assert cfg.algo.vf_loss_clip is None


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("{use_lstm: true, lstm_cell_size: 32, max_seq_len: 8, lstm_use_prev_action: true, "
         "lstm_use_prev_reward: true}",
         {"use_lstm": True, "lstm_cell_size": 32, "max_seq_len": 8, "lstm_use_prev_action": True,
          "lstm_use_prev_reward": True}),
        ("{use_lstm: true, lstm_use_prev_action_reward: true}",
         {"lstm_use_prev_action": True, "lstm_use_prev_reward": True}),
        ("{conv_filters: [[16, [8, 8], 4], [32, 4, [2, 2]]], conv_activation: elu}",
         {"conv_filters": [[16, 8, 4], [32, 4, 2]], "conv_activation": "elu"}),
        ("{post_fcnet_hiddens: [64], post_fcnet_activation: swish}",
         {"head_fcnet_hiddens": [64], "head_fcnet_activation": "silu"}),
        ("{head_fcnet_hiddens: [32], vf_share_layers: true, free_log_std: true}",
         {"head_fcnet_hiddens": [32], "vf_share_layers": True, "free_log_std": True}),
        ("{custom_model: null, custom_model_config: {}, use_attention: false, dim: 84}", {}),
    ],
)  # fmt: skip
def test_model_keys(tmp_path: Path, model: str, expected: dict[str, Any]) -> None:
    exp, cfg = composed(tmp_path, f"e: {{run: PPO, env: CartPole-v1, config: {{model: {model}}}}}")
    assert exp.ignored == {}
    assert {k: cfg.algo.model[k] for k in expected} == expected


def test_model_keys_an_algorithm_does_not_use_are_reported(tmp_path: Path) -> None:
    exp, cfg = composed(
        tmp_path, "e: {run: DQN, env: CartPole-v1, config: {model: {use_lstm: true, "
        "vf_share_layers: false, free_log_std: false}}}",
    )  # fmt: skip
    assert list(exp.ignored) == ["model.use_lstm"] and "recurrent" in exp.ignored["model.use_lstm"]
    assert cfg.algo.model.use_lstm is False


def test_old_example_env_paths_move(tmp_path: Path) -> None:
    exp = one(write(tmp_path, "e: {run: PPO, env: ray.rllib.examples.env.foo_env.FooEnv}"))
    assert exp.env == "ray.rllib.examples.envs.classes.foo_env:FooEnv"
    assert "moved" in exp.notes[0]


def test_atari_v4_ids_are_made_by_ale_py(tmp_path: Path) -> None:
    exp = one(write(tmp_path, "e: {run: DQN, env: PongNoFrameskip-v4}"))
    assert exp.env == "ale_py:PongNoFrameskip-v4"
    assert exp.values["env.atari_preprocessing"] is True


# --- grid_search over env: one trial per env ----------------------------------------------------


def test_grid_search_over_env_is_a_sweep(tmp_path: Path) -> None:
    text = "e: {run: PPO, env: {grid_search: [CartPole-v1, Acrobot-v1, MountainCar-v0]}}"
    exp = one(write(tmp_path, text))
    assert exp.is_sweep and exp.envs == ("CartPole-v1", "Acrobot-v1", "MountainCar-v0")
    overrides = to_overrides(exp)
    assert "env=gym" in overrides and "env.id=CartPole-v1,Acrobot-v1,MountainCar-v0" in overrides
    assert to_overrides(exp, first_only=True)[1] == "env=CartPole-v1"
    # Hydra reads it as one sweep over env.id.
    (sweep,) = [o for o in overrides if o.startswith("env.id=")]
    assert OverridesParser.create().parse_override(sweep).is_sweep_override()
    text = to_yaml(exp)
    assert "env.id=CartPole-v1,Acrobot-v1,MountainCar-v0" in text and "id: CartPole-v1" in text


def test_grid_search_over_env_runs_as_train_m(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(cli, "train_command", lambda args: calls.append(args) or 0)
    path = write(tmp_path, "e: {run: PPO, env: {grid_search: [CartPole-v1, MountainCar-v0]}, "
                 "config: {lr: {grid_search: [0.1, 0.2]}}}")  # fmt: skip
    assert commands.train_file([f"file={path}"]) == 0
    (args,) = calls
    assert args[0] == "-m" and "env=gym" in args and "algo.lr=0.1,0.2" in args
    assert "env.id=CartPole-v1,MountainCar-v0" in args
    # A command-line env wins over the file's grid.
    calls.clear()
    assert commands.train_file([f"file={path}", "env=Acrobot-v1"]) == 0
    assert not any(a.startswith("env.id=") for a in calls[0]) and calls[0][-1] == "env=Acrobot-v1"


# --- convert does not depend on the machine; train checks resources -----------------------------


BIG = "e: {run: PPO, env: CartPole-v1, config: {num_workers: 63, num_cpus_per_worker: 1}}\n"


def test_convert_takes_a_file_for_a_bigger_machine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["convert", f"file={write(tmp_path, BIG)}"], capsys)
    assert code == 0 and "num_env_runners: 63" in out


def test_train_names_the_files_keys_to_lower(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "train_command", lambda args: pytest.fail("trained"))
    with pytest.raises(ConfigError) as e:
        commands.train_file([f"file={write(tmp_path, BIG)}"])
    assert "ask Ray for 63" in str(e.value)
    assert "(lower num_workers or num_cpus_per_worker in the file)" in str(e.value)


# --- RLlib's own files -------------------------------------------------------------------------

# The real files whose env cannot be made here: Gymnasium 1.x and ale-py have no such id.
NOT_MAKEABLE = {
    "real/dqn/pong-rainbow.yaml": "PongDeterministic-v4",
    "real/impala/pendulum-impala.yaml": "Pendulum-v0",
}
# Offline files whose recorded data is RLlib's own (a path on its machine or in its repository):
# they convert anywhere, and `train` says the data is not there.
NO_DATA = (
    "real/marwil/cartpole-bc.yaml",
    "real/marwil/cartpole-marwil.yaml",
    "real/cql/pendulum-cql.yaml",
)


@pytest.mark.parametrize("name", REAL)
def test_rllibs_own_files_convert_and_compose(name: str, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    shutil.copytree(conf_dir(), conf)
    # As `rlrun convert` checks them: files written for a cluster are validated as placed on one.
    cluster = "ray.address=auto"
    for exp in convert_file(str(DATA / name)):
        from_file = compose([*to_overrides(exp, first_only=True), cluster], config_dir=conf)
        validate(from_file)
        (conf / "experiment" / f"{option_name(exp)}.yaml").write_text(to_yaml(exp))
        converted = compose([f"experiment={option_name(exp)}", cluster], config_dir=conf)
        assert plain(converted) == plain(from_file)


def test_rllibs_own_files_keys(capsys: pytest.CaptureFixture[str]) -> None:
    """What each real file leaves unused: nothing, or keys whose meaning rlrun lacks."""
    lost = {name: sorted(one(DATA / name).ignored) for name in REAL}
    assert lost == {
        "real/dqn/atari-dqn.yaml": ["adam_epsilon"],
        "real/dqn/cartpole-dqn-fake-gpus.yaml": [],
        "real/dqn/cartpole-dqn-param-noise.yaml": ["batch_mode", "exploration_config"],
        "real/dqn/cartpole-dqn-softq.yaml": ["exploration_config"],
        "real/dqn/cartpole-dqn.yaml": [],
        "real/apex_dqn/cartpole-apex-dqn-fake-gpus.yaml": ["optimizer"],
        "real/appo/cartpole-appo-vtrace.yaml": [],
        "real/appo/cartpole-appo-w-rl-modules-and-learner.yaml": [],
        "real/appo/cartpole-appo.yaml": ["vtrace"],
        "real/appo/multi-agent-cartpole-appo.yaml": ["multiagent"],
        "real/appo/pendulum-appo.yaml": ["lambda", "minibatch_buffer_size"],
        "real/cql/pendulum-cql.yaml": ["actions_in_input_normalized"],
        "real/apex_dqn/cartpole-apex-dqn.yaml": ["min_time_s_per_iteration", "optimizer"],
        "real/dqn/pong-rainbow.yaml": [
            "final_prioritized_replay_beta", "gpu", "model.dim", "model.grayscale",
            "model.zero_mean", "noisy", "prioritized_replay_beta_annealing_timesteps",
        ],
        "real/impala/cartpole-impala-fake-gpus.yaml": [],
        "real/impala/cartpole-impala.yaml": [],
        "real/impala/multi-agent-cartpole-impala.yaml": ["multiagent"],
        "real/impala/pendulum-impala.yaml": [],
        "real/marwil/cartpole-bc.yaml": [],
        "real/marwil/cartpole-marwil.yaml": [],
        "real/ppo/atari-ppo.yaml": ["clip_rewards"],
        "real/ppo/cartpole-ppo-fake-gpus.yaml": [],
        "real/ppo/cartpole-ppo-grid-search-example.yaml": [],
        "real/ppo/cartpole-ppo.yaml": [],
        "real/ppo/pendulum-ppo-with-rl-module.yaml": [],
        "real/ppo/pendulum-ppo.yaml": [],
        "real/ppo/pendulum-transformed-actions-ppo.yaml": [],
        "real/ppo/repeatafterme-ppo-lstm.yaml": [],
        "real/sac/cartpole-sac.yaml": [],
        "real/simple_q/cartpole-simpleq.yaml": [],
        "real/sac/pendulum-sac-fake-gpus.yaml": [],
        "real/sac/pendulum-sac-q-model.yaml": [],
        "real/sac/pendulum-sac.yaml": [],
        "real/sac/pendulum-transformed-actions-sac.yaml": [],
    }  # fmt: skip


@pytest.mark.parametrize("name", [n for n in REAL if n not in NOT_MAKEABLE])
def test_rllibs_own_files_pass_train_checks(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every check `rlrun train` makes before training (envs made, resources here) passes,
    except for files that ask for more CPUs than this machine has (a clear exit 2)."""
    monkeypatch.setattr(cli, "train_command", lambda args: 0)
    try:
        assert commands.train_file([f"file={DATA / name}"]) == 0
        assert name not in NO_DATA
    except ConfigError as e:
        if name in NO_DATA:
            assert "offline_data.input_=" in str(e) and "does not exist" in str(e), str(e)
        else:
            assert "ask Ray for" in str(e) and "in the file)" in str(e), str(e)
