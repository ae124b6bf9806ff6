"""Sentence embeddings from the catalog's MiniLM ONNX model: onnxruntime + tokenizers.

No PyTorch: the tokenizer pads and truncates a batch, onnxruntime returns the token vectors,
and the sentence vector is their mean over real (unpadded) tokens, L2-normalised, so a dot
product is the cosine similarity. Batches are sorted by length so little time goes into
padding. Loaded models are cached per process: a restarted memory actor reuses them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime
from tokenizers import Tokenizer

DIMENSIONS = 384


class Embedder:
    def __init__(self, folder: Path, max_tokens: int, batch_size: int, threads: int) -> None:
        self.batch_size = batch_size
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding()
        self.input_names = {item.name for item in self.session.get_inputs()}
        self.dimensions = int(self.session.get_outputs()[0].shape[-1] or DIMENSIONS)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length float32 row per text, in the order given."""
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            chosen = order[start : start + self.batch_size]
            out[chosen] = self._embed_batch([texts[i] for i in chosen])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


@functools.cache
def load_embedder(folder: Path, max_tokens: int, batch_size: int, threads: int) -> Embedder:
    """The process-wide embedder for these settings (loaded once, kept across restarts)."""
    return Embedder(folder, max_tokens, batch_size, threads)
