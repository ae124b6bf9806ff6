"""Sentence embeddings from the catalog's MiniLM ONNX model: onnxruntime + tokenizers.

No PyTorch: the tokenizer turns texts into token ids, onnxruntime returns the token vectors,
and the sentence vector is their mean over real (unpadded) tokens, L2-normalised, so a dot
product is the cosine similarity. Loaded models are cached per process: a restarted memory
actor reuses them.

Where the time goes (bench/bench_memory.py compares this class with the bare onnxruntime
session on the same sentences): almost all of it is the model's fp32 matrix products (the
catalog model stores its weights as int8 but computes in fp32; quantising the activations
as well was no faster on AVX2 without VNNI and moves the vectors: bench/RESULTS.md).
So the embedder's job is to feed the model no padding and nothing twice:

* all texts of a call are tokenised once, without padding (``encode_batch_fast``: no
  character offsets), then sorted by token count and cut into sub-batches, each padded
  only to its own longest text, and the rows are put back in the caller's order;
* a sub-batch holds at most ``batch_size`` texts and ``batch_tokens`` tokens, so one long
  text does not make a whole batch of short ones expensive;
* onnxruntime's worker threads may spin between runs (``spin``): fastest on a quiet
  machine, but on a busy 2-core one the spinning threads steal the core that the tokenizer
  and the other actors need, so it is a setting.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime
from tokenizers import Tokenizer

DIMENSIONS = 384


def session_options(threads: int, spin: bool) -> onnxruntime.SessionOptions:
    """onnxruntime options for a small encoder: one graph run at a time, all optimisations."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    return options


class Embedder:
    def __init__(
        self, folder: Path, max_tokens: int, batch_size: int, threads: int,
        batch_tokens: int = 4_096, spin: bool = False,
    ) -> None:  # fmt: skip
        self.batch_size = batch_size
        self.batch_tokens = max(batch_tokens, max_tokens)
        self.session = onnxruntime.InferenceSession(
            str(folder / "model.onnx"), session_options(threads, spin),
            providers=["CPUExecutionProvider"],
        )  # fmt: skip
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.no_padding()  # padded here, per sub-batch, to its own longest text
        self.pad_id = self.tokenizer.token_to_id("[PAD]") or 0
        self.needs_token_types = "token_type_ids" in {i.name for i in self.session.get_inputs()}
        self.dimensions = int(self.session.get_outputs()[0].shape[-1] or DIMENSIONS)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length float32 row per text, in the order given."""
        return self.embed_tokens(self.encode(texts))

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """The token ids of each text, truncated to the model's limit, unpadded."""
        if not texts:
            return []
        return [encoding.ids for encoding in self.tokenizer.encode_batch_fast(list(texts))]

    def embed_tokens(self, token_ids: list[list[int]]) -> np.ndarray:
        """`embed` of texts already `encode`d (a caller that also counts their tokens)."""
        out = np.empty((len(token_ids), self.dimensions), dtype=np.float32)
        if not token_ids:
            return out
        order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
        for chosen in self._sub_batches(order, token_ids):
            out[chosen] = self.run([token_ids[i] for i in chosen])
        return out

    def _sub_batches(self, order: list[int], token_ids: list[list[int]]) -> list[list[int]]:
        """Consecutive runs of ``order`` (shortest first) within both batch limits."""
        batches: list[list[int]] = []
        current: list[int] = []
        for i in order:
            # Sorted ascending, so this text is the longest of the batch it would join.
            if current and (
                len(current) == self.batch_size
                or (len(current) + 1) * len(token_ids[i]) > self.batch_tokens
            ):
                batches.append(current)
                current = []
            current.append(i)
        batches.append(current)
        return batches

    def run(self, token_ids: Sequence[Sequence[int]]) -> np.ndarray:
        """Pad one batch to its longest row, run the model, mean-pool and normalise."""
        width = max(len(ids) for ids in token_ids)
        ids = np.full((len(token_ids), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(token_ids), width), dtype=np.int64)
        for row, row_ids in enumerate(token_ids):
            ids[row, : len(row_ids)] = row_ids
            mask[row, : len(row_ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self.needs_token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        weights = mask.astype(np.float32)
        pooled = np.einsum("bt,btd->bd", weights, hidden)
        pooled /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32, copy=False)


@functools.cache
def load_embedder(
    folder: Path, max_tokens: int, batch_size: int, threads: int,
    batch_tokens: int = 4_096, spin: bool = False,
) -> Embedder:  # fmt: skip
    """The process-wide embedder for these settings (loaded once, kept across restarts)."""
    return Embedder(folder, max_tokens, batch_size, threads, batch_tokens, spin)
