"""Output sanitising: what the model writes, cleaned before anyone sees or speaks it.

Special tokens never reach the text: control tokens are detokenised to nothing and end the
turn (see `engine`). What remains is what a model writes *as text*:

- a role echo at the start ("assistant:", "<|im_start|>assistant") is dropped;
- a turn marker of any family, or a hallucinated next user turn, ends the reply there;
- leading and trailing whitespace is dropped;
- when the reply was cut by ``max_tokens``, the unfinished last sentence is dropped
  (`cut_unfinished_sentence`, applied to the final text only).

`StreamSanitizer` does the first three incrementally, so streamed pieces are already clean:
it holds back only text that may still turn into a marker (a trailing "<|im" might be the
start of "<|im_end|>") or trailing whitespace, and releases it as soon as it can't. The
concatenation of everything `feed` and `finish` return is exactly `text`.

A plain-word echo ("assistant:") is recognised once its whole word has arrived, which a
tokenizer delivers as one token: holding back every reply that starts with "A" or "As"
for fear of "assistant" would delay the first token of many ordinary replies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from solo_actors.llm.templates import ALL_STOPS, ROLE_ECHOES

# A sentence ends at terminal punctuation plus any closing quotes or brackets: Latin
# punctuation must be followed by whitespace or the end ("3.14" is no end), CJK punctuation
# needs nothing after it (CJK text has no spaces). A line break ends one too (lists, code).
# The escapes are the ellipsis, the curly closing quotes, the CJK full stop and the
# full-width exclamation and question marks: written out they look like ASCII ones.
_CLOSERS = "[\"'\u201d\u2019)\\]]*"
_SENTENCE_END = re.compile(f"[.!?\u2026]{_CLOSERS}(?=\\s|$)|[\u3002\uff01\uff1f]{_CLOSERS}|\n")
# "2." or "3)" alone at the start of a line numbers a list item; it ends no sentence.
_LIST_MARKER = re.compile(r"\s*\d{1,3}[.)]")


def cut_unfinished_sentence(text: str) -> str:
    """`text` without its trailing unfinished sentence; unchanged if it has no sentence end."""
    ends = [
        match.end()
        for match in _SENTENCE_END.finditer(text)
        if not _LIST_MARKER.fullmatch(text, text.rfind("\n", 0, match.start()) + 1, match.end())
    ]
    if not ends or not text[ends[-1] :].strip():
        return text
    return text[: ends[-1]].rstrip()


class StreamSanitizer:
    """Cleans a reply piece by piece; see the module docstring for the rules."""

    def __init__(
        self, stops: Sequence[str] = ALL_STOPS, echoes: Sequence[str] = ROLE_ECHOES
    ) -> None:
        self._stops = tuple(stops)
        self._stop_starts = frozenset(stop[0] for stop in self._stops)
        self._longest_stop = max(len(stop) for stop in self._stops)
        self._echoes = tuple(echo.lower() for echo in echoes)
        # How much of each echo must have arrived before a matching start is held back.
        self._echo_holds = tuple(
            (echo, len(re.sub(r"[^a-z].*", "", echo, flags=re.DOTALL)) or 1)
            for echo in self._echoes
        )
        self._held = ""
        self._at_start = True
        self._released: list[str] = []
        self.stopped = False
        """True once a marker ended the reply; later pieces are ignored."""

    @property
    def text(self) -> str:
        """Everything released so far: the clean reply."""
        return "".join(self._released)

    def feed(self, piece: str) -> str:
        """Add the next decoded piece; returns the text that is now safe to publish."""
        if self.stopped:
            return ""
        self._held += piece
        if self._at_start and not self._drop_role_echo():
            return ""
        stop_at = self._first_stop()
        if stop_at is not None:
            self._held = self._held[:stop_at]
            self.stopped = True
            return self._release(len(self._held.rstrip()))
        return self._release(self._safe_length())

    def finish(self) -> str:
        """The end of the reply: release what was held (a partial marker is just text)."""
        return self._release(len(self._held.rstrip()))

    def _release(self, length: int) -> str:
        out, self._held = self._held[:length], self._held[length:]
        if out:
            self._released.append(out)
        return out

    def _drop_role_echo(self) -> bool:
        """Strip role echoes from the start; False while the start may still be one."""
        while True:
            self._held = self._held.lstrip()
            lowered = self._held.lower()
            if not lowered:
                return False
            echo = next((echo for echo in self._echoes if lowered.startswith(echo)), None)
            if echo is None:
                if any(
                    echo.startswith(lowered) and len(lowered) >= hold
                    for echo, hold in self._echo_holds
                ):
                    return False
                self._at_start = False
                return True
            self._held = self._held[len(echo) :]

    def _first_stop(self) -> int | None:
        found = [index for stop in self._stops if (index := self._held.find(stop)) >= 0]
        return min(found, default=None)

    def _safe_length(self) -> int:
        """How much of the held text can't become a stop marker: all but a marker prefix
        at the end, and never trailing whitespace (it may turn out to be the end)."""
        held = self._held
        safe = len(held)
        for index in range(max(0, safe - self._longest_stop + 1), safe):
            if held[index] in self._stop_starts:
                tail = held[index:]
                if any(stop.startswith(tail) for stop in self._stops):
                    safe = index
                    break
        return len(held[:safe].rstrip())
