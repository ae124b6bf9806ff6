"""How Solo's messages cross into an actor running in its own process.

Every message in `solo_actors.messages` is a tagged msgspec Struct, so one MessagePack codec
decoding the union of all of them gives the receiving process the very type that was sent
(plain values, e.g. ``None`` replies, cross too). `worker_spec` gives it to each isolated
child; see docs/supervision.md (isolation) for what a codec is.
"""

from __future__ import annotations

from solo_actors import messages
from supervisors import MsgspecCodec


def message_types() -> tuple[type[messages.Message], ...]:
    """Every concrete message type of `solo_actors.messages`, in definition order."""
    found: list[type[messages.Message]] = []
    pending = list(messages.Message.__subclasses__())
    while pending:
        kind = pending.pop(0)
        if kind.__module__ == messages.__name__:  # all messages live there, by design
            found.append(kind)
        pending.extend(kind.__subclasses__())
    return tuple(found)


MESSAGE_CODEC = MsgspecCodec(*message_types())
"""The codec of every isolated Solo actor: all messages, plus plain values."""
