"""Atomic file placement: a file appears under its final name complete, or not at all.

The bytes go to a hidden temporary file beside the target (same folder, so the final
``os.replace`` is a rename within one file system, which is atomic on POSIX), are flushed to
disk, and only then renamed. A crash or an error leaves at most a ``.NAME.*.partial`` file,
which no reader looks at and the next write to the same target removes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

PARTIAL_SUFFIX = ".partial"
PUBLISHED_MODE = 0o644


def partial_prefix(target: Path) -> str:
    return f".{target.name}."


def is_partial(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(PARTIAL_SUFFIX)


def remove_stale_partials(target: Path) -> None:
    """Delete what an interrupted earlier write of `target` left behind."""
    for leftover in target.parent.glob(f"{partial_prefix(target)}*{PARTIAL_SUFFIX}"):
        leftover.unlink(missing_ok=True)


@contextmanager
def atomic_write(target: Path, mode: int = PUBLISHED_MODE) -> Iterator[BinaryIO]:
    """Yield a stream whose bytes replace `target` when the block ends without an error.

    Raising inside the block (for example because the written bytes failed a digest check)
    discards them and leaves any existing `target` untouched. The file gets `mode`.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(
        dir=target.parent, prefix=partial_prefix(target), suffix=PARTIAL_SUFFIX
    )
    temporary = Path(name)
    try:
        # mkstemp creates the file private (0600); model files are for every local user.
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
