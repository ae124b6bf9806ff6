"""The urgent lane (OTP 28's priority messages) and ``inbox()`` (a gen_server:call's reply
mailbox with a monitor of the callee), in this process and across process isolation.

`isolated_probe.Spinner` is the urgent actor: a long handler that takes urgent mail
mid-work, as the llm's generation loop does; a local "witness" records what it says.
"""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from isolated_probe import Probe, Spinner, Stop

from supervisors import (
    ActorExitedError,
    ChildSpec,
    MailboxLimit,
    MsgspecCodec,
    NoProcError,
    ProcessOptions,
    SupervisedActor,
    SupervisorRef,
    SupFlags,
    ask,
    cast,
    inbox,
    tell,
    whereis,
)

TIMEOUT = 30.0
"""Generous: a loaded machine can take seconds to start a Python process."""

pytestmark = pytest.mark.usefixtures("all_reaped")


class Witness(SupervisedActor):
    def __init__(self, heard: queue.Queue[Any]) -> None:
        super().__init__()
        self.heard = heard

    def on_receive(self, message: Any) -> Any:
        self.heard.put(message)
        return message


@pytest.fixture
def heard() -> queue.Queue[Any]:
    return queue.Queue()


@pytest.fixture(params=["thread", "process"])
def spinner_tree(
    request: pytest.FixtureRequest,
    start_tree: Callable[..., SupervisorRef],
    heard: queue.Queue[Any],
) -> Callable[..., SupervisorRef]:
    """``spinner_tree(**spec_options)``: the witness and a `Spinner` named "spinner", in
    this process or in its own."""

    def start(**options: Any) -> SupervisorRef:
        if request.param == "process":
            process = ProcessOptions(codec=MsgspecCodec(Stop), heartbeat=10.0)
            options |= {"isolation": "process", "process": process}
        spinner = ChildSpec("spinner", Spinner.start, name="spinner", **options)
        witness = ChildSpec("witness", Witness.start, args=(heard,), name="witness")
        return start_tree(SupFlags(intensity=10, period=60), [witness, spinner])

    return start


def said(heard: queue.Queue[Any], count: int) -> list[Any]:
    return [heard.get(timeout=TIMEOUT) for _ in range(count)]


# -- the urgent lane -------------------------------------------------------------------


def test_urgent_mail_reaches_a_long_handler_mid_work(
    spinner_tree: Callable[..., SupervisorRef], heard: queue.Queue[Any]
) -> None:
    spinner_tree()
    started = time.monotonic()
    tell("spinner", ["spin", 60])
    assert said(heard, 1) == [["spin", "started"]]  # else the Stop would overtake the spin
    tell("spinner", ["note", 1])  # queued behind the spin: ordinary mail waits
    tell("spinner", Stop())
    assert said(heard, 3) == [["urgent", "stop"], ["spin", "stopped"], ["note", 1]]
    assert time.monotonic() - started < 30  # stopped mid-spin, not after its 60 s


def test_urgent_mail_overtakes_the_queue(
    spinner_tree: Callable[..., SupervisorRef], heard: queue.Queue[Any]
) -> None:
    spinner_tree()
    tell("spinner", ["gate", TIMEOUT])  # a handler that does not take urgent mail
    assert said(heard, 1) == [["gate", "started"]]  # else the Stop would overtake the gate
    for value in range(3):
        tell("spinner", ["note", value])
    tell("spinner", Stop())
    assert said(heard, 4) == [["urgent", "stop"], ["note", 0], ["note", 1], ["note", 2]]


def test_a_full_mailbox_never_refuses_urgent_mail(
    start_tree: Callable[..., SupervisorRef], heard: queue.Queue[Any]
) -> None:
    limit = MailboxLimit(capacity=1, policy="reject")
    spinner = ChildSpec("spinner", Spinner.start, name="spinner", mailbox=limit)
    start_tree(SupFlags(), [ChildSpec("witness", Witness.start, args=(heard,), name="witness"),
                            spinner])  # fmt: skip
    tell("spinner", ["gate", TIMEOUT])  # held until the Stop: the mailbox stays full
    assert said(heard, 1) == [["gate", "started"]]  # in the gate: its mailbox is empty
    assert cast("spinner", ["note", "fills it"]) == "ok"
    assert cast("spinner", ["note", "one too many"]) == "busy"
    assert cast("spinner", Stop()) == "ok"
    assert said(heard, 2) == [["urgent", "stop"], ["note", "fills it"]]


def test_an_urgent_ask_is_answered_mid_work(start_tree: Callable[..., SupervisorRef]) -> None:
    heard: queue.Queue[Any] = queue.Queue()
    spinner = ChildSpec("spinner", Spinner.start, name="spinner")
    start_tree(SupFlags(), [ChildSpec("witness", Witness.start, args=(heard,), name="witness"),
                            spinner])  # fmt: skip
    tell("spinner", ["spin", 60])
    assert said(heard, 1) == [["spin", "started"]]
    assert ask("spinner", Stop(), timeout=TIMEOUT) is None
    assert said(heard, 2) == [["urgent", "stop"], ["spin", "stopped"]]


# -- inboxes ---------------------------------------------------------------------------


def test_an_inbox_receives_in_order_and_refuses_mail_once_closed(
    start_tree: Callable[..., SupervisorRef], heard: queue.Queue[Any]
) -> None:
    with inbox() as box:
        assert whereis(box.name) is box.ref
        for value in range(3):
            assert cast(box.name, value) == "ok"
        assert [box.receive(timeout=TIMEOUT) for _ in range(3)] == [0, 1, 2]
        with pytest.raises(TimeoutError, match=box.name):
            box.receive(timeout=0.05)
    assert whereis(box.name) is None
    assert cast(box.name, "late") == "noproc"
    assert cast(box.ref, "late") == "noproc"


def test_an_inbox_fails_fast_when_its_callee_dies(
    spec: Any, start_tree: Callable[..., SupervisorRef]
) -> None:
    start_tree(SupFlags(intensity=5), [spec("worker", name="worker")])
    with inbox() as box:
        box.monitor("worker")
        tell(box.name, "before")
        tell("worker", "crash")
        assert box.receive(timeout=TIMEOUT) == "before"  # mail sent before the Down first
        started = time.monotonic()
        with pytest.raises(ActorExitedError) as caught:
            box.receive(timeout=TIMEOUT)
        assert time.monotonic() - started < TIMEOUT / 2  # the Down, not the timeout
        assert caught.value.reason.kind == "crash" and caught.value.actor == "worker"


def test_an_inbox_monitoring_nobody_gets_noproc(start_tree: Callable[..., SupervisorRef]) -> None:
    with inbox() as box:
        box.monitor("nobody-by-this-name")
        with pytest.raises(NoProcError, match="nobody-by-this-name"):
            box.receive(timeout=TIMEOUT)


def test_a_demonitored_callee_ends_nothing(spec: Any, start_tree: Any) -> None:
    start_tree(SupFlags(intensity=5), [spec("worker", name="worker")])
    with inbox() as box:
        box.demonitor(box.monitor("worker"))
        tell("worker", "crash")
        assert whereis("worker", timeout=TIMEOUT) is not None  # restarted meanwhile
        with pytest.raises(TimeoutError):
            box.receive(timeout=0.2)


def test_an_asyncio_task_receives_without_blocking_its_loop(spec: Any, start_tree: Any) -> None:
    start_tree(SupFlags(intensity=5), [spec("worker", name="worker")])

    async def main() -> list[Any]:
        with inbox() as box:
            box.monitor("worker")
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)

            ticker = asyncio.ensure_future(tick())
            threading.Timer(0.2, tell, args=(box.name, "late mail")).start()
            got = [await box.receive_async(timeout=TIMEOUT)]
            assert ticks > 1  # the loop kept running while the task waited
            with pytest.raises(TimeoutError):
                await box.receive_async(timeout=0.05)
            tell("worker", "crash")
            try:
                await box.receive_async(timeout=TIMEOUT)
            except ActorExitedError as error:
                got.append(error.reason.kind)
            ticker.cancel()
            return got

    assert asyncio.run(main()) == ["late mail", "crash"]


def test_an_isolated_actor_replies_to_an_inbox_and_its_death_ends_the_wait(
    start_tree: Callable[..., SupervisorRef],
) -> None:
    probe = ChildSpec("probe", Probe.start, name="probe", isolation="process",
                      process=ProcessOptions(heartbeat=10.0), shutdown=10.0)  # fmt: skip
    start_tree(SupFlags(intensity=5, period=60), [probe])
    with inbox() as box:
        box.monitor("probe")
        tell("probe", ["tell", box.name, "from the child"])  # by name, through the pipe
        assert box.receive(timeout=TIMEOUT) == "from the child"
        pid = int(ask("probe", ["pid"], timeout=TIMEOUT))
        os.kill(pid, signal.SIGKILL)
        started = time.monotonic()
        with pytest.raises(ActorExitedError) as caught:
            box.receive(timeout=TIMEOUT)
        assert time.monotonic() - started < TIMEOUT / 2
        assert caught.value.reason.kind == "killed"
    assert whereis("probe", timeout=TIMEOUT) is not None


class Peeker(SupervisedActor):
    """Blocks on its first message until released, then says what waits behind it."""

    def __init__(self, release: threading.Event, seen: queue.Queue[Any]) -> None:
        super().__init__()
        self.release, self.seen = release, seen
        self.handled: list[Any] = []

    def on_receive(self, message: Any) -> Any:
        self.handled.append(message)
        if message == "first":
            self.release.wait(TIMEOUT)
            self.seen.put((self.mail_waiting(lambda m: m == "second"),
                           self.mail_waiting(lambda m: m == "first"),
                           self.mail_waiting(lambda m: m == "third")))  # fmt: skip
        return list(self.handled)


def test_mail_waiting_looks_at_the_mailbox_and_leaves_it_as_it_was() -> None:
    release, seen = threading.Event(), queue.Queue[Any]()
    ref = Peeker.start(release, seen)
    try:
        ref.tell("first")
        ref.tell("second")  # waits behind "first"
        release.set()
        # "second" waits; "first" is taken (being handled); no "third" was sent.
        assert seen.get(timeout=TIMEOUT) == (True, False, False)
        assert ref.ask("last", timeout=TIMEOUT) == ["first", "second", "last"]
    finally:
        ref.stop()
