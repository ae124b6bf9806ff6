"""``solo config show``: the merged config and where each value came from."""

from __future__ import annotations

import argparse
from typing import Any

import msgspec

from solo_actors.config import Config, load_layers

ALIGN_AT_MOST = 60


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    config_parser = subparsers.add_parser("config", help="inspect the configuration")
    config_sub = config_parser.add_subparsers(dest="config_command", metavar="COMMAND")
    config_sub.required = True
    show = config_sub.add_parser(
        "show",
        parents=[common],
        help="print the merged config and the file or variable behind each value",
    )
    show.add_argument("--json", action="store_true", help="print JSON: {key: {value, source}}")
    show.set_defaults(handler=show_config)


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def show_config(args: argparse.Namespace, config: Config) -> int:
    layered = load_layers(profile=args.profile, user_file=args.config, settings=args.settings)
    values = flatten(msgspec.to_builtins(config))
    rows = {
        key: {"value": value, "source": layered.source_of(key)} for key, value in values.items()
    }
    if args.json:
        print(msgspec.json.encode(rows).decode())
        return 0
    settings = {
        key: f"{key} = {msgspec.json.encode(row['value']).decode()}" for key, row in rows.items()
    }
    # Aligned comments, but a long value (the system prompt) does not pad every other line.
    width = min(max(map(len, settings.values())), ALIGN_AT_MOST)
    for key, setting in settings.items():
        print(f"{setting:<{width}}  # {rows[key]['source']}")
    return 0
