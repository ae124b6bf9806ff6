"""Process-isolated children: a worker in its own OS process, behind a local stand-in.

A thread cannot be killed and a segfault in native code (a model runtime, an audio
driver) takes the whole interpreter with it. ``ChildSpec(isolation="process")`` runs the
worker in a process of its own, started with multiprocessing's *spawn* context (a fresh
interpreter: no forked locks or threads), and puts a stand-in actor, ``ProcessActor``, in
its place in this process. The stand-in is what the supervisor starts, monitors, stops and
kills, and what the child's name is registered to, so callers and supervisors see an
ordinary ``SupervisedRef``; only ``ref.pid`` (and ``pid`` in status) differs.

* Messages told or asked to the stand-in are encoded by the child's codec on the
  sender's thread (a message that cannot cross fails there, with a clear error) and
  written to the pipe by the stand-in's thread, so a sender never blocks on a stuck
  child. In the child they are put straight into the actor's mailbox, in order.
* The child's registry routes every name it does not hold to this process
  (``Registry.fallback``): its tells and asks to e.g. ``"dialogue"`` arrive here and
  are delivered through this tree's registry, and replies go back.
* Exits, each with its reason (``ExitReason``): an exception in the child is ``crash``
  with the child's ``"Type: message"`` and its traceback text in the reports; a signal
  is ``crash: SIGSEGV (signal 11)`` (SIGABRT, ...); a SIGKILL nobody here sent (the OOM
  killer) is ``killed: SIGKILL ...``; the process exiting by itself is ``normal`` for
  code 0, else ``crash: process N exited with code C``; a process silent for longer
  than ``ProcessOptions.heartbeat`` is killed and exits ``hung``; one over its memory
  ceiling is killed and exits ``memory_limit``. Every ask still waiting gets
  ``ActorExitedError`` with that reason once the supervisor has heard of the exit.
* Stopping honours the shutdown time: a shutdown is sent as an exit signal (the child
  actor's ``on_stop`` runs there), and a kill is SIGKILL. Every process is reaped by its
  reader thread; none outlives this one (see ``supervisors._process_host``).

Per isolated child this process runs two threads: the stand-in's, and a reader that
spawns the process, takes its frames, delivers its mail, watches its heartbeat and memory,
and reaps it. A hot standby's spare (``supervisors._standby``) has a reader of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import pykka
from pykka._envelope import Envelope
from pykka.messages import _ActorStop

from supervisors._actor import SupervisedActor, SupervisedRef
from supervisors._codec import Codec
from supervisors._lifecycle import Lifecycle
from supervisors._mailbox import Mailbox
from supervisors._process_link import EXITED, ProcessLifecycle, ProcessLink
from supervisors._reasons import KILLED, NORMAL, ExitReason, ExitSignal
from supervisors._registry import Registry
from supervisors._spec import ChildSpec

if TYPE_CHECKING:
    from supervisors._standby import Standby

__all__ = ["ProcessActor", "ProcessRef", "start_isolated"]

_LOCAL = (_ActorStop, ExitSignal, type(EXITED))
"""Mail the stand-in handles itself; everything else is encoded for the child."""


def start_isolated(
    spec: ChildSpec, path: str, registry: Registry, standby: Standby | None = None
) -> ProcessRef:
    """Start ``spec``'s actor in its own process; return the stand-in's ref at once
    (a supervisor then waits for ``lifecycle.wait_started()`` as for any child). With a
    ``standby`` holding a ready spare, the spare is adopted instead of spawning."""
    return ProcessActor.start(spec, path, registry, standby)  # type: ignore[return-value]


class ProcessRef(SupervisedRef["ProcessActor"]):
    """The stand-in's ref: a ``SupervisedRef`` whose actor lives in another process."""

    _lifecycle_class: ClassVar[type[Lifecycle]] = ProcessLifecycle
    lifecycle: ProcessLifecycle

    @property
    def pid(self) -> int | None:
        """The child process's pid (None before it was spawned)."""
        link = self.lifecycle.link
        return None if link is None else link.pid

    def proxy(self) -> NoReturn:
        raise TypeError(
            f"{self} runs in its own process (isolation='process'): send it messages with "
            "tell/ask; a proxy cannot reach its methods"
        )


class _EncodingMailbox(Mailbox):
    """The stand-in's inbox: mail for the child is encoded on the sender's thread."""

    __slots__ = ("codec",)

    def __init__(self) -> None:
        super().__init__()
        self.codec: Codec | None = None

    def put(self, envelope: Envelope[Any]) -> None:
        message = envelope.message
        if not isinstance(message, _LOCAL):
            assert self.codec is not None
            try:
                data = self.codec.encode(message)
            except Exception as error:
                if envelope.reply_to is None:
                    raise
                envelope.reply_to.set_exception(exc_info=(type(error), error, None))
                return
            envelope = Envelope(data, envelope.reply_to)
        super().put(envelope)


class ProcessActor(SupervisedActor):
    """The stand-in of a process-isolated child; see the module docstring."""

    _ref_class = ProcessRef

    trap_exits = True
    """The stand-in takes an exit signal in order, after forwarding the mail sent before
    it; the child actor then treats it by its own ``trap_exits``."""

    def __init__(
        self, spec: ChildSpec, path: str, registry: Registry, standby: Standby | None = None
    ) -> None:
        super().__init__()
        self._spec = spec
        self._path = path
        self._registry = registry
        self._standby = standby
        inbox = self.actor_inbox
        assert isinstance(inbox, _EncodingMailbox)
        inbox.codec = spec.process_options.codec

    @staticmethod
    def _create_actor_inbox() -> _EncodingMailbox:
        return _EncodingMailbox()

    def __str__(self) -> str:
        return f"{self._path} (isolated, {self.actor_urn})"

    @property
    def _lifecycle(self) -> ProcessLifecycle:
        lifecycle = self._sv_lifecycle
        assert isinstance(lifecycle, ProcessLifecycle)
        return lifecycle

    def _actor_loop(self) -> None:
        lifecycle = self._lifecycle
        standby = self._standby
        link = None if standby is None else standby.take(lifecycle)
        adopted = link is not None
        if link is None:
            try:
                link = ProcessLink(self._spec, self._path, self._registry, lifecycle)
            except BaseException as error:
                lifecycle.finish(ExitReason.crash(error), error)
                return
        lifecycle.link = link
        link.settled.wait()
        if not link.started.is_set():
            self._finish(link)
            return
        lifecycle.publish({"process_start_s": round(link.start_seconds, 3), "adopted": adopted})
        lifecycle.set_started()
        try:
            self._forward(link)
        except BaseException as error:
            link.kill(ExitReason.crash(error))
        self._finish(link)

    def _finish(self, link: ProcessLink) -> None:
        link.exited.wait()  # the exit is announced once the process is reaped
        self.actor_stopped.set()
        pykka.ActorRegistry.unregister(self.actor_ref)
        lifecycle = self._lifecycle
        if link.traceback:
            lifecycle.note_remote_failure(link.traceback)
        lifecycle.finish(link.exit_reason or KILLED, link.error)

    def _forward(self, link: ProcessLink) -> None:
        """Write mail to the child until the process ends or is asked to."""
        lifecycle = self._lifecycle
        get = lifecycle.mailbox.get
        while lifecycle.exit_request is None:
            envelope = get()
            lifecycle.current = envelope
            message = envelope.message
            if type(message) is bytes:
                link.forward(message, envelope.reply_to)
            elif message is EXITED:
                return
            elif isinstance(message, ExitSignal):
                link.stop(message.reason)
                return
            elif isinstance(message, _ActorStop):
                link.stop(NORMAL)  # the stop is answered once the exit is announced
                return
        link.stop(lifecycle.exit_request)
