"""Per-iteration result loggers: result.json, progress.csv and TensorBoard, as Tune writes them.

Every logger flushes on each `log()` so that a run killed at any moment leaves files that hold
every finished iteration (and tools such as `tail -f` or TensorBoard see progress live).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import socket
import struct
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Protocol, TextIO, runtime_checkable

from rlrun.results.flatten import as_number, flatten, to_jsonable

log = logging.getLogger(__name__)

RESULT_FILE = "result.json"
PROGRESS_FILE = "progress.csv"
# Tune's TBXLoggerCallback prefix: RLlib users' TensorBoard filters and bookmarks expect it.
TB_PREFIX = "ray/tune"
# Tune leaves these out of TensorBoard: they are the x-axis or not metrics at all.
_TB_SKIP = frozenset({"config", "pid", "timestamp", "time_total_s", "training_iteration", "done"})


@runtime_checkable
class Logger(Protocol):
    """Receives each iteration's nested result dict."""

    def log(self, result: Mapping[str, Any]) -> None: ...

    def close(self) -> None: ...


class JsonLogger:
    """result.json: one JSON object per line, the nested result as RLlib/Tune write it."""

    def __init__(self, trial_dir: str | os.PathLike[str]) -> None:
        self.path = Path(trial_dir) / RESULT_FILE
        needs_newline = _ends_mid_line(self.path)
        self._file: TextIO | None = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        if needs_newline:
            # A crashed earlier writer left half a line; start ours on a fresh one so only that
            # fragment is unreadable, not our first record too.
            self._file.write("\n")

    def log(self, result: Mapping[str, Any]) -> None:
        if self._file is None:
            raise ValueError(f"{self.path} is closed")
        # allow_nan=False: to_jsonable already turned NaN/inf into null; this guards the promise.
        line = json.dumps(to_jsonable(result), allow_nan=False)
        self._file.write(line + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class CsvLogger:
    """progress.csv: one row per iteration, flattened '/' keys.

    The header comes from the first row. Keys that appear later (episode stats once the first
    episode ends, evaluation results at the first evaluation) widen it: the file is rewritten
    with the union of columns and the old rows keep their values, with empty cells in the new
    columns. Rewrites happen only when new keys appear, a handful of times per run.
    """

    def __init__(self, trial_dir: str | os.PathLike[str]) -> None:
        self.path = Path(trial_dir) / PROGRESS_FILE
        # Appending to an existing file (a resumed trial) keeps its columns.
        self._fields: list[str] = _read_csv_header(self.path)
        self._known: set[str] = set(self._fields)
        self._file: TextIO | None = None
        self._writer: csv.DictWriter[str] | None = None
        self._open()

    def _open(self) -> None:
        self._file = open(self.path, "a", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = (
            csv.DictWriter(self._file, fieldnames=self._fields, restval="")
            if self._fields
            else None
        )

    def log(self, result: Mapping[str, Any]) -> None:
        if self._file is None:
            raise ValueError(f"{self.path} is closed")
        row = flatten(result)
        new_keys = [key for key in row if key not in self._known]
        if new_keys:
            self._widen(new_keys)
        assert self._writer is not None and self._file is not None
        self._writer.writerow(row)
        self._file.flush()

    def _widen(self, new_keys: list[str]) -> None:
        assert self._file is not None
        self._fields = self._fields + new_keys
        self._known.update(new_keys)
        self._file.close()
        rows = _read_csv_rows(self.path)
        # Write beside and rename so a crash mid-rewrite never leaves a half-written progress.csv.
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as out:
            # extrasaction="ignore": cells beyond the old header (a hand-edited file) can't be kept.
            writer = csv.DictWriter(out, fieldnames=self._fields, restval="", extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, self.path)
        self._open()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None


class TBXLogger:
    """TensorBoard events in the trial dir, scalars under `ray/tune/<flat key>`, step = iteration.

    tensorboardX provides the protos and the checksum; the file itself is written here, because
    SummaryWriter hands events to a background thread through a multiprocessing queue (so its
    flush() does not mean "in the file") and its record writer fsyncs on every flush, which
    costs milliseconds per iteration on some disks. All of an iteration's scalars go into one
    event (one Summary, many values): TensorBoard reads it like one event per scalar.
    """

    def __init__(self, trial_dir: str | os.PathLike[str], prefix: str = TB_PREFIX) -> None:
        # Lazy: tensorboardX imports numpy, protobuf and (when installed) torch, which
        # `import rlrun.results` and `rlrun --help` must not pay for.
        from tensorboardX.proto.event_pb2 import Event
        from tensorboardX.proto.summary_pb2 import Summary
        from tensorboardX.record_writer import masked_crc32c

        self.trial_dir = Path(trial_dir)
        self.prefix = prefix.rstrip("/")
        self._event_cls = Event
        self._summary_cls = Summary
        self._crc = masked_crc32c
        self._file: BinaryIO | None = None
        self.path = self._create_file()
        self._iterations = 0
        self._write_event(Event(wall_time=time.time(), file_version="brain.Event:2"))

    def _create_file(self) -> Path:
        # SummaryWriter's naming (TensorBoard only needs "tfevents" in it); "x" mode and a
        # counter so a second writer in the same second never truncates the first one's file.
        base = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}"
        for attempt in range(100):
            path = self.trial_dir / (base if attempt == 0 else f"{base}.{attempt}")
            try:
                self._file = open(path, "xb")  # noqa: SIM115
            except FileExistsError:
                continue
            return path
        raise FileExistsError(f"no free TensorBoard event file name in {self.trial_dir}")

    def _write_event(self, event: Any) -> None:
        # TFRecord framing: length, its masked CRC32C, payload, the payload's masked CRC32C.
        assert self._file is not None
        data = event.SerializeToString()
        header = struct.pack("<Q", len(data))
        self._file.write(
            header
            + struct.pack("<I", self._crc(header))
            + data
            + struct.pack("<I", self._crc(data))
        )
        self._file.flush()

    def log(self, result: Mapping[str, Any]) -> None:
        if self._file is None:
            raise ValueError(f"{self.path} is closed")
        self._iterations += 1
        step = as_number(result.get("training_iteration"))
        values = []
        for key, value in flatten(result).items():
            if key in _TB_SKIP:
                continue
            number = as_number(value)
            if number is None:  # NaN (no episode finished yet), strings, lists
                continue
            values.append(self._summary_cls.Value(tag=f"{self.prefix}/{key}", simple_value=number))
        if values:
            event = self._event_cls(
                wall_time=time.time(),
                step=int(step) if step is not None else self._iterations,
                summary=self._summary_cls(value=values),
            )
            self._write_event(event)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


LOGGER_TYPES: dict[str, type[JsonLogger] | type[CsvLogger] | type[TBXLogger]] = {
    "json": JsonLogger,
    "csv": CsvLogger,
    "tensorboard": TBXLogger,
}
_ALIASES = {"tb": "tensorboard", "tbx": "tensorboard"}
DEFAULT_LOGGERS = ("json", "csv", "tensorboard")


class ResultLoggers:
    """Fans each result out to the enabled loggers of one trial; a context manager."""

    def __init__(
        self, trial_dir: str | os.PathLike[str], enabled: Iterable[str] = DEFAULT_LOGGERS
    ) -> None:
        self.trial_dir = Path(trial_dir)
        names = [_ALIASES.get(name, name) for name in enabled]
        unknown = [name for name in names if name not in LOGGER_TYPES]
        if unknown:
            raise ValueError(
                f"unknown result logger(s) {unknown}; choose from {sorted(LOGGER_TYPES)}"
            )
        self.loggers: list[Logger] = []
        try:
            for name in dict.fromkeys(names):  # de-duplicated, order kept
                self.loggers.append(LOGGER_TYPES[name](self.trial_dir))
        except BaseException:
            # Don't leak the files the loggers before the failing one opened.
            self.close()
            raise

    def log(self, result: Mapping[str, Any]) -> None:
        for logger in self.loggers:
            logger.log(result)

    def close(self) -> None:
        # Close every logger even if one fails, then re-raise the first failure.
        first_error: BaseException | None = None
        for logger in self.loggers:
            try:
                logger.close()
            except Exception as exc:
                log.warning("closing %s failed: %s", type(logger).__name__, exc)
                first_error = first_error or exc
        self.loggers = []
        if first_error is not None:
            raise first_error

    def __enter__(self) -> ResultLoggers:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_results(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The results in a trial dir's result.json (or in the given result.json), oldest first.

    Lines that are not JSON (half a line left by a crash, with a resumed run appended after it)
    are skipped with a warning rather than failing: the other iterations are still good data.
    """
    file = Path(path)
    if file.is_dir():
        file = file / RESULT_FILE
    results: list[dict[str, Any]] = []
    bad: list[int] = []
    with open(file, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                results.append(json.loads(line))
            except json.JSONDecodeError:
                bad.append(number)
    if bad:
        log.warning("%s: skipped %d unreadable line(s): %s", file, len(bad), bad[:10])
    return results


def _ends_mid_line(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() == 0:
                return False
            f.seek(-1, os.SEEK_END)
            return f.read(1) != b"\n"
    except FileNotFoundError:
        return False


def _read_csv_header(path: Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return next(csv.reader(f), [])
    except FileNotFoundError:
        return []


def _read_csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
