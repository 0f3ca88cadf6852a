"""Evaluation during training in the driver (rlrun.algorithms.evaluation), no Ray."""

from __future__ import annotations

import math

import pytest

import rlrun

FIXED = "tests.helpers.envs:FixedLengthEnv"
SMALL = [
    f"env.id={FIXED}",
    "env.env_config={length:5}",
    "algo.train_batch_size_per_learner=64",
    "algo.minibatch_size=32",
    "algo.num_epochs=1",
    "env_runner.num_envs_per_env_runner=2",
]


def run(iterations: int, *overrides: str) -> list[dict]:
    algo = rlrun.build([*SMALL, *overrides])
    try:
        return [algo.train() for _ in range(iterations)]
    finally:
        algo.stop()


def test_evaluates_every_interval_on_its_own_env_config():
    results = run(
        4, "evaluation.interval=2", "evaluation.duration=3", "evaluation.env_config={length:7}"
    )
    assert [("evaluation" in r) for r in results] == [False, True, False, True]
    for r in (results[1], results[3]):
        ev = r["evaluation"]["env_runners"]
        assert ev["num_episodes"] == 3
        # The eval env got its own length; training episodes stay at 5.
        assert ev["episode_len_mean"] == ev["episode_return_mean"] == 7
        assert r["env_runners"]["episode_len_mean"] == 5
        assert "evaluation_iteration_timer" in r["timers"]


def test_evaluation_by_timesteps_counts_only_finished_episodes():
    (result,) = run(1, "evaluation.interval=1", "evaluation.duration_unit=timesteps",
                    "evaluation.duration=12")  # fmt: skip
    ev = result["evaluation"]["env_runners"]
    # 2 sub-envs x 6 steps: one 5-step episode each; the second episodes have not ended.
    assert ev["num_episodes"] == 2 and ev["episode_len_mean"] == 5


def test_evaluation_does_not_touch_training_stats_or_filter():
    algo = rlrun.build(
        [*SMALL, "evaluation.interval=1", "env_runner.observation_filter=MeanStdFilter"]
    )
    try:
        algo.train()
        before = algo.env_runner_group.get_state()
        m = algo.evaluator.evaluate(algo._weights, before["connector"])
        after = algo.env_runner_group.get_state()
        assert m["env_runners"]["num_episodes"] == 10
        assert after["counters"] == before["counters"]
        assert float(after["connector"]["0.count"]) == float(before["connector"]["0.count"])
    finally:
        algo.stop()


def test_no_evaluation_by_default():
    (result,) = run(1)
    assert "evaluation" not in result
    assert not math.isnan(result["env_runners"]["episode_return_mean"])


def test_stop_on_an_evaluation_metric(tmp_path):
    from rlrun.cli import main

    code = main(
        [
            "train",
            *SMALL,
            "evaluation.interval=1",
            "stop.metric=evaluation/env_runners/episode_return_mean",
            "stop.reward=5",
            "stop.iterations=5",
            f"results_dir={tmp_path}",
            "console=off",
        ]
    )
    assert code == 0
    (trial,) = tmp_path.glob("*/*/")
    assert len((trial / "result.json").read_text().splitlines()) == 1


def test_a_typod_evaluation_metric_is_named_once_evaluation_results_exist(tmp_path, capsys):
    from rlrun.cli import main

    code = main(
        [
            "train",
            *SMALL,
            "evaluation.interval=2",
            "stop.metric=evaluation/env_runners/episode_reward_mean",
            f"results_dir={tmp_path}",
            "console=off",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "Did you mean evaluation/env_runners/episode_return_mean" in err
    (trial,) = tmp_path.glob("*/*/")
    # Iteration 1 has no evaluation: the check waits for iteration 2.
    assert len((trial / "result.json").read_text().splitlines()) == 2


@pytest.mark.parametrize("explore", [False, True])
def test_explore_setting_reaches_the_eval_runner(explore):
    algo = rlrun.build([*SMALL, "evaluation.interval=1", f"evaluation.explore={explore}"])
    try:
        assert algo.evaluator.local.explore is explore
    finally:
        algo.stop()


def test_evaluation_by_timesteps_counts_the_steps_when_no_episode_finishes(caplog):
    """A budget shorter than an episode reports the steps it took, no return, and says why."""
    (result,) = run(1, "evaluation.interval=1", "evaluation.duration_unit=timesteps",
                    "evaluation.duration=6", "evaluation.env_config={length:50}")  # fmt: skip
    ev = result["evaluation"]["env_runners"]
    assert ev["num_env_steps_sampled"] == 6 and ev["num_episodes"] == 0
    assert math.isnan(ev["episode_return_mean"])
    assert "no episode finished within 6 env steps" in caplog.text


def test_evaluation_config_overrides_env_and_env_runner_keys():
    """RLlib's evaluation_config: any env or env_runner key, for evaluation only."""
    (result,) = run(
        1,
        "evaluation.interval=1",
        "evaluation.duration=4",
        "evaluation.config={env:{env_config:{length:3}},env_runner:{num_envs_per_env_runner:1}}",
    )
    ev = result["evaluation"]["env_runners"]
    assert ev["episode_len_mean"] == 3 and ev["num_episodes"] == 4
    assert result["env_runners"]["episode_len_mean"] == 5


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("evaluation.duration=auto", "parallel_to_training=true"),
        ("evaluation.duration=0", "an integer >= 1"),
        ("evaluation.config={learner:{num_learners:1}}", "allowed: env, env_runner"),
        ("evaluation.config={env:{idd:x}}", "Did you mean 'id'?"),
        ("evaluation.config={env_runner:{num_env_runners:2}}", "evaluation.num_env_runners"),
    ],
)
def test_bad_evaluation_settings_are_config_errors(override, fragment):
    from rlrun.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        rlrun.build([*SMALL, "evaluation.interval=1", override])
    assert fragment.lower() in str(info.value).lower(), str(info.value)
