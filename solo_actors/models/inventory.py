"""What is in the models folder: every catalog asset's state, plus any other ``.gguf`` there.

A GGUF file dropped into ``models/`` by hand (any depth) is listed as a foreign model and
can be selected by its path. Facts about GGUF files come from their headers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec

from solo_actors.models.atomic import is_partial
from solo_actors.models.catalog import Catalog, Role
from solo_actors.models.errors import ModelError
from solo_actors.models.gguf import GgufInfo, read_gguf
from solo_actors.models.integrity import HashCache
from solo_actors.models.progress import SILENT, Reporter
from solo_actors.models.verify import asset_problem

Status = Literal["ok", "missing", "damaged", "foreign"]


class InventoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    catalog_id: str | None
    role: Role | None
    default: bool
    path: Path
    """The asset's entry path (what a loader is given)."""
    status: Status
    """ok / missing / damaged for catalog assets; foreign for a .gguf not in the catalog."""
    problem: str | None
    size: int | None
    """Bytes on disk; for a catalog asset, its catalog size once verified."""
    gguf: GgufInfo | None
    licence: str | None


def foreign_ggufs(catalog: Catalog, models_dir: Path) -> list[Path]:
    """Every ``.gguf`` under `models_dir` that is not a catalog asset's file."""
    known = {(models_dir / asset.path).resolve() for asset in catalog.models}
    return sorted(
        path
        for path in models_dir.rglob("*.gguf")
        if path.is_file() and not is_partial(path) and path.resolve() not in known
    )


def _header(path: Path) -> GgufInfo | None:
    if path.suffix != ".gguf" or not path.is_file():
        return None
    try:
        return read_gguf(path)
    except ModelError:
        # A damaged file is reported by its status; its header is simply not shown.
        return None


def take_inventory(
    catalog: Catalog, models_dir: Path, hashes: HashCache, reporter: Reporter = SILENT
) -> list[InventoryEntry]:
    entries = []
    for asset in catalog.models:
        path = models_dir / asset.entry
        found = asset_problem(asset, models_dir, hashes, reporter)
        problem = found[1] if found else None
        status: Status = "ok" if found is None else "missing" if problem == "missing" else "damaged"
        entries.append(
            InventoryEntry(
                catalog_id=asset.id,
                role=asset.role,
                default=asset.default,
                path=path,
                status=status,
                problem=problem,
                size=sum(target.size for target in asset.targets) if status == "ok" else None,
                gguf=_header(path),
                licence=asset.licence,
            )
        )
    for path in foreign_ggufs(catalog, models_dir):
        gguf = _header(path)
        entries.append(
            InventoryEntry(
                catalog_id=None,
                role="llm" if gguf else None,
                default=False,
                path=path,
                status="foreign",
                problem=None if gguf else "no readable GGUF header",
                size=path.stat().st_size,
                gguf=gguf,
                licence=gguf.licence if gguf else None,
            )
        )
    return entries

