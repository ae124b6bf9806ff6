"""``solo timers|alarms|reminders [list|cancel ID]``: the running assistant's pending items.

Talks to the API (``GET /timers``, ``DELETE /timers/{id}`` ...) found and authenticated as
``solo status`` does; ``--json`` prints the API's answer. Exits 1 with a one-line reason
when the assistant is not running or refuses (an unknown id, a token without the scope).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from solo_actors.cli.status_cmd import TIMEOUT, api_token, api_url
from solo_actors.config import Config

KINDS = ("timers", "alarms", "reminders")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    for kind in KINDS:
        what = f"list or cancel the running assistant's {kind}"
        command = subparsers.add_parser(kind, parents=[common], help=what)
        command.add_argument("action", nargs="?", choices=("list", "cancel"), default="list")
        command.add_argument("id", nargs="?", help=f"the id to cancel (solo {kind} list)")
        command.add_argument(
            "--token", help="API token (default: $SOLO_TOKEN, else the admin token file)"
        )
        command.add_argument("--json", action="store_true", help="print the API's JSON answer")
        command.set_defaults(handler=run_command, kind=kind)


def call(args: argparse.Namespace, config: Config, method: str, path: str) -> Any:
    """The API's JSON answer; None (the reason printed) on any failure."""
    url = api_url(config)
    request = urllib.request.Request(url + path, method=method)
    token = api_token(args, config)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        message = json.loads(error.read() or b"{}").get("error", error.reason)
        print(f"solo: {method} {path}: {error.code} {message}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        print(f"solo: the assistant is not running (no API at {url}: {reason})", file=sys.stderr)
    return None


def line(item: dict[str, Any], now: float) -> str:
    due = dt.datetime.fromtimestamp(item["due_at"]).astimezone().strftime("%a %d %b %H:%M:%S")
    left = f"  {max(0.0, item['due_at'] - now):.0f} s left" if item["kind"] == "timer" else ""
    again = f"  (repeats {item['repeats']})" if item.get("repeats") else ""
    return f"{item['id']}  {due}{left}  {item['label']}{again}"


def run_command(args: argparse.Namespace, config: Config) -> int:
    kind: str = args.kind
    if args.action == "cancel":
        if not args.id:
            print(f"solo: which one? solo {kind} cancel ID (ids: solo {kind} list)",
                  file=sys.stderr)  # fmt: skip
            return 2
        item = call(args, config, "DELETE", f"/{kind}/{args.id}")
        if item is None:
            return 1
        print(json.dumps(item) if args.json else f"cancelled {line(item, time.time())}")
        return 0
    answer = call(args, config, "GET", f"/{kind}")
    if answer is None:
        return 1
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    now = time.time()
    for item in answer[kind]:
        print(line(item, now))
    if not answer[kind]:
        print(f"no {kind}")
    return 0
