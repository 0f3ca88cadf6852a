"""`rlrun compare`: finding trials, grouping seeds, labels, the averaged curve, the table, CSV and
PNG, and the exit-2 errors. Trial folders are written by hand; one smoke test compares two real
tiny runs."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rlrun import cli
from rlrun.compare import COMPARE_HELP
from rlrun.results.curves import (
    Trial,
    differing_keys,
    find_trials,
    group_trials,
    load_trial,
    mean_curve,
    series,
    suggest,
)
from tests.helpers.cli import REPO, Run, start, train

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def config(lr: float, seed: int, **algo: Any) -> dict[str, Any]:
    return {
        "algo": {
            "name": "PPO",
            "lr": lr,
            "gamma": 0.99,
            "model": {"fcnet_hiddens": [64, 64]},
            **algo,
        },
        "env": {"id": "CartPole-v1", "env_config": {}},
        "checkpoint": {"frequency": 0},
        "seed": seed,
        "name": "exp",
        "results_dir": "/somewhere",
    }


def make_trial(
    root: Path, name: str, cfg: dict[str, Any] | None, rows: list[tuple[float, float | None]]
) -> Path:
    """A trial folder: params.json, and result.json with (env steps, return) rows, 1 s apart."""
    trial = root / name
    trial.mkdir(parents=True)
    if cfg is not None:
        (trial / "params.json").write_text(json.dumps(cfg))
    lines = []
    for i, (steps, ret) in enumerate(rows, start=1):
        result = {
            "training_iteration": i,
            "num_env_steps_sampled_lifetime": steps,
            "time_total_s": float(i),
            "env_runners": {"episode_return_mean": ret, "episode_len_mean": ret},
        }
        lines.append(json.dumps(result))
    (trial / "result.json").write_text("".join(line + "\n" for line in lines))
    return trial


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    """An experiment folder: 2 learning rates x 2 seeds, plus sweep files and a non-trial folder."""
    exp = tmp_path / "exp"
    make_trial(exp, "PPO_a_lr3e-4_s0", config(3e-4, 0), [(100, None), (200, 8.0), (300, 10.0)])
    make_trial(exp, "PPO_b_lr1e-3_s0", config(1e-3, 0), [(100, 10.0), (200, 20.0), (300, 30.0)])
    make_trial(exp, "PPO_c_lr1e-3_s1", config(1e-3, 1), [(150, 20.0), (250, 40.0), (350, 60.0)])
    make_trial(exp, "PPO_d_lr3e-4_s1", config(3e-4, 1), [(100, 4.0), (200, 14.0), (300, 12.0)])
    (exp / "multirun.yaml").write_text("hydra: {}\n")
    (exp / "sweep_summary.csv").write_text("trial\n")
    (exp / ".hydra").mkdir()
    return exp


def load(*dirs: Path) -> list[Trial]:
    trials = [load_trial(p) for p in find_trials([str(d) for d in dirs])]
    return [t for t in trials if t is not None]


def run_compare(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["compare", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# --- grouping and labels -------------------------------------------------------------------------


def test_seeds_of_one_config_form_a_group_labelled_by_what_differs(sweep: Path) -> None:
    trials = load(sweep)
    assert len(trials) == 4  # multirun.yaml, sweep_summary.csv and .hydra/ are not trials
    groups = group_trials(trials)
    assert [g.label for g in groups] == ["algo.lr=0.0003", "algo.lr=0.001"]
    assert [sorted(t.name for t in g.trials) for g in groups] == [
        ["PPO_a_lr3e-4_s0", "PPO_d_lr3e-4_s1"],
        ["PPO_b_lr1e-3_s0", "PPO_c_lr1e-3_s1"],
    ]
    assert groups[1].differing == {"algo.lr": 0.001}


def test_label_keys_algorithm_first_then_shared_keys_then_the_rest() -> None:
    ppo = {"algo.name": "PPO", "algo.lr": 1e-3, "algo.clip_param": 0.2, "env.id": "A", "seed": 0}
    dqn = {"algo.name": "DQN", "algo.lr": 5e-4, "algo.double_q": True, "env.id": "A", "seed": 1}
    assert differing_keys([ppo, dqn]) == [
        "algo.name",
        "algo.lr",
        "algo.clip_param",
        "algo.double_q",
    ]
    # Seeds, folders and checkpoint settings never tell groups apart.
    a = {"algo.lr": 1e-3, "seed": 0, "results_dir": "/a", "checkpoint.frequency": 1}
    b = {"algo.lr": 1e-3, "seed": 5, "results_dir": "/b", "checkpoint.frequency": 9}
    assert differing_keys([a, b]) == []


def test_labels_show_lists_and_cut_long_differences(tmp_path: Path) -> None:
    make_trial(tmp_path, "a_small", config(1e-3, 0, model={"fcnet_hiddens": [32]}), [(1, 1.0)])
    make_trial(
        tmp_path,
        "other",
        config(3e-4, 0, gamma=0.9, num_epochs=3, minibatch_size=64, entropy_coeff=0.01),
        [(1, 1.0)],
    )
    labels = [g.label for g in group_trials(load(tmp_path))]
    assert labels[0] == "algo.lr=0.001 algo.gamma=0.99 algo.model.fcnet_hiddens=[32]"
    # Keys only one config has come after the shared ones; past four, a count.
    assert labels[1] == (
        "algo.lr=0.0003 algo.gamma=0.9 algo.model.fcnet_hiddens=[64,64] algo.num_epochs=3 (+2 more)"
    )


def test_labels_cut_to_the_same_text_get_their_folder_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = ("k1", "k2", "k3", "k4", "k5")
    for name, values in [("ta", (0, 0, 0, 0, 0)), ("tb", (0, 0, 0, 0, 1)), ("tc", (1, 1, 1, 1, 0))]:
        make_trial(
            tmp_path, name, config(1e-3, 0, **dict(zip(keys, values, strict=True))), [(1, 1.0)]
        )
    labels = [g.label for g in group_trials(load(tmp_path))]
    cut = "algo.k1=0 algo.k2=0 algo.k3=0 algo.k4=0 (+1 more)"
    assert labels == [
        f"{cut} [ta]",
        f"{cut} [tb]",
        "algo.k1=1 algo.k2=1 algo.k3=1 algo.k4=1 (+1 more)",
    ]
    # The table shows "[ta]" as text, not as rich markup.
    code = cli.main(["compare", str(tmp_path), "--no-plot", "--out", str(tmp_path / "c.png")])
    out = capsys.readouterr().out
    assert code == 0 and "[ta]" in out and "[tb]" in out


def test_label_falls_back_to_folder_names(tmp_path: Path) -> None:
    make_trial(tmp_path / "exp", "t0", config(1e-3, 0), [(1, 1.0)])
    make_trial(tmp_path / "exp", "t1", config(1e-3, 1), [(1, 2.0)])
    make_trial(tmp_path / "solo", "only_trial", config(1e-3, 0), [(1, 1.0)])
    (group,) = group_trials(load(tmp_path / "exp"))
    assert group.label == "exp" and len(group.trials) == 2
    (alone,) = group_trials(load(tmp_path / "solo" / "only_trial"))
    assert alone.label == "only_trial"


def test_trial_without_params_stands_alone(tmp_path: Path) -> None:
    make_trial(tmp_path, "a", config(1e-3, 0), [(1, 1.0)])
    make_trial(tmp_path, "b", config(1e-3, 1), [(1, 1.0)])
    make_trial(tmp_path, "c", None, [(1, 1.0)])
    groups = group_trials(load(tmp_path))
    assert [len(g.trials) for g in groups] == [2, 1]
    assert groups[1].label == "c"


# --- curves ----------------------------------------------------------------------------------------


def test_mean_curve_interpolates_onto_the_range_every_seed_covers() -> None:
    a = (np.array([0.0, 10.0, 20.0]), np.array([0.0, 10.0, 20.0]))
    b = (np.array([5.0, 15.0, 25.0]), np.array([10.0, 20.0, 30.0]))
    curve = mean_curve([a, b])
    assert curve is not None and curve.seeds == 2
    np.testing.assert_allclose(curve.x, [5, 10, 15, 20])
    np.testing.assert_allclose(curve.low, [5, 10, 15, 20])  # seed a, interpolated
    np.testing.assert_allclose(curve.high, [10, 15, 20, 25])  # seed b, interpolated
    np.testing.assert_allclose(curve.mean, [7.5, 12.5, 17.5, 22.5])
    # Seeds whose x ranges do not overlap have no common curve.
    c = (np.array([100.0, 200.0]), np.array([1.0, 2.0]))
    assert mean_curve([a, c]) is None


def test_series_drops_rows_without_the_metric_and_sorts_by_x(tmp_path: Path) -> None:
    path = make_trial(tmp_path, "t", config(1e-3, 0), [(300, 3.0), (100, None), (200, 2.0)])
    trial = load_trial(path)
    assert trial is not None
    xs, ys = series(trial, "env_runners/episode_return_mean", "num_env_steps_sampled_lifetime")
    assert xs.tolist() == [200, 300] and ys.tolist() == [2.0, 3.0]


def test_suggest_prefers_the_key_with_its_section() -> None:
    known = ["env_runners/episode_return_mean", "evaluation/env_runners/episode_return_mean", "x"]
    assert suggest("episode_return_mean", known)[:2] == known[:2]


# --- the command: table, CSV, PNG ------------------------------------------------------------------


def test_compare_writes_table_csv_and_png_best_first(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "out" / "curves.png"
    code, out, _ = run_compare([str(sweep), "--out", str(png)], capsys)
    assert code == 0
    assert out.index("algo.lr=0.001") < out.index("algo.lr=0.0003")  # best first
    assert "45.0 ± 21.2" in out
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5_000
    rows = read_csv(png.with_suffix(".csv"))
    assert [r["group"] for r in rows] == ["algo.lr=0.001", "algo.lr=0.0003"]
    best, worst = rows
    assert best["rank"] == "1" and best["seeds"] == "2"
    assert best["metric"] == "env_runners/episode_return_mean"
    assert float(best["final_mean"]) == pytest.approx(45.0)
    assert float(best["final_std"]) == pytest.approx(np.std([30.0, 60.0], ddof=1))
    assert float(best["best_mean"]) == pytest.approx(45.0)
    assert float(best["env_steps"]) == pytest.approx(325.0)
    assert float(best["time_total_s"]) == pytest.approx(3.0)
    # Worst group: finals 10 and 12, bests 10 and 14 (a seed that peaked before its end).
    assert float(worst["final_mean"]) == pytest.approx(11.0)
    assert float(worst["best_mean"]) == pytest.approx(12.0)
    assert len(worst["trials"].split(";")) == 2


def test_mode_min_and_another_metric(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_csv = tmp_path / "c.csv"
    args = [str(sweep), "--metric=env_runners/episode_len_mean", "--mode", "min", "--no-plot"]
    code, out, _ = run_compare([*args, "--out", str(tmp_path / "c.png")], capsys)
    assert code == 0 and "lower is better" in out
    rows = read_csv(out_csv)
    assert [r["group"] for r in rows] == ["algo.lr=0.0003", "algo.lr=0.001"]
    assert rows[0]["metric"] == "env_runners/episode_len_mean"
    assert float(rows[0]["best_mean"]) == pytest.approx(6.0)  # each seed's lowest: 8 and 4
    assert not (tmp_path / "c.png").exists()


def test_without_matplotlib_the_table_is_printed_then_exit_2(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    code, out, err = run_compare([str(sweep), "--out", str(tmp_path / "c.png")], capsys)
    assert code == 2
    assert "algo.lr=0.001" in out
    assert "pip install 'rlrun[plot]'" in err and "--no-plot" in err
    assert (tmp_path / "c.csv").exists() and not (tmp_path / "c.png").exists()


def test_bad_lines_and_empty_trials_are_skipped_with_a_warning(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = sweep / "PPO_b_lr1e-3_s0" / "result.json"
    lines = result.read_text().splitlines()
    result.write_text("\n".join([lines[0], '{"training_iteration": 2, "num_en', *lines[1:]]) + "\n")
    make_trial(sweep, "PPO_e_empty", config(1e-3, 2), [])
    (sweep / "PPO_f_no_results").mkdir()
    (sweep / "PPO_f_no_results" / "params.json").write_text(json.dumps(config(1e-3, 3)))
    make_trial(sweep, "PPO_g_no_metric", config(1e-3, 4), [(100, None)])
    code, _, err = run_compare([str(sweep), "--no-plot", "--out", str(tmp_path / "c.png")], capsys)
    assert code == 0
    assert "rlrun: warning:" in err and "unreadable line(s): [2]" in err
    assert "PPO_e_empty" in err and "PPO_f_no_results" in err and "PPO_g_no_metric" in err
    rows = read_csv(tmp_path / "c.csv")
    assert [r["seeds"] for r in rows] == ["2", "2"]
    assert float(rows[0]["final_mean"]) == pytest.approx(45.0)


@pytest.mark.parametrize(
    ("make_args", "needles"),
    [
        (lambda root: [str(root / "nope")], ["no such file or directory"]),
        (lambda root: [str(root / "exp"), "metric=x"], ["'metric=x'", "--metric KEY"]),
        (lambda root: [str(root / "exp" / ".hydra")], ["holds no trials", "any folder below"]),
        (
            lambda root: [str(root / "exp"), "--metric", "episode_return_mean"],
            ["--metric episode_return_mean", "env_runners/episode_return_mean"],
        ),
        (lambda root: [str(root / "exp"), "--x", "training_iter"], ["--x", "training_iteration"]),
        (
            lambda root: [str(root / "exp"), "--metrc", "a"],
            ["unknown option '--metrc'", "--metric"],
        ),
        (lambda root: [str(root / "exp"), "--out"], ["--out needs a value"]),
        (lambda root: [str(root / "exp"), "--mode", "best"], ["--mode=best", "max, min"]),
        (lambda root: [str(root / "exp"), "--out", "a.txt"], ["unsupported plot format"]),
        (lambda root: [], ["needs at least one DIR"]),
    ],
)
def test_bad_input_exits_2_with_one_paragraph(
    sweep: Path, make_args: Any, needles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_compare(make_args(sweep.parent), capsys)
    assert code == 2, (out, err)
    assert err.startswith("rlrun: error:") and err.count("\n") == 1
    for needle in needles:
        assert needle in err


@pytest.mark.parametrize("argv", [["help", "compare"], ["compare", "--help"], ["compare", "-h"]])
def test_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.strip() == COMPARE_HELP.strip()


def test_compare_imports_neither_torch_nor_ray(sweep: Path, tmp_path: Path) -> None:
    script = (
        "import sys; from rlrun.cli import main; "
        f"code = main(['compare', {str(sweep)!r}, '--no-plot', '--out', {str(tmp_path / 'c')!r}]); "
        "print(code, sorted(m for m in ('torch', 'ray') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "0 []"


# --- smoke: real trials --------------------------------------------------------------------------------


def test_compare_two_real_trials(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    results = tmp_path / "results"
    procs = [
        train(results, "stop.iterations=2", "name=cmp", f"algo.lr={lr}", "seed=0")
        for lr in ("1e-3", "3e-4")
    ]
    for proc in procs:
        run = Run(proc, results)
        assert run.rc == 0, run.explain()
    png = tmp_path / "cmp.png"
    run = Run(start("compare", str(results / "cmp"), "--out", str(png)), None)
    assert run.rc == 0, run.explain()
    assert png.read_bytes().startswith(PNG_MAGIC)
    rows = read_csv(tmp_path / "cmp.csv")
    assert sorted(r["group"] for r in rows) == ["algo.lr=0.0003", "algo.lr=0.001"]
    assert all(r["seeds"] == "1" and float(r["env_steps"]) > 0 for r in rows)


def test_a_results_root_finds_every_trial_below_it(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As TensorBoard's --logdir: the folder above the experiments (~/ray_results) works, and
    so does one more level of nesting; checkpoint folders inside trials are not searched."""
    root = sweep.parent
    from_exp = run_compare([str(sweep), "--no-plot", "--out", str(tmp_path / "a.png")], capsys)
    from_root = run_compare([str(root), "--no-plot", "--out", str(tmp_path / "b.png")], capsys)
    assert from_exp[0] == from_root[0] == 0
    assert read_csv(tmp_path / "a.csv") == read_csv(tmp_path / "b.csv")
