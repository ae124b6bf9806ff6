"""The child side of a process-isolated actor: what runs in the spawned process.

``host_main`` is the spawned process's entry point. In order, it:

1. arranges to die with its parent: Linux's ``PR_SET_PDEATHSIG`` (SIGKILL when the
   thread that spawned it ends: the parent's reader thread of this process, which lives
   as long as the process), a check that the parent did not die before that, and,
   everywhere, the pipe: end of file on it means the parent is gone and it exits at once;
2. applies its CPU affinity and nice level, before any other thread exists, so every
   thread it starts (a model's worker threads too) inherits them; a hot standby's spare
   loads ``STANDBY_NICE`` lower and gets its level back once its actor started, and its
   timers (``send_after``) are held until it is adopted;
3. ignores SIGINT (a Ctrl-C in the terminal is for the parent, which stops the tree);
4. starts the reader: a thread that turns frames into mail for the actor and answers, and
   sends the heartbeat ``Beat`` several times a second;
5. routes names it does not hold to the parent (``Registry.fallback``), so the actor's
   ``tell(name, ...)``/``ask(name, ...)``/``monitor(name, ...)`` reach actors in the
   parent, and registers the actor under its own name;
6. starts the actor, reports ``Started`` (or ``Exited`` if it failed to start), waits
   for its exit, reports ``Exited`` with the reason and traceback, and ends the process.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import pykka
from pykka._envelope import Envelope

from supervisors._actor import SupervisedRef, hold_timers, release_timers
from supervisors._mailbox import BusyError
from supervisors._reasons import ExitReason, format_traceback
from supervisors._registry import default_registry
from supervisors._spec import ChildSpec
from supervisors._wire import (
    Adopted,
    Ask,
    Beat,
    Channel,
    Demonitor,
    Exited,
    Fail,
    Monitor,
    MonitorDown,
    Reply,
    Started,
    Stop,
    Tell,
    WireReply,
    decode_frame,
)

__all__ = ["ParentMonitors", "ParentName", "beat_interval", "host_main"]

logger = logging.getLogger("supervisors")

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
STANDBY_NICE = 5
"""How much lower a hot standby's spare runs while it loads, so a restart storm's reloads
yield the CPU to the live children (restored once it has loaded, when the OS allows it)."""
EXIT_ORPHANED = 70
"""Exit code of a child whose parent went away (nobody reads it, but it is not 0)."""


def beat_interval(heartbeat: float) -> float:
    """Seconds between two beats of a child allowed ``heartbeat`` seconds of silence."""
    return min(0.25, heartbeat / 5)


def host_main(
    spec: ChildSpec, parent_pid: int, connection: Connection, spare: bool = False
) -> None:
    """Run ``spec``'s actor in this (spawned) process until it exits; a ``spare`` (hot
    standby) loads at a lower priority and then waits, at its own, to be adopted."""
    _die_with_parent(parent_pid)
    _name_process(spec.id)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    options = spec.process_options
    channel = Channel(connection, options.codec)
    host = _Host(channel, beat_interval(options.heartbeat))
    try:
        _apply_limits(options.cpus, options.nice)
        if spare:
            host.restore_nice = _lower_priority_for_loading()
            hold_timers()  # no mail until adopted, its own timers' neither
        host.start_reader()
        if options.init is not None:
            options.init()
        default_registry.fallback = partial_parent_name(channel, host.parent_monitors)
        ref = spec.start(*spec.args)
        if not isinstance(ref, SupervisedRef):
            raise TypeError(f"start of {spec.id!r} returned {ref!r}, not a SupervisedRef")
    except BaseException as error:
        channel.send(Exited(ExitReason.crash(error), format_traceback(error), started=False))
        _exit(1)
    host.serve(ref, spec.name)


def partial_parent_name(channel: Channel, monitors: ParentMonitors) -> Any:
    """The registry fallback of a child process: any name it lacks is the parent's."""
    return lambda name: ParentName(channel, name, monitors)


class ParentName:
    """A name registered in the parent, as a ref the child's registry can hand out.

    It has what ``Registry.ask``/``tell``, ``monitor`` and callers of ``whereis`` use of a
    pykka ``ActorRef``. A tell is sent without waiting: if nothing holds the name in the
    parent, the parent logs it and drops the message (the sender cannot be told
    synchronously across the pipe). An ask is answered with ``NoProcError`` then, and a
    monitor with a ``Down`` whose reason is ``noproc``.
    """

    __slots__ = ("_channel", "_monitors", "name")

    def __init__(self, channel: Channel, name: str, monitors: ParentMonitors) -> None:
        self._channel = channel
        self._monitors = monitors
        self.name = name

    @property
    def actor_urn(self) -> str:
        return f"parent:{self.name}"

    @property
    def lifecycle(self) -> _ParentLifecycle:
        """What ``monitor`` uses of a lifecycle: the parent watches whatever holds the
        name there when the monitor arrives, and sends its exit back."""
        return _ParentLifecycle(self._monitors, self.name)

    def is_alive(self) -> bool:
        return True  # as far as this process can know; an ask to a missing name fails

    def tell(self, message: Any) -> None:
        self._channel.send(Tell(self.name, self._channel.codec.encode(message)))

    def ask(self, message: Any, *, block: bool = True, timeout: float | None = None) -> Any:
        future: pykka.ThreadingFuture[Any] = pykka.ThreadingFuture()
        self._channel.ask(self.name, self._channel.codec.encode(message), future)
        return future.get(timeout=timeout) if block else future

    def __str__(self) -> str:
        return f"{self.name} (in the parent process)"


class ParentMonitors:
    """This process's monitors of names in the parent, by token: the parent watches the
    name (``Monitor``) and sends ``MonitorDown`` with the token when its incarnation exits;
    the reader thread then calls the monitor's callback, once."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._lock = threading.Lock()
        self._callbacks: dict[int, Callable[[ExitReason], None]] = {}
        self._tokens = itertools.count(1)

    def monitor(self, name: str, callback: Callable[[ExitReason], None]) -> int:
        with self._lock:
            token = next(self._tokens)
            self._callbacks[token] = callback
        self._channel.send(Monitor(token, name))
        return token

    def demonitor(self, token: int) -> None:
        with self._lock:
            known = self._callbacks.pop(token, None) is not None
        if known:  # else it fired already, and the parent has forgotten it too
            self._channel.send(Demonitor(token))

    def down(self, frame: MonitorDown) -> None:
        with self._lock:
            callback = self._callbacks.pop(frame.token, None)
        if callback is not None:  # None: demonitored while the Down was on its way
            callback(frame.reason)


class _ParentLifecycle:
    """The monitor half of a lifecycle, for a name in the parent."""

    __slots__ = ("_monitors", "_name")

    def __init__(self, monitors: ParentMonitors, name: str) -> None:
        self._monitors = monitors
        self._name = name

    def monitor(self, callback: Callable[[ExitReason], None]) -> int:
        return self._monitors.monitor(self._name, callback)

    def demonitor(self, token: int) -> None:
        self._monitors.demonitor(token)


class _Host:
    """The reader thread and the actor's start/exit sequence."""

    def __init__(self, channel: Channel, interval: float) -> None:
        self.channel = channel
        self.interval = interval
        self.parent_monitors = ParentMonitors(channel)
        self.ref: SupervisedRef[Any] | None = None
        self._taken = 0
        self._last_current: object = None
        self._last_figures: object = None
        self.restore_nice: int | None = None
        """A spare's own nice level, restored once its actor started (None: unchanged)."""

    def start_reader(self) -> None:
        threading.Thread(target=self._read, name="supervisors-host-reader", daemon=True).start()

    def serve(self, ref: SupervisedRef[Any], name: str | None) -> None:
        lifecycle = ref.lifecycle
        failure = lifecycle.wait_started()
        if failure is not None:
            self.channel.send(Exited(failure, lifecycle.traceback, started=False))
            _exit(1)
        if self.restore_nice is not None:
            _set_nice_of_all_threads(self.restore_nice)
        if name is not None:
            default_registry.register(name, ref)
        self.ref = ref
        self.channel.send(Started(os.getpid()))

        # Told by a monitor, so the parent hears of the exit before the failed ask's reply
        # and can answer every ask waiting after its supervisor knows, as in one process.
        def announce(reason: ExitReason) -> None:
            self.channel.send(Exited(reason, lifecycle.traceback, started=True))

        lifecycle.monitor(announce)
        lifecycle.wait()
        _exit(0)

    # -- the reader thread ------------------------------------------------------------

    def _read(self) -> None:
        connection = self.channel.connection
        next_beat = 0.0
        try:
            while True:
                if connection.poll(self.interval):
                    self._handle(decode_frame(connection.recv_bytes()))
                now = time.monotonic()
                if now >= next_beat:
                    self.channel.send(self._beat())
                    next_beat = now + self.interval
        except (EOFError, OSError):
            _exit(EXIT_ORPHANED)  # the parent is gone: so are we
        except BaseException:
            # A broken reader means a deaf child: end it, the parent sees the exit.
            logger.exception("isolated child's reader failed")
            _exit(EXIT_ORPHANED)

    def _beat(self) -> Beat:
        ref = self.ref
        if ref is None:
            return Beat(0, 0)
        lifecycle = ref.lifecycle
        current = lifecycle.current
        if current is not self._last_current:
            self._last_current = current
            self._taken += 1
        figures = lifecycle.figures
        changed = figures is not self._last_figures
        self._last_figures = figures
        return Beat(self._taken, lifecycle.mailbox_depth, dict(figures) if changed else None)

    def _handle(self, frame: object) -> None:
        if isinstance(frame, Tell | Ask):
            self._deliver(frame)
        elif isinstance(frame, Reply | Fail):
            self.channel.resolve(frame)
        elif isinstance(frame, MonitorDown):
            self.parent_monitors.down(frame)
        elif isinstance(frame, Adopted):
            release_timers()
            restore = self.restore_nice
            if restore is not None:  # adopted while loading: on the restart's path now
                _set_nice_of_all_threads(restore)
        elif isinstance(frame, Stop):
            ref = self.ref
            if ref is None:
                _exit(0)  # stopped before it even started
            else:
                ref.lifecycle.signal_exit(frame.reason)

    def _deliver(self, frame: Tell | Ask) -> None:
        ref = self.ref
        if ref is None:
            return  # cannot happen: the parent sends mail only once Started arrived
        reply = WireReply(self.channel, frame.id) if isinstance(frame, Ask) else None
        try:
            message = self.channel.codec.decode(frame.data)
        except Exception as error:
            problem = TypeError(f"cannot decode a message for {ref}: {error}")
            if reply is None:
                logger.error("%s; dropped", problem)
            else:
                reply.set_exception((TypeError, problem, None))
            return
        # Straight into the mailbox, as a tell or ask in this process would: a mailbox that
        # acts on a message as it is put (an urgent cancel) still does so here.
        # Dying: the parent sees the exit. Full: an ask is answered busy by the mailbox, a
        # tell is dropped as a full mailbox in this process would refuse it.
        with contextlib.suppress(pykka.ActorDeadError, BusyError):
            ref.actor_inbox.put(Envelope(message, reply_to=reply))


def _prctl(option: int, value: Any) -> None:
    """Linux's prctl(2) through ctypes; elsewhere nothing."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _die_with_parent(parent_pid: int) -> None:
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        _exit(EXIT_ORPHANED)  # the parent died before the line above took effect


def _name_process(child_id: str) -> None:
    """Show the child's id as the process name (``ps``, ``top``, psutil's ``name()``), so an
    operator sees ``llm`` rather than one more ``python``; Linux keeps 15 bytes of it."""
    _prctl(PR_SET_NAME, child_id.encode()[:15])


def _apply_limits(cpus: tuple[int, ...] | None, nice: int | None) -> None:
    if cpus is not None:
        available = os.sched_getaffinity(0)
        missing = set(cpus) - available
        if missing:
            raise ValueError(
                f"cpus {sorted(missing)} are not available to this process "
                f"(available: {sorted(available)}); fix the child's cpus"
            )
        os.sched_setaffinity(0, cpus)
    if nice is not None:
        current = os.getpriority(os.PRIO_PROCESS, 0)
        try:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        except PermissionError:
            raise PermissionError(
                f"nice {nice} is below this process's {current}: lowering it needs "
                "privileges (CAP_SYS_NICE); fix the child's nice"
            ) from None


def _lower_priority_for_loading() -> int | None:
    """Raise this spare's nice level by ``STANDBY_NICE`` for its load, if it can be
    lowered back afterwards (a thread tries it first: that needs CAP_SYS_NICE or enough
    RLIMIT_NICE); the level to restore, or None if left unchanged."""
    own = os.getpriority(os.PRIO_PROCESS, 0)
    lower = min(19, own + STANDBY_NICE)
    reversible: list[bool] = []

    def probe() -> None:
        thread = threading.get_native_id()
        try:
            os.setpriority(os.PRIO_PROCESS, thread, lower)
            os.setpriority(os.PRIO_PROCESS, thread, own)
        except OSError:
            return
        reversible.append(True)

    prober = threading.Thread(target=probe, name="supervisors-nice-probe")
    prober.start()
    prober.join()
    if lower == own or not reversible:
        return None
    os.setpriority(os.PRIO_PROCESS, 0, lower)
    return own


def _set_nice_of_all_threads(nice: int) -> None:
    """Linux nice levels are per thread: a model's worker threads started during the load
    inherited the loading level, so each thread gets ``nice``."""
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]  # no /proc: the level is the process's
    for thread in threads:
        with contextlib.suppress(OSError):  # ended meanwhile, or not allowed: stays lower
            os.setpriority(os.PRIO_PROCESS, thread, nice)


def _exit(code: int) -> None:
    # No interpreter shutdown: the actor's threads (a model's too) would be joined.
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)
