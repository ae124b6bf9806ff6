"""The run-time folder (``solo.var_dir``) kept to its owner.

It holds the turn history, memories, reports and API token hashes: what the API only shows
to a token holder must not be readable by every local user either.
"""

from __future__ import annotations

import os
from pathlib import Path

from solo_actors.config import Config

PRIVATE_UMASK = 0o077


def private_var_dir(config: Config) -> Path:
    """Create ``solo.var_dir`` mode 0700 (and tighten one an older Solo made 0755), and make
    every file and folder this process creates from now on its owner's alone (umask 077),
    since the databases and logs are created by libraries that take the umask's mode."""
    os.umask(PRIVATE_UMASK)
    path = config.solo.var_path()
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path
