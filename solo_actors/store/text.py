"""Making untrusted text storable: valid UTF-8, no NUL, at most a given number of bytes.

Both databases reject some strings outright (PostgreSQL: NUL; both: lone surrogates, which
Python lets in through ``surrogateescape``), and a rejected row would fail its whole batch.
So text is repaired on the way in, never refused: invalid parts become U+FFFD, oversized text
is cut at a character boundary with a marker, and every repair is logged with the field name.
"""

from __future__ import annotations

from solo_actors.runtime.logs import get_logger

REPLACEMENT = "\ufffd"
log = get_logger("store")


def clean_text(value: str | bytes, field: str, max_bytes: int) -> str:
    """``value`` as storable text of at most ``max_bytes`` UTF-8 bytes (see the module doc)."""
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("utf-8", errors="replace")
        if REPLACEMENT in text:
            log.warning("invalid UTF-8 replaced", field=field)
    else:
        text = str(value)
    encoded = text.encode("utf-8", errors="replace")  # lone surrogates become "?"
    if "\x00" in text or len(encoded) != len(text.encode("utf-8", errors="surrogatepass")):
        log.warning("invalid characters replaced", field=field)
        text = encoded.decode("utf-8").replace("\x00", REPLACEMENT)
        encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    marker = f" [cut: {len(encoded)} bytes > {max_bytes}]"
    keep = max(0, max_bytes - len(marker.encode()))
    log.warning("oversized text cut", field=field, bytes=len(encoded), limit=max_bytes)
    return encoded[:keep].decode("utf-8", errors="ignore") + marker
