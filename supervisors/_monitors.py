"""Monitors: hear at once when an actor you depend on exits (OTP's ``erlang:monitor/2``).

A caller that sent a request and waits for a reply by mail (a tell with a ``reply_to``)
cannot learn from the mail alone that the actor serving it died: the reply just never
comes. A monitor closes that gap, as in Erlang::

    watch = supervisors.monitor("llm", self.actor_ref)   # erlang:monitor(process, llm)
    ...                                                  # later, in on_receive:
    case supervisors.Down(ref=ref, reason=reason) if ref == watch: ...
    supervisors.demonitor(watch)                         # erlang:demonitor(Ref, [flush])

* ``monitor(target, notify)`` watches the *incarnation* that ``target`` (a registered name
  or an ``ActorRef``) points at now. When it exits, for any reason (a crash, a signal to
  its process, killed, hung, a normal stop), ``notify`` is told exactly one ``Down`` with
  the monitor's ref, the name and the ``ExitReason``. A restarted actor under the same name
  is a new incarnation: monitor it again, as an Erlang caller monitors each new pid.
* A target that is not running (no such name, or already exited) gives ``Down`` at once,
  with reason ``noproc``, as OTP does.
* ``demonitor(ref)`` cancels it; a ``Down`` not yet delivered is then never delivered
  (OTP's ``[flush]`` for the common case: the Down was not yet sent).
* Across process isolation, both ways. Monitoring an isolated actor watches its stand-in,
  whose exit is the process's exit (a SIGKILL included), so the ``Down`` comes as soon as
  the parent reaps the process. An isolated actor can be the one notified: ``Down`` is a
  tagged msgspec Struct that every ``MsgspecCodec`` carries. And an isolated actor can set
  a monitor up on a name in the parent (an actor there, or another isolated one's
  stand-in): its process asks the parent over the pipe to watch the name, and the parent
  sends the exit back (``supervisors._process_host``, ``supervisors._process_link``).
* ``Down`` is control mail: a full mailbox never refuses or drops it, so the watcher hears
  of the exit even when it is overloaded, which is when it matters most.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pykka

from supervisors._reasons import NOPROC, Down, ExitReason, MonitorRef
from supervisors._registry import Registry, default_registry

__all__ = ["NOPROC", "Down", "MonitorRef", "demonitor", "monitor", "new_ref", "watch"]


class _Watch:
    """One live monitor: where its Down goes, and how to cancel it."""

    __slots__ = ("cancelled", "lifecycle", "token")

    def __init__(self) -> None:
        self.cancelled = False
        self.lifecycle: Any = None
        self.token: int | None = None


_ids = itertools.count(1)
_watches: dict[int, _Watch] = {}
_watches_lock = threading.Lock()


def monitor(
    target: str | pykka.ActorRef[Any],
    notify: pykka.ActorRef[Any],
    *,
    registry: Registry = default_registry,
) -> MonitorRef:
    """Watch the incarnation ``target`` names now; ``notify`` gets one ``Down`` when it exits."""
    ref = new_ref()
    watch(ref, target, partial(_deliver, notify), registry)
    return ref


def new_ref() -> MonitorRef:
    """A fresh monitor reference, unique in this process."""
    return MonitorRef(next(_ids))


def watch(
    ref: MonitorRef,
    target: str | pykka.ActorRef[Any],
    deliver: Callable[[Down], None],
    registry: Registry,
) -> None:
    """``monitor``, with the ``Down`` handed to ``deliver`` (called once, at most) instead of
    told to an actor: an isolated child's monitor in the parent sends it over the pipe.

    ``target``'s ``lifecycle`` is anything with ``monitor(callback) -> token`` and
    ``demonitor(token)``: a local actor's ``Lifecycle``, or, in an isolated child, a name
    in the parent (``supervisors._process_host.ParentName``)."""
    name = target if isinstance(target, str) else None
    actor = registry.whereis(target) if isinstance(target, str) else target
    lifecycle = getattr(actor, "lifecycle", None)
    if actor is None or lifecycle is None or not actor.is_alive():
        deliver(Down(ref, name, NOPROC))
        return
    entry = _Watch()
    entry.lifecycle = lifecycle
    with _watches_lock:
        _watches[ref.id] = entry

    def fired(reason: ExitReason) -> None:
        with _watches_lock:
            _watches.pop(ref.id, None)
            if entry.cancelled:
                return
        deliver(Down(ref, name, reason))

    # Registered after the watch exists: an actor already gone fires at once, and then
    # finds the watch to remove.
    entry.token = lifecycle.monitor(fired)


def demonitor(ref: MonitorRef) -> None:
    """Cancel a monitor; a no-op if its Down was already delivered."""
    with _watches_lock:
        entry = _watches.pop(ref.id, None)
        if entry is None:
            return
        entry.cancelled = True
    if entry.token is not None:
        entry.lifecycle.demonitor(entry.token)


def _deliver(notify: pykka.ActorRef[Any], down: Down) -> None:
    # A watcher that died meanwhile has no use for the Down: OTP drops it the same way.
    with contextlib.suppress(pykka.ActorDeadError):
        notify.tell(down)
