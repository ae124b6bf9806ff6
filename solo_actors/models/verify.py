"""Is a catalog asset on disk, whole and unaltered?

Each final file is checked for existence, then size (a truncated file is caught without
reading it), then sha256 through the `HashCache`, so a file that was verified before and has
not changed since costs one ``stat``.
"""

from __future__ import annotations

from pathlib import Path

from solo_actors.models.catalog import AnyAsset, TargetFile
from solo_actors.models.integrity import HashCache
from solo_actors.models.progress import SILENT, Reporter


def target_problem(
    target: TargetFile, models_dir: Path, hashes: HashCache, reporter: Reporter = SILENT
) -> str | None:
    """None when the file is in place and intact, else what is wrong with it."""
    path = models_dir / target.relative_path
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if size != target.size:
        return f"size is {size:,} bytes, the catalog says {target.size:,} (truncated or wrong file)"
    digest = hashes.known(path)
    if digest is None:
        with reporter.meter(f"verify {target.relative_path}", target.size) as meter:
            digest = hashes.sha256(path, meter.advance)
    if digest != target.sha256:
        return "sha256 does not match the catalog (corrupt or altered)"
    return None


def asset_problem(
    asset: AnyAsset, models_dir: Path, hashes: HashCache, reporter: Reporter = SILENT
) -> tuple[Path, str] | None:
    """The first damaged or missing file of `asset` and what is wrong, or None if all's well."""
    for target in asset.targets:
        problem = target_problem(target, models_dir, hashes, reporter)
        if problem is not None:
            return models_dir / target.relative_path, problem
    return None
