"""Whether a reply declined its request ("I can't do that."), by ``llm.declines``.

The llm leaves such an exchange out of a conversation's history (a small model copies its
own declines into the next answers: docs/llm.md), and the skills actor answers "why not?"
right after one (``why.declined`` in config/skills/control.toml).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

APOLOGY = re.compile(r"^(?:(?:i'm |i am )?sorry|i apologi[sz]e)\b[,.!]?\s*(?:but\s+)?")
"""An apology a refusal may open with ("Sorry, I can't ...", "I'm sorry, but I can't ...")."""


class Declines:
    """Whether a reply declined its request: after any apology, it opens with one of
    ``llm.declines`` (compared lower-cased, with typographic apostrophes as plain ones)."""

    def __init__(self, openings: Sequence[str]) -> None:
        self.openings = tuple(plain(opening) for opening in openings)

    def __call__(self, reply: str) -> bool:
        return bool(self.openings) and APOLOGY.sub("", plain(reply)).startswith(self.openings)


def plain(text: str) -> str:
    return text.strip().lower().replace("\u2019", "'")
