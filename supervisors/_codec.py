"""How messages cross into a process-isolated child: a pluggable encoder/decoder pair.

An isolated child (``ChildSpec(isolation="process")``) runs in its own OS process, so every
message told or asked to it, every reply, and every message it sends to a name in the
parent is turned into bytes on one side and back into an object on the other. The library
does not guess how: a child's ``ProcessOptions.codec`` says. A codec is anything with
``encode(obj) -> bytes`` and ``decode(data) -> obj`` that can be pickled (it is handed to
the child process when it starts).

``MsgspecCodec(*types)`` is the usual one: MessagePack via msgspec, decoded as a union of
the given tagged ``msgspec.Struct`` types plus plain values (None, bool, int, float, str,
list), so a message arrives as the very type it was sent as. Containers inside a plain
``list`` come back untyped (dicts); put structured data in a Struct field instead, which
is typed all the way down. Without types it carries plain values only.
"""

from __future__ import annotations

from typing import Any, Protocol, Union

import msgspec

from supervisors._reasons import Down

__all__ = ["Codec", "MsgspecCodec"]


class Codec(Protocol):
    """Turns messages into bytes and back; must be picklable."""

    def encode(self, message: Any, /) -> bytes: ...

    def decode(self, data: bytes, /) -> Any: ...


PLAIN_TYPES: tuple[Any, ...] = (None, bool, int, float, str, list)
"""Plain values every ``MsgspecCodec`` carries besides its Struct types."""


class MsgspecCodec:
    """MessagePack codec for a union of tagged msgspec Structs and plain values.

    Each Struct type must be tagged (``tag=True``) when more than one is given, as
    msgspec requires to tell them apart. ``encode`` raises ``TypeError`` for an object
    it cannot encode; ``decode`` raises ``msgspec.ValidationError`` for one that is not
    in the union (a ``dict``, a Struct type not listed) and ``msgspec.DecodeError`` for
    bytes that are not MessagePack, strings that are not UTF-8 included.
    """

    __slots__ = ("_decoder", "_encoder", "types")

    def __init__(self, *types: type[msgspec.Struct]) -> None:
        self.types = types
        self._encoder = msgspec.msgpack.Encoder()
        # A monitor's Down can be told to any isolated actor, whatever its codec lists.
        members = (*types, *(() if Down in types else (Down,)), *PLAIN_TYPES)
        self._decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(
            Union[members]  # noqa: UP007  (a runtime tuple of types: only Union takes it)
        )

    def encode(self, message: Any, /) -> bytes:
        try:
            return self._encoder.encode(message)
        except (TypeError, msgspec.EncodeError) as error:
            raise TypeError(
                f"cannot encode {type(message).__name__} for an isolated actor: {error}; "
                "send a msgspec Struct of the codec's types or a plain value"
            ) from None

    def decode(self, data: bytes, /) -> Any:
        try:
            return self._decoder.decode(data)
        except UnicodeDecodeError as error:
            # msgspec lets this one through; callers expect one family of decode errors.
            raise msgspec.DecodeError(f"invalid UTF-8 in a string: {error}") from None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # msgspec's Encoder/Decoder do not pickle; the types rebuild them in the child.
        return (MsgspecCodec, self.types)

    def __repr__(self) -> str:
        return f"MsgspecCodec({', '.join(t.__qualname__ for t in self.types)})"
