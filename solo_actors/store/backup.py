"""Backups of the store and the memories as one file, and restores into an empty store.

A backup is a tar archive: ``manifest.json`` (backend, schema version, row counts, time),
``store/`` (DuckDB ``EXPORT DATABASE`` as Parquet, or a ``pg_dump`` custom-format file, which
on PostgreSQL also holds the memories table) and, on the embedded backend, ``memories/`` (a
copy of the LanceDB folder). Restore refuses a store that has rows, so a restore can never
mix two histories; the operator empties it first (see docs/storage.md).
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import time
from pathlib import Path

import msgspec

from solo_actors.config import Config
from solo_actors.store.backend import StoreBackend, StoreInputError

MANIFEST = "manifest.json"


class Manifest(msgspec.Struct, frozen=True):
    backend: str
    schema_version: int
    rows: dict[str, int]
    created_at: float
    memories: bool


def default_backup_path(config: Config) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return config.solo.var_path(config.store.backup_dir, f"solo-{config.store.backend}-{stamp}.tar")


def make_backup(backend: StoreBackend, config: Config, out: Path | None) -> Path:
    """Write a backup of ``backend`` (open) and the embedded memories; return its path."""
    target = out or default_backup_path(config)
    target.parent.mkdir(parents=True, exist_ok=True)
    lance = config.solo.var_path(config.memory.lance_dir)
    with_memories = config.store.backend == "duckdb" and lance.exists()
    with tempfile.TemporaryDirectory(prefix="solo-backup-") as scratch:
        root = Path(scratch)
        (root / "store").mkdir()
        backend.dump(root / "store")
        if with_memories:
            shutil.copytree(lance, root / "memories")
        manifest = Manifest(
            backend=config.store.backend, schema_version=backend.schema_version(),
            rows=backend.count_rows(), created_at=time.time(), memories=with_memories,
        )  # fmt: skip
        (root / MANIFEST).write_bytes(msgspec.json.encode(manifest))
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            for item in sorted(root.iterdir()):
                archive.add(item, arcname=item.name)
        partial.replace(target)  # a backup file is complete or absent
    return target


def read_manifest(file: Path) -> Manifest:
    try:
        with tarfile.open(file) as archive:
            member = archive.extractfile(MANIFEST)
            assert member is not None
            return msgspec.json.decode(member.read(), type=Manifest)
    except (OSError, tarfile.TarError, KeyError, AssertionError, msgspec.DecodeError) as error:
        raise StoreInputError(f"{file} is not a Solo backup: {error}") from error


def restore_backup(backend: StoreBackend, config: Config, file: Path) -> Manifest:
    """Fill the empty store (open ``backend``) and memories from a backup file."""
    manifest = read_manifest(file)
    if manifest.backend != config.store.backend:
        raise StoreInputError(
            f"{file} is a {manifest.backend} backup but store.backend is "
            f"{config.store.backend}: restore it with --profile matching its backend"
        )
    if not backend.is_empty():
        raise StoreInputError(
            "the store is not empty: restore only goes into an empty store. Move the DuckDB "
            "file aside (or use an empty PostgreSQL database) and run restore again"
        )
    lance = config.solo.var_path(config.memory.lance_dir)
    if manifest.memories and lance.exists() and any(lance.iterdir()):
        raise StoreInputError(f"the memories folder {lance} is not empty: move it aside first")
    with tempfile.TemporaryDirectory(prefix="solo-restore-") as scratch:
        root = Path(scratch)
        with tarfile.open(file) as archive:
            archive.extractall(root, filter="data")
        backend.load(root / "store")
        if manifest.memories:
            shutil.rmtree(lance, ignore_errors=True)
            shutil.copytree(root / "memories", lance)
    return manifest
