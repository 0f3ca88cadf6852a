"""RLlib tuned-example files: `rlrun train file=x.yaml` and `rlrun convert` (docs/rllib_yaml.md).

The files under tests/data/rllib/ are written in RLlib's format for this test: PPO under old and
new key names, DQN and SAC in the old stack's shape, a grid_search and keys with no rlrun home.
Nothing here trains; tests/smoke/test_rllib_file.py runs one file end to end.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

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
    assert exp.ignored == {"hiddens": M.WHY_NOT["hiddens"]}


def test_sac_file() -> None:
    exp = one(DATA / "pendulum-sac.yaml")
    cfg = compose(to_overrides(exp))
    validate(cfg)
    assert (cfg.algo.actor_lr, cfg.algo.critic_lr, cfg.algo.alpha_lr) == (0.001, 0.001, 0.001)
    # One MLP shape for both: the policy's wins and the Q network's is reported.
    assert cfg.algo.model.fcnet_hiddens == [64, 64]
    assert "q_model_config.fcnet_hiddens" in exp.ignored
    assert "normalize_actions" in exp.ignored
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
    for key in ("resources_per_trial", "model.use_lstm", "vf_clip_param", "some_made_up_key"):
        assert len(re.findall(rf"(?<![\w.]){re.escape(key)}\b", line)) == 1, key
    assert "strict=true" in line


def test_strict_makes_them_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train", f"file={DATA / 'unknown-keys.yaml'}", "strict=true"]
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and "strict=true" in err and "some_made_up_key" in err
    assert "vf_clip_param" in err
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
        ("e: {run: APPO, env: CartPole-v1}\n", ["run=APPO", "Allowed: PPO, DQN, SAC"]),
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
        ("e: {run: PPO, env: {grid_search: [CartPole-v1, Acrobot-v1]}}\n", ["grid_search over envs"]),
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
