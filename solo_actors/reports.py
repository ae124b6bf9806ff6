"""The supervisor report log: every report of the tree, as JSON lines on disk.

Supervisors emit reports synchronously to their sinks. `ReportForwarder` is the sink Solo
installs: it hands each report to the ``reports`` actor by name, so file I/O never runs on a
supervisor's thread, and while that actor is itself being restarted it keeps the reports in
a bounded buffer (oldest dropped past ``reports.pending_max``, and counted) and delivers them
once the name is registered again. `ReportsActor` appends them to ``reports.jsonl`` under
``<var_dir>/<reports.dir>``, rotating by size, so ``solo log`` can read why something crashed
whether or not the assistant is running.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import msgspec

import supervisors
from solo_actors.config.schema import Config, ReportsConfig
from solo_actors.names import REPORTS_NAME, STORE_NAME
from solo_actors.runtime.events import HUB

CURRENT_FILE = "reports.jsonl"

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(supervisors.AnyReport)


class RotatingJsonl:
    """Appends lines to ``reports.jsonl`` and rotates it to ``reports.1.jsonl`` ... by size."""

    def __init__(self, directory: Path, max_bytes: int, kept: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.kept = kept
        directory.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = (directory / CURRENT_FILE).open("ab")

    def append(self, line: bytes) -> None:
        if self._file.tell() + len(line) + 1 > self.max_bytes and self._file.tell() > 0:
            self._rotate()
        self._file.write(line + b"\n")
        # Reports are rare and are the evidence of a crash: flush each one.
        self._file.flush()

    def _rotate(self) -> None:
        self._file.close()
        for index in range(self.kept, 0, -1):
            older = self.directory / rotated_name(index - 1)
            if older.exists():
                older.replace(self.directory / rotated_name(index))
        self._file = (self.directory / CURRENT_FILE).open("ab")

    def close(self) -> None:
        self._file.close()


def rotated_name(index: int) -> str:
    return CURRENT_FILE if index == 0 else f"reports.{index}.jsonl"


def report_files(directory: Path) -> list[Path]:
    """The report files, oldest first."""
    indexed = (
        (0 if path.name == CURRENT_FILE else int(path.name.split(".")[1]), path)
        for path in directory.glob("reports*.jsonl")
        if path.name == CURRENT_FILE or path.name.split(".")[1].isdigit()
    )
    return [path for _, path in sorted(indexed, reverse=True)]


def read_reports(directory: Path) -> Iterator[supervisors.Report]:
    """Every report on disk, oldest first; a torn last line (a crash mid-write) is skipped."""
    for path in report_files(directory):
        with path.open("rb") as stream:
            for line in stream:
                try:
                    yield _decoder.decode(line)
                except msgspec.DecodeError:
                    continue


class ReportsActor(supervisors.SupervisedActor):
    """Single writer of the report files."""

    # The shutdown reports of the actors stopped before this one are still in the mailbox
    # when the supervisor stops it: they must reach the file.
    trap_exits = True

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.settings: ReportsConfig = config.reports
        self.directory = config.solo.var_path(config.reports.dir)
        self.log: RotatingJsonl | None = None
        self.written = 0

    def on_start(self) -> None:
        settings = self.settings
        self.log = RotatingJsonl(self.directory, settings.file_max_bytes, settings.files_kept)

    def on_receive(self, message: object) -> None:
        if isinstance(message, supervisors.Report):
            assert self.log is not None
            self.log.append(_encoder.encode(message))
            # The store keeps a queryable copy; the file stays the record when it is down.
            supervisors.cast(STORE_NAME, message)
            self.written += 1
            self.publish_figures(reports_written=self.written)

    def on_stop(self) -> None:
        if self.log is not None:
            self.log.close()

    def on_failure(self, *_exc_info: object) -> None:
        self.on_stop()


class ReportForwarder:
    """A supervisors sink that delivers reports to the ``reports`` actor by name."""

    def __init__(self, pending_max: int, registry: supervisors.Registry | None = None) -> None:
        self.registry = registry or supervisors.default_registry
        self.pending: deque[supervisors.Report] = deque(maxlen=pending_max)
        self.dropped = 0
        self._lock = threading.Lock()

    def emit(self, report: supervisors.Report) -> None:
        HUB.publish(report)  # live views (the API's /events); never blocks
        with self._lock:
            if len(self.pending) == self.pending.maxlen:
                self.dropped += 1
            self.pending.append(report)
            ref = self.registry.whereis(REPORTS_NAME)
            if ref is None:
                return
            while self.pending:
                ref.tell(self.pending[0])
                self.pending.popleft()

    def write_pending(self, config: Config) -> int:
        """Append the reports still pending straight to the files; returns how many.

        For after the tree is down: the last shutdown reports (the reports actor's own among
        them) are emitted once no reports actor is left to write them, and with the tree
        stopped there is no other writer of the files.
        """
        with self._lock:
            pending = list(self.pending)
            self.pending.clear()
        if pending:
            settings = config.reports
            files = RotatingJsonl(
                config.solo.var_path(settings.dir), settings.file_max_bytes, settings.files_kept
            )
            for report in pending:
                files.append(_encoder.encode(report))
            files.close()
        return len(pending)
