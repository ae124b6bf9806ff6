"""Monitors (OTP's ``erlang:monitor/2``) and ``cast`` (``gen_server:cast``).

A watcher actor records every message it gets; the tests check that a ``Down`` comes
exactly once per incarnation, at once with ``noproc`` for an actor that is not running,
never after ``demonitor``, even to a watcher whose mailbox is full; and that ``cast`` tells
"busy" from "not running" without raising. The same semantics across process isolation, both
ways, are tested with real processes in test_sup_isolation.py ("monitors, both ways").
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import pykka
import pytest

from supervisors import (
    NOPROC,
    BusyError,
    ChildSpec,
    Down,
    MailboxLimit,
    SupervisedActor,
    SupFlags,
    cast,
    demonitor,
    monitor,
    tell,
    whereis,
)

WAIT = 5.0


class Watcher(SupervisedActor):
    """Puts every message it gets on a queue; ``("wait", event)`` blocks it on a gate."""

    def __init__(self, heard: queue.Queue[Any]) -> None:
        super().__init__()
        self.heard = heard

    def on_receive(self, message: Any) -> None:
        if isinstance(message, tuple) and message[0] == "wait":
            message[1].wait(WAIT)
            return
        self.heard.put(message)


@pytest.fixture
def heard() -> queue.Queue[Any]:
    return queue.Queue()


@pytest.fixture
def watcher(heard: queue.Queue[Any]) -> Any:
    ref = Watcher.start(heard)
    yield ref
    ref.stop()


def no_more(heard: queue.Queue[Any], within: float = 0.3) -> None:
    with pytest.raises(queue.Empty):
        heard.get(timeout=within)


def test_a_crash_gives_one_down_with_its_reason_and_the_restart_none(
    spec: Any, start_tree: Any, watcher: Any, heard: queue.Queue[Any]
) -> None:
    start_tree(SupFlags(intensity=5), [spec("worker", name="worker")])
    first = whereis("worker")
    ref = monitor("worker", watcher)
    tell("worker", "crash")
    down = heard.get(timeout=WAIT)
    assert down == Down(ref, "worker", down.reason)
    assert down.reason.kind == "crash" and "worker crashed" in down.reason.detail
    assert whereis("worker", timeout=WAIT) is not first  # restarted
    tell("worker", "crash")  # the new incarnation was not monitored: no second Down
    no_more(heard)


def test_a_normal_stop_is_a_down_too(spec: Any, start_tree: Any, watcher: Any, heard: Any) -> None:
    start_tree(SupFlags(), [spec("worker", name="worker", restart="temporary")])
    ref = monitor("worker", watcher)
    tell("worker", "normal")
    down = heard.get(timeout=WAIT)
    assert down.ref == ref and down.reason.kind == "normal"


def test_an_actor_not_running_gives_noproc_at_once(watcher: Any, heard: Any) -> None:
    ref = monitor("nobody-by-this-name", watcher)
    assert heard.get(timeout=WAIT) == Down(ref, "nobody-by-this-name", NOPROC)
    dead = Watcher.start(queue.Queue())
    dead.stop()
    ref = monitor(dead, watcher)
    assert heard.get(timeout=WAIT) == Down(ref, None, NOPROC)


def test_no_down_after_demonitor(spec: Any, start_tree: Any, watcher: Any, heard: Any) -> None:
    start_tree(SupFlags(intensity=5), [spec("worker", name="worker")])
    ref = monitor("worker", watcher)
    demonitor(ref)
    demonitor(ref)  # twice is harmless
    tell("worker", "crash")
    assert whereis("worker", timeout=WAIT) is not None
    no_more(heard)


def test_each_monitor_fires_once_even_when_several_watch(
    spec: Any, start_tree: Any, watcher: Any, heard: Any
) -> None:
    start_tree(SupFlags(intensity=5), [spec("worker", name="worker")])
    refs = {monitor("worker", watcher) for _ in range(3)}
    tell("worker", "crash")
    downs = [heard.get(timeout=WAIT) for _ in range(3)]
    assert {down.ref for down in downs} == refs
    no_more(heard)


def test_a_down_reaches_a_watcher_whose_mailbox_is_full(
    spec: Any, start_tree: Any, heard: queue.Queue[Any], wait_until: Any
) -> None:
    limit = MailboxLimit(capacity=1, policy="reject")
    watcher_spec = ChildSpec("watcher", Watcher.start, args=(heard,), name="watcher", mailbox=limit)
    start_tree(SupFlags(intensity=5), [spec("worker", name="worker"), watcher_spec])
    gate = threading.Event()
    tell("watcher", ("wait", gate))
    wait_until(lambda: whereis("watcher").lifecycle.mailbox_depth == 0)  # stuck on the gate
    tell("watcher", "fills the one place")
    assert cast("watcher", "one too many") == "busy"
    ref = monitor("worker", whereis("watcher"))
    tell("worker", "crash")
    gate.set()
    assert heard.get(timeout=WAIT) == "fills the one place"
    down = heard.get(timeout=WAIT)
    assert isinstance(down, Down) and down.ref == ref


def test_cast_says_ok_noproc_or_busy_and_never_raises(
    spec: Any, start_tree: Any, wait_until: Any
) -> None:
    limit = MailboxLimit(capacity=1, policy="reject")
    start_tree(SupFlags(), [spec("worker", name="worker", mailbox=limit)])
    assert cast("nobody", "hello") == "noproc"
    gate = threading.Event()
    worker = whereis("worker")
    assert cast(worker, ("wait", gate)) == "ok"
    wait_until(lambda: worker.lifecycle.mailbox_depth == 0)  # stuck on the gate
    assert cast("worker", "queued") == "ok"
    assert cast("worker", "one too many") == "busy"
    gate.set()


def test_busy_is_not_an_actor_dead_error() -> None:
    """A full mailbox must never read as "not running" to a caller catching death."""
    assert not issubclass(BusyError, pykka.ActorDeadError)
