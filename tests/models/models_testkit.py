"""Helpers shared by the models tests: real-model paths, a GGUF writer, a synthetic catalog.

Kept out of conftest.py so test modules can import them under a name that no other test
folder uses (two folders' ``conftest`` modules would shadow each other on import).
"""

from __future__ import annotations

import hashlib
import random
import struct
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solo_actors.config import load_config
from solo_actors.models import Catalog, ModelPaths, load_catalog

REAL_PATHS = ModelPaths.from_config(load_config().models)
TINY_LLM = "smollm2-135m-instruct-q4_1"


def flip_byte(path: Path, offset: int) -> None:
    """Damage one byte in place, keeping the size, as a bad disk or a stray write would."""
    with path.open("r+b") as stream:
        stream.seek(offset)
        byte = stream.read(1)
        stream.seek(offset)
        stream.write(bytes([byte[0] ^ 0xFF]))


# GGUF value type codes and their struct formats (see solo_actors/models/gguf.py).
GGUF_TYPES: Mapping[str, tuple[int, str]] = {
    "u8": (0, "<B"), "i8": (1, "<b"), "u16": (2, "<H"), "i16": (3, "<h"), "u32": (4, "<I"),
    "i32": (5, "<i"), "f32": (6, "<f"), "bool": (7, "<?"), "u64": (10, "<Q"),
    "i64": (11, "<q"), "f64": (12, "<d"),
}  # fmt: skip
STRING, ARRAY = 8, 9


def _gguf_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def _gguf_value(kind: str, value: Any) -> bytes:
    """Type code and payload; `kind` is a scalar name, "str", or "array:<kind>"."""
    if kind == "str":
        return struct.pack("<I", STRING) + _gguf_string(value)
    if kind.startswith("array:"):
        item_kind = kind.removeprefix("array:")
        items = b"".join(_gguf_value(item_kind, item)[4:] for item in value)
        item_code = struct.unpack("<I", _gguf_value(item_kind, value[0])[:4])[0]
        return struct.pack("<IIQ", ARRAY, item_code, len(value)) + items
    code, fmt = GGUF_TYPES[kind]
    return struct.pack("<I", code) + struct.pack(fmt, value)


def write_gguf(
    path: Path,
    metadata: Mapping[str, tuple[str, Any]],
    tensors: Sequence[tuple[str, Sequence[int]]] = (),
    version: int = 3,
) -> Path:
    """Write a GGUF header: metadata as {key: (kind, value)}, tensors as (name, shape)."""
    header = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(metadata))
    for key, (kind, value) in metadata.items():
        header += _gguf_string(key) + _gguf_value(kind, value)
    for offset, (name, shape) in enumerate(tensors):
        header += _gguf_string(name) + struct.pack("<I", len(shape))
        header += struct.pack(f"<{len(shape)}Q", *shape) + struct.pack("<IQ", 0, offset)
    path.write_bytes(header + bytes(64))  # stand-in for tensor data
    return path


SYNTHETIC_CATALOG = """
version = 1

[[model]]
id = "demo-llm"
role = "llm"
default = true
summary = "two parts concatenated"
licence = "MIT"
assemble = "file"
path = "demo.gguf"
size = {llm_size}
sha256 = "{llm_sha}"
packages = [{{ requirement = "demo-parts==1.0", no_deps = true }}]
parts = ["demo_parts/a.bin", "demo_parts/b.bin"]

[[model]]
id = "demo-voice"
role = "tts"
default = false
summary = "a folder of two files"
licence = "MIT"
assemble = "folder"
path = "demo-voice"
entry = "voice.onnx"
packages = [{{ requirement = "demo-parts==1.0", no_deps = true }}]
files = [
    {{ member = "demo_parts/voice.onnx", size = {onnx_size}, sha256 = "{onnx_sha}" }},
    {{ member = "demo_parts/voice.onnx.json", size = {json_size}, sha256 = "{json_sha}" }},
]
"""


@dataclass
class Synthetic:
    """A catalog of two small assets whose one wheel sits in a temporary wheel cache."""

    paths: ModelPaths
    catalog: Catalog
    members: dict[str, bytes]

    @property
    def llm_bytes(self) -> bytes:
        return self.members["demo_parts/a.bin"] + self.members["demo_parts/b.bin"]

    def write_wheel(self, directory: Path) -> Path:
        """The wheel as pip would save it (also what a fake re-download writes)."""
        directory.mkdir(parents=True, exist_ok=True)
        wheel = directory / "demo_parts-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, data in self.members.items():
                archive.writestr(member, data)
        return wheel


def make_synthetic(root: Path) -> Synthetic:
    noise = random.Random(4).randbytes
    members = {
        "demo_parts/a.bin": noise(300_000),
        "demo_parts/b.bin": noise(200_001),
        "demo_parts/voice.onnx": noise(50_000),
        "demo_parts/voice.onnx.json": b'{"audio": {"sample_rate": 22050}}',
    }
    facts = {
        "llm": members["demo_parts/a.bin"] + members["demo_parts/b.bin"],
        "onnx": members["demo_parts/voice.onnx"],
        "json": members["demo_parts/voice.onnx.json"],
    }
    catalog_file = root / "catalog.toml"
    catalog_file.write_text(
        SYNTHETIC_CATALOG.format(
            **{f"{name}_size": len(data) for name, data in facts.items()},
            **{f"{name}_sha": hashlib.sha256(data).hexdigest() for name, data in facts.items()},
        )
    )
    paths = ModelPaths(
        models_dir=root / "models",
        catalog=catalog_file,
        wheel_cache=root / "var" / "cache" / "wheels",
        hash_cache=root / "var" / "cache" / "model-hashes.json",
    )
    built = Synthetic(paths, load_catalog(catalog_file), members)
    built.write_wheel(paths.wheel_cache)
    return built
