"""``solo db backup|restore|migrate|stats|delete-user|forget-memories``: operate the store
and the memories without the assistant running.

These open the database directly. With DuckDB only one process may open the file, so while
the assistant runs they fail with a message saying so (back up a running assistant with the
store actor's `BackupStore` message instead, see docs/storage.md). PostgreSQL allows both at
once; a restore still needs an empty database.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import msgspec

from solo_actors.config import Config
from solo_actors.memory.embedder import DIMENSIONS
from solo_actors.memory.index import make_index
from solo_actors.messages import FORGOTTEN_WORDS, MemoryFilter
from solo_actors.store.backend import StoreBackend, StoreError
from solo_actors.store.backends import open_backend
from solo_actors.store.backup import make_backup, restore_backup

EXIT_FAILED = 1


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    db_parser = subparsers.add_parser("db", help="back up, restore, migrate and inspect the store")
    db_sub = db_parser.add_subparsers(dest="db_command", metavar="COMMAND")
    db_sub.required = True
    backup = db_sub.add_parser("backup", parents=[common], help="write a backup file")
    backup.add_argument("--out", type=Path, metavar="FILE", help="default: var/backups/...")
    backup.set_defaults(handler=backup_command)
    restore = db_sub.add_parser("restore", parents=[common], help="fill an empty store")
    restore.add_argument("file", type=Path, metavar="FILE")
    restore.set_defaults(handler=restore_command)
    migrate = db_sub.add_parser("migrate", parents=[common], help="apply pending migrations")
    migrate.set_defaults(handler=migrate_command)
    stats = db_sub.add_parser("stats", parents=[common], help="rows, size and partitions")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(handler=stats_command)
    delete_user = db_sub.add_parser(
        "delete-user", parents=[common],
        help="delete a user: their API tokens, sessions, conversations and memories",
    )  # fmt: skip
    delete_user.add_argument("user_id", metavar="USER_ID")
    delete_user.add_argument("--keep-conversations", action="store_true",
                             help="keep their conversations, turns and memories")  # fmt: skip
    delete_user.set_defaults(handler=delete_user_command)
    forget = db_sub.add_parser(
        "forget-memories", parents=[common],
        help='forget every memory of one kind (e.g. "exchange": questions kept with replies), '
        "or every memory",
    )  # fmt: skip
    which = forget.add_mutually_exclusive_group(required=True)
    which.add_argument("--kind", help='"told" or "exchange" (docs/storage.md, What is remembered)')
    which.add_argument("--all", action="store_true", help="every memory, of every kind")
    forget.set_defaults(handler=forget_memories_command)


def _with_backend(config: Config, work: Any) -> int:
    backend = open_backend(config)
    try:
        backend.open()  # applies pending migrations
        return int(work(backend))
    except StoreError as error:
        print(f"solo db: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        backend.close()


def backup_command(args: argparse.Namespace, config: Config) -> int:
    def run(backend: StoreBackend) -> int:
        path = make_backup(backend, config, args.out)
        print(f"backup written: {path} ({path.stat().st_size} bytes)")
        return 0

    return _with_backend(config, run)


def restore_command(args: argparse.Namespace, config: Config) -> int:
    def run(backend: StoreBackend) -> int:
        manifest = restore_backup(backend, config, args.file)
        print(f"restored {sum(manifest.rows.values())} rows from {args.file}")
        return 0

    return _with_backend(config, run)


def migrate_command(args: argparse.Namespace, config: Config) -> int:
    def run(backend: StoreBackend) -> int:
        print(f"schema version {backend.schema_version()}")  # open() migrated
        return 0

    return _with_backend(config, run)


def stats_command(args: argparse.Namespace, config: Config) -> int:
    def run(backend: StoreBackend) -> int:
        rows, partitions = backend.count_rows(), backend.partitions()
        stats = {
            "backend": config.store.backend,
            "schema_version": backend.schema_version(),
            "rows": rows,
            "size_bytes": backend.size_bytes(),
            "partitions": partitions,
        }
        if args.json:
            print(msgspec.json.encode(stats).decode())
            return 0
        print(f"{stats['backend']} store, schema version {stats['schema_version']}, "
              f"{stats['size_bytes']} bytes")  # fmt: skip
        for table, count in rows.items():
            print(f"  {table:<14} {count:>12} rows")
        if partitions:
            print("  partitions: " + ", ".join(partitions))
        return 0

    return _with_backend(config, run)


def delete_user_command(args: argparse.Namespace, config: Config) -> int:
    def run(backend: StoreBackend) -> int:
        rows = backend.delete_user(args.user_id, args.keep_conversations)
        if not args.keep_conversations:
            rows["memories"] = forget_memories(config, MemoryFilter(user_id=args.user_id))[0]
        if not any(rows.values()):
            print(f"solo db: no user {args.user_id!r} and nothing of theirs in the store",
                  file=sys.stderr)  # fmt: skip
            return EXIT_FAILED
        print(f"user {args.user_id} deleted: "
              + ", ".join(f"{count} {table}" for table, count in rows.items()))  # fmt: skip
        return 0

    return _with_backend(config, run)


def forget_memories(config: Config, matching: MemoryFilter) -> tuple[int, list[str]]:
    """Delete the memories ``matching`` from the memory index: how many there were, and the
    user's words of each (`MemoryIndex.forget`), for the transcript to forget too."""
    memories = make_index(config, DIMENSIONS)
    memories.open()
    try:
        forgotten = memories.forget([], matching)
        if forgotten[0]:
            memories.purge()  # the text leaves the files now, not at the next compaction
        return forgotten
    finally:
        memories.close()


def forget_memories_command(args: argparse.Namespace, config: Config) -> int:
    def run(backend: StoreBackend) -> int:
        # No filter at all is every memory (`MemoryIndex.delete`).
        matching = MemoryFilter(kind=None if args.all else args.kind)
        forgotten, said = forget_memories(config, matching)
        turns = backend.redact_turns(said, FORGOTTEN_WORDS)
        print(f"forgot {forgotten} memories" + ("" if args.all else f" of kind {args.kind!r}")
              + f", and their words in {turns} turns of the transcript")  # fmt: skip
        return 0

    return _with_backend(config, run)
