"""Model selection: turn a catalog id or a path into a verified file an actor can load.

`resolve_model` is the only way the assistant gets at a model file. It refuses, with a
`ModelError` that names the file and the command that fixes it, anything missing, anything
whose bytes differ from the catalog (checked by sha256 on first use, then trusted from the
hash cache while the file is unchanged), and anything of the wrong kind for the role, e.g. a
file without a GGUF header given to the LLM.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec

from solo_actors.config.loader import display_path
from solo_actors.config.schema import ModelsConfig
from solo_actors.models.catalog import AnyAsset, Catalog, Role, load_catalog
from solo_actors.models.errors import ModelError, pull_hint
from solo_actors.models.gguf import GgufInfo, read_gguf
from solo_actors.models.integrity import HashCache, manifest_sha256
from solo_actors.models.paths import DEFAULT_VAR_DIR, ModelPaths
from solo_actors.models.verify import asset_problem


class ResolvedModel(msgspec.Struct, frozen=True, kw_only=True):
    path: Path
    """What to hand the loader: the GGUF or .onnx file, or the model's folder."""
    catalog_id: str | None
    """None for a file that is not in the catalog (a .gguf dropped into models/)."""
    sha256: str
    """Of the file; of the sorted ``sha256sum`` manifest for a folder."""
    role: Role | None
    size: int
    """Bytes on disk, all files of a folder together."""
    gguf: GgufInfo | None = None
    """The header of a GGUF file."""


def resolve_model(
    ref: str,
    models: ModelsConfig,
    role: Role | None = None,
    *,
    var_dir: str | Path = DEFAULT_VAR_DIR,
) -> ResolvedModel:
    """Find, verify and check the model `ref` names: a catalog id, or a path to a file or
    folder (relative paths are tried in the models folder, then the current directory).

    `role`, when given, is checked: a catalog model must have that role, and any model must
    have the shape its loader needs. `var_dir` holds the hash cache (``[solo] var_dir``).
    """
    paths = ModelPaths.from_config(models, var_dir)
    catalog = load_catalog(paths.catalog)
    hashes = HashCache(paths.hash_cache)
    asset = catalog.get(ref)
    if asset is None:
        path = _locate(ref, paths, catalog)
        asset = _asset_at(path, catalog, paths.models_dir)
        if asset is None:
            return _resolve_foreign(path, role, catalog, hashes)
    return _resolve_catalog(asset, role, paths.models_dir, hashes)


def _locate(ref: str, paths: ModelPaths, catalog: Catalog) -> Path:
    given = Path(ref).expanduser()
    for candidate in (paths.models_dir / given, Path.cwd() / given):
        if candidate.exists():
            return candidate.resolve()
    raise ModelError(
        f"{ref!r} is neither a model id in {display_path(paths.catalog)} nor an existing file "
        f"or folder; ids: {', '.join(catalog.ids)} (see: solo models list)"
    )


def _asset_at(path: Path, catalog: Catalog, models_dir: Path) -> AnyAsset | None:
    """The catalog asset stored at `path`, so a path to it is verified like its id."""
    for asset in catalog.models:
        if path in {(models_dir / asset.path).resolve(), (models_dir / asset.entry).resolve()}:
            return asset
    return None


def _resolve_catalog(
    asset: AnyAsset, role: Role | None, models_dir: Path, hashes: HashCache
) -> ResolvedModel:
    if role is not None and asset.role != role:
        raise ModelError(
            f"{asset.id} has the role {asset.role}, not {role}; pick a {role} model "
            "(see: solo models list)"
        )
    problem = asset_problem(asset, models_dir, hashes)
    if problem is not None:
        file, what = problem
        raise ModelError(f"{display_path(file)}: {what}; {pull_hint(asset.id)}")
    path = models_dir / asset.entry
    return ResolvedModel(
        path=path,
        catalog_id=asset.id,
        sha256=asset.digest,
        role=asset.role,
        size=sum(target.size for target in asset.targets),
        gguf=_check_shape(path, asset.role, pull_hint(asset.id)),
    )


def _resolve_foreign(
    path: Path, role: Role | None, catalog: Catalog, hashes: HashCache
) -> ResolvedModel:
    default = next((asset for asset in catalog.defaults if asset.role == role), None)
    fix = f"use a catalog model instead: {pull_hint(default.id)}" if default else "check the path"
    gguf = _check_shape(path, role, fix) if role else None
    if path.is_dir():
        files = sorted(file for file in path.rglob("*") if file.is_file())
        sha256 = manifest_sha256(
            (file.relative_to(path).as_posix(), hashes.sha256(file)) for file in files
        )
        size = sum(file.stat().st_size for file in files)
    else:
        sha256, size = hashes.sha256(path), path.stat().st_size
    if gguf is None and path.suffix == ".gguf":
        gguf = read_gguf(path)
    return ResolvedModel(
        path=path, catalog_id=None, sha256=sha256, role=role, size=size, gguf=gguf
    )


def _check_shape(path: Path, role: Role | None, fix: str) -> GgufInfo | None:
    """Refuse a model its role's loader cannot open; return the GGUF header of an LLM."""
    if role == "llm":
        if not path.is_file():
            raise ModelError(f"{display_path(path)}: an llm must be a GGUF file; {fix}")
        try:
            return read_gguf(path)
        except ModelError as error:
            raise ModelError(f"{error}; {fix}") from None
    check = SHAPES.get(role) if role else None
    if check is not None:
        expected = check(path)
        if expected:
            raise ModelError(f"{display_path(path)}: not a {role} model, {expected}; {fix}")
    return None


def _stt_shape(path: Path) -> str | None:
    # faster-whisper loads a CTranslate2 folder: the weights plus the model's config.
    if not (path / "model.bin").is_file() or not (path / "config.json").is_file():
        return "expected a CTranslate2 folder with model.bin and config.json"
    return None


def _tts_shape(path: Path) -> str | None:
    # Piper reads the voice's settings from the .onnx.json file next to the .onnx.
    if path.suffix != ".onnx" or not path.with_name(f"{path.name}.json").is_file():
        return "expected a Piper .onnx voice with its .onnx.json beside it"
    return None


def _embeddings_shape(path: Path) -> str | None:
    if not (path / "model.onnx").is_file() or not (path / "tokenizer.json").is_file():
        return "expected a folder with model.onnx and tokenizer.json"
    return None


# Wake words come from pvporcupine's own package, so a wake model has no shape to check.
SHAPES: dict[Role, Callable[[Path], str | None]] = {
    "stt": _stt_shape,
    "tts": _tts_shape,
    "embeddings": _embeddings_shape,
}
