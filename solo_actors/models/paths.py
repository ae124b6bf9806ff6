"""Where the models package reads and writes: the models folder, the catalog, and the caches.

The models folder and catalog come from the ``[models]`` config section; the caches live in
the run-time folder (``[solo] var_dir``), because they can be deleted at any time and are
rebuilt on demand. All relative settings are taken from the repository root.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from solo_actors.config import REPO_ROOT
from solo_actors.config.schema import ModelsConfig

DEFAULT_VAR_DIR = "var"


@dataclass(frozen=True, slots=True)
class ModelPaths:
    models_dir: Path
    catalog: Path
    wheel_cache: Path
    """Downloaded wheels, kept so a damaged model is re-assembled without the network."""
    hash_cache: Path
    """JSON file of verified digests keyed by file identity (see `integrity.HashCache`)."""

    @classmethod
    def from_config(cls, models: ModelsConfig, var_dir: str | Path = DEFAULT_VAR_DIR) -> ModelPaths:
        cache = REPO_ROOT / var_dir / "cache"
        return cls(
            models_dir=REPO_ROOT / models.dir,
            catalog=REPO_ROOT / models.catalog,
            wheel_cache=cache / "wheels",
            hash_cache=cache / "model-hashes.json",
        )

