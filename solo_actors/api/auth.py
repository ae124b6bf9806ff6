"""API tokens, their scopes, and rate limits (the seed's "BigBrother").

Tokens are random 256-bit secrets shown once; only their sha256 is kept, with a scope, in a
small JSON file under var/ (mode 0600). Not in the store's ``api_tokens`` table: that table
has no scope column, and the DuckDB file has a single writer (the running assistant), so
``solo token create`` could not add a token while the assistant runs. The file is re-read
when it changes, so a token created or revoked by the CLI takes effect on the next request.

Scopes are ordered: ``read`` < ``control`` < ``admin``; a token satisfies every scope up to
its own. Rate limits are token buckets, one per token and one per client address.

Every read-modify-write of the file holds an exclusive lock on a sibling ``.lock`` file, so
two ``solo token`` commands (or a command and the running API) can't lose each other's entry:
a lost revocation would bring a token back to life.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import os
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import msgspec

Scope = Literal["read", "control", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "control", "admin")
TOKEN_PREFIX = "solo_"


def scope_allows(held: Scope, needed: Scope) -> bool:
    return SCOPES.index(held) >= SCOPES.index(needed)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A stored token: its id (safe to show and log), its hash and its scope."""

    id: str
    sha256: str
    scope: Scope
    label: str = ""
    created_at: float
    revoked: bool = False


class TokenFile(msgspec.Struct, kw_only=True):
    tokens: list[TokenEntry] = msgspec.field(default_factory=list)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by its owner only (0600)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Unique per writer: two threads of one process must not share a temporary file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)
    os.chmod(temporary, 0o600)  # O_CREAT's mode is masked by the umask
    temporary.replace(path)


class TokenStore:
    """The token file, cached and re-read when its modification time changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._by_hash: dict[str, TokenEntry] = {}

    def _load(self) -> TokenFile:
        try:
            return msgspec.json.decode(self.path.read_bytes(), type=TokenFile)
        except FileNotFoundError:
            return TokenFile()

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = (0, 0)
        if stamp != self._stamp:
            self._by_hash = {entry.sha256: entry for entry in self._load().tokens}
            self._stamp = stamp

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """This store's thread lock and the file lock every process takes to change it."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            with self._lock:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
        finally:
            os.close(descriptor)  # closing releases the flock

    def authenticate(self, token: str) -> TokenEntry | None:
        """The live entry for ``token``, or None if unknown or revoked."""
        with self._lock:
            self._refresh()
            entry = self._by_hash.get(hash_token(token))
        return None if entry is None or entry.revoked else entry

    def is_live(self, token_id: str) -> bool:
        """Whether the token with id ``token_id`` still exists and is not revoked (an open
        stream asks this now and then, since it authenticated only once)."""
        with self._lock:
            self._refresh()
            return any(e.id == token_id and not e.revoked for e in self._by_hash.values())

    def entries(self) -> list[TokenEntry]:
        with self._lock:
            return self._load().tokens

    def create(self, scope: Scope, label: str = "") -> tuple[str, TokenEntry]:
        """A new token (the only time it exists in clear) and its stored entry."""
        created = self._add(scope, label, unless_admin=False)
        assert created is not None  # only an admin-only add can decline
        return created

    def _add(self, scope: Scope, label: str, unless_admin: bool) -> tuple[str, TokenEntry] | None:
        """Store a new token, under the file lock; with ``unless_admin``, none while a live
        admin token exists (checked under the same lock, so two starts make one)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        entry = TokenEntry(
            id=secrets.token_hex(4), sha256=hash_token(token), scope=scope, label=label,
            created_at=time.time(),
        )  # fmt: skip
        with self._locked():
            stored = self._load()
            if unless_admin and any(e.scope == "admin" and not e.revoked for e in stored.tokens):
                return None
            stored.tokens.append(entry)
            write_private(self.path, msgspec.json.encode(stored))
        return token, entry

    def revoke(self, token_id: str) -> bool:
        with self._locked():
            stored = self._load()
            found = any(entry.id == token_id for entry in stored.tokens)
            stored.tokens = [
                msgspec.structs.replace(entry, revoked=True) if entry.id == token_id else entry
                for entry in stored.tokens
            ]
            write_private(self.path, msgspec.json.encode(stored))
        return found

    def ensure_admin_token(self, clear_path: Path) -> bool:
        """On first run (no live admin token), create one and write it in clear to
        ``clear_path`` (mode 0600); True when it did."""
        created = self._add("admin", "first-run admin", unless_admin=True)
        if created is None:
            return False
        write_private(clear_path, (created[0] + "\n").encode())
        return True


class TokenBucket:
    """``rate`` tokens per second up to ``burst``; not thread-safe (one event loop uses it)."""

    __slots__ = ("level", "stamp")

    def __init__(self, burst: float, stamp: float) -> None:
        self.level = burst
        self.stamp = stamp


class RateLimiter:
    """Token buckets by key (a token id or a client address)."""

    def __init__(self, rate: float, burst: int, max_keys: int = 10_000) -> None:
        self.rate = rate
        self.burst = burst
        self._max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str, now: float | None = None) -> float:
        """Spend one request for ``key``: 0 when allowed, else seconds until one is."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                # Full buckets carry no information: forget them before growing without end.
                self._forget_full(now)
            bucket = self._buckets[key] = TokenBucket(self.burst, now)
        bucket.level = min(self.burst, bucket.level + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.level >= 1:
            bucket.level -= 1
            return 0.0
        return (1 - bucket.level) / self.rate

    def _forget_full(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            if bucket.level + (now - bucket.stamp) * self.rate >= self.burst:
                del self._buckets[key]
        if len(self._buckets) >= self._max_keys:
            with contextlib.suppress(StopIteration):
                del self._buckets[next(iter(self._buckets))]


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
