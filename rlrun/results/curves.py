"""Learning curves from trial folders: finding trials, grouping seeds, averaging their curves.

The data side of `rlrun compare` (rlrun/compare.py prints and draws): numpy only, no rich or
matplotlib, so it can be tested and reused from a notebook without a display.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rlrun.errors import ConfigError
from rlrun.results.flatten import as_number, flatten, get_number
from rlrun.results.loggers import PROGRESS_FILE, RESULT_FILE, read_results
from rlrun.results.trial import PARAMS_FILE, expand_path

log = logging.getLogger(__name__)

DEFAULT_METRIC = "env_runners/episode_return_mean"
DEFAULT_X = "num_env_steps_sampled_lifetime"
STEPS_KEY = "num_env_steps_sampled_lifetime"
TIME_KEY = "time_total_s"
# Config keys that do not change what a trial learns: the seed is what a group averages over,
# the rest name places, displays, saved files or a cluster. A trailing '.' covers a section.
IGNORED_KEYS = (
    "seed",
    "name",
    "results_dir",
    "log_level",
    "console",
    "resume",
    "output",
    "output_format",
    "output_max_file_size_mb",
    "checkpoint.",
    "ray.",
)
# Keys that say most about a group, shown first in its label when they differ.
LABEL_FIRST = ("algo.name", "env.id")
MAX_LABEL_KEYS = 4
# Enough for a smooth line; more only slows the plot of a long run with many seeds.
MAX_POINTS = 500


@dataclass
class Trial:
    """One trial folder: its config (params.json flattened to dotted keys) and its results."""

    path: Path
    config: dict[str, Any]
    results: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class Group:
    """Trials whose configs are the same but for the seed (and IGNORED_KEYS)."""

    label: str
    trials: list[Trial]
    # The keys that tell this group from the others, with this group's values.
    differing: dict[str, Any] = field(default_factory=dict)


@dataclass
class Curve:
    """A group's curve on a common x grid: mean and min/max over seeds."""

    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    seeds: int


@dataclass
class Summary:
    """A group's row of the comparison table; per-seed values, averaged by the properties."""

    group: Group
    final: list[float]  # each seed's last value of the metric
    best: list[float]  # each seed's best value of the metric
    env_steps: float | None  # mean over seeds of the last env-step count
    time_s: float | None  # mean over seeds of the last time_total_s
    # Multi-agent runs: each module's last mean return, averaged over seeds.
    module_returns: dict[str, float] = field(default_factory=dict)

    @property
    def final_mean(self) -> float:
        return float(np.mean(self.final))

    @property
    def final_std(self) -> float | None:
        # Sample std (n-1): the spread of seeds drawn from a population; undefined for one seed.
        return float(np.std(self.final, ddof=1)) if len(self.final) > 1 else None

    @property
    def best_mean(self) -> float:
        return float(np.mean(self.best))


# --- finding and reading trials ------------------------------------------------------------------


def is_trial_dir(path: Path) -> bool:
    return (path / PARAMS_FILE).is_file() or (path / RESULT_FILE).is_file()


def find_trials(dirs: Sequence[str]) -> list[Path]:
    """The trial folders named by `dirs`: each is a trial folder or holds some anywhere below
    it (as TensorBoard's --logdir: `~/ray_results` finds every trial of every experiment).

    Raises ConfigError for a path that does not exist or holds no trial; a folder given twice
    (or a trial and its experiment folder) counts once.
    """
    found: dict[Path, None] = {}
    for raw in dirs:
        path = expand_path(raw)
        if path.is_file() and path.name in (RESULT_FILE, PARAMS_FILE, PROGRESS_FILE):
            path = path.parent  # a trial's own file: the user means its folder
        if not path.exists():
            hint = ""
            if "=" in raw and not raw.startswith("-"):
                hint = " Options are written --metric KEY, --x KEY, --out PATH."
            raise ConfigError(None, None, f"'{raw}': no such file or directory.{hint}")
        if not path.is_dir():
            raise ConfigError(
                None, None, f"'{raw}' is not a directory: give trial or experiment folders."
            )
        below = _trials_below(path)
        if not below:
            raise ConfigError(
                None,
                None,
                f"'{raw}' holds no trials: a trial folder has {PARAMS_FILE} or {RESULT_FILE}, "
                "and none was found in it or any folder below it.",
            )
        found.update(dict.fromkeys(below))
    return list(found)


def _trials_below(root: Path) -> list[Path]:
    """Trial folders at or below `root`, sorted; a trial's own subfolders (checkpoints,
    `.hydra`) and hidden folders are not searched."""
    trials: list[Path] = []
    for dirpath, dirnames, _ in os.walk(root):
        here = Path(dirpath)
        if is_trial_dir(here):
            trials.append(here)
            dirnames.clear()
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
    return sorted(trials)


def load_trial(path: Path) -> Trial | None:
    """The trial in `path`, or None (with a warning) when it has no readable results."""
    result_file = path / RESULT_FILE
    if not result_file.is_file():
        log.warning("%s: no %s (stopped before its first iteration?); skipped", path, RESULT_FILE)
        return None
    try:
        results = [r for r in read_results(result_file) if isinstance(r, dict)]
    except (OSError, UnicodeDecodeError) as e:
        log.warning("%s: cannot read %s (%s); skipped", path, RESULT_FILE, e)
        return None
    if not results:
        log.warning("%s: %s holds no results; skipped", path, RESULT_FILE)
        return None
    return Trial(path=path, config=_read_config(path), results=results)


def _read_config(path: Path) -> dict[str, Any]:
    try:
        params = json.loads((path / PARAMS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        log.warning("%s: no %s; the trial is compared on its own", path, PARAMS_FILE)
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        log.warning(
            "%s: unreadable %s (%s); the trial is compared on its own", path, PARAMS_FILE, e
        )
        return {}
    if not isinstance(params, dict):
        return {}
    return flatten(params, sep=".")


# --- grouping ------------------------------------------------------------------------------------


def _ignored(key: str) -> bool:
    return any(key == k or (k.endswith(".") and key.startswith(k)) for k in IGNORED_KEYS)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _group_key(trial: Trial) -> str:
    if not trial.config:
        # Without a config nothing says which seeds belong together: the trial stands alone.
        return f"path:{trial.path}"
    return _canonical({k: v for k, v in trial.config.items() if not _ignored(k)})


def group_trials(trials: Sequence[Trial]) -> list[Group]:
    """Trials grouped by config less the seed, in order of first appearance, each labelled."""
    by_key: dict[str, list[Trial]] = {}
    for trial in trials:
        by_key.setdefault(_group_key(trial), []).append(trial)
    members = list(by_key.values())
    configs = [group[0].config for group in members]
    keys = differing_keys(configs)
    groups = []
    for group_trials_, config in zip(members, configs, strict=True):
        differing = {k: config[k] for k in keys if k in config}
        groups.append(Group(_label(differing, group_trials_), group_trials_, differing))
    _make_unique(groups)
    return groups


def differing_keys(configs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Config keys (IGNORED_KEYS left out) whose values are not the same in every config.

    Ordered for a label: LABEL_FIRST, then keys every config has (they say what was varied),
    then keys only some have (they follow from another difference, such as the algorithm).
    """
    if len(configs) < 2:
        return []
    union = dict.fromkeys(k for c in configs for k in c if not _ignored(k))
    # json text is never empty, so "" stands for "this config lacks the key".
    differing = [k for k in union if len({_canonical(c[k]) if k in c else "" for c in configs}) > 1]
    everywhere = [k for k in differing if all(k in c for c in configs)]
    first = [k for k in LABEL_FIRST if k in differing]
    rest = [k for k in everywhere if k not in first]
    rest += [k for k in differing if k not in first and k not in everywhere]
    return first + rest


def format_value(value: Any) -> str:
    """A config value as it would be typed in an override."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _label(differing: Mapping[str, Any], trials: Sequence[Trial]) -> str:
    parts = [f"{k}={format_value(v)}" for k, v in differing.items()]
    if parts:
        more = len(parts) - MAX_LABEL_KEYS
        return " ".join(parts[:MAX_LABEL_KEYS]) + (f" (+{more} more)" if more > 0 else "")
    if len(trials) == 1:
        return trials[0].name
    parents = {t.path.parent for t in trials}
    # Seeds of one sweep: the experiment folder names them all.
    return parents.pop().name if len(parents) == 1 else trials[0].name


def _make_unique(groups: list[Group]) -> None:
    # A label cut at MAX_LABEL_KEYS can repeat; the first trial's folder name tells them apart.
    counts: dict[str, int] = {}
    for group in groups:
        counts[group.label] = counts.get(group.label, 0) + 1
    for group in groups:
        if counts[group.label] > 1:
            group.label = f"{group.label} [{group.trials[0].name}]"


# --- curves and summaries ------------------------------------------------------------------------


def x_value(result: Mapping[str, Any], x: str) -> float | None:
    value = get_number(result, x)
    if value is None and x == STEPS_KEY:
        # Older or third-party results carry the step count only under env_runners/.
        value = get_number(result, f"env_runners/{x}")
    return value


def series(trial: Trial, metric: str, x: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, metric) points of a trial, sorted by x; rows missing either (NaN early on) are left out.

    Where x repeats, the later row wins, so np.interp sees strictly increasing x.
    """
    points: dict[float, float] = {}
    for result in trial.results:
        xv, yv = x_value(result, x), get_number(result, metric)
        if xv is not None and yv is not None and math.isfinite(xv) and math.isfinite(yv):
            points.pop(xv, None)
            points[xv] = yv
    xs = np.array(sorted(points), dtype=float)
    ys = np.array([points[v] for v in xs.tolist()], dtype=float)
    return xs, ys


def mean_curve(seeds: Sequence[tuple[np.ndarray, np.ndarray]]) -> Curve | None:
    """Mean, min and max over seeds, each linearly interpolated (np.interp) onto one x grid.

    The grid is the seeds' own x values within the range every seed covers (so nothing is
    extrapolated), thinned to MAX_POINTS evenly spaced ones when longer. None when the seeds'
    ranges do not overlap.
    """
    seeds = [(xs, ys) for xs, ys in seeds if xs.size]
    if not seeds:
        return None
    lo = max(float(xs[0]) for xs, _ in seeds)
    hi = min(float(xs[-1]) for xs, _ in seeds)
    if lo > hi:
        return None
    grid = np.unique(np.concatenate([xs[(xs >= lo) & (xs <= hi)] for xs, _ in seeds]))
    if grid.size > MAX_POINTS:
        grid = np.linspace(lo, hi, MAX_POINTS)
    stack = np.stack([np.interp(grid, xs, ys) for xs, ys in seeds])
    return Curve(grid, stack.mean(axis=0), stack.min(axis=0), stack.max(axis=0), len(seeds))


def summarize(group: Group, metric: str, x: str, mode: str = "max") -> Summary:
    """The group's table row; every trial in it must report `metric` at least once."""
    pick = max if mode == "max" else min
    final, best, steps, times = [], [], [], []
    for trial in group.trials:
        values = [v for r in trial.results if (v := get_number(r, metric)) is not None]
        final.append(values[-1])
        best.append(pick(values))
        last = trial.results[-1]
        if (s := x_value(last, STEPS_KEY)) is not None:
            steps.append(s)
        if (t := as_number(last.get(TIME_KEY))) is not None:
            times.append(t)
    return Summary(
        group=group,
        final=final,
        best=best,
        env_steps=float(np.mean(steps)) if steps else None,
        time_s=float(np.mean(times)) if times else None,
        module_returns=_module_returns(group.trials),
    )


MODULE_RETURNS_KEY = "env_runners/module_episode_returns_mean"


def _module_returns(trials: Sequence[Trial]) -> dict[str, float]:
    """Each module's last reported mean return per trial, averaged over the trials."""
    per_module: dict[str, list[float]] = {}
    for trial in trials:
        last: dict[str, float] = {}
        for result in trial.results:
            node = result
            for part in MODULE_RETURNS_KEY.split("/"):
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict):
                last.update({k: float(v) for k, v in node.items() if as_number(v) is not None})
        for mid, v in last.items():
            if math.isfinite(v):
                per_module.setdefault(mid, []).append(v)
    return {mid: float(np.mean(vs)) for mid, vs in sorted(per_module.items())}


def sort_best_first(summaries: list[Summary], mode: str = "max") -> list[Summary]:
    sign = -1.0 if mode == "max" else 1.0
    return sorted(summaries, key=lambda s: (sign * s.final_mean, sign * s.best_mean))


def has_metric(trial: Trial, metric: str) -> bool:
    return any(get_number(r, metric) is not None for r in trial.results)


def numeric_keys(trials: Sequence[Trial]) -> list[str]:
    """Every '/' key with a number in some result of `trials`, sorted."""
    keys: set[str] = set()
    for trial in trials:
        for result in trial.results:
            keys.update(k for k, v in flatten(result).items() if as_number(v) is not None)
    return sorted(keys)


def suggest(key: str, known: Sequence[str], n: int = 3) -> list[str]:
    """Known keys a mistyped `key` may have meant: close spellings and keys with its last part."""
    tail = key.rsplit("/", 1)[-1]
    # A key given without its section ("episode_return_mean") is the likeliest slip.
    same_tail = [k for k in known if k != key and k.rsplit("/", 1)[-1] == tail]
    close = difflib.get_close_matches(key, known, n=n, cutoff=0.5)
    return list(dict.fromkeys(same_tail + close))[:n]
