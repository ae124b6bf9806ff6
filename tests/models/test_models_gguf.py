"""The GGUF header reader, on synthetic files written here and on the real pulled models."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from models_testkit import write_gguf

from solo_actors.models import GgufError, ResolvedModel, read_gguf

FULL_METADATA = {
    "general.architecture": ("str", "demo"),
    "general.name": ("str", "Demo Tiny"),
    "general.size_label": ("str", "1K"),
    "general.license": ("str", "apache-2.0"),
    "general.file_type": ("u32", 15),
    "demo.context_length": ("u32", 4096),
    "demo.rope.freq_base": ("f32", 10000.0),
    "demo.use_bias": ("bool", True),
    "demo.layer_count": ("u64", 2),
    "demo.signed": ("i32", -3),
    "tokenizer.ggml.tokens": ("array:str", ["<s>", "</s>", "hello"]),
    "tokenizer.ggml.scores": ("array:f32", [0.0, 0.5, 1.0]),
    "tokenizer.nested": ("array:array:u8", [[1, 2], [3]]),
    "tokenizer.chat_template": ("str", "{% for m in messages %}<|im_start|>{{ m }}{% endfor %}"),
}
TENSORS = [("token_embd.weight", [16, 8]), ("blk.0.attn.weight", [8, 8]), ("norm", [8])]


@pytest.mark.parametrize("version", [2, 3])
def test_reads_every_field_of_a_synthetic_header(
    tmp_path: Path, version: int
) -> None:
    info = read_gguf(write_gguf(tmp_path / "demo.gguf", FULL_METADATA, TENSORS, version))
    assert info.version == version
    assert info.architecture == "demo"
    assert info.name == "Demo Tiny"
    assert info.size_label == "1K"
    assert info.licence == "apache-2.0"
    assert info.parameter_count == 16 * 8 + 8 * 8 + 8
    assert info.tensor_count == 3
    assert info.file_type == "Q4_K_M"
    assert info.context_length == 4096
    assert info.has_chat_template
    assert info.chat_template is not None and "<|im_start|>" in info.chat_template
    assert info.metadata["demo.use_bias"] is True
    assert info.metadata["demo.signed"] == -3
    assert "tokenizer.ggml.tokens" not in info.metadata  # arrays are skipped, not decoded


def test_absent_keys_read_as_none(tmp_path: Path) -> None:
    metadata = {"general.architecture": ("str", "bare"), "general.file_type": ("u32", 99)}
    info = read_gguf(write_gguf(tmp_path / "bare.gguf", metadata, [("w", [3, 5])]))
    assert info.size_label is None
    assert info.parameter_count == 15
    assert info.context_length is None
    assert info.file_type == "unknown (99)"
    assert not info.has_chat_template


def test_a_file_without_the_magic_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"PK\x03\x04 not a model at all")
    with pytest.raises(GgufError, match=r"model\.gguf: not a GGUF file"):
        read_gguf(path)


def test_an_old_version_is_refused(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "v1.gguf", {}, version=1)
    with pytest.raises(GgufError, match="version 1 is not supported"):
        read_gguf(path)


def test_a_truncated_header_is_refused(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "cut.gguf", FULL_METADATA, TENSORS)
    path.write_bytes(path.read_bytes()[:120])
    with pytest.raises(GgufError, match=r"cut\.gguf: damaged GGUF header"):
        read_gguf(path)


def test_a_corrupt_array_length_fails_at_once(tmp_path: Path) -> None:
    # One string-array key claiming 2**60 items: must be refused, not iterated.
    key = b"tokenizer.ggml.tokens"
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", len(key)) + key
    path = tmp_path / "huge.gguf"
    path.write_bytes(header + struct.pack("<IIQ", 9, 8, 2**60) + bytes(32))
    started = time.monotonic()
    with pytest.raises(GgufError, match="runs past the end"):
        read_gguf(path)
    assert time.monotonic() - started < 1


def test_the_default_llm_header(pulled_model: Callable[[str], ResolvedModel]) -> None:
    info = read_gguf(pulled_model("qwen2.5-coder-0.5b-instruct-q4_k_m").path)
    assert info.architecture == "qwen2"
    assert info.size_label == "0.5B"
    assert info.file_type == "Q4_K_M"
    assert info.context_length == 32_768
    assert info.chat_template is not None and "<|im_start|>" in info.chat_template
    # 494M weights plus the tied output matrix the file stores a second time.
    assert 450e6 < info.parameter_count < 700e6


def test_the_tiny_llm_header(pulled_model: Callable[[str], ResolvedModel]) -> None:
    resolved = pulled_model("smollm2-135m-instruct-q4_1")
    assert resolved.gguf is not None
    assert resolved.gguf.architecture == "llama"
    assert resolved.gguf.file_type == "Q4_1"
    assert resolved.gguf.context_length == 8192
    assert resolved.gguf.has_chat_template
    assert 130e6 < resolved.gguf.parameter_count < 140e6
