"""``solo token create|list|revoke``: API bearer tokens (see docs/api.md).

Works whether or not the assistant runs: tokens live in ``api.tokens_file`` (hashes only,
mode 0600), which the running API re-reads when it changes. A new token is printed once, on
stdout alone, so ``TOKEN=$(solo token create --scope read)`` captures it and nothing else.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import msgspec

from solo_actors.api.auth import SCOPES, TokenStore
from solo_actors.config import Config
from solo_actors.runtime.private import private_var_dir


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    token = subparsers.add_parser("token", help="create, list and revoke API tokens")
    commands = token.add_subparsers(dest="token_command", metavar="COMMAND")
    commands.required = True
    create = commands.add_parser("create", parents=[common], help="print a new token once")
    create.add_argument(
        "--scope",
        choices=SCOPES,
        required=True,
        help="read < control (ask, restart) < admin (stop actors, reload)",
    )
    create.add_argument("--label", default="", help="a note saying who or what uses it")
    create.set_defaults(handler=create_token)
    listing = commands.add_parser("list", parents=[common], help="ids, scopes and labels")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=list_tokens)
    revoke = commands.add_parser("revoke", parents=[common], help="revoke a token by its id")
    revoke.add_argument("token_id", help="the id shown by `solo token list`")
    revoke.set_defaults(handler=revoke_token)


def token_store(config: Config) -> TokenStore:
    private_var_dir(config)  # the first command may run before the assistant ever did
    return TokenStore(config.solo.var_path(config.api.tokens_file))


def create_token(args: argparse.Namespace, config: Config) -> int:
    token, entry = token_store(config).create(args.scope, args.label)
    print(token)
    print(f"solo: token {entry.id} with scope {entry.scope} created; it is shown only this "
          "once (only its sha256 is kept)", file=sys.stderr)  # fmt: skip
    return 0


def list_tokens(args: argparse.Namespace, config: Config) -> int:
    entries = token_store(config).entries()
    if args.json:
        print(msgspec.json.encode([msgspec.structs.replace(e, sha256="") for e in entries]
                                  ).decode())  # fmt: skip
        return 0
    if not entries:
        print("no tokens yet: `solo token create --scope read`, or start the assistant once "
              "for the first-run admin token")  # fmt: skip
    for entry in entries:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created_at))
        state = "revoked" if entry.revoked else "active"
        print(f"{entry.id}  {entry.scope:<7}  {state:<7}  {created}  {entry.label}")
    return 0


def revoke_token(args: argparse.Namespace, config: Config) -> int:
    if not token_store(config).revoke(args.token_id):
        print(f"solo: no token with id {args.token_id!r} (see `solo token list`)",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"token {args.token_id} revoked")
    return 0
