"""resolve_model: ids and paths to verified files, and errors that name the file and fix."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from models_testkit import REAL_PATHS, write_gguf

from solo_actors.config.schema import ModelsConfig
from solo_actors.models import Catalog, ModelError, ResolvedModel, Role, integrity, resolve_model

QWEN = "qwen2.5-coder-0.5b-instruct-q4_k_m"


def test_every_default_resolves_to_its_verified_entry(
    catalog: Catalog, pulled_model: Callable[[str], ResolvedModel]
) -> None:
    for asset in catalog.defaults:
        resolved = pulled_model(asset.id)
        assert resolved.catalog_id == asset.id
        assert resolved.sha256 == asset.digest
        assert resolved.path == REAL_PATHS.models_dir / asset.entry
        assert resolved.path.exists()
    assert pulled_model("piper-en_US-joe-medium").path.name == "en_US-joe-medium.onnx"
    assert pulled_model("whisper-tiny.en").path.is_dir()


def test_an_llm_comes_with_its_header(models_config: ModelsConfig) -> None:
    resolved = resolve_model(QWEN, models_config, role="llm")
    assert resolved.role == "llm"
    assert resolved.gguf is not None and resolved.gguf.architecture == "qwen2"
    assert resolved.size == 491_400_064


def test_a_path_to_a_catalog_file_is_verified_as_that_model(models_config: ModelsConfig) -> None:
    by_relative = resolve_model(f"{QWEN}.gguf", models_config)
    by_absolute = resolve_model(str(REAL_PATHS.models_dir / f"{QWEN}.gguf"), models_config)
    assert by_relative.catalog_id == by_absolute.catalog_id == QWEN


def test_the_wrong_role_is_refused(models_config: ModelsConfig) -> None:
    with pytest.raises(ModelError, match=r"whisper-tiny\.en has the role stt, not llm"):
        resolve_model("whisper-tiny.en", models_config, role="llm")


def test_an_unknown_ref_lists_the_ids(models_config: ModelsConfig) -> None:
    with pytest.raises(ModelError) as caught:
        resolve_model("gpt-5", models_config)
    assert "'gpt-5' is neither a model id" in str(caught.value)
    assert QWEN in str(caught.value)


def tmp_models(tmp_path: Path) -> ModelsConfig:
    return ModelsConfig(dir=str(tmp_path / "models"), catalog=str(REAL_PATHS.catalog))


def test_a_missing_model_names_the_file_and_the_pull_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        resolve_model(QWEN, tmp_models(tmp_path), var_dir=tmp_path / "var")
    expected = f"{tmp_path}/models/{QWEN}.gguf: missing; run: solo models pull {QWEN}"
    assert str(caught.value) == expected


def test_a_truncated_model_is_refused_before_it_is_loaded(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / f"{QWEN}.gguf").write_bytes(b"GGUF" + bytes(100))
    fix = f"(truncated or wrong file); run: solo models pull {QWEN}"
    with pytest.raises(ModelError, match=re.escape(fix)):
        resolve_model(QWEN, tmp_models(tmp_path), var_dir=tmp_path / "var")


def test_a_file_that_is_not_gguf_is_refused_as_an_llm(tmp_path: Path) -> None:
    notes = tmp_path / "notes.gguf"
    notes.write_text("not weights")
    with pytest.raises(ModelError) as caught:
        resolve_model(str(notes), tmp_models(tmp_path), role="llm", var_dir=tmp_path / "var")
    message = str(caught.value)
    assert message.startswith(f"{notes}: not a GGUF file")
    assert message.endswith(f"use a catalog model instead: run: solo models pull {QWEN}")


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("stt", "expected a CTranslate2 folder with model.bin and config.json"),
        ("embeddings", "expected a folder with model.onnx and tokenizer.json"),
        ("tts", "expected a Piper .onnx voice with its .onnx.json beside it"),
    ],
)
def test_a_folder_of_the_wrong_shape_is_refused(tmp_path: Path, role: Role, expected: str) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\0" * 10)
    with pytest.raises(ModelError, match=re.escape(expected)):
        resolve_model(str(folder), tmp_models(tmp_path), role=role, var_dir=tmp_path / "var")


def test_a_foreign_gguf_resolves_by_path(tmp_path: Path) -> None:
    metadata = {"general.architecture": ("str", "llama"), "llama.context_length": ("u32", 2048)}
    path = write_gguf(tmp_path / "mine.gguf", metadata, [("w", [4, 4])])
    resolved = resolve_model(str(path), tmp_models(tmp_path), role="llm", var_dir=tmp_path / "var")
    assert resolved.catalog_id is None
    assert resolved.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert resolved.gguf is not None and resolved.gguf.context_length == 2048


def test_a_verified_file_is_not_hashed_again_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_gguf(tmp_path / "mine.gguf", {"general.architecture": ("str", "llama")})
    hashed: list[Path] = []
    real_sha256_file = integrity.sha256_file

    def counting(file: Path, *args: object) -> str:
        hashed.append(file)
        return real_sha256_file(file)

    monkeypatch.setattr(integrity, "sha256_file", counting)
    first = resolve_model(str(path), tmp_models(tmp_path), var_dir=tmp_path / "var")
    second = resolve_model(str(path), tmp_models(tmp_path), var_dir=tmp_path / "var")
    assert len(hashed) == 1 and first.sha256 == second.sha256
    with path.open("ab") as stream:
        stream.write(b"more")
    third = resolve_model(str(path), tmp_models(tmp_path), var_dir=tmp_path / "var")
    assert len(hashed) == 2 and third.sha256 != first.sha256
