"""SupervisedActor: let it crash, exit reasons, replies, kill, timers, figures."""

from __future__ import annotations

import threading
import time
from typing import Any

import pykka
import pytest

from supervisors import (
    HUNG,
    KILLED,
    NORMAL,
    SHUTDOWN,
    UNANSWERED,
    ActorExitedError,
    BusyError,
    ExitReason,
    NoProcError,
    RequestFailedError,
    SupervisedActor,
    why_unanswered,
)

WAIT = 10.0
"""Seconds to wait for what must happen: an actor thread may be held up that long by a
loaded machine, and a passing test never waits it out."""


class Worker(SupervisedActor):
    def __init__(self) -> None:
        super().__init__()
        self.failures: list[BaseException] = []

    def on_receive(self, message: Any) -> Any:
        if message == "boom":
            raise ValueError("boom")
        if isinstance(message, tuple) and message[0] == "wait":
            message[1].wait(5)
        return message

    def on_failure(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.failures.append(exc_value)

    def divide(self, a: int, b: int) -> float:
        return a / b


def test_ask_crash_ends_actor_and_caller_gets_reason() -> None:
    ref = Worker.start()
    with pytest.raises(ActorExitedError) as info:
        ref.ask("boom")
    assert info.value.reason == ExitReason("crash", "ValueError: boom")
    assert isinstance(info.value.__cause__, ValueError)
    assert ref.wait(WAIT) == info.value.reason
    assert "ValueError: boom" in ref.lifecycle.traceback
    assert not ref.is_alive()


class Order(dict[str, int]):
    """A request from outside: its handler fails it alone."""


class Keeper(Worker):
    contained = (Order,)

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, Order):
            return 100 // message["count"]
        return super().on_receive(message)


def test_a_contained_request_fails_alone_and_the_actor_goes_on() -> None:
    ref = Keeper.start()
    with pytest.raises(RequestFailedError) as info:
        ref.ask(Order(count=0))
    assert (
        str(info.value)
        == f"{ref} failed on a Order: ZeroDivisionError: integer division or modulo by zero"
    )
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    ref.tell(Order(count=0))  # told: dropped, and counted
    assert ref.ask(Order(count=4)) == 25 and ref.is_alive()
    assert ref.lifecycle.figures["requests_failed"] == 2
    actor = ref._actor_weakref()
    assert actor is not None and actor.failures == []  # no crash: on_failure never ran
    with pytest.raises(ActorExitedError):  # any other message still lets it crash
        ref.ask("boom")
    assert ref.wait(WAIT).kind == "crash"


def test_why_unanswered_names_each_way_an_ask_ends_without_a_reply() -> None:
    ref = Keeper.start()
    gate = threading.Event()
    ref.tell(("wait", gate))  # the three asks queue behind it
    asked = [ref.ask(request, block=False) for request in (Order(count=0), "boom", "after")]
    gate.set()
    said = []
    for future in asked:
        with pytest.raises(UNANSWERED) as info:
            future.get(timeout=WAIT)
        said.append(why_unanswered(info.value))
    assert said == [
        "failed on this request (ZeroDivisionError: integer division or modulo by zero)",
        "crashed on this request (ValueError: boom)",
        "exited before it answered (crash: ValueError: boom)",
    ]
    with pytest.raises(UNANSWERED) as info:
        ref.ask("later")
    assert why_unanswered(info.value) == "is not running"
    assert why_unanswered(BusyError("keeper", 8, "reject")) == "is busy"
    assert why_unanswered(NoProcError("keeper")) == "is not running"
    assert why_unanswered(pykka.Timeout("1 s")) == "did not answer in time"
    assert why_unanswered(pykka.Timeout("1 s"), 2.5) == "did not answer within 2.5 s"


def test_proxy_call_crash_is_a_crash_too() -> None:
    proxy = Worker.start().proxy()
    assert proxy.divide(1, 2).get() == 0.5
    with pytest.raises(ActorExitedError) as info:
        proxy.divide(1, 0).get()
    assert info.value.reason.kind == "crash"
    assert "ZeroDivisionError" in info.value.reason.detail
    assert proxy.actor_ref.wait(WAIT).kind == "crash"


def test_tell_crash_ends_actor_and_runs_on_failure() -> None:
    ref = Worker.start()
    actor = ref._actor_weakref()
    ref.tell("boom")
    assert ref.wait(WAIT).kind == "crash"
    assert actor is not None
    assert [type(e) for e in actor.failures] == [ValueError]


def test_queued_asks_fail_instead_of_hanging() -> None:
    ref = Worker.start()
    gate = threading.Event()
    ref.tell(("wait", gate))
    crash = ref.ask("boom", block=False)
    later = [ref.ask(i, block=False) for i in range(3)]
    gate.set()
    with pytest.raises(ActorExitedError):
        crash.get(timeout=WAIT)
    for future in later:
        with pytest.raises(ActorExitedError) as info:
            future.get(timeout=WAIT)
        assert info.value.__cause__ is None
        assert info.value.reason.kind == "crash"


def test_sends_after_exit_are_refused() -> None:
    ref = Worker.start()
    ref.stop()
    with pytest.raises(pykka.ActorDeadError):
        ref.tell("x")
    with pytest.raises(pykka.ActorDeadError):
        ref.ask("x", timeout=1)


def test_on_start_failure_is_a_start_failure() -> None:
    class Fails(SupervisedActor):
        def on_start(self) -> None:
            raise OSError("no device")

    ref = Fails.start()
    reason = ref.lifecycle.wait_started()
    assert reason is not None
    assert reason.kind == "crash"
    assert "no device" in reason.detail
    assert ref.wait(WAIT) == reason


def test_stop_is_normal_and_runs_on_stop() -> None:
    stopped = threading.Event()

    class Stops(SupervisedActor):
        def on_stop(self) -> None:
            stopped.set()

    ref = Stops.start()
    assert ref.exit_reason is None
    assert ref.stop(timeout=WAIT) is True
    assert stopped.is_set()
    assert ref.exit_reason == NORMAL


def test_whoever_is_answered_finds_the_exit_done() -> None:
    """A returned ``stop()`` or a refused request means ``wait(0)`` has the reason: the
    exit is done before anyone is answered (it once came just after the replies)."""
    for _ in range(50):
        stopped = Worker.start()
        assert stopped.stop(timeout=WAIT) is True
        assert stopped.wait(0) == NORMAL
        crashed = Worker.start()
        with pytest.raises(ActorExitedError):
            crashed.ask("boom", timeout=WAIT)
        reason = crashed.wait(0)
        assert reason is not None and reason.kind == "crash"


def test_on_stop_raising_turns_exit_into_crash() -> None:
    class BadStop(SupervisedActor):
        def on_stop(self) -> None:
            raise RuntimeError("cleanup failed")

    ref = BadStop.start()
    ref.stop()
    assert ref.wait(WAIT).kind == "crash"


def test_exit_with_reason_after_current_message() -> None:
    class Quits(SupervisedActor):
        def on_receive(self, message: Any) -> Any:
            self.exit(SHUTDOWN)
            return "bye"

    ref = Quits.start()
    assert ref.ask("x") == "bye"
    assert ref.wait(WAIT) == SHUTDOWN


def test_request_exit_skips_queued_mail() -> None:
    ref = Worker.start()
    gate = threading.Event()
    ref.tell(("wait", gate))
    queued = ref.ask("never", block=False)
    ref.lifecycle.request_exit(SHUTDOWN)
    gate.set()
    assert ref.wait(WAIT) == SHUTDOWN
    with pytest.raises(ActorExitedError):
        queued.get(timeout=WAIT)


def test_kill_abandons_a_busy_thread_and_answers_everyone() -> None:
    ref = Worker.start()
    gate = threading.Event()
    busy = ref.ask(("wait", gate), block=False)
    queued = ref.ask("x", block=False)
    time.sleep(0.01)  # let the actor take the first message
    ref.lifecycle.kill(HUNG)
    assert ref.wait(0) == HUNG
    for future in (busy, queued):
        with pytest.raises(ActorExitedError):
            future.get(timeout=1)
    assert pykka.ActorRegistry.get_by_urn(ref.actor_urn) is None
    gate.set()  # the abandoned thread finishes its message and ends


def test_kill_of_idle_actor_ends_its_thread() -> None:
    ref = Worker.start()
    ref.lifecycle.kill()
    assert ref.wait(0) == KILLED


def test_monitors_fire_once_and_before_replies() -> None:
    ref = Worker.start()
    seen: list[ExitReason] = []
    ref.lifecycle.monitor(lambda reason: seen.append(reason))
    with pytest.raises(ActorExitedError):
        ref.ask("boom")
    # The caller got its error, so the monitor has already run.
    assert [r.kind for r in seen] == ["crash"]
    late: list[ExitReason] = []
    ref.lifecycle.monitor(lambda reason: late.append(reason))
    assert late == seen


def test_demonitor() -> None:
    ref = Worker.start()
    seen: list[ExitReason] = []
    token = ref.lifecycle.monitor(lambda reason: seen.append(reason))
    ref.lifecycle.demonitor(token)
    ref.stop()
    assert seen == []


def test_send_after_delivers_timer_messages() -> None:
    got = threading.Event()

    class Timed(SupervisedActor):
        def on_start(self) -> None:
            self.send_after(0.02, "tick")

        def on_receive(self, message: Any) -> Any:
            if message == "tick":
                got.set()
            return message

    ref = Timed.start()
    assert ref.ask("other") == "other"  # mail is served while the timer waits
    assert got.wait(WAIT)
    ref.stop()


def test_publish_figures_is_readable_without_messages() -> None:
    ref = Worker.start()
    actor = ref._actor_weakref()
    assert actor is not None
    actor.publish_figures(tokens_per_s=41.5, model="tiny")
    actor.publish_figures(tokens_per_s=42.0)
    assert dict(ref.lifecycle.figures) == {"tokens_per_s": 42.0, "model": "tiny"}
    ref.stop()


def test_wait_times_out_while_running() -> None:
    ref = Worker.start()
    with pytest.raises(pykka.Timeout):
        ref.wait(0.01)
    ref.stop()
