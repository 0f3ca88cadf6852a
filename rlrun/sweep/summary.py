"""The end of a sweep: one row per trial, best first by the stop metric, printed as a rich table
and written as sweep_summary.csv and sweep_summary.json beside the trials."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rlrun.sweep.trial import TrialRecord, read_results

RETURN = "env_runners/episode_return_mean"
SUMMARY_CSV, SUMMARY_JSON = "sweep_summary.csv", "sweep_summary.json"


@dataclass
class SummaryRow:
    rank: int
    index: int
    trial: str  # the trial folder's name ("" if it never got one)
    overrides: str  # the trial's own swept values, e.g. lr=0.001,seed=0
    status: str
    metric: str | None
    value: float | None  # the stop metric's last value
    final_return: float | None
    best_return: float | None
    env_steps: int | None
    iterations: int | None
    time_s: float | None
    error: str | None


def summarize(records: list[TrialRecord]) -> list[SummaryRow]:
    rows = [_row(r) for r in records]
    # Finished trials by the stop metric (higher is better: it is what stop.reward reaches
    # for), then those without a value, then failures; ties keep the sweep's order.
    order = {"ok": 0, "interrupted": 1, "failed": 2}
    rows.sort(
        key=lambda r: (
            order.get(r.status, 3),
            r.value is None,
            -(r.value if r.value is not None else 0.0),
            r.index,
        )
    )
    for rank, row in enumerate(rows, 1):
        row.rank = rank
    return rows


def _row(record: TrialRecord) -> SummaryRow:
    from rlrun.results import get_number

    results = read_results(Path(record.trial_dir)) if record.trial_dir else []
    last = results[-1] if results else {}
    returns = [v for r in results if (v := get_number(r, RETURN)) is not None and math.isfinite(v)]
    return SummaryRow(
        rank=0,
        index=record.index,
        trial=Path(record.trial_dir).name if record.trial_dir else "",
        overrides=record.tag,
        status=record.status,
        metric=record.metric,
        value=record.value,
        final_return=returns[-1] if returns else None,
        best_return=max(returns) if returns else None,
        env_steps=_int(last.get("num_env_steps_sampled_lifetime")),
        iterations=_int(last.get("training_iteration")),
        time_s=last.get("time_total_s"),
        error=_first_paragraph(record.error),
    )


def write_summary(rows: list[SummaryRow], experiment_dir: Path) -> tuple[Path, Path]:
    experiment_dir.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = experiment_dir / SUMMARY_CSV, experiment_dir / SUMMARY_JSON
    plain = [asdict(r) for r in rows]
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(SummaryRow.__dataclass_fields__))
        writer.writeheader()
        writer.writerows(plain)
    json_path.write_text(json.dumps(plain, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return csv_path, json_path


def print_summary(rows: list[SummaryRow], experiment_dir: Path, file: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    metric = next((r.metric for r in rows if r.metric), RETURN)
    table = Table(title=f"sweep: {len(rows)} trials, best first by {metric}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("overrides", overflow="fold", min_width=16)
    for name, justify in [
        ("status", "left"),
        (metric.rsplit("/", 1)[-1] if metric != RETURN else "final return", "right"),
        ("best return", "right"),
        ("env steps", "right"),
        ("iters", "right"),
        ("time s", "right"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        status = r.status if r.status != "failed" else f"[red]failed[/red]: {_short(r.error)}"
        shown = r.value if metric != RETURN else r.final_return
        table.add_row(
            str(r.index),
            r.overrides or r.trial,
            status,
            _num(shown),
            _num(r.best_return),
            "" if r.env_steps is None else f"{r.env_steps:,}",
            "" if r.iterations is None else str(r.iterations),
            _num(r.time_s, 1),
        )
    # Piped output (a log file, CI) gets a wide table rather than rich's 80 columns.
    console = Console(file=file, soft_wrap=False)
    if not console.is_terminal:
        console.width = 160
    console.print(table)
    console.print(f"trials and {SUMMARY_CSV} / {SUMMARY_JSON} in {experiment_dir}")


def _num(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _short(error: str | None, limit: int = 90) -> str:
    """The table shows the error's start; the CSV and JSON keep all of it."""
    text = (error or "").split(". ", 1)[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _first_paragraph(text: str | None) -> str | None:
    if not text:
        return None
    return text.strip().split("\n\n", 1)[0].replace("\n", " ")
