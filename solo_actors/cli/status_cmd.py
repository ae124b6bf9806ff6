"""``solo status``: the live supervision tree, from the running assistant's API.

Finds the API at the URL the api actor wrote to ``<var_dir>/api/url`` (else
``api.host:api.port``) and authenticates with ``--token``, ``$SOLO_TOKEN`` or the first-run
admin token file. With ``api.tls_cert`` set it trusts that certificate (a self-signed one
included). Exits 1 with a one-line reason when the assistant is not running.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from typing import Any

from solo_actors.config import REPO_ROOT, Config

TIMEOUT = 5.0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    status = subparsers.add_parser(
        "status", parents=[common], help="print the live supervision tree of the running assistant"
    )
    status.add_argument(
        "--token", help="API token (default: $SOLO_TOKEN, else the admin token file)"
    )
    status.add_argument("--json", action="store_true", help="print GET /status as JSON")
    status.set_defaults(handler=show_status)


def api_url(config: Config) -> str:
    written = config.solo.var_path("api", "url")
    if written.exists():
        return written.read_text().strip()
    return f"http://{config.api.host}:{config.api.port}"


def api_token(args: argparse.Namespace, config: Config) -> str | None:
    if args.token:
        return str(args.token)
    if os.environ.get("SOLO_TOKEN"):
        return os.environ["SOLO_TOKEN"]
    admin = config.solo.var_path(config.api.admin_token_file)
    return admin.read_text().strip() if admin.exists() else None


def tls_trust(config: Config) -> ssl.SSLContext | None:
    """Trust the API's own certificate when it serves HTTPS (else the system's CAs)."""
    if not config.api.tls_cert:
        return None
    return ssl.create_default_context(cafile=REPO_ROOT / config.api.tls_cert)


def show_status(args: argparse.Namespace, config: Config) -> int:
    url = api_url(config)
    request = urllib.request.Request(url + "/status")
    token = api_token(args, config)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        trust = tls_trust(config)
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=trust) as response:
            status = json.load(response)
    except urllib.error.HTTPError as error:
        message = json.loads(error.read() or b"{}").get("error", error.reason)
        print(f"solo: the API at {url} refused: {error.code} {message}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        print(f"solo: the assistant is not running (no API at {url}: {reason})", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    for line in tree_lines(status["tree"]):
        print(line)
    process = status["process"]
    print(f"\npid {process['pid']}  rss {process['rss_bytes'] / 2**20:.0f} MiB  "
          f"threads {process['threads']}")  # fmt: skip
    return 0


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}h{minute:02d}m" if hours else f"{minute}m{second:02d}s"


def tree_lines(node: dict[str, Any], prefix: str = "", last: bool = True,
               root: bool = True) -> list[str]:  # fmt: skip
    """One line per node: tree branch, id, state, uptime, restarts, mailbox, last exit."""
    branch = "" if root else ("└── " if last else "├── ")
    name = f"{prefix}{branch}{node['id']}"
    exit_reason = node.get("last_exit")
    last_exit = (f"  last exit: {exit_reason['kind']}"
                 + (f": {exit_reason['detail']}" if exit_reason.get("detail") else "")
                 if exit_reason else "")  # fmt: skip
    lines = [f"{name:<30} {node['state']:<10} up {duration(node.get('uptime')):>7}  "
             f"restarts {node['restarts']:<3} mailbox {node['mailbox']:<4}{last_exit}"]  # fmt: skip
    children = node.get("children", [])
    below = prefix + ("" if root else ("    " if last else "│   "))
    for index, child in enumerate(children):
        lines.extend(tree_lines(child, below, index == len(children) - 1, root=False))
    return lines
