"""Response cache: identical deterministic requests get the stored reply in microseconds.

Two levels: an in-memory LRU (hits cost a dict lookup) and one small JSON file per reply
under ``<var_dir>/cache/llm/`` (hits survive a restart of the actor or the process). Both
expire entries after ``ttl`` seconds of wall-clock time, because the file level outlives the
process and a monotonic clock restarts with it.

The key is computed by the caller (`cache_key`) from everything that decides the reply: the
model file's sha256, the chat template's sha256, the full prompt text after history
trimming, and the sampling parameters. The actor consults the cache only when that makes
the reply repeatable (greedy decoding or a fixed seed); see docs/llm.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import msgspec

Clock = Callable[[], float]

FAN_OUT = "[0-9a-f][0-9a-f]"
"""The folders a reply file is in: its key's first two hex digits (`_path`). The warm
start's KV files live beside them, in ``kv/``, and are no replies."""


class CachedReply(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    created: float
    """Wall-clock seconds (time.time()) when the reply was generated."""


def cache_key(*parts: object) -> str:
    """A stable hex key for the given JSON-encodable parts."""
    return hashlib.sha256(msgspec.json.encode(parts)).hexdigest()


class ResponseCache:
    """LRU in memory over one file per reply; entries older than `ttl` are misses."""

    def __init__(
        self, directory: Path, ttl: float, capacity: int, clock: Clock = time.time
    ) -> None:
        self.directory = directory
        self.ttl = ttl
        self.capacity = capacity
        self._clock = clock
        self._memory: OrderedDict[str, CachedReply] = OrderedDict()
        self._decoder = msgspec.json.Decoder(CachedReply)

    def get(self, key: str) -> CachedReply | None:
        reply = self._memory.get(key)
        if reply is None:
            reply = self._decode(self._path(key))
            if reply is None:
                return None
        if self._expired(reply):
            self._forget(key)
            return None
        self._remember(key, reply)
        return reply

    def put(self, key: str, reply: CachedReply) -> None:
        self._remember(key, reply)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            stream.write(msgspec.json.encode(reply))
        os.replace(temporary, path)

    def prune(self) -> int:
        """Delete expired reply files; returns how many. Run at start, not per request."""
        removed = 0
        for path in self.directory.glob(f"{FAN_OUT}/*.json"):
            reply = self._decode(path)
            if reply is None or self._expired(reply):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def clear(self) -> int:
        """Forget every reply, in memory and on disk; returns how many files were deleted."""
        self._memory.clear()
        removed = 0
        for path in self.directory.glob(f"{FAN_OUT}/*.json"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def _expired(self, reply: CachedReply) -> bool:
        return self._clock() - reply.created > self.ttl

    def _remember(self, key: str, reply: CachedReply) -> None:
        self._memory[key] = reply
        self._memory.move_to_end(key)
        while len(self._memory) > self.capacity:
            self._memory.popitem(last=False)

    def _forget(self, key: str) -> None:
        self._memory.pop(key, None)
        self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        # Two-character fan-out keeps any one folder small.
        return self.directory / key[:2] / f"{key}.json"

    def _decode(self, path: Path) -> CachedReply | None:
        try:
            return self._decoder.decode(path.read_bytes())
        except FileNotFoundError:
            return None
        except msgspec.DecodeError:
            # A damaged file (e.g. from an older format) is only a miss.
            with contextlib.suppress(OSError):
                path.unlink()
            return None
