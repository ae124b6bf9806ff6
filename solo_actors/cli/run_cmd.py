"""``solo run`` (and plain ``solo`` / ``python run.py``): start the assistant."""

from __future__ import annotations

import argparse
from typing import Any

from solo_actors.config import Config


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    run = subparsers.add_parser("run", parents=[common], help="run the assistant (the default)")
    run.set_defaults(handler=run_assistant)


def run_assistant(args: argparse.Namespace, config: Config) -> int:
    from solo_actors.app import run

    return run(config)
