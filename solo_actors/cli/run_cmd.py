"""``solo run`` (and plain ``solo`` / ``python run.py``): start the assistant.

Without options it listens on the configured microphone. ``--input FILE`` listens to a WAV
file instead and ends once its questions are answered; ``--text`` takes typed lines; replies
go to the speaker, or to WAV files with ``--output-dir``.
"""

from __future__ import annotations

import argparse
from typing import Any

from solo_actors.config import Config


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
        "--realtime",
        action="store_true",
        help="with --input: feed the file (and play replies) at real-time speed, like a device",
    )
    run.add_argument(
        "--output-dir",
        metavar="DIR",
        help="write each spoken reply to a WAV file in DIR (and a JSON line per turn to stdout)",
    )
    run.set_defaults(handler=run_assistant)


def run_assistant(args: argparse.Namespace, config: Config) -> int:
    from solo_actors.app import run
    from solo_actors.voice.options import RunOptions

    options = RunOptions(
        input=args.input, realtime=args.realtime, text=args.text, output_dir=args.output_dir
    )
    return run(config, options)
