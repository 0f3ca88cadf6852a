"""`rlrun compare`: learning curves of trials and sweeps in one PNG, and a table, best first.

Reading, grouping and averaging live in rlrun/results/curves.py; this module parses the command
line, prints the table (rich), writes the CSV and draws the plot (matplotlib, an optional extra,
imported only here and only when a plot is asked for). No torch, no Ray.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rlrun.errors import ConfigError
from rlrun.results.curves import (
    DEFAULT_METRIC,
    DEFAULT_X,
    Summary,
    Trial,
    find_trials,
    group_trials,
    has_metric,
    load_trial,
    mean_curve,
    numeric_keys,
    series,
    sort_best_first,
    suggest,
    summarize,
)
from rlrun.results.progress import fmt_duration, fmt_int, fmt_num, format_modules

BAND = "min-max over seeds"
DEFAULT_OUT = "compare.png"
PLOT_FORMATS = (".png", ".svg", ".pdf")

COMPARE_HELP = f"""\
usage: rlrun compare DIR [DIR ...] [--metric KEY] [--x KEY] [--mode max|min] [--out PATH] [--no-plot]

Draws the learning curves of trials into one PNG and prints a table of them, best first. A DIR
is a trial folder (params.json, result.json) or any folder above trial folders (an experiment
or sweep folder, or <results_dir> itself: every trial below it, as tensorboard --logdir). Trials whose configs differ only in
the seed form a group: its curve is the mean over seeds with a {BAND} band, and it is labelled
by the config keys that differ between groups. Table: final value (mean ± std over seeds), best
value (each seed's best, averaged), env steps and time (time_total_s), also written as CSV.

options:
  --metric KEY    what to compare, a '/' key of result.json (default {DEFAULT_METRIC});
                  e.g. evaluation/env_runners/episode_return_mean, learners/default_policy/vf_loss
  --x KEY         the x axis (default {DEFAULT_X}); e.g. time_total_s, training_iteration
  --mode max|min  whether a higher or a lower metric is better (default max)
  --out PATH      the plot (default ./{DEFAULT_OUT}; .svg and .pdf work too); the table goes beside it
                  as .csv
  --no-plot       print the table and write the CSV only (needs no matplotlib)
  -h, --help      this text

The plot needs matplotlib: pip install 'rlrun[plot]'.

examples:
  rlrun compare ~/ray_results/PPO_CartPole-v1
  rlrun compare ~/ray_results/lr_sweep --metric evaluation/env_runners/episode_return_mean
  rlrun compare runs/PPO_a runs/PPO_b --x time_total_s --out a_vs_b.png"""

_VALUE_OPTIONS = ("--metric", "--x", "--mode", "--out")
_FLAG_OPTIONS = ("--no-plot", "-h", "--help")


@dataclass
class Options:
    dirs: list[str] = field(default_factory=list)
    metric: str = DEFAULT_METRIC
    x: str = DEFAULT_X
    mode: str = "max"
    out: str = DEFAULT_OUT
    plot: bool = True


def compare_command(args: list[str]) -> int:
    opts = parse_args(args)
    if opts is None:
        print(COMPARE_HELP)
        return 0
    with _warnings_to_stderr():
        return _compare(opts)


def _compare(opts: Options) -> int:
    summaries = collect(opts)
    png, csv_path = output_paths(opts.out)
    print_table(summaries, opts)
    write_csv(csv_path, summaries, opts.metric)
    if not opts.plot:
        print(f"Wrote {csv_path}")
        return 0
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigError(
            None,
            None,
            f"the table is in {csv_path}, but the plot needs matplotlib, which is not installed: "
            "pip install 'rlrun[plot]' (or pass --no-plot for the table only).",
        ) from None
    plot(png, summaries, opts)
    print(f"Wrote {png} and {csv_path}")
    return 0


def parse_args(args: Sequence[str]) -> Options | None:
    """The command line of `rlrun compare` -> Options; None when help was asked for."""
    opts = Options()
    it = iter(args)
    only_dirs = False
    for arg in it:
        if only_dirs or not arg.startswith("-") or arg == "-":
            opts.dirs.append(arg)
            continue
        if arg == "--":
            only_dirs = True  # what follows are folders, even ones whose names start with '-'
            continue
        if arg in ("-h", "--help"):
            return None
        if arg == "--no-plot":
            opts.plot = False
            continue
        name, sep, value = arg.partition("=")
        if name not in _VALUE_OPTIONS:
            close = difflib.get_close_matches(name, _VALUE_OPTIONS + _FLAG_OPTIONS, n=1, cutoff=0.5)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(
                None,
                None,
                f"unknown option '{arg}' for `rlrun compare`.{hint} Options: "
                f"{', '.join(_VALUE_OPTIONS + _FLAG_OPTIONS)} (see `rlrun compare --help`).",
            )
        if not sep:
            value = next(it, "")
        if not value or value.startswith("-"):
            raise ConfigError(
                None, None, f"{name} needs a value: {name} VALUE (see `rlrun compare --help`)."
            )
        setattr(opts, name[2:], value)
    if opts.mode not in ("max", "min"):
        raise ConfigError("--mode", opts.mode, "invalid value.", allowed="max, min")
    if not opts.dirs:
        raise ConfigError(
            None,
            None,
            "`rlrun compare` needs at least one DIR: a trial folder or a folder of trials, such as "
            "~/ray_results/<name> (see `rlrun compare --help`).",
        )
    return opts


def collect(opts: Options) -> list[Summary]:
    """The groups' table rows, best first; ConfigError when there is nothing to compare."""
    trials = [t for p in find_trials(opts.dirs) if (t := load_trial(p)) is not None]
    if not trials:
        raise ConfigError(None, None, f"no trial in {' '.join(opts.dirs)} has any results yet.")
    with_metric = [t for t in trials if has_metric(t, opts.metric)]
    if not with_metric:
        raise _unknown_key_error("--metric", opts.metric, trials)
    usable = [t for t in with_metric if series(t, opts.metric, opts.x)[0].size]
    if not usable:
        raise _unknown_key_error("--x", opts.x, with_metric)
    kept = {id(t) for t in usable}
    for trial in trials:
        if id(trial) not in kept:
            logging.getLogger(__name__).warning(
                "%s: never reports %s with %s; left out", trial.path, opts.metric, opts.x
            )
    groups = group_trials(usable)
    summaries = [summarize(g, opts.metric, opts.x, opts.mode) for g in groups]
    return sort_best_first(summaries, opts.mode)


def _unknown_key_error(option: str, key: str, trials: Sequence[Trial]) -> ConfigError:
    close = suggest(key, numeric_keys(trials))
    hint = f" Close keys: {', '.join(close)}." if close else ""
    what = "" if option == "--metric" else " in the same results as the metric"
    return ConfigError(
        None,
        None,
        f"{option} {key}: no trial reports it as a number{what}.{hint} The keys are the column "
        "names of a trial's progress.csv.",
    )


def output_paths(out: str) -> tuple[Path, Path]:
    """(plot, csv): a folder gets compare.png in it; no suffix means .png."""
    path = Path(out).expanduser()
    if path.is_dir():
        path = path / DEFAULT_OUT
    if not path.suffix:
        path = path.with_suffix(".png")
    if path.suffix.lower() not in PLOT_FORMATS:
        raise ConfigError("--out", out, "unsupported plot format.", allowed=", ".join(PLOT_FORMATS))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, path.with_suffix(".csv")


# --- outputs -------------------------------------------------------------------------------------


def _final_text(summary: Summary) -> str:
    std = summary.final_std
    return fmt_num(summary.final_mean) + ("" if std is None else f" ± {fmt_num(std)}")


def print_table(summaries: Sequence[Summary], opts: Options) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=f"{escape(opts.metric)} ({'higher' if opts.mode == 'max' else 'lower'} is better)",
        caption="final: last value, mean ± std over seeds; best: seeds' best, averaged",
    )
    table.add_column("#", justify="right")
    # fold: a label that does not fit wraps rather than losing its end to an ellipsis.
    table.add_column("group", overflow="fold")
    for name in ("seeds", "final", "best", "env steps", "time"):
        table.add_column(name, justify="right")
    multi_agent = any(s.module_returns for s in summaries)
    if multi_agent:  # each module's last mean return (env_runners/module_episode_returns_mean)
        table.add_column("module returns", overflow="fold")
    for rank, s in enumerate(summaries, start=1):
        row = [
            str(rank),
            Text(s.group.label),  # as is: a label's "[...]" is not rich markup
            str(len(s.final)),
            _final_text(s),
            fmt_num(s.best_mean),
            fmt_int(s.env_steps),
            fmt_duration(s.time_s),
        ]
        if multi_agent:
            row.append(Text(format_modules(s.module_returns)))
        table.add_row(*row)
    Console(highlight=False).print(table)


CSV_COLUMNS = (
    "rank",
    "group",
    "seeds",
    "metric",
    "final_mean",
    "final_std",
    "best_mean",
    "env_steps",
    "time_total_s",
    "trials",
    "module_returns",
)


def write_csv(path: Path, summaries: Sequence[Summary], metric: str) -> None:
    """The table as CSV, full-precision numbers, empty where unknown; trials joined with ';'."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for rank, s in enumerate(summaries, start=1):
            writer.writerow(
                [
                    rank,
                    s.group.label,
                    len(s.final),
                    metric,
                    s.final_mean,
                    "" if s.final_std is None else s.final_std,
                    s.best_mean,
                    "" if s.env_steps is None else s.env_steps,
                    "" if s.time_s is None else s.time_s,
                    ";".join(str(t.path) for t in s.group.trials),
                    # "p0=451.2;p1=398.0" for multi-agent runs, empty otherwise
                    ";".join(f"{m}={v}" for m, v in s.module_returns.items()),
                ]
            )


def plot(path: Path, summaries: Sequence[Summary], opts: Options) -> None:
    """One figure: each group's mean curve over seeds with its min-max band, best group first."""
    # The Figure API with the Agg canvas: no pyplot, so no GUI backend and no global figure state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for s in summaries:
        seeds = [series(t, opts.metric, opts.x) for t in s.group.trials]
        label = f"{s.group.label} (n={len(seeds)})"
        curve = mean_curve(seeds)
        if curve is None:
            # The seeds' x ranges do not overlap: no mean to take, so each seed is drawn alone.
            logging.getLogger(__name__).warning(
                "%s: its seeds cover different %s ranges; drawn one by one", s.group.label, opts.x
            )
            color = None
            for xs, ys in seeds:
                (line,) = ax.plot(xs, ys, linewidth=1, color=color, label=label)
                color, label = line.get_color(), "_nolegend_"
            continue
        marker = "o" if curve.x.size == 1 else None
        (line,) = ax.plot(curve.x, curve.mean, marker=marker, label=label)
        if curve.seeds > 1:
            ax.fill_between(
                curve.x, curve.low, curve.high, color=line.get_color(), alpha=0.2, linewidth=0
            )
    ax.set_xlabel(opts.x)
    ax.set_ylabel(opts.metric)
    ax.set_title(f"line: mean over seeds; band: {BAND}", fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.savefig(path, dpi=120)


@contextlib.contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """Skipped trials and lines are reported as `rlrun: warning: ...`, and only so, while
    comparing, whatever logging set-up an earlier run in this process left behind."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("rlrun: warning: %(message)s"))
    loggers = [logging.getLogger("rlrun.results"), logging.getLogger(__name__)]
    saved = [(logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, (level, propagate) in zip(loggers, saved, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
