"""Wyoming events on a byte stream: read and write them, with limits and clear errors.

An event is one JSON header line (``type``, optional ``data``, ``data_length``,
``payload_length``, ``version``), then ``data_length`` bytes of JSON merged into ``data``,
then ``payload_length`` bytes of payload (PCM audio). The reference library (PyPI
``wyoming``) turns a bad line into a silent end of the stream; here it is a
`ProtocolError` naming what was wrong, so the peer can be told before it is disconnected.
Nothing a peer sends can make the reader allocate more than ``max_bytes``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgspec

VERSION = "1.10.2"
"""The version written in each header: the reference library's whose events Solo follows."""


class ProtocolError(ValueError):
    """What a peer sent is not a Wyoming event; the message says what and how to fix it.
    The stream cannot be trusted past it: the connection is closed."""


class RequestError(ValueError):
    """A well-formed event that cannot be served as sent (audio that cannot be audio, a
    missing field); the message says what and how to fix it. The connection goes on."""


class Event(msgspec.Struct, frozen=True):
    type: str
    data: dict[str, Any] = msgspec.field(default_factory=dict)
    payload: bytes | None = None


def _length(header: dict[str, Any], key: str) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError(f"{key} must be a non-negative integer, got {value!r}")
    return value


async def read_event(reader: asyncio.StreamReader, max_bytes: int) -> Event | None:
    """The next event, or None at a clean end of the stream (between two events)."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial.strip():
            return None
        raise ProtocolError("the stream ended in the middle of a header line") from None
    except asyncio.LimitOverrunError:
        raise ProtocolError(
            f"a header line is longer than {reader_limit(max_bytes)} bytes"
        ) from None
    try:
        header = json.loads(line)
    except ValueError as error:
        raise ProtocolError(f"a header line is not JSON ({error}): {line[:80]!r}") from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise ProtocolError(f'a header must be a JSON object with a "type" string: {line[:80]!r}')
    data = header.get("data") or {}
    if not isinstance(data, dict):
        raise ProtocolError(f'"data" of a {header["type"]} event must be a JSON object')
    data_length = _length(header, "data_length")
    payload_length = _length(header, "payload_length")
    if len(line) + data_length + payload_length > max_bytes:
        raise ProtocolError(
            f"a {header['type']} event of {len(line) + data_length + payload_length} bytes is "
            f"over the limit of {max_bytes} (wyoming.max_event_bytes): send audio in chunks"
        )
    try:
        if data_length:
            extra = json.loads(await reader.readexactly(data_length))
            if not isinstance(extra, dict):
                raise ProtocolError(f"the data of a {header['type']} event is not a JSON object")
            data = {**data, **extra}
        payload = await reader.readexactly(payload_length) if payload_length else None
    except asyncio.IncompleteReadError as error:
        raise ProtocolError(
            f"the stream ended {len(error.partial)} bytes into a {header['type']} event that "
            "announced more (data_length and payload_length must match what follows)"
        ) from None
    except ValueError as error:
        raise ProtocolError(f"the data of a {header['type']} event is not JSON ({error})") from None
    return Event(header["type"], data, payload)


def reader_limit(max_bytes: int) -> int:
    """The asyncio stream buffer limit: the longest header line accepted."""
    return min(max_bytes, 1 << 16)


def encode_event(event: Event) -> bytes:
    header: dict[str, Any] = {"type": event.type, "version": VERSION}
    data = json.dumps(event.data, ensure_ascii=False).encode() if event.data else b""
    if data:
        header["data_length"] = len(data)
    if event.payload:
        header["payload_length"] = len(event.payload)
    line = json.dumps(header, ensure_ascii=False).encode() + b"\n"
    return line + data + (event.payload or b"")


async def write_event(writer: asyncio.StreamWriter, event: Event, timeout: float) -> None:
    """Write ``event``. A peer that reads nothing for ``timeout`` seconds is cut off (the
    connection aborted, its unsent data dropped) and this raises TimeoutError."""
    writer.write(encode_event(event))
    try:
        await asyncio.wait_for(writer.drain(), timeout)
    except TimeoutError:
        writer.transport.abort()  # a close would keep the buffer until the peer reads it
        raise
