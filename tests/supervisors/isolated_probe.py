"""A tiny actor for the process-isolation tests, in a module of its own so that the
spawned child process can import it by name (tests/supervisors is on its sys.path).

It is driven by plain-list messages (the default codec carries plain values): each
command makes the child fail in one of the ways a native component can, or talk to a
name in the parent.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from typing import Any

import msgspec

from supervisors import NORMAL, Down, MonitorRef, SupervisedActor, ask, demonitor, monitor, tell


class Probe(SupervisedActor):
    """Answers ``["echo", x]`` with ``x``; the other commands are in ``on_receive``. A text
    is a contained request: a text fails it alone, as a ``ValueError`` saying the text."""

    contained = (str,)

    def __init__(self, label: str = "probe", fail_start: bool = False, fail_if: str = "") -> None:
        super().__init__()
        self.label = label
        self.fail_start = fail_start
        self.fail_if = fail_if
        """A file whose presence makes the start fail (a model gone missing later)."""
        self.hoard: list[bytes] = []
        self.started_at = 0.0
        self.timer_after: float | None = None
        """Seconds from the end of ``on_start`` to its timer firing (None: not yet)."""

    def on_start(self) -> None:
        if self.fail_start or (self.fail_if and os.path.exists(self.fail_if)):
            raise RuntimeError(f"{self.label} refuses to start")
        self.publish_figures(label=self.label)
        self.started_at = time.monotonic()
        self.send_after(0.0, ["timer-fired"])

    def on_stop(self) -> None:
        # Proof that on_stop ran in the child: the parent's "witness" hears of it.
        tell("witness", ["stopped", self.label, os.getpid()])

    def on_receive(self, message: Any) -> Any:
        match message:
            case ["echo", value]:
                return value
            case ["pid"]:
                return os.getpid()
            case ["timer-fired"]:
                self.timer_after = time.monotonic() - self.started_at
            case ["timer"]:
                return self.timer_after
            case ["raise", text]:
                raise ValueError(text)
            case str():
                raise ValueError(message)
            case ["abort"]:
                os.abort()
            case ["segv"]:
                ctypes.string_at(0)
            case ["exit", code]:
                os._exit(code)
            case ["normal"]:
                self.exit(NORMAL)
            case ["sleep", seconds]:
                tell("witness", ["sleeping", os.getpid()])  # the test knows it is stuck now
                time.sleep(seconds)
                return "slept"
            case ["freeze"]:
                os.kill(os.getpid(), signal.SIGSTOP)  # no heartbeat from here on
                time.sleep(60)  # the stop may land a moment later: no reply before it
            case ["alloc", megabytes]:
                self.hoard.append(b"\x01" * (megabytes << 20))  # touched: resident
                return "allocated"
            case ["tell", name, value]:
                tell(name, value)
            case ["ask", name, value]:
                return ask(name, value, timeout=10)
            case ["figure", value]:
                self.publish_figures(value=value)
            case ["limits"]:
                return [sorted(os.sched_getaffinity(0)), os.getpriority(os.PRIO_PROCESS, 0)]
            case ["threads"]:
                return threading.active_count()
            case ["bad_reply"]:
                return object()  # the codec cannot encode it
            case ["monitor", name]:
                return monitor(name, self.actor_ref).id
            case ["demonitor", ref_id]:
                demonitor(MonitorRef(ref_id))
            case Down():
                tell("witness", message)  # the parent's witness hears what the probe heard
            case _:
                raise ValueError(f"unknown command {message!r}")
        return None


class Stop(msgspec.Struct, frozen=True, tag=True):
    """The urgent message of `Spinner`."""


class Spinner(SupervisedActor):
    """A long handler that takes urgent mail mid-work, as the llm's generation loop does.

    ``["spin", seconds]`` says it started, then works (sleeping in 1 ms steps, taking
    urgent mail after each) until a `Stop` arrives or the time is up, then tells the
    witness which;
    ``["note", x]`` tells the witness ``["note", x]``; ``["gate", seconds]`` tells the
    witness ``["gate", "started"]``, then sleeps, without taking urgent mail, until a `Stop`
    waits (or the time is up), so that the mail sent meanwhile is queued behind it.
    """

    urgent = (Stop,)

    def __init__(self) -> None:
        super().__init__()
        self.stopped = False

    def on_receive(self, message: Any) -> Any:
        match message:
            case Stop():
                self.stopped = True
                tell("witness", ["urgent", "stop"])
            case ["spin", seconds]:
                self.stopped = False
                tell("witness", ["spin", "started"])
                deadline = time.monotonic() + seconds
                while not self.stopped and time.monotonic() < deadline:
                    time.sleep(0.001)
                    self.receive_urgent()
                tell("witness", ["spin", "stopped" if self.stopped else "ran out"])
            case ["gate", seconds]:
                tell("witness", ["gate", "started"])  # its mailbox is empty now
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline and not self.mail_waiting(
                    lambda waiting: isinstance(waiting, Stop)
                ):
                    time.sleep(0.001)
            case ["note", value]:
                tell("witness", ["note", value])
            case _:
                raise ValueError(f"unknown command {message!r}")
        return None
