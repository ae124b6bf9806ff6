"""Read what a GGUF file says about itself, without llama.cpp.

A GGUF file (versions 2 and 3) starts with a little-endian header: the magic ``GGUF``, a
u32 version, u64 tensor and metadata counts, then the metadata as typed key/value pairs and
one info record per tensor (name, shape, type, offset). Only that header is read, through a
memory map, so the weights behind it are never paged in. Array values (the vocabulary, the
merges) are skipped over, not decoded.

The file's own metadata is the truth for `solo models list`: architecture, parameter count,
quantisation, context length and chat template come from here, never from the file name.
"""

from __future__ import annotations

import math
import mmap
import struct
from pathlib import Path
from typing import Any

import msgspec

from solo_actors.config.loader import display_path
from solo_actors.models.errors import ModelError

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)

# GGUF value types with a fixed width, as struct formats.
SCALAR_FORMATS = {
    0: "<B",  # uint8
    1: "<b",  # int8
    2: "<H",  # uint16
    3: "<h",  # int16
    4: "<I",  # uint32
    5: "<i",  # int32
    6: "<f",  # float32
    7: "<?",  # bool
    10: "<Q",  # uint64
    11: "<q",  # int64
    12: "<d",  # float64
}
STRING = 8
ARRAY = 9

# llama.cpp's `llama_ftype`, the value of ``general.file_type``; the gaps are retired types.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
    10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
    16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S",
    22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M",
    28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0",
    37: "TQ2_0", 38: "MXFP4_MOE",
}  # fmt: skip

Scalar = int | float | bool | str


class GgufError(ModelError):
    """The file is not a GGUF model this reader understands."""


class GgufInfo(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    architecture: str | None
    name: str | None
    size_label: str | None
    """``general.size_label`` as the converter wrote it, e.g. "0.5B"; often absent."""
    parameter_count: int
    """Sum of the element counts of all tensors (a tied output matrix stored twice counts
    twice, so this can exceed the advertised size)."""
    file_type: str | None
    """Quantisation of most tensors, e.g. "Q4_K_M", from ``general.file_type``."""
    context_length: int | None
    """Trained context window, ``<architecture>.context_length``."""
    chat_template: str | None
    licence: str | None
    """``general.license``, when the converter recorded it."""
    tensor_count: int
    metadata: dict[str, Scalar]
    """Every scalar key/value of the header; arrays are left out."""

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template)


class _Cursor:
    """Sequential little-endian reads over a buffer, failing cleanly past its end."""

    def __init__(self, buffer: mmap.mmap) -> None:
        self.buffer = buffer
        self.offset = 0

    def unpack(self, fmt: str) -> Any:
        (value,) = struct.unpack_from(fmt, self.buffer, self.offset)
        self.offset += struct.calcsize(fmt)
        return value

    def skip(self, length: int) -> None:
        if length < 0 or self.offset + length > len(self.buffer):
            raise struct.error("length runs past the end of the file")
        self.offset += length

    def string(self) -> str:
        length = self.unpack("<Q")
        start = self.offset
        self.skip(length)
        return bytes(self.buffer[start : self.offset]).decode("utf-8", errors="replace")

    def value(self, value_type: int) -> Scalar | None:
        """Read one value; arrays are skipped and give None."""
        if value_type == STRING:
            return self.string()
        if value_type == ARRAY:
            self.skip_array()
            return None
        fmt = SCALAR_FORMATS.get(value_type)
        if fmt is None:
            raise struct.error(f"unknown value type {value_type}")
        return self.unpack(fmt)

    def skip_array(self) -> None:
        item_type = self.unpack("<I")
        count = self.unpack("<Q")
        fmt = SCALAR_FORMATS.get(item_type)
        if fmt is not None:
            self.skip(count * struct.calcsize(fmt))
            return
        if item_type not in (STRING, ARRAY):
            raise struct.error(f"unknown array item type {item_type}")
        # Every such item takes at least 8 bytes, so a corrupt count fails here rather than
        # after a billion iterations.
        if count * 8 > len(self.buffer) - self.offset:
            raise struct.error("array runs past the end of the file")
        for _ in range(count):
            if item_type == STRING:
                self.skip(self.unpack("<Q"))
            else:
                self.skip_array()


def read_gguf(path: Path) -> GgufInfo:
    """Parse the header of the GGUF file at `path`; raise `GgufError` if it is not one."""
    shown = display_path(path)
    try:
        with path.open("rb") as stream:
            if stream.read(4) != MAGIC:
                raise GgufError(f"{shown}: not a GGUF file (no GGUF magic at its start)")
            with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
                return _parse(_Cursor(buffer), shown)
    except OSError as error:
        raise GgufError(f"{shown}: cannot read: {error.strerror or error}") from None
    except struct.error as error:
        raise GgufError(f"{shown}: damaged GGUF header ({error}); the file is corrupt") from None


def _parse(cursor: _Cursor, shown: str) -> GgufInfo:
    cursor.skip(len(MAGIC))
    version = cursor.unpack("<I")
    if version not in SUPPORTED_VERSIONS:
        raise GgufError(f"{shown}: GGUF version {version} is not supported (only 2 and 3)")
    tensor_count = cursor.unpack("<Q")
    metadata_count = cursor.unpack("<Q")
    metadata: dict[str, Scalar] = {}
    for _ in range(metadata_count):
        key = cursor.string()
        value = cursor.value(cursor.unpack("<I"))
        if value is not None:
            metadata[key] = value
    parameter_count = 0
    for _ in range(tensor_count):
        cursor.string()  # tensor name
        dimensions = [cursor.unpack("<Q") for _ in range(cursor.unpack("<I"))]
        cursor.skip(4 + 8)  # ggml type and data offset
        parameter_count += math.prod(dimensions)
    architecture = _text(metadata.get("general.architecture"))
    file_type = metadata.get("general.file_type")
    context_length = metadata.get(f"{architecture}.context_length")
    return GgufInfo(
        version=version,
        architecture=architecture,
        name=_text(metadata.get("general.name")),
        size_label=_text(metadata.get("general.size_label")),
        parameter_count=parameter_count,
        file_type=FILE_TYPES.get(file_type, f"unknown ({file_type})")
        if isinstance(file_type, int)
        else None,
        context_length=context_length if isinstance(context_length, int) else None,
        chat_template=_text(metadata.get("tokenizer.chat_template")),
        licence=_text(metadata.get("general.license")),
        tensor_count=tensor_count,
        metadata=metadata,
    )


def _text(value: Scalar | None) -> str | None:
    return value if isinstance(value, str) else None
