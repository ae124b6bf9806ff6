"""Draft tokens by prompt lookup: guess a reply's next tokens from its own context.

Generating one token on a CPU reads every weight of the model once, and reading them is
most of the cost, so llama.cpp evaluates a few tokens in one batch for little more than
one. `Engine.stream` uses that: after each token it appends a guess of the next
``llm.draft_tokens`` and evaluates them together; the model's own choice at each position
keeps the guessed tokens up to the first one it would not have written, and its choice
there is the next token. The reply is the one the model writes without guesses (the same
sampler picks every token), only sooner when a guess was right.

The guess (prompt lookup decoding, as in llama.cpp's ``lookup`` example and Hugging
Face's ``prompt_lookup_num_tokens``) needs no second model: the latest earlier place in the
context where its last few tokens occur, and the tokens that followed them there. A spoken
answer repeats the question's words ("What is the largest planet in our solar system?" ->
"The largest planet | in our solar system | is Jupiter."), and a reply repeats the system
prompt's set phrases ("I can't check that offline").
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MATCH_LENGTHS = (3, 2)
"""The lengths of context tail looked up, longest first. One token alone ("the", ",")
occurs everywhere and guesses wrong more often than right."""


def draft(context: np.ndarray, count: int) -> list[int]:
    """Up to `count` tokens that followed the latest earlier occurrence of the last tokens
    of `context` (``MATCH_LENGTHS``, longest first); [] when none occurs."""
    if count <= 0:
        return []
    for length in MATCH_LENGTHS:
        if len(context) <= length:
            continue
        tail = context[-length:]
        # Windows that start before the tail itself and leave a token to follow them.
        windows = sliding_window_view(context[:-1], length)
        starts = np.flatnonzero((windows == tail).all(axis=1))
        if starts.size:
            start = int(starts[-1]) + length
            return [int(token) for token in context[start : start + count]]
    return []
