"""``solo doctor``: what is wrong on this machine, checked for real.

Prints one line per check (CPU, llama.cpp build, a subprocess smoke test of each model
runtime, GPU, audio devices, API port, disk, native library versions) and exits 1 when a
check the assistant needs fails, 0 otherwise (warnings included). ``--json`` prints the
findings as a JSON list; ``--only llm,stt`` runs just those checks.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from solo_actors.config import Config

MARKS = {"pass": "ok  ", "warn": "warn", "fail": "FAIL"}


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    doctor = subparsers.add_parser(
        "doctor",
        parents=[common],
        help="check this machine: CPU, builds, each model runtime, audio, port, disk",
    )
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")
    doctor.add_argument(
        "--only",
        metavar="CHECKS",
        help="comma-separated checks to run: cpu, llama, llm, stt, tts, wake, gpu, audio, api, "
        "disk, versions",
    )
    doctor.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace, config: Config) -> int:
    from solo_actors.doctor.report import examine

    only = {name.strip() for name in args.only.split(",")} if args.only else None
    findings = examine(config, only)
    if args.json:
        print(json.dumps([dataclasses.asdict(finding) for finding in findings], indent=2))
    else:
        width = max((len(finding.name) for finding in findings), default=0)
        for finding in findings:
            print(f"[{MARKS[finding.status]}] {finding.name:<{width}}  {finding.detail}")
            if finding.fix and finding.status != "pass":
                print(f"       {'':<{width}}  -> {finding.fix}")
    failed = [finding.name for finding in findings if finding.status == "fail"]
    if failed:
        print(f"solo doctor: {len(failed)} check(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
