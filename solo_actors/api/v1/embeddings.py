"""``POST /v1/embeddings``: the memory actor's embedder, the model memories are kept with.

One `EmbedTexts` ask per request; the vectors come back as float32 bytes, which are
OpenAI's ``base64`` encoding as they are (the official client asks for base64 by default)
or a list of floats for ``encoding_format = "float"``.
"""

from __future__ import annotations

import base64
from typing import Annotated, Literal

import msgspec
import numpy as np
from aiohttp import web

import supervisors
from solo_actors.api.common import decode_body, in_thread, json_response, state_of
from solo_actors.api.v1.errors import invalid
from solo_actors.api.v1.models import check_model
from solo_actors.messages import EmbedTexts, StoreFailure, TextsEmbedded
from solo_actors.names import MEMORY_NAME

MAX_INPUTS = 2_048
"""OpenAI's limit on the texts of one request."""


class EmbeddingsBody(msgspec.Struct, frozen=True, kw_only=True):
    """What Solo reads of OpenAI's embeddings request; other fields are ignored."""

    model: Annotated[str, msgspec.Meta(min_length=1)]
    input: str | list[str | int | list[int]]
    """Text, or a list of texts; token arrays (allowed by OpenAI) are refused by name."""
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: Annotated[int, msgspec.Meta(ge=1)] | None = None


def texts_of(body: EmbeddingsBody) -> list[str]:
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts:
        raise invalid("input is empty: send a string or a list of strings", param="input")
    if not all(isinstance(text, str) for text in texts):
        raise invalid("token arrays are not supported as input: send the text itself",
                      param="input")  # fmt: skip
    if len(texts) > MAX_INPUTS:
        raise invalid(f"input holds {len(texts)} texts; the limit is {MAX_INPUTS}",
                      param="input")  # fmt: skip
    for index, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise invalid(f"input[{index}] is empty: every text must hold some characters",
                          param="input")  # fmt: skip
    return texts  # type: ignore[return-value]


async def embeddings(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await decode_body(request, EmbeddingsBody)
    await check_model(state, body.model, "embeddings")
    texts = texts_of(body)
    timeout = state.config.api.ask_timeout
    answer = await in_thread(
        lambda: supervisors.ask(MEMORY_NAME, EmbedTexts(texts=texts), timeout=timeout),
        timeout + 1, "memory (the embedder)",
    )  # fmt: skip
    if isinstance(answer, StoreFailure):
        raise invalid(answer.message, status=503)
    assert isinstance(answer, TextsEmbedded)
    if body.dimensions is not None and body.dimensions != answer.dimensions:
        raise invalid(f"dimensions = {body.dimensions} is not available: the embedder writes "
                      f"{answer.dimensions}; leave `dimensions` out",
                      param="dimensions")  # fmt: skip
    rows = np.frombuffer(answer.vectors, dtype="<f4").reshape(len(texts), answer.dimensions)
    data = [
        {"object": "embedding", "index": index,
         "embedding": base64.b64encode(row.tobytes()).decode() if body.encoding_format == "base64"
         else row.tolist()}
        for index, row in enumerate(rows)
    ]  # fmt: skip
    return json_response({"object": "list", "data": data, "model": body.model,
                          "usage": {"prompt_tokens": answer.tokens,
                                    "total_tokens": answer.tokens}})  # fmt: skip
