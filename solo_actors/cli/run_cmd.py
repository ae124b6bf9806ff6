"""``solo run`` (and plain ``solo`` / ``python run.py``): start the assistant.

Without options it listens on the configured microphone. ``--input FILE`` listens to a WAV
file instead and ends once its questions are answered (``--no-wake``: the whole file is the
question); ``--text`` takes typed lines; replies go to the speaker, or to WAV files with
``--output-dir``. ``--wyoming`` also serves Solo's voice to Wyoming clients (docs/wyoming.md).

What is printed depends on who reads it. ``--text`` at a terminal (stdin and stdout both
TTYs) is a conversation for a person: prompts, replies streamed as they are written, logs
kept to warnings (`voice.console`). Otherwise each finished turn of ``--text`` and
``--output-dir`` runs is one JSON line on stdout, which scripts and tests rely on; ``--json``
asks for those lines anywhere. Exit codes are in `solo_actors.runtime.app` and the README.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from msgspec.structs import replace

from solo_actors.config import Config
from solo_actors.runtime.logs import for_people

EXIT_USAGE = 2


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    run = subparsers.add_parser("run", parents=[common], help="run the assistant (the default)")
    source = run.add_mutually_exclusive_group()
    source.add_argument(
        "--input",
        metavar="FILE",
        help="listen to this WAV file instead of the microphone, then exit once answered",
    )
    source.add_argument(
        "--text",
        action="store_true",
        help="a spoken chat from the keyboard: each stdin line is a turn (no wake word, no STT)",
    )
    run.add_argument(
        "--no-wake",
        action="store_true",
        help="with --input: the whole file is the question (no wake word needed)",
    )
    run.add_argument(
        "--realtime",
        action="store_true",
        help="with --input: feed the file (and play replies) at real-time speed, like a device",
    )
    run.add_argument(
        "--output-dir",
        metavar="DIR",
        help="write each spoken reply to a WAV file in DIR (and a JSON line per turn to stdout)",
    )
    run.add_argument(
        "--json",
        action="store_true",
        help="print one JSON line per finished turn, even at a terminal",
    )
    run.add_argument(
        "--wyoming",
        action="store_true",
        help="also serve Solo's voice to Wyoming clients (Home Assistant) on wyoming.uri",
    )
    run.set_defaults(handler=run_assistant)


def run_assistant(args: argparse.Namespace, config: Config) -> int:
    from solo_actors.runtime.app import run
    from solo_actors.voice.options import RunOptions

    if args.no_wake and args.input is None:
        print("solo: --no-wake needs --input FILE", file=sys.stderr)
        return EXIT_USAGE
    console = args.text and not args.json and sys.stdin.isatty() and sys.stdout.isatty()
    if console:
        config = replace(config, log=for_people(config.log))
    if args.wyoming:
        config = replace(config, wyoming=replace(config.wyoming, enabled=True))
    options = RunOptions(
        input=args.input,
        no_wake=args.no_wake,
        realtime=args.realtime,
        text=args.text,
        console=console,
        json=args.json,
        output_dir=args.output_dir,
    )
    return run(config, options)
