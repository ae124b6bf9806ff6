"""The embedder against a plain reference: one text at a time, unpadded, straight through
onnxruntime. Sorting, sub-batching and per-batch padding must not change a vector."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from tokenizers import Tokenizer

from solo_actors.memory.embedder import DIMENSIONS, Embedder, load_embedder
from solo_actors.models import ResolvedModel

MAX_TOKENS = 64

TEXTS = [
    "my sister's name is Ana",
    "",
    "Set a timer for ten minutes.",
    "word " * 200,  # past MAX_TOKENS: truncated, like the reference
    "The quick brown fox jumps over the lazy dog near the riverbank at dawn, twice.",
    "ok",
    "What's the weather like in Lisbon tomorrow? " * 3,
    "ünïcödé, emoji 🙂 and 中文 text",
    "my sister's name is Ana",  # a duplicate gets the same vector
]


@pytest.fixture(scope="module")
def model_folder(pulled_model: Callable[[str], ResolvedModel]) -> Path:
    return pulled_model("minilm-l6-v2-int8").path


def reference(folder: Path, texts: list[str]) -> np.ndarray:
    """Mean pooling over each text's own tokens, as sentence-transformers does it."""
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"),
                                           providers=["CPUExecutionProvider"])  # fmt: skip
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    rows = []
    for text in texts:
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                    "token_type_ids": np.zeros_like(ids)})[0][0]  # fmt: skip
        mean = hidden.mean(axis=0)
        rows.append(mean / np.linalg.norm(mean))
    return np.vstack(rows)


@pytest.mark.parametrize(("batch_size", "batch_tokens"), [(4, 4_096), (32, 64), (32, 4_096)])
def test_embeddings_match_the_unbatched_reference(
    model_folder: Path, batch_size: int, batch_tokens: int,
) -> None:  # fmt: skip
    embedder = Embedder(model_folder, MAX_TOKENS, batch_size, 0, batch_tokens)
    together = embedder.embed(TEXTS)
    assert together.shape == (len(TEXTS), DIMENSIONS) and together.dtype == np.float32
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    expected = reference(model_folder, TEXTS)
    assert np.abs(together - expected).max() < 1e-4
    assert np.allclose(together[0], together[-1], atol=1e-6)
    alone = np.vstack([embedder.embed([text]) for text in TEXTS])
    assert np.abs(together - alone).max() < 1e-4


def test_sub_batches_keep_both_limits_and_cover_every_text(model_folder: Path) -> None:
    embedder = Embedder(model_folder, MAX_TOKENS, 3, 0, 100)
    lengths = [5, 64, 7, 20, 5, 33, 2, 64, 9, 9]
    token_ids = [[1] * n for n in lengths]
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches = embedder._sub_batches(order, token_ids)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 100


def test_an_empty_call_embeds_nothing(model_folder: Path) -> None:
    assert load_embedder(model_folder, MAX_TOKENS, 8, 0).embed([]).shape == (0, DIMENSIONS)
