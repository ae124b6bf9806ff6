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
* Across process isolation: monitoring an isolated actor watches its stand-in, whose exit
  is the process's exit (a SIGKILL included), so the ``Down`` comes as soon as the parent
  reaps the process. An isolated actor can be the one notified: ``Down`` is a tagged
  msgspec Struct that every ``MsgspecCodec`` carries.
* ``Down`` is control mail: a full mailbox never refuses or drops it, so the watcher hears
  of the exit even when it is overloaded, which is when it matters most.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from typing import Any

import pykka

from supervisors._reasons import NOPROC, Down, ExitReason, MonitorRef
from supervisors._registry import Registry, default_registry

__all__ = ["NOPROC", "Down", "MonitorRef", "demonitor", "monitor"]


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
    ref = MonitorRef(next(_ids))
    name = target if isinstance(target, str) else None
    actor = registry.whereis(target) if isinstance(target, str) else target
    lifecycle = getattr(actor, "lifecycle", None)
    if actor is None or lifecycle is None or not actor.is_alive():
        _deliver(notify, Down(ref, name, NOPROC))
        return ref
    watch = _Watch()
    watch.lifecycle = lifecycle
    with _watches_lock:
        _watches[ref.id] = watch

    def fired(reason: ExitReason) -> None:
        with _watches_lock:
            _watches.pop(ref.id, None)
            if watch.cancelled:
                return
        _deliver(notify, Down(ref, name, reason))

    # Registered after the watch exists: an actor already gone fires at once, and then
    # finds the watch to remove.
    watch.token = lifecycle.monitor(fired)
    return ref


def demonitor(ref: MonitorRef) -> None:
    """Cancel a monitor; a no-op if its Down was already delivered."""
    with _watches_lock:
        watch = _watches.pop(ref.id, None)
        if watch is None:
            return
        watch.cancelled = True
    if watch.token is not None:
        watch.lifecycle.demonitor(watch.token)


def _deliver(notify: pykka.ActorRef[Any], down: Down) -> None:
    # A watcher that died meanwhile has no use for the Down: OTP drops it the same way.
    with contextlib.suppress(pykka.ActorDeadError):
        notify.tell(down)
