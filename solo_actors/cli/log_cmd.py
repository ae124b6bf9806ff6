"""``solo log``: the supervisor report log, like Erlang's report browser.

Reads the report files (``<var_dir>/<reports.dir>/reports*.jsonl``) directly, so it works
whether or not the assistant runs. Shows each report on one line, a crash with its
traceback, then the restart count per actor and every escalation as a tree: which supervisor
gave up after which child kept failing, and what its parent did about it. ``--follow``
keeps printing reports as they are written (across rotations); ``--json`` prints one JSON
object per report instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import msgspec

import supervisors
from solo_actors.api.report_query import QUERY_KINDS, is_crash, parse_time, select_reports
from solo_actors.config import Config
from solo_actors.reports import CURRENT_FILE, read_reports

FOLLOW_INTERVAL = 0.25
"""Seconds between looks at the report file while following."""

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(supervisors.AnyReport)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    log = subparsers.add_parser("log", parents=[common], help="read the supervisor report log")
    log.add_argument("--actor", metavar="PATH", help="a tree path (solo/voice) or child id (llm)")
    log.add_argument(
        "--kind",
        choices=QUERY_KINDS,
        help="crash = abnormal exit, failed start or hang; stop = shutdown",
    )
    log.add_argument("--since", metavar="WHEN", help="epoch seconds or a duration: 90s, 10m, 2h")
    log.add_argument("--limit", type=int, default=200, help="the last N matching (default 200)")
    log.add_argument("--follow", "-f", action="store_true", help="keep printing new reports")
    log.add_argument("--json", action="store_true", help="one JSON object per report")
    log.set_defaults(handler=show_log)


def show_log(args: argparse.Namespace, config: Config) -> int:
    directory = config.solo.var_path(config.reports.dir)
    try:
        since = None if args.since is None else parse_time(args.since)
    except ValueError:
        print(f"solo: --since takes epoch seconds or a duration like 10m, 2h, 1d; got "
              f"{args.since!r}", file=sys.stderr)  # fmt: skip
        return 2
    if not directory.is_dir() and not args.follow:
        print(f"solo: no report log at {directory} yet (it is written once the assistant "
              "has run)", file=sys.stderr)  # fmt: skip
        return 1
    # The summary counts restarts and escalations whatever --kind shows.
    reports = select_reports(read_reports(directory) if directory.is_dir() else [],
                             actor=args.actor, since=since)  # fmt: skip
    shown = select_reports(reports, kind=args.kind)
    out = sys.stdout
    for report in shown[-args.limit :] if args.limit > 0 else []:
        print_report(report, args.json, out)
    if not args.json:
        print_summary(reports, out)
    if args.follow:
        new_reports = follow(directory)
        print(f"-- following {directory / CURRENT_FILE} (Ctrl-C to stop)", file=sys.stderr,
              flush=True)  # fmt: skip
        try:
            for report in new_reports:
                if select_reports([report], actor=args.actor, kind=args.kind, since=since):
                    print_report(report, args.json, out)
                    out.flush()
        except KeyboardInterrupt:
            return 0
    return 0


def clock(stamp: float) -> str:
    milliseconds = int(stamp % 1 * 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) + f".{milliseconds:03d}"


def label(report: supervisors.Report) -> str:
    return "crash" if is_crash(report) else report.kind


def print_report(report: supervisors.Report, as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(_encoder.encode(report).decode() + "\n")
        return
    detail = " ".join(part for part in (
        f"({report.context})" if report.context else "",
        str(report.reason) if report.reason is not None else "",
        f"restarts={report.restarts}" if report.restarts else "",
    ) if part)  # fmt: skip
    out.write(f"{clock(report.timestamp)}  {label(report):<11}  {report.path:<22}  {detail}\n")
    if is_crash(report) and report.traceback:
        out.write("".join(f"    | {line}\n" for line in report.traceback.rstrip().splitlines()))


def print_summary(reports: Sequence[supervisors.Report], out: TextIO) -> None:
    restarts = Counter(report.path for report in reports if report.kind == "restart")
    crashes = Counter(report.path for report in reports if is_crash(report))
    if restarts or crashes:
        out.write("\nrestarts per actor:\n")
        for path in sorted(restarts.keys() | crashes.keys()):
            out.write(f"  {path:<22}  {restarts[path]} restarts, {crashes[path]} crashes\n")
    escalations = [index for index, report in enumerate(reports) if report.kind == "escalation"]
    for index in escalations:
        out.write("\nescalation:\n")
        out.write("".join(f"  {line}\n" for line in escalation_tree(reports, index)))


def escalation_tree(reports: Sequence[supervisors.Report], index: int) -> list[str]:
    """An escalation and what followed, one level deeper per supervisor up the tree."""
    report = reports[index]
    lines = [f"{report.supervisor} gave up at {clock(report.timestamp)}: {report.child_id} "
             f"kept failing ({report.reason or 'no reason'})"]  # fmt: skip
    # What the parent did with the supervisor that gave up: the next report about it.
    after = next((later for later in reports[index + 1:] if later.path == report.supervisor
                  and later.kind in ("restart", "escalation", "start_error")), None)  # fmt: skip
    if after is None:
        parent = report.supervisor.rpartition("/")[0]
        lines.append("└── " + (f"{parent}: no decision recorded" if parent
                               else "the root stopped: the assistant exited"))  # fmt: skip
    elif after.kind == "restart":
        lines.append(f"└── {after.supervisor} restarted {after.child_id} "
                     f"(restarts={after.restarts})")  # fmt: skip
    elif after.kind == "start_error":
        lines.append(f"└── {after.supervisor} could not restart {after.child_id}: {after.reason}")
    else:
        nested = escalation_tree(reports, reports.index(after))
        lines.append("└── " + nested[0])
        lines.extend("    " + line for line in nested[1:])
    return lines


def follow(directory: Path) -> Iterator[supervisors.Report]:
    """Reports appended to the current file from now on, forever, across rotations."""
    path = directory / CURRENT_FILE
    # Opened here, not in the generator: what is written after this call is never missed.
    stream = path.open("rb") if path.exists() else None
    if stream is not None:
        stream.seek(0, os.SEEK_END)
    return tail(path, stream)


def tail(path: Path, stream: BinaryIO | None) -> Iterator[supervisors.Report]:
    inode = None if stream is None else os.fstat(stream.fileno()).st_ino
    while True:
        if stream is None and path.exists():
            stream = path.open("rb")  # created or rotated: read the new file from its start
            inode = os.fstat(stream.fileno()).st_ino
        if stream is not None:
            # Checked before reading, so the lines written before a rotation are read first.
            rotated = path.exists() and path.stat().st_ino != inode
            for line in iter(stream.readline, b""):
                if not line.endswith(b"\n"):
                    stream.seek(-len(line), os.SEEK_CUR)  # half-written: read it whole later
                    break
                try:
                    yield _decoder.decode(line)
                except msgspec.DecodeError:
                    continue
            if rotated:
                stream.close()
                stream = None
        time.sleep(FOLLOW_INTERVAL)
