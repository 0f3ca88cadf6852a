"""The live training console: a rich panel on a terminal, one plain line per iteration otherwise.

Rendering is driven by `update()` (no refresh thread) and throttled, because iterations can
arrive every 50 ms and redrawing is not free. rich is imported only by the rich console.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from rlrun.results.progress import (
    ProgressTracker,
    Snapshot,
    fmt_duration,
    fmt_int,
    fmt_num,
    format_line,
    format_modules,
    summary_lines,
)

CONSOLE_MODES = ("auto", "rich", "plain", "off")


class ProgressConsole:
    """Base console, and the `off` mode: tracks progress, shows nothing.

    Use as a context manager so `close()` runs (and a terminal in live mode is restored) even
    when training raises.
    """

    def __init__(
        self,
        trial_dir: str | os.PathLike[str],
        stop_desc: str = "",
        stop: Mapping[str, Any] | None = None,
    ) -> None:
        self.trial_dir = Path(trial_dir)
        self.stop_desc = stop_desc
        self.tracker = ProgressTracker(stop)

    @property
    def best_return(self) -> float | None:
        """The best `env_runners/episode_return_mean` seen by `update()` so far."""
        return self.tracker.best_return

    @property
    def last(self) -> Snapshot | None:
        return self.tracker.last

    def start(self) -> None:
        self.tracker.restart_clock()

    def update(self, result: Mapping[str, Any]) -> None:
        self.tracker.update(result)

    def finish(
        self,
        best_return: float | None,
        last_return: float | None,
        final_checkpoint: str | os.PathLike[str] | None,
        stop_reason: str,
    ) -> None:
        """Show the outcome of the run."""

    def close(self) -> None:
        """Release the display; safe to call twice."""

    def __enter__(self) -> ProgressConsole:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class NullConsole(ProgressConsole):
    """`console=off`: shows nothing."""


class PlainConsole(ProgressConsole):
    """One line per iteration, for logs, pipes and CI."""

    def __init__(
        self,
        trial_dir: str | os.PathLike[str],
        stop_desc: str = "",
        stop: Mapping[str, Any] | None = None,
        stream: TextIO | None = None,
    ) -> None:
        super().__init__(trial_dir, stop_desc, stop)
        self._stream = stream

    def _print(self, text: str) -> None:
        # Resolved per call, not at construction, so redirections made later are honoured.
        stream = self._stream or sys.stdout
        stream.write(text + "\n")
        # Pipes are block-buffered; without a flush `tail -f` of a log sees nothing for minutes.
        stream.flush()

    def start(self) -> None:
        super().start()
        self._print(f"Trial directory: {self.trial_dir}")
        if self.stop_desc:
            self._print(f"Stopping at: {self.stop_desc}")

    def update(self, result: Mapping[str, Any]) -> None:
        self._print(format_line(self.tracker.update(result)))

    def finish(
        self,
        best_return: float | None,
        last_return: float | None,
        final_checkpoint: str | os.PathLike[str] | None,
        stop_reason: str,
    ) -> None:
        for line in summary_lines(best_return, last_return, final_checkpoint, stop_reason):
            self._print(line)


class RichConsole(ProgressConsole):
    """A panel redrawn in place (rich Live), at most `refresh_per_second` times a second."""

    def __init__(
        self,
        trial_dir: str | os.PathLike[str],
        stop_desc: str = "",
        stop: Mapping[str, Any] | None = None,
        console: Any = None,
        refresh_per_second: float = 4.0,
    ) -> None:
        super().__init__(trial_dir, stop_desc, stop)
        from rich.console import Console

        self.console = console if console is not None else Console()
        self._min_interval = 1.0 / refresh_per_second
        self._live: Any = None
        self._last_draw = 0.0
        self._dirty = False

    @property
    def live(self) -> Any:
        """The rich Live display while started, else None."""
        return self._live

    def start(self) -> None:
        from rich.live import Live
        from rich.text import Text

        super().start()
        self.console.print(Text.assemble(("Trial directory: ", "bold"), str(self.trial_dir)))
        if self.stop_desc:
            self.console.print(Text.assemble(("Stopping at: ", "bold"), self.stop_desc))
        # auto_refresh=False: no background thread; update() decides when a redraw is due.
        self._live = Live(console=self.console, auto_refresh=False, transient=False)
        self._live.start()

    def update(self, result: Mapping[str, Any]) -> None:
        snapshot = self.tracker.update(result)
        self._dirty = True
        now = time.monotonic()
        if self._live is not None and now - self._last_draw >= self._min_interval:
            self._live.update(self._render(snapshot), refresh=True)
            self._last_draw = now
            self._dirty = False

    def _render(self, s: Snapshot) -> Any:
        from rich.panel import Panel
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold cyan", justify="right")
        grid.add_column()
        grid.add_row("iteration", fmt_int(s.iteration))
        grid.add_row("env steps", fmt_int(s.env_steps))
        grid.add_row("return mean", f"{fmt_num(s.return_mean)}  (best {fmt_num(s.best_return)})")
        if s.eval_return is not None:
            grid.add_row("eval return", fmt_num(s.eval_return))
        if s.module_returns:
            grid.add_row("module returns", format_modules(s.module_returns))
        if s.eval_module_returns:
            grid.add_row("eval module returns", format_modules(s.eval_module_returns))
        grid.add_row("episode len", fmt_num(s.episode_len))
        grid.add_row("steps/s", fmt_int(s.steps_per_s))
        grid.add_row("elapsed", fmt_duration(s.elapsed_s))
        if s.progress is not None:
            bar = Table.grid(padding=(0, 1))
            bar.add_row(ProgressBar(total=1.0, completed=s.progress, width=30), f"{s.progress:.0%}")
            grid.add_row("progress", bar)
        if s.progress_text or self.stop_desc:
            grid.add_row("stop", s.progress_text or self.stop_desc)
        return Panel(grid, title=f"rlrun · {self.trial_dir.name}", title_align="left", expand=False)

    def finish(
        self,
        best_return: float | None,
        last_return: float | None,
        final_checkpoint: str | os.PathLike[str] | None,
        stop_reason: str,
    ) -> None:
        from rich.text import Text

        self._stop_live()
        for line in summary_lines(best_return, last_return, final_checkpoint, stop_reason):
            # Text (no markup: paths may hold '[') and soft_wrap so the command stays one line
            # that can be copied whole, however narrow the terminal.
            self.console.print(Text(line), soft_wrap=True)

    def close(self) -> None:
        self._stop_live()

    def _stop_live(self) -> None:
        live, self._live = self._live, None
        if live is None:
            return
        try:
            if self._dirty and self.last is not None:
                # The last few iterations may have arrived inside the throttle window.
                live.update(self._render(self.last), refresh=False)
                self._dirty = False
        finally:
            # Live.stop draws the last frame and restores the cursor and stdout/stderr.
            live.stop()
            if not self.console.is_terminal:
                # Live ends its last frame with a newline only on a terminal.
                self.console.line()


def make_console(
    mode: str,
    trial_dir: str | os.PathLike[str],
    stop_desc: str = "",
    *,
    stop: Mapping[str, Any] | None = None,
    stream: TextIO | None = None,
) -> ProgressConsole:
    """The console for `mode` (auto | rich | plain | off); auto is rich on a terminal.

    `stop` (the `stop` config: iterations, timesteps, time_s, reward, metric, with `reward`
    already a number or None) enables the progress bar; `stream` redirects the output.
    """
    if mode not in CONSOLE_MODES:
        raise ValueError(f"unknown console mode {mode!r}; choose from {', '.join(CONSOLE_MODES)}")
    if mode == "auto":
        out = stream or sys.stdout
        tty = bool(getattr(out, "isatty", lambda: False)())
        mode = "rich" if tty and os.environ.get("TERM") != "dumb" else "plain"
    if mode == "off":
        return NullConsole(trial_dir, stop_desc, stop)
    if mode == "plain":
        return PlainConsole(trial_dir, stop_desc, stop, stream=stream)
    console = None
    if stream is not None:
        from rich.console import Console

        console = Console(file=stream)
    return RichConsole(trial_dir, stop_desc, stop, console=console)
