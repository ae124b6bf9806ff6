"""``solo models pull`` and ``solo models list``: fetch model files, and show what is there.

Progress bars go to stderr and results to stdout, so ``solo models list --json`` stays
parseable while it hashes. Any failure is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from solo_actors.config import Config
from solo_actors.config.loader import display_path
from solo_actors.models import (
    AnyAsset,
    Catalog,
    InventoryEntry,
    ModelError,
    ModelPaths,
    Puller,
    load_catalog,
    take_inventory,
)
from solo_actors.models.integrity import HashCache

EXIT_FAILED = 1
EXIT_USAGE = 2
UNBOUNDED_WIDTH = 200


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    models_parser = subparsers.add_parser("models", help="pull and list model files")
    models_sub = models_parser.add_subparsers(dest="models_command", metavar="COMMAND")
    models_sub.required = True

    pull = models_sub.add_parser(
        "pull",
        parents=[common],
        help="download, assemble and verify catalog models into the models folder",
    )
    pull.add_argument("ids", nargs="*", metavar="ID", help="catalog ids to pull")
    which = pull.add_mutually_exclusive_group()
    which.add_argument("--defaults", action="store_true", help="pull every default model")
    which.add_argument("--all", action="store_true", help="pull every catalog model")
    pull.set_defaults(handler=pull_models)

    listing = models_sub.add_parser(
        "list",
        parents=[common],
        help="catalog and on-disk models side by side, with their GGUF headers",
    )
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.add_argument(
        "--chat-template", action="store_true", help="also print each LLM's chat template"
    )
    listing.set_defaults(handler=list_models)


class _RichMeter:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress = progress
        self.task = task

    def advance(self, amount: int) -> None:
        self.progress.advance(self.task, amount)

    def update(self, completed: int, total: int) -> None:
        self.progress.update(self.task, completed=completed, total=total)


class _RichReporter:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    @contextmanager
    def meter(self, description: str, total: int | None) -> Iterator[_RichMeter]:
        task = self.progress.add_task(description, total=total)
        yield _RichMeter(self.progress, task)


def _progress() -> Progress:
    console = Console(stderr=True)
    # Bars only on a terminal: in a log (make, CI) a bar's final frame is noise.
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"solo: {message}", file=sys.stderr)
    return code


def _select(args: argparse.Namespace, catalog: Catalog) -> list[AnyAsset] | str:
    """The assets the command line names, or why it names none."""
    if args.ids and (args.defaults or args.all):
        return "give model ids, or --defaults, or --all; not ids with a flag"
    if args.all:
        return list(catalog.models)
    if args.defaults:
        return list(catalog.defaults)
    if not args.ids:
        return "name the models to pull: ID ..., --defaults or --all (see: solo models list)"
    unknown = [model_id for model_id in args.ids if catalog.get(model_id) is None]
    if unknown:
        return f"not in the catalog: {', '.join(unknown)}; ids: {', '.join(catalog.ids)}"
    return [asset for asset in catalog.models if asset.id in args.ids]


def pull_models(args: argparse.Namespace, config: Config) -> int:
    paths = ModelPaths.from_config(config.models, config.solo.var_dir)
    try:
        catalog = load_catalog(paths.catalog)
    except ModelError as error:
        return _fail(f"models pull: {error}")
    selected = _select(args, catalog)
    if isinstance(selected, str):
        return _fail(f"models pull: {selected}", EXIT_USAGE)
    with _progress() as progress:
        puller = Puller(paths, _RichReporter(progress))
        for asset in selected:
            try:
                outcome = puller.pull(asset)
            except ModelError as error:
                progress.stop()
                return _fail(f"models pull {asset.id}: {error}")
            except KeyboardInterrupt:
                progress.stop()
                return _fail(f"models pull {asset.id}: interrupted; nothing half-written kept")
            print(f"{asset.id}: {outcome.action} ({outcome.seconds:.1f} s)")
    return 0


def _entry_row(entry: InventoryEntry, with_template: bool) -> dict[str, Any]:
    gguf = entry.gguf
    row: dict[str, Any] = {
        "id": entry.catalog_id,
        "role": entry.role,
        "default": entry.default,
        "status": entry.status,
        "problem": entry.problem,
        "path": display_path(entry.path),
        "size": entry.size,
        "licence": entry.licence,
        "gguf": None,
    }
    if gguf is not None:
        row["gguf"] = {
            "version": gguf.version,
            "architecture": gguf.architecture,
            "name": gguf.name,
            "size_label": gguf.size_label,
            "parameter_count": gguf.parameter_count,
            "file_type": gguf.file_type,
            "context_length": gguf.context_length,
            "has_chat_template": gguf.has_chat_template,
        }
        if with_template:
            row["gguf"]["chat_template"] = gguf.chat_template
    return row


def _count(value: int) -> str:
    for unit, scale in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if value >= scale:
            return f"{value / scale:.1f}{unit}"
    return str(value)


def _megabytes(size: int | None) -> str:
    return "" if size is None else f"{size / 1e6:,.1f} MB"


def list_models(args: argparse.Namespace, config: Config) -> int:
    paths = ModelPaths.from_config(config.models, config.solo.var_dir)
    try:
        catalog = load_catalog(paths.catalog)
        with _progress() as progress:
            entries = take_inventory(
                catalog, paths.models_dir, HashCache(paths.hash_cache), _RichReporter(progress)
            )
    except ModelError as error:
        return _fail(f"models list: {error}")
    shown_dir = display_path(paths.models_dir)
    if args.json:
        rows = [_entry_row(entry, args.chat_template) for entry in entries]
        print(msgspec.json.encode(rows).decode())
        return 0
    table = Table(
        title=f"models in {shown_dir}/ (catalog {display_path(paths.catalog)})",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("id / path", no_wrap=True)
    for column in ("role", "default", "status", "size", "arch", "params", "quant", "context",
                   "chat template", "licence"):  # fmt: skip
        table.add_column(column)
    for entry in entries:
        gguf = entry.gguf
        table.add_row(
            entry.catalog_id or display_path(entry.path),
            entry.role or "",
            "yes" if entry.default else "",
            entry.status
            if entry.status == "missing" or not entry.problem
            else f"{entry.status}: {entry.problem}",
            _megabytes(entry.size),
            (gguf.architecture or "") if gguf else "",
            (gguf.size_label or _count(gguf.parameter_count)) if gguf else "",
            (gguf.file_type or "") if gguf else "",
            f"{gguf.context_length:,}" if gguf and gguf.context_length else "",
            ("yes" if gguf.has_chat_template else "no") if gguf else "",
            entry.licence or "",
        )
    # A pipe or a log has no width to fit: don't squeeze the table into 80 columns there.
    Console(width=None if sys.stdout.isatty() else UNBOUNDED_WIDTH).print(table)
    if args.chat_template:
        for entry in entries:
            if entry.gguf and entry.gguf.chat_template:
                name = entry.catalog_id or display_path(entry.path)
                print(f"\n--- chat template of {name} ---\n{entry.gguf.chat_template}")
    return 0
