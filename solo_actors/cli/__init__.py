"""The ``solo`` command tree; ``python run.py`` is the same program.

Each command group lives in its own module with a ``register(subparsers, common)`` function
that adds its parser and sets ``handler(args, config) -> exit code``. The config is loaded
once here, so every command gets the same profile handling and the same exit code 2 with a
one-line message on a bad config. With no sub-command, ``run`` is assumed, with its options:
``python run.py --input q.wav`` is ``solo run --input q.wav``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from solo_actors.cli import (
    agents_cmd,
    chat_cmd,
    config_cmd,
    db_cmd,
    doctor_cmd,
    log_cmd,
    mcp_cmd,
    models_cmd,
    run_cmd,
    skills_cmd,
    status_cmd,
    token_cmd,
    trace_cmd,
)
from solo_actors.config import ConfigError, load_config

EXIT_CONFIG_ERROR = 2
COMMAND_MODULES = (
    run_cmd,
    config_cmd,
    models_cmd,
    chat_cmd,
    status_cmd,
    log_cmd,
    trace_cmd,
    token_cmd,
    agents_cmd,
    db_cmd,
    doctor_cmd,
    skills_cmd,
    mcp_cmd,
)  # fmt: skip


def common_options(defaults: bool) -> argparse.ArgumentParser:
    """Options every level accepts, so `solo --profile dev config show` and
    `solo config show --profile dev` mean the same. Only the top level sets defaults; the
    sub-levels use SUPPRESS so they don't overwrite a value given earlier on the line."""
    default = None if defaults else argparse.SUPPRESS
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "--profile",
        default=default,
        help="config profile from config/profiles/ (default: $SOLO_PROFILE or 'headless')",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=default,
        metavar="FILE",
        help="a TOML file laid over the profile",
    )
    # A sub-level's values replace the top level's in argparse's namespace; a list given at
    # both levels (`solo --set a=1 run --set b=2`) would lose the first, so each level keeps
    # its own and `main` joins them.
    parser.add_argument(
        "--set",
        dest="settings" if defaults else "command_settings",
        action="append",
        default=[] if defaults else argparse.SUPPRESS,
        metavar="KEY=VALUE",
        help="one setting for this run, over the profile, --config and the environment, "
        "e.g. --set llm.n_threads=4 (repeatable; keys as in config/default.toml)",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="solo",
        description="Solo, a private offline voice assistant. With no command, runs it.",
        parents=[common_options(defaults=True)],
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers, common_options(defaults=False))
    parser.set_defaults(commands=tuple(subparsers.choices))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    commands = set(parser.get_default("commands"))
    if not commands.intersection(arguments) and not {"-h", "--help"}.intersection(arguments):
        # No command word: `run`, whose options (--input, --text ...) may follow.
        arguments = ["run", *arguments]
    args = parser.parse_args(arguments)
    args.settings = [*args.settings, *getattr(args, "command_settings", [])]
    try:
        config = load_config(profile=args.profile, user_file=args.config, settings=args.settings)
    except ConfigError as error:
        print(f"solo: config error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    return int(args.handler(args, config))
