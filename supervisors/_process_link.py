"""One child process seen from this one: ``ProcessLink`` and the stand-in's lifecycle.

``ProcessLink`` spawns the process (its reader thread does, so the thread whose end sends the
child SIGKILL lives exactly as long as the process), takes its frames, delivers its mail,
keeps the monitors the child set up on names here, watches its heartbeat and memory, and
reaps it. ``ProcessLifecycle`` is the stand-in's
``Lifecycle``: a kill is SIGKILL through the link, and status reads the child's beats. The
stand-in (``supervisors._process``) and a hot standby's spares (``supervisors._standby``)
both hold links; neither module imports the other's internals.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import wait as wait_ready
from typing import Any

import pykka
from pykka._envelope import Envelope

from supervisors._errors import ActorExitedError, NoProcError
from supervisors._lifecycle import Figure, Lifecycle
from supervisors._mailbox import Mailbox
from supervisors._monitors import demonitor, new_ref, watch
from supervisors._process_host import beat_interval, host_main
from supervisors._reasons import KILLED, SHUTDOWN, Down, ExitReason, MonitorRef
from supervisors._registry import Registry
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
    RemoteError,
    Reply,
    Started,
    Stop,
    Tell,
    WireReply,
    decode_frame,
)

__all__ = ["BOOT_GRACE", "EXITED", "ProcessLifecycle", "ProcessLink"]

logger = logging.getLogger("supervisors")

BOOT_GRACE = 60.0
"""Seconds a new process may take to send its first frame: the interpreter starts and
imports the actor's modules (a model runtime can take seconds) before its heartbeat runs."""

REAP_GRACE = 5.0
"""Seconds to wait for a process that closed its pipe to exit before it is killed."""

KILL_GRACE = 1.0
"""Seconds a kill waits for the process to be gone before the exit is announced."""

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class _Exited:
    """Mail from the reader to the stand-in: the process is gone and reaped."""


EXITED = _Exited()


class ProcessLifecycle(Lifecycle):
    """The stand-in's lifecycle: a kill is SIGKILL to the process, and what a heartbeat
    check and status read comes from the child's beats."""

    __slots__ = ("link",)

    def __init__(self, ref: pykka.ActorRef[Any], mailbox: Mailbox) -> None:
        super().__init__(ref, mailbox)
        self.link: ProcessLink | None = None

    @property
    def mailbox_depth(self) -> int:
        link = self.link
        return self.mailbox.qsize() + (0 if link is None else link.remote_depth)

    def progress(self) -> tuple[object, bool]:
        link = self.link
        if link is None:
            return super().progress()
        return link.marker, link.remote_depth > 0 or not self.mailbox.empty()

    def kill(self, reason: ExitReason = KILLED) -> None:
        link = self.link
        if link is not None and self.reason is None:
            link.kill(reason)
            # The process is gone in a moment: let its replacement have its resources.
            link.exited.wait(KILL_GRACE)
        super().kill(reason)

    def note_remote_failure(self, traceback: str) -> None:
        """The traceback text of the child's failure, for reports (set before exit)."""
        self._traceback = traceback

    def _announce(self) -> None:
        super()._announce()
        link = self.link
        if link is not None:
            # After the monitors, as for local mail: the supervisor knows first.
            reason, actor, error = self._reason, str(self._ref), self._error
            assert reason is not None

            def exited() -> ActorExitedError:
                failure = ActorExitedError(actor, reason)
                failure.__cause__ = error
                return failure

            link.channel.close(exited)


class ProcessLink:
    """This process's end of one child process: spawn, reader thread, watchdog, reap.

    The reader thread spawns the process and reaps it, so the thread that spawned it
    (whose end sends the child SIGKILL, ``PR_SET_PDEATHSIG``) lives exactly as long as it.
    A link made with ``spare`` set is a hot standby's spare (``supervisors._standby``): no
    stand-in yet, figures kept for the one that ``adopt``s it, and ``spare(link)`` called
    from the reader thread if the process ends before it is adopted.
    """

    def __init__(
        self,
        spec: ChildSpec,
        path: str,
        registry: Registry,
        lifecycle: ProcessLifecycle | None,
        *,
        spare: Callable[[ProcessLink], None] | None = None,
    ) -> None:
        options = spec.process_options
        self.path = path
        self.registry = registry
        self.lifecycle = lifecycle
        self.heartbeat = options.heartbeat
        self.tick = beat_interval(options.heartbeat)
        self.memory_limit = None if options.memory_mb is None else options.memory_mb * 2**20
        self.spawned = threading.Event()
        """Set once the process was spawned, or failed to be."""
        self.started = threading.Event()
        self.settled = threading.Event()
        """Set once the child started, or failed to."""
        self.exited = threading.Event()
        """Set once the process is gone and reaped."""
        self.exit_reason: ExitReason | None = None
        self.traceback = ""
        self.error: BaseException | None = None
        self.start_seconds = 0.0
        self.started_at = 0.0
        self.marker: object = None
        self.remote_depth = 0
        self.pid: int | None = None
        self._taken = -1
        self._exit_frame: Exited | None = None
        self._kill_reason: ExitReason | None = None
        self._kill_lock = threading.Lock()
        self._reaped = False
        self._rss_mb = 0
        self._on_spare_exit = spare
        self._owner_lock = threading.Lock()
        """Guards who owns the link (a standby or a stand-in) against the process's end."""
        self._early_figures: dict[str, Figure] = {}
        self._monitors: dict[int, MonitorRef] = {}
        """The child's monitors of names here, by the child's token."""
        self._monitors_lock = threading.Lock()
        context = multiprocessing.get_context("spawn")
        parent_end, self._child_end = context.Pipe(duplex=True)
        self.channel = Channel(parent_end, options.codec)
        self.process = context.Process(
            target=host_main,
            args=(spec, os.getpid(), self._child_end, spare is not None),
            name=f"supervisors:{path}" + (" (spare)" if spare is not None else ""),
            daemon=True,
        )
        self._spawned = 0.0
        self._spawn_error: BaseException | None = None
        threading.Thread(target=self._run, name=f"supervisors-reader:{path}", daemon=True).start()
        if spare is None:  # a spare is spawned off the caller's path; its failure is its exit
            self.spawned.wait()
            error = self._spawn_error
            if error is not None:
                raise RuntimeError(
                    f"cannot start {path} in its own process: {error} (its start function, "
                    "args and process options must be picklable)"
                ) from error

    @property
    def alive(self) -> bool:
        """Not exited and not being killed (it may still be loading)."""
        return not self.exited.is_set() and self._kill_reason is None

    @property
    def ready(self) -> bool:
        """A started process that has not exited and is not being killed."""
        return self.started.is_set() and self.alive

    def adopt(self, lifecycle: ProcessLifecycle) -> bool:
        """Make a spare this ``lifecycle``'s process, ready or still loading (sooner done
        than a new one); False if it is gone or going."""
        with self._owner_lock:
            if not self.alive:
                return False
            self.lifecycle = lifecycle
            self._on_spare_exit = None
            figures, self._early_figures = self._early_figures, {}
        self.channel.send(Adopted())
        if figures:
            lifecycle.publish(figures)
        return True

    def discard(self, grace: float) -> None:
        """Stop a spare nobody adopted: the exit signal, SIGKILL after ``grace`` seconds;
        return once the process is reaped."""
        with self._owner_lock:
            self._on_spare_exit = None
        self.spawned.wait()
        self.channel.send(Stop(SHUTDOWN))
        if not self.exited.wait(grace):
            self.kill(SHUTDOWN)
            self.exited.wait()

    # -- used by the stand-in -----------------------------------------------------------

    def forward(self, data: bytes, reply_to: pykka.Future[Any] | None) -> None:
        if reply_to is None:
            self.channel.send(Tell(None, data))
        else:
            self.channel.ask(None, data, reply_to)

    def stop(self, reason: ExitReason) -> None:
        """Send the exit signal and wait for the process to end (the supervisor kills it
        if that takes longer than its shutdown time); its own exit reason says how."""
        self.channel.send(Stop(reason))
        self.exited.wait()

    def kill(self, reason: ExitReason) -> None:
        """SIGKILL the process; it exits with ``reason``."""
        with self._kill_lock:
            if self._kill_reason is not None or self._reaped:
                return
            self._kill_reason = reason
            if self.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)

    # -- the reader thread --------------------------------------------------------------

    def _run(self) -> None:
        """The reader thread: spawn, read until the process ends, reap."""
        try:
            self._spawned = time.monotonic()
            self.process.start()
        except BaseException as error:
            self._spawn_error = error
            self.channel.connection.close()
            self.exit_reason = ExitReason.crash(error)
            self.spawned.set()
            self._end()
            return
        finally:
            self._child_end.close()  # else this process holds the pipe open: no EOF on death
        with self._kill_lock:
            self.pid = self.process.pid
            if self._kill_reason is not None:  # killed while it was being spawned
                os.kill(self.pid, signal.SIGKILL)  # type: ignore[arg-type]
        self.spawned.set()
        self._read()

    def _read(self) -> None:
        connection = self.channel.connection
        sentinel = self.process.sentinel
        last_sign = time.monotonic()
        next_check = last_sign + self.tick
        silence_limit = max(self.heartbeat, BOOT_GRACE)  # until the first frame
        try:
            while True:
                ready = wait_ready([connection, sentinel], timeout=self.tick)
                if connection in ready:
                    try:
                        data = connection.recv_bytes()
                    except (EOFError, OSError):
                        break
                    last_sign = time.monotonic()
                    silence_limit = self.heartbeat
                    self._handle(decode_frame(data))
                elif ready:
                    self._drain()
                    break
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + self.tick
                    self._watch(now - last_sign, silence_limit)
        except Exception as error:
            logger.exception("reader of isolated child %s failed", self.path)
            self.kill(ExitReason("crash", f"protocol error with the child process: {error}"))
        finally:
            self._reap()

    def _drain(self) -> None:
        """Handle what the process sent before it ended."""
        connection = self.channel.connection
        with contextlib.suppress(EOFError, OSError):
            while connection.poll(0):
                self._handle(decode_frame(connection.recv_bytes()))

    def _handle(self, frame: object) -> None:
        if isinstance(frame, Beat):
            if frame.taken != self._taken:
                self._taken = frame.taken
                self.marker = frame
            self.remote_depth = frame.depth
            if frame.figures is not None:
                self._publish(frame.figures)
        elif isinstance(frame, Tell):
            self._route_tell(frame)
        elif isinstance(frame, Ask):
            self._route_ask(frame)
        elif isinstance(frame, Monitor):
            self._monitor(frame)
        elif isinstance(frame, Demonitor):
            self._demonitor(frame.token)
        elif isinstance(frame, Reply | Fail):
            if self._exit_frame is None:  # after it, the exit answers them, in order
                self.channel.resolve(frame)
        elif isinstance(frame, Started):
            self.started_at = time.monotonic()
            self.start_seconds = self.started_at - self._spawned
            self.started.set()
            self.settled.set()
        elif isinstance(frame, Exited):
            self._exit_frame = frame

    def _route_tell(self, frame: Tell) -> None:
        name = frame.name
        assert name is not None
        try:
            message = self.channel.codec.decode(frame.data)
        except Exception as error:
            logger.error("%s told %r an undecodable message (%s); dropped", self.path, name, error)
            return
        outcome = self.registry.cast(name, message)
        if outcome != "ok":
            logger.warning(
                "%s told %r a %s, but %s; dropped",
                self.path,
                name,
                type(message).__name__,
                "nothing runs under that name" if outcome == "noproc" else "its mailbox is full",
            )

    def _route_ask(self, frame: Ask) -> None:
        name = frame.name
        assert name is not None
        reply = WireReply(self.channel, frame.id)
        try:
            message = self.channel.codec.decode(frame.data)
        except Exception as error:
            problem = TypeError(f"cannot decode the ask for {name!r}: {error}")
            reply.set_exception((TypeError, problem, None))
            return
        ref = self.registry.whereis(name)
        if ref is None:
            reply.set_exception((NoProcError, NoProcError(name), None))
            return
        try:
            ref.actor_inbox.put(Envelope(message, reply_to=reply))
        except Exception as error:  # a mailbox that refuses (closed) answers asks itself
            with contextlib.suppress(Exception):
                reply.set_exception((type(error), error, None))

    def _monitor(self, frame: Monitor) -> None:
        """The child monitors ``frame.name``: watch what holds it here, and send its exit
        back with the child's token (at once, ``noproc``, if nothing does)."""
        token = frame.token
        ref = new_ref()
        with self._monitors_lock:
            self._monitors[token] = ref

        def deliver(down: Down) -> None:
            with self._monitors_lock:
                self._monitors.pop(token, None)
            self.channel.send(MonitorDown(token, down.reason))

        watch(ref, frame.name, deliver, self.registry)

    def _demonitor(self, token: int) -> None:
        with self._monitors_lock:
            ref = self._monitors.pop(token, None)
        if ref is not None:
            demonitor(ref)

    def _watch(self, silence: float, limit: float) -> None:
        if self._kill_reason is not None:
            return
        if silence > limit:
            self.kill(
                ExitReason(
                    "hung",
                    f"no heartbeat from process {self.pid} for {silence:.1f}s "
                    f"(allowed: {limit:g}s)",
                )
            )
            return
        rss = _rss_bytes(self.pid)
        if rss is None:
            return
        rss_mb = round(rss / 2**20)
        if rss_mb != self._rss_mb:
            self._rss_mb = rss_mb
            self._publish({"rss_mb": rss_mb})
        if self.memory_limit is not None and rss > self.memory_limit:
            self.kill(
                ExitReason(
                    "memory_limit",
                    f"RSS {rss / 2**20:.0f} MiB over the {self.memory_limit / 2**20:g} MiB "
                    f"ceiling (process {self.pid})",
                )
            )

    # -- the end ------------------------------------------------------------------------

    def _reap(self) -> None:
        process = self.process
        if not wait_ready([process.sentinel], timeout=REAP_GRACE):
            # It closed the pipe but lives on: it cannot be served any more.
            self.kill(ExitReason("crash", f"process {self.pid} closed its pipe"))
            wait_ready([process.sentinel])
        with self._kill_lock:
            process.join()  # exited (sentinel ready): reaps at once, no zombie left
            self._reaped = True
        code = process.exitcode
        assert code is not None
        process.close()  # its sentinel fd, now rather than whenever it is collected
        self.exit_reason, self.traceback, self.error = self._why(code)
        self.channel.connection.close()
        with self._monitors_lock:  # a dead child's monitors have nobody to tell
            tokens = list(self._monitors)
        for token in tokens:
            self._demonitor(token)
        self._end()

    def _end(self) -> None:
        """The process is gone: tell whoever owns the link."""
        with self._owner_lock:
            self.exited.set()
            self.settled.set()
            lifecycle, on_spare_exit = self.lifecycle, self._on_spare_exit
        if on_spare_exit is not None:
            on_spare_exit(self)
        elif lifecycle is not None:
            with contextlib.suppress(pykka.ActorDeadError):  # killed: its mailbox is closed
                lifecycle.mailbox.put(Envelope(EXITED))

    def _publish(self, figures: dict[str, Figure]) -> None:
        with self._owner_lock:
            lifecycle = self.lifecycle
            if lifecycle is None:
                self._early_figures.update(figures)
                return
        lifecycle.publish(figures)

    def _why(self, code: int) -> tuple[ExitReason, str, BaseException | None]:
        """The exit reason, traceback text and cause of a process that ended with
        ``code`` (negative: the signal that ended it)."""
        if self._kill_reason is not None:
            return self._kill_reason, "", None
        frame = self._exit_frame
        if frame is not None:
            error = None
            if frame.traceback:
                type_name, _, message = frame.reason.detail.partition(": ")
                error = RemoteError(type_name, message, frame.traceback)
            return frame.reason, frame.traceback, error
        pid = self.pid
        if code < 0:
            number = -code
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            if number == signal.SIGKILL:
                detail = (
                    f"SIGKILL (signal 9) sent from outside the tree, e.g. by the OOM killer "
                    f"(process {pid})"
                )
                return ExitReason("killed", detail), "", None
            return ExitReason("crash", f"{name} (signal {number}) in process {pid}"), "", None
        if code == 0:
            return ExitReason("normal", f"process {pid} exited by itself with code 0"), "", None
        return ExitReason("crash", f"process {pid} exited by itself with code {code}"), "", None


def _rss_bytes(pid: int | None) -> int | None:
    """Resident memory of ``pid`` (Linux ``/proc``), or None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None
