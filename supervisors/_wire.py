"""The protocol between a process-isolated child and its stand-in: frames over a pipe.

Both ends of a ``multiprocessing`` pipe speak the same small set of msgspec frames
(MessagePack, array-like, integer-tagged: a token costs a few bytes of framing). A
message's own bytes come from the child's codec (``supervisors._codec``); the frames only
say what to do with them:

* ``Tell``/``Ask``: deliver a message to the actor (``name`` None) or, from the child, to
  a name registered in the parent; an ask carries an id its ``Reply``/``Fail`` echoes.
* ``Beat``: the child's sign of life, several times a second, with what a heartbeat
  check and a status snapshot need (messages taken so far, mailbox depth, figures).
* ``Started``/``Exited``: the actor's ``on_start`` returned / the actor ended, and why.
* ``Stop``: the parent's exit signal (shutdown, ``ref.stop()``).
* ``Adopted``: a hot standby's spare became the child (it takes its own priority back).
* ``Monitor``/``Demonitor``: from the child, watch (or stop watching) the incarnation a
  name in the parent points at; ``MonitorDown`` brings its exit back, with the child's
  token and the reason (``supervisors._monitors`` across the pipe).

``Channel`` wraps one end: thread-safe sends, and the table of asks sent over it that wait
for their reply. ``WireReply`` is the future an actor on the *other* side of a pipe is
handed for an ask: setting it sends the reply back. Exceptions cross as ``WireError``
and come out as ``ActorExitedError``/``NoProcError``/``RequestFailedError`` when that is
what they were, else as ``RemoteError`` with the original type, message and traceback text.
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, Literal, Union

import msgspec
import pykka
from pykka import ThreadingFuture

from supervisors._errors import ActorExitedError, NoProcError, RequestFailedError
from supervisors._reasons import ExitReason, format_traceback

if TYPE_CHECKING:
    from supervisors._codec import Codec

__all__ = [
    "Adopted",
    "Ask",
    "Beat",
    "Channel",
    "Demonitor",
    "Exited",
    "Fail",
    "Frame",
    "Monitor",
    "MonitorDown",
    "RemoteError",
    "Reply",
    "Started",
    "Stop",
    "Tell",
    "WireError",
    "WireReply",
]

logger = logging.getLogger("supervisors")

FigureValue = int | float | str | bool


class Tell(msgspec.Struct, tag=1, array_like=True, frozen=True):
    name: str | None
    data: bytes


class Ask(msgspec.Struct, tag=2, array_like=True, frozen=True):
    id: int
    name: str | None
    data: bytes


class Reply(msgspec.Struct, tag=3, array_like=True, frozen=True):
    id: int
    data: bytes


class WireError(msgspec.Struct, array_like=True, frozen=True):
    """An exception, as it crosses: ``exited``/``noproc``/``failed`` keep their meaning."""

    kind: Literal["exited", "noproc", "failed", "error"]
    type: str
    message: str
    traceback: str = ""
    actor: str = ""
    reason: ExitReason | None = None
    name: str = ""


class Fail(msgspec.Struct, tag=4, array_like=True, frozen=True):
    id: int
    error: WireError


class Beat(msgspec.Struct, tag=5, array_like=True, frozen=True):
    taken: int
    """Messages the actor has taken so far (sampled: it only has to change)."""
    depth: int
    """Messages waiting in the actor's mailbox."""
    figures: dict[str, FigureValue] | None = None
    """The actor's published figures, when they changed since the last beat."""


class Started(msgspec.Struct, tag=6, array_like=True, frozen=True):
    pid: int


class Exited(msgspec.Struct, tag=7, array_like=True, frozen=True):
    reason: ExitReason
    traceback: str
    started: bool
    """False: the actor failed to start (its factory or ``on_start`` raised)."""


class Stop(msgspec.Struct, tag=8, array_like=True, frozen=True):
    reason: ExitReason


class Adopted(msgspec.Struct, tag=9, array_like=True, frozen=True):
    pass


class Monitor(msgspec.Struct, tag=10, array_like=True, frozen=True):
    token: int
    """The child's number for this monitor, echoed by its ``MonitorDown``."""
    name: str


class Demonitor(msgspec.Struct, tag=11, array_like=True, frozen=True):
    token: int


class MonitorDown(msgspec.Struct, tag=12, array_like=True, frozen=True):
    token: int
    reason: ExitReason


Frame = Union[  # noqa: UP007
    Tell, Ask, Reply, Fail, Beat, Started, Exited, Stop, Adopted, Monitor, Demonitor, MonitorDown
]

_encode_frame = msgspec.msgpack.Encoder().encode
_decode_frame = msgspec.msgpack.Decoder(Frame).decode


def decode_frame(data: bytes) -> Frame:
    frame: Frame = _decode_frame(data)
    return frame


class RemoteError(Exception):
    """An exception raised in another process: its type name, message and traceback."""

    def __init__(self, type_name: str, message: str, traceback: str = "") -> None:
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name
        self.remote_traceback = traceback


def error_to_wire(error: BaseException) -> WireError:
    kind = type(error)
    type_name = kind.__qualname__ if kind.__module__ == "builtins" else kind.__name__
    if isinstance(error, ActorExitedError):
        cause = error.__cause__
        return WireError(
            "exited",
            type_name,
            str(error),
            traceback="" if cause is None else _traceback_of(cause),
            actor=error.actor,
            reason=error.reason,
        )
    if isinstance(error, NoProcError):
        return WireError("noproc", type_name, str(error), name=error.name)
    if isinstance(error, RequestFailedError) and error.__cause__ is not None:
        cause = error.__cause__  # crosses as the handler's exception, its request named
        return WireError("failed", type(cause).__name__, str(cause),
                         traceback=_traceback_of(cause), actor=error.actor,
                         name=error.request)  # fmt: skip
    return WireError("error", type_name, str(error), traceback=_traceback_of(error))


def _traceback_of(error: BaseException) -> str:
    if isinstance(error, RemoteError):
        return error.remote_traceback
    return format_traceback(error)


def error_from_wire(wire: WireError) -> BaseException:
    if wire.kind == "exited" and wire.reason is not None:
        error = ActorExitedError(wire.actor, wire.reason)
        if wire.traceback:
            error.__cause__ = RemoteError(wire.type, wire.message, wire.traceback)
        return error
    if wire.kind == "noproc":
        return NoProcError(wire.name)
    if wire.kind == "failed":
        cause = RemoteError(wire.type, wire.message, wire.traceback)
        failed = RequestFailedError(wire.actor, wire.name, str(cause))
        failed.__cause__ = cause
        return failed
    return RemoteError(wire.type, wire.message, wire.traceback)


class Channel:
    """One end of the pipe: thread-safe sends and the asks waiting for replies."""

    def __init__(self, connection: Connection, codec: Codec) -> None:
        self.connection = connection
        self.codec = codec
        self._send_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: dict[int, pykka.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._closed: Callable[[], BaseException] | None = None

    def send(self, frame: Frame) -> bool:
        """Send ``frame``; False if the pipe is gone (the other side died)."""
        data = _encode_frame(frame)
        try:
            with self._send_lock:
                self.connection.send_bytes(data)
        except (OSError, ValueError):
            return False  # closed or broken: whoever watches the process handles the exit
        return True

    # -- asks sent over this channel ----------------------------------------------------

    def ask(self, name: str | None, data: bytes, future: pykka.Future[Any]) -> None:
        """Send an ask whose reply will be set on ``future``."""
        with self._pending_lock:
            closed = self._closed
            if closed is None:
                ask_id = next(self._ids)
                self._pending[ask_id] = future
        if closed is not None:
            _set_error(future, closed())
            return
        self.send(Ask(ask_id, name, data))

    def resolve(self, frame: Reply | Fail) -> None:
        """Set the future of the ask ``frame`` answers."""
        with self._pending_lock:
            future = self._pending.pop(frame.id, None)
        if future is None:
            return  # answered already (the channel was closed meanwhile)
        if isinstance(frame, Fail):
            _set_error(future, error_from_wire(frame.error))
            return
        try:
            value = self.codec.decode(frame.data)
        except Exception as error:
            _set_error(future, TypeError(f"cannot decode the reply: {error}"))
            return
        future.set(value)

    def close(self, make_error: Callable[[], BaseException]) -> None:
        """Answer every ask still waiting, and every later one, with ``make_error()``."""
        with self._pending_lock:
            if self._closed is None:
                self._closed = make_error
            pending = list(self._pending.values())
            self._pending.clear()
        for future in pending:
            _set_error(future, make_error())

    # -- replies to asks that came in over this channel ---------------------------------

    def reply(self, ask_id: int, value: Any) -> None:
        try:
            data = self.codec.encode(value)
        except Exception as error:
            self.send(Fail(ask_id, error_to_wire(TypeError(f"cannot encode the reply: {error}"))))
            return
        self.send(Reply(ask_id, data))

    def fail(self, ask_id: int, error: BaseException) -> None:
        self.send(Fail(ask_id, error_to_wire(error)))


def _set_error(future: pykka.Future[Any], error: BaseException) -> None:
    try:
        future.set_exception(exc_info=(type(error), error, None))
    except Exception:  # queue.Full: answered already
        logger.debug("reply to an answered ask dropped", exc_info=True)


class WireReply(ThreadingFuture[Any]):
    """The reply future of an ask that came over a channel: setting it answers the asker."""

    def __init__(self, channel: Channel, ask_id: int) -> None:
        super().__init__()
        self._channel = channel
        self._ask_id = ask_id

    def set(self, value: Any | None = None) -> None:
        super().set(value)  # raises queue.Full if already answered, as the actor loop expects
        self._channel.reply(self._ask_id, value)

    def set_exception(self, exc_info: Any = None) -> None:
        if exc_info is None:
            exc_info = sys.exc_info()
        super().set_exception(exc_info)
        self._channel.fail(self._ask_id, exc_info[1])
