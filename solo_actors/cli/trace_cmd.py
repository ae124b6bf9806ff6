"""``solo trace``: the timeline of a voice turn, every actor's steps in order.

Reads ``<var_dir>/trace.jsonl``, written while ``log.trace = true`` (see
`solo_actors.runtime.trace`), whether or not the assistant still runs. Prints the last turn
(``--turns N``: the last N; ``--turn ID``: that one): each step with the seconds since the
turn's first step and since the step before, the actor and what it said. ``--since STEP``
counts from a turn's first step of that name instead ("end of turn": the moment vad ended
the question). Exit 1 when there is nothing to show, saying how to record some.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from solo_actors.config import Config
from solo_actors.runtime.trace import trace_path

Step = dict[str, Any]
FIELDS = ("t", "turn", "actor", "step")
"""Every step's own fields; the rest are its details."""


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    trace = subparsers.add_parser(
        "trace",
        parents=[common],
        help="print a voice turn's timeline: every actor's steps (needs log.trace = true)",
    )
    which = trace.add_mutually_exclusive_group()
    which.add_argument("--turn", metavar="ID", help="the turn to show (default: the last)")
    which.add_argument("--turns", type=int, default=1, metavar="N", help="the last N turns")
    trace.add_argument("--since", metavar="STEP", help='count from this step, e.g. "end of turn"')
    trace.set_defaults(handler=run_trace)


def read_steps(path: Path) -> Iterator[Step]:
    """The file's steps; a line cut short by a crash mid-write is skipped."""
    with path.open("rb") as lines:
        for line in lines:
            try:
                yield msgspec.json.decode(line)
            except msgspec.DecodeError:
                continue


def turns_of(steps: Iterator[Step]) -> dict[str, list[Step]]:
    """Each turn's steps in time order, turns in the order they began."""
    turns: dict[str, list[Step]] = {}
    for one in steps:
        turns.setdefault(one["turn"], []).append(one)
    for steps_of_turn in turns.values():
        steps_of_turn.sort(key=lambda one: one["t"])
    return dict(sorted(turns.items(), key=lambda item: item[1][0]["t"]))


def timeline(turn_id: str, steps: list[Step], since: str | None) -> list[str]:
    """A turn's steps as lines of text."""
    origin = next((one["t"] for one in steps if one["step"] == since), steps[0]["t"])
    lines = [f"turn {turn_id}" + (f' (from "{since}")' if since else "")]
    before = steps[0]["t"]
    for one in steps:
        details = "  ".join(f"{key}={value}" for key, value in one.items() if key not in FIELDS)
        lines.append(f"  {one['t'] - origin:+8.3f} s  {one['t'] - before:+7.3f}  "
                     f"{one['actor']:<9} {one['step']}  {details}".rstrip())  # fmt: skip
        before = one["t"]
    return lines


def run_trace(args: argparse.Namespace, config: Config) -> int:
    path = trace_path(config)
    if not path.exists():
        print(f"solo trace: no trace at {path}: run Solo with log.trace = true "
              "(e.g. SOLO__LOG__TRACE=true python run.py), speak, then run this again",
              file=sys.stderr)  # fmt: skip
        return 1
    turns = turns_of(read_steps(path))
    if args.turn is not None:
        if args.turn not in turns:
            print(f"solo trace: no turn {args.turn} in {path} ({len(turns)} turns there)",
                  file=sys.stderr)  # fmt: skip
            return 1
        shown = [args.turn]
    else:
        shown = list(turns)[-max(1, args.turns) :]
    if not shown:
        print(f"solo trace: {path} holds no turn yet", file=sys.stderr)
        return 1
    for turn_id in shown:
        print("\n".join(timeline(turn_id, turns[turn_id], args.since)))
    return 0
