"""File digests, and a cache that makes verifying a model on every start nearly free.

A model is trusted only after its sha256 matches the catalog. Hashing a 500 MB file takes
about a second, so the digest is remembered in a JSON file keyed by the file's absolute path
and stored with its size, mtime and ctime: any write to the file changes at least one of
them (ctime cannot even be set back by ``touch``), so a remembered digest is reused only for
the very bytes it was computed from. The cache is an optimisation only; deleting it costs one
re-hash per model.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import msgspec

from solo_actors.models.atomic import atomic_write

CHUNK = 1 << 20
Advance = Callable[[int], None]


def _ignore_progress(_amount: int) -> None:
    """Default progress callback for callers that show none."""


def sha256_file(path: Path, advance: Advance = _ignore_progress) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            advance(len(chunk))
    return digest.hexdigest()


def manifest_sha256(files: Iterable[tuple[str, str]]) -> str:
    """One digest for a folder of files: sha256 of its ``sha256sum``-style manifest.

    The manifest has one ``"<sha256>  <name>\\n"`` line per (name, sha256) pair, sorted by
    name, so the same files give the same digest whatever order they were listed in.
    """
    lines = sorted(f"{sha}  {name}\n" for name, sha in files)
    return hashlib.sha256("".join(lines).encode()).hexdigest()


class _Entry(msgspec.Struct, frozen=True, array_like=True):
    size: int
    mtime_ns: int
    ctime_ns: int
    sha256: str


def _stamp(stat: os.stat_result) -> tuple[int, int, int]:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


class HashCache:
    """sha256 of files, recomputed only when the file changed since it was last hashed."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self._entries = self._load()

    def _load(self) -> dict[str, _Entry]:
        try:
            return msgspec.json.decode(self.file.read_bytes(), type=dict[str, _Entry])
        except (FileNotFoundError, msgspec.DecodeError):
            # A missing or damaged cache only means hashing again.
            return {}

    def known(self, path: Path) -> str | None:
        """The remembered digest of `path` if the file is unchanged since, else None."""
        entry = self._entries.get(str(path.resolve()))
        if entry is None:
            return None
        stamp = _stamp(path.stat())
        return entry.sha256 if (entry.size, entry.mtime_ns, entry.ctime_ns) == stamp else None

    def sha256(self, path: Path, advance: Advance = _ignore_progress) -> str:
        """Digest of `path`, hashing the file only when no valid entry is remembered."""
        remembered = self.known(path)
        if remembered is not None:
            return remembered
        before = path.stat()
        digest = sha256_file(path, advance)
        # A file written to while it was hashed is not remembered: the digest may be of a mix.
        if _stamp(path.stat()) == _stamp(before):
            self._store(path, before, digest)
        return digest

    def remember(self, path: Path, sha256: str) -> None:
        """Record a digest computed while the file was written, so it isn't hashed again."""
        self._store(path, path.stat(), sha256)

    def _store(self, path: Path, stat: os.stat_result, sha256: str) -> None:
        # Re-read first so entries another process stored meanwhile are kept.
        self._entries = {**self._load(), str(path.resolve()): _Entry(*_stamp(stat), sha256)}
        self._save()

    def _save(self) -> None:
        # A cache that cannot be written (read-only var/) only costs re-hashing later. It
        # lives in var/, which is its owner's alone (solo_actors.runtime.private): so is the file.
        with contextlib.suppress(OSError), atomic_write(self.file, mode=0o600) as stream:
            stream.write(msgspec.json.encode(self._entries))
