"""Fixtures for the supervisors tests: a scriptable child actor and leak checks.

Shared helpers are fixtures rather than an importable module so the tests work
under any pytest import mode. Every test is checked for leftovers: threads it
started, pykka actors still running, names still registered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pykka
import pytest
from process_checks import left_behind

from supervisors import (
    NORMAL,
    ChildSpec,
    RingBufferSink,
    SupervisedActor,
    SupervisorRef,
    SupFlags,
    default_registry,
    start_supervisor,
)

LEAK_GRACE = 10.0
"""Seconds a finished test's threads get to end before they count as leaked (a loaded
machine can take seconds to run a released thread to its end; a leak waits them all out)."""

STOP_TIMEOUT = 60.0
"""Seconds the roots still running at the end of a test get to stop: more than the
longest shutdown time a child spec here allows, with a margin for a loaded machine."""


class Events:
    """Thread-safe log of ``(what, child_id)`` events from ``Echo`` actors."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[tuple[str, str]] = []

    def add(self, what: str, child_id: str) -> None:
        with self._lock:
            self._items.append((what, child_id))

    def of(self, what: str) -> list[str]:
        """Child ids, in order, of the events ``what``."""
        with self._lock:
            return [child_id for kind, child_id in self._items if kind == what]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class Echo(SupervisedActor):
    """A child driven by its messages.

    ``"crash"`` raises, ``"normal"`` exits normally, ``("wait", event)``
    blocks until the event is set (at most 5 s), anything else is echoed back
    as ``(child_id, message, *extra)``. ``on_start``/``on_stop`` are logged.
    """

    def __init__(
        self, child_id: str, events: Events, fail_start: bool = False, *extra: Any
    ) -> None:
        super().__init__()
        self.child_id = child_id
        self.events = events
        self.fail_start = fail_start
        self.extra = extra

    def on_start(self) -> None:
        if self.fail_start:
            raise RuntimeError(f"{self.child_id} refuses to start")
        self.events.add("start", self.child_id)

    def on_stop(self) -> None:
        self.events.add("stop", self.child_id)

    def on_receive(self, message: Any) -> Any:
        if message == "crash":
            raise RuntimeError(f"{self.child_id} crashed")
        if message == "normal":
            self.exit(NORMAL)
            return None
        if isinstance(message, tuple) and message[0] == "wait":
            message[1].wait(5)
            return None
        return (self.child_id, message, *self.extra)

    def ping(self) -> str:
        return self.child_id


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def spec(events: Events) -> Callable[..., ChildSpec]:
    """``spec(id, fail_start=False, **options)``: an ``Echo`` child spec."""

    def make(child_id: str, *, fail_start: bool = False, **options: Any) -> ChildSpec:
        return ChildSpec(child_id, Echo.start, args=(child_id, events, fail_start), **options)

    return make


@pytest.fixture
def ring() -> RingBufferSink:
    return RingBufferSink(capacity=10_000)


@pytest.fixture
def start_tree(ring: RingBufferSink) -> Iterator[Callable[..., SupervisorRef]]:
    """``start_tree(flags, children, **kw)``: a root reporting to ``ring``.

    Roots still running at the end of the test are stopped.
    """
    roots: list[SupervisorRef] = []

    def start(
        flags: SupFlags | None = None, children: Sequence[ChildSpec] = (), **kwargs: Any
    ) -> SupervisorRef:
        kwargs.setdefault("sinks", [ring])
        root = start_supervisor(flags or SupFlags(), children, **kwargs)
        roots.append(root)
        return root

    yield start
    for root in reversed(roots):
        root.stop(timeout=STOP_TIMEOUT)


@pytest.fixture
def wait_until() -> Callable[..., None]:
    """``wait_until(predicate, timeout=10, what="condition")``: poll until ``predicate``
    holds; fail naming ``what`` on timeout. The default is generous: it only matters when
    the condition is late, and a loaded machine can delay a thread for seconds."""

    def wait(
        predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition"
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                pytest.fail(f"{what} not met within {timeout} s")
            time.sleep(0.002)

    return wait


@pytest.fixture
def all_reaped() -> Iterator[None]:
    """For tests that start processes: every one is gone (reaped, not a zombie) at the end
    (after the test's trees were stopped: autouse fixtures are torn down last)."""
    yield
    assert left_behind() == [], "processes outlived their tree"


@pytest.fixture(autouse=True)
def _no_leaks() -> Iterator[None]:
    """Fail a test that leaves threads, actors or registered names behind."""
    before = set(threading.enumerate())
    yield
    actors = pykka.ActorRegistry.get_all()
    if actors:
        pykka.ActorRegistry.stop_all(timeout=LEAK_GRACE)
    names = default_registry.names()
    for name in names:
        default_registry.unregister(name)
    deadline = time.monotonic() + LEAK_GRACE
    while True:
        threads = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not threads or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    problems = []
    if actors:
        problems.append(f"actors still running: {actors}")
    if names:
        problems.append(f"names still registered: {names}")
    if threads:
        problems.append(f"threads left behind: {threads}")
    if problems:
        pytest.fail("; ".join(problems))
