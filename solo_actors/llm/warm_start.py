"""The warm-up's KV cache kept on disk, so that a start restores it instead of reading it.

Every conversation's prompt starts with the same tokens: the system prompt and the tools'
schemas, about 1,000 with the skills'. The llm actor reads them at start (its warm-up), so
that the first turn does not; on a 2-core CPU that is about 10 s of both cores, at every
start of the assistant and of every llm process (a restart after a crash, the hot standby's
spare), and a question asked meanwhile waits. With ``llm.warm_start`` the KV cells the
warm-up leaves are saved, as ``<var_dir>/cache/llm/kv/<key>.kv`` with the tokens they
encode, and the next start restores them first thing, before any mail: a file read, a
checksum and a copy.

Restoring cells for other tokens than the prompt the start then needs is still exact: a
token's cells depend only on the tokens before it, and a prompt reuses only the prefix it
shares with what the cache holds (`Engine`), reading the rest. So a changed system prompt
or tool costs the read of what changed, and the warm-up saves the new state.

The cells' values depend on the computation too, so the file's key is a digest of
everything else that decides them: the model file's sha256, the llama.cpp build and the
CPU features it uses, and the context, batch and thread settings; any of them changed, and
another file is read and written. The file's path is not part of it: the sha256 says which
model it is, wherever it lies, so a moved checkout or models folder keeps its state. The
file holds a checksum of the tokens and the state; a file that is short, damaged or of
another format is ignored (and replaced), never restored. Files not used for
``STALE_AFTER`` are deleted when a new one is saved, and so are the leftovers of saves that
a killed process left unfinished.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import hashlib
import os
import tempfile
import time
from pathlib import Path

import llama_cpp
import msgspec
import numpy as np

from solo_actors.llm.engine import Engine, KVSnapshot, ModelSettings

MAGIC = b"SOLO-KV 1\n"
"""The first bytes of a state file of this format."""

STALE_AFTER = 30 * 86400.0
"""Seconds since its last use after which a state file is deleted (another model, prompt
or build made it)."""

ABANDONED_AFTER = 600.0
"""Seconds after which a partly written file is a save that was interrupted (its process
was killed), not one under way."""


class Header(msgspec.Struct, frozen=True):
    tokens: int
    size: int
    """Bytes of llama.cpp's sequence state."""
    blake2b: str
    """Of the tokens' and the state's bytes."""


def _checksum(tokens: bytes, data: bytes | memoryview) -> str:
    digest = hashlib.blake2b(tokens, digest_size=16)
    digest.update(data)
    return digest.hexdigest()


class WarmStates:
    """The state files of one model, as one llama.cpp build runs it with `settings`."""

    def __init__(self, directory: Path, model_sha256: str, settings: ModelSettings) -> None:
        self.directory = directory
        runtime = (
            llama_cpp.__version__,
            llama_cpp.llama_print_system_info().decode("utf-8", "replace"),
        )
        computation = dataclasses.replace(settings, path="")  # the sha256 names the model
        self._identity = hashlib.sha256(
            msgspec.json.encode((model_sha256, runtime, msgspec.to_builtins(computation)))
        ).digest()

    @property
    def path(self) -> Path:
        return self.directory / f"{self._identity.hex()[:32]}.kv"

    def restore(self, engine: Engine) -> int:
        """Make the saved state the engine's KV cache; how many tokens it holds (0, and
        nothing changed, when there is none or it is not whole)."""
        path = self.path
        try:
            blob = path.read_bytes()
        except OSError:
            return 0
        snapshot = _decode(blob)
        if snapshot is None or not engine.restore(snapshot):
            return 0
        with contextlib.suppress(OSError):
            os.utime(path)  # last used now: `prune` keeps it
        return len(snapshot.tokens)

    def save(self, engine: Engine) -> Path:
        """Write the engine's KV cache as the state of the tokens it holds (atomically:
        another process starting meanwhile reads the old file or the new one, whole)."""
        snapshot = engine.snapshot()
        tokens = snapshot.tokens.astype(np.intc).tobytes()
        data = memoryview(snapshot.data).cast("B")
        header = Header(len(snapshot.tokens), len(data), _checksum(tokens, data))
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(MAGIC + msgspec.json.encode(header) + b"\n")
                file.write(tokens)
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        self.prune(keep=path)
        return path

    def prune(self, keep: Path) -> None:
        """Delete the state files not used for ``STALE_AFTER`` seconds, except `keep`, and
        the leftovers of interrupted saves."""
        now = time.time()
        ages = {".kv": STALE_AFTER, ".part": ABANDONED_AFTER}
        for path in self.directory.iterdir():
            age = ages.get(path.suffix)
            if path == keep or age is None:
                continue
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < now - age:
                    path.unlink()


def _decode(blob: bytes) -> KVSnapshot | None:
    """The snapshot in a state file's bytes, or None if they are not a whole one."""
    if not blob.startswith(MAGIC):
        return None
    end = blob.find(b"\n", len(MAGIC))
    if end < 0:
        return None
    try:
        header = msgspec.json.decode(blob[len(MAGIC) : end], type=Header)
    except msgspec.DecodeError:
        return None
    start = end + 1
    token_bytes = header.tokens * np.dtype(np.intc).itemsize
    if len(blob) != start + token_bytes + header.size:
        return None
    tokens = blob[start : start + token_bytes]
    data = memoryview(blob)[start + token_bytes :]
    if _checksum(tokens, data) != header.blake2b:
        return None
    state = (ctypes.c_uint8 * header.size).from_buffer_copy(data)
    return KVSnapshot(tokens=np.frombuffer(tokens, dtype=np.intc).copy(), data=state)
