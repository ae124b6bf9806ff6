"""The supervisor: an actor that starts, watches and restarts its children.

Semantics follow OTP's ``supervisor`` module (see docs/supervision.md for the
differences):

* Children start in list order, synchronously (each child's ``on_start`` has
  returned before the next starts). If one fails, the ones already started
  are stopped in reverse order and the supervisor's own start fails with a
  ``StartError`` naming the child.
* A child's exit reaches the supervisor through a monitor on its
  ``Lifecycle`` (no polling) as a message. ``permanent`` children are
  restarted, ``transient`` ones only after an abnormal exit, ``temporary``
  ones never (their spec is dropped). The strategy picks who restarts with
  it: ``one_for_one`` (itself), ``one_for_all`` (every child: the others are
  stopped in reverse order, then all start in order) or ``rest_for_one`` (the
  children after it). Temporary children stopped that way are dropped.
* More than ``intensity`` restarts in ``period`` seconds: the supervisor stops
  all children in reverse order and exits with reason
  ``shutdown: reached_max_restart_intensity``, leaving the decision to its
  parent (or, at the root, to whoever waits on it).
* A failed restart is retried through the supervisor's mailbox, each try
  counting towards the intensity, as OTP's ``try_again_restart``.
* A supervisor stops its children (reverse order; all at once under
  ``simple_one_for_one``) whenever it exits, whatever the reason.

Supervisors are ``SupervisedActor``s, so they nest: a ``supervisor_spec()``
child is just another child. Nested supervisors inherit their tree (report
sinks, registry) and get the path ``parent/child_id``.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Sequence
from functools import partial
from typing import Any, NamedTuple, cast

import msgspec
import pykka
from pykka.messages import ProxyCall

from supervisors._actor import ExcInfo, SupervisedActor, SupervisedRef
from supervisors._child import Child
from supervisors._errors import AlreadyRegisteredError, StartError, SupervisorError
from supervisors._intensity import RestartIntensity
from supervisors._lifecycle import Lifecycle
from supervisors._process import start_isolated
from supervisors._reasons import HUNG, SHUTDOWN, ExitReason, format_traceback
from supervisors._registry import Registry, default_registry
from supervisors._reports import (
    EscalationReport,
    ExitReport,
    HungReport,
    Report,
    Reporter,
    RestartReport,
    ShutdownReport,
    Sink,
    StartErrorReport,
    StartReport,
)
from supervisors._spec import ChildSpec, Restart, Shutdown, SupFlags
from supervisors._standby import Standby
from supervisors._status import ChildCounts, ChildInfo, NodeStatus

__all__ = [
    "ESCALATED",
    "Supervisor",
    "SupervisorRef",
    "start_supervisor",
    "supervisor_spec",
]

logger = logging.getLogger("supervisors")

ESCALATED = ExitReason("shutdown", "reached_max_restart_intensity")
"""Exit reason of a supervisor that gave up (OTP exits plain ``shutdown``)."""

MIN_HEARTBEAT_PERIOD = 0.001
"""Floor for the interval between heartbeat checks, in seconds."""


class _Tree(NamedTuple):
    """What every supervisor of one tree shares."""

    reporter: Reporter
    registry: Registry


# Set by a supervisor around each child factory call, so that a supervisor
# created by the factory knows its path and tree (as an Erlang process knows
# its ancestors). Factories run in the parent's thread, and threads start
# with an empty context, so nothing leaks into actor threads.
_PARENT: contextvars.ContextVar[tuple[str, _Tree] | None] = contextvars.ContextVar(
    "supervisors_parent", default=None
)


class _ChildExit(NamedTuple):
    """A child's exit, as told by its monitor (OTP's ``'EXIT'`` message)."""

    child_id: str
    urn: str
    reason: ExitReason


class _Retry(NamedTuple):
    """Try a failed restart again (OTP's ``try_again_restart``)."""

    child_id: str


class _StartGroup(NamedTuple):
    """Start children whose restart was delayed by a backoff."""

    child_ids: tuple[str, ...]


class _CheckHeartbeats(NamedTuple):
    """Time to look for hung children."""


class SupervisorRef(SupervisedRef["Supervisor"]):
    """Ref of a supervisor, with OTP's ``supervisor`` API as methods.

    Every method but ``status()`` is a request to the supervisor's thread
    (OTP's ``call``), so it sees the effect of every exit that happened
    before it. Do not call them from a child's ``on_start``: the supervisor
    is busy waiting for that very start.
    """

    def __init__(self, actor: Supervisor) -> None:
        super().__init__(actor)
        # status() reads the supervisor's table directly, never by message.
        self._supervisor = actor

    @property
    def path(self) -> str:
        """The supervisor's path in its tree, e.g. ``"solo/voice"``."""
        return self._supervisor.path

    def _call(self, method: str, *args: Any) -> Any:
        result = self.ask(ProxyCall(attr_path=(method,), args=args, kwargs={}))
        # Refusals come back as values: raising in the supervisor would crash it.
        if isinstance(result, SupervisorError | StartError):
            raise result
        return result

    def start_child(self, spec_or_args: ChildSpec | Sequence[Any] = ()) -> SupervisedRef[Any]:
        """Start and add a child; return its ref.

        Takes a ``ChildSpec``, or for ``simple_one_for_one`` the extra
        arguments appended to the template's ``args``. Raises ``StartError``
        if it fails to start, ``SupervisorError`` (``already_started``,
        ``already_present``, ``bad_start_spec``) if refused.
        """
        return cast("SupervisedRef[Any]", self._call("_start_child", spec_or_args))

    def terminate_child(self, child: str | pykka.ActorRef[Any]) -> None:
        """Stop a child (by id; by ref under ``simple_one_for_one``).

        Its spec is kept (unless temporary or dynamic) for ``restart_child``.
        """
        self._call("_terminate_child", child)

    def restart_child(self, child_id: str) -> SupervisedRef[Any]:
        """Start a stopped child again; return its ref."""
        return cast("SupervisedRef[Any]", self._call("_restart_child", child_id))

    def cycle_child(self, child_id: str, *, wait: bool = True) -> SupervisedRef[Any] | None:
        """An operator's restart: stop the child (if running) and start it again at once.

        An extension to OTP (there, ``terminate_child`` + ``restart_child``). Counted in
        the child's ``restarts`` with a ``restart`` report of context ``operator``, but
        not in the restart intensity: the exit was ordered, not a fault, so however often
        an operator asks, the supervisor never gives up because of it. Siblings are left
        alone whatever the strategy. With ``wait=False`` it returns at once (None), e.g.
        for a child restarting itself, which must not wait for its own shutdown.
        """
        if not wait:
            self.tell(ProxyCall(attr_path=("_cycle_child",), args=(child_id,), kwargs={}))
            return None
        return cast("SupervisedRef[Any]", self._call("_cycle_child", child_id))

    def delete_child(self, child_id: str) -> None:
        """Remove the spec of a stopped child."""
        self._call("_delete_child", child_id)

    def which_children(self) -> list[ChildInfo]:
        """Every child, in start order."""
        return cast("list[ChildInfo]", self._call("_which_children"))

    def count_children(self) -> ChildCounts:
        """OTP's counts of specs, running children, supervisors and workers."""
        return cast("ChildCounts", self._call("_count_children"))

    def status(self) -> NodeStatus:
        """Snapshot of the tree below this supervisor.

        Built from state the supervisors keep for this purpose: it never
        sends a message, so it returns at once even if actors are busy.
        """
        supervisor = self._supervisor
        lifecycle = self.lifecycle
        now = time.monotonic()
        running = lifecycle.reason is None
        return NodeStatus(
            path=supervisor.path,
            id=supervisor.path.rsplit("/", 1)[-1],
            type="supervisor",
            state="running" if running else "stopped",
            urn=self.actor_urn,
            pid=self.pid,
            started_at=supervisor.started_at if running else None,
            uptime=now - supervisor.started_mono if running else None,
            last_exit=lifecycle.reason,
            mailbox=lifecycle.mailbox_depth,
            figures=dict(lifecycle.figures),
            children=supervisor.child_nodes(now),
        )


class Supervisor(SupervisedActor):
    """A supervisor actor. Start a tree with ``start_supervisor()``.

    ``name`` (the root's path), ``sinks`` and ``registry`` are used by a root
    supervisor only; nested ones inherit their parent's tree.
    """

    _ref_class = SupervisorRef

    def __init__(
        self,
        flags: SupFlags,
        children: Sequence[ChildSpec] = (),
        *,
        name: str = "root",
        sinks: Sequence[Sink] = (),
        registry: Registry | None = None,
    ) -> None:
        super().__init__()
        specs = tuple(children)
        if flags.strategy == "simple_one_for_one":
            if len(specs) != 1:
                raise ValueError("simple_one_for_one takes exactly one child spec")
            if specs[0].name is not None:
                raise ValueError("simple_one_for_one children cannot share a registered name")
        ids = [spec.id for spec in specs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate child ids in {ids}")
        inherited = _PARENT.get()
        if inherited is None:
            if not name or "/" in name:
                raise ValueError(f"root name must be non-empty and contain no '/': {name!r}")
            self.path = name
            self._tree = _Tree(Reporter(sinks), registry or default_registry)
        else:
            self.path, self._tree = inherited
        self._flags = flags
        self._specs = specs
        self._simple = flags.strategy == "simple_one_for_one"
        self._children: dict[str, Child] = {}
        self._status_lock = threading.Lock()
        self._intensity = RestartIntensity(flags.intensity, flags.period)
        self._dynamic_serial = 0
        self._heartbeat_due = False
        self._pending_reports: list[tuple[type[Report], dict[str, Any], str | Lifecycle]] = []
        self.started_at = time.time()
        self.started_mono = time.monotonic()

    @property
    def actor_ref(self) -> SupervisorRef:
        """The supervisor's ``SupervisorRef``."""
        return cast("SupervisorRef", self._actor_ref)

    # -- life ------------------------------------------------------------

    def on_start(self) -> None:
        self.started_at = time.time()
        self.started_mono = time.monotonic()
        try:
            for spec in () if self._simple else self._specs:
                child = Child(spec)
                self._insert(child)
                failure = self._start(child, "init")
                if failure is not None:
                    self._terminate(list(reversed(self._children.values())))
                    raise failure
        finally:
            self._flush_reports()

    def _sv_exit_hooks(
        self, reason: ExitReason, exc_info: ExcInfo | None
    ) -> tuple[ExitReason, BaseException | None]:
        # Whatever ends a supervisor, even a kill, its children go with it
        # (OTP's links do this for Erlang processes).
        self._terminate(list(reversed(self._children.values())))
        for child in self._children.values():
            child.close_standby()
        self._flush_reports()
        return super()._sv_exit_hooks(reason, exc_info)

    def _handle_receive(self, message: Any) -> Any:
        try:
            return super()._handle_receive(message)
        finally:
            self._flush_reports()

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, _ChildExit):
            self._on_child_exit(message)
        elif isinstance(message, _Retry):
            child = self._children.get(message.child_id)
            if child is not None and child.state == "restarting":
                self._restart(child)
        elif isinstance(message, _StartGroup):
            self._start_group(message.child_ids)
        elif isinstance(message, _CheckHeartbeats):
            self._check_heartbeats()
        else:
            logger.warning("supervisor %s got an unexpected message: %r", self.path, message)

    # -- the child table -------------------------------------------------

    def _insert(self, child: Child) -> None:
        # Only this thread changes the table; the lock keeps status() from
        # copying it mid-change.
        with self._status_lock:
            self._children[child.id] = child

    def _remove(self, child: Child) -> None:
        with self._status_lock:
            self._children.pop(child.id, None)
        child.close_standby()

    def child_nodes(self, now: float) -> tuple[NodeStatus, ...]:
        """Status nodes of the children (any thread)."""
        with self._status_lock:
            children = list(self._children.values())
        nodes = []
        for child in children:
            ref = child.ref
            below = ref._supervisor.child_nodes(now) if isinstance(ref, SupervisorRef) else ()
            nodes.append(child.node(self.path, now, below))
        return tuple(nodes)

    # -- starting --------------------------------------------------------

    def _start(self, child: Child, context: str) -> StartError | None:
        """Start ``child``'s actor and watch it; the error if that fails."""
        spec = child.spec
        child.state = "starting"
        if spec.type == "supervisor":
            # It reports to the same sinks: keep the stream in event order.
            self._flush_reports()
        token = _PARENT.set((f"{self.path}/{spec.id}", self._tree))
        try:
            if spec.isolation == "process":
                path = f"{self.path}/{spec.id}"
                if spec.process_options.standby and child.standby is None:
                    child.standby = Standby(spec, path, self._tree.registry)
                ref = start_isolated(spec, path, self._tree.registry, child.standby)
            else:
                ref = spec.start(*spec.args)
            if not isinstance(ref, SupervisedRef):
                if isinstance(ref, pykka.ActorRef):
                    ref.stop()  # a plain pykka actor: it cannot be supervised
                raise TypeError(f"start of {spec.id!r} returned {ref!r}, not a SupervisedRef")
        except Exception as error:
            return self._start_failed(
                child, context, ExitReason.crash(error), format_traceback(error)
            )
        finally:
            _PARENT.reset(token)
        lifecycle = ref.lifecycle
        reason = lifecycle.wait_started()
        if reason is not None:
            return self._start_failed(child, context, reason, lifecycle.traceback)
        if spec.mailbox is not None:  # before its name resolves: no mail comes in unbounded
            lifecycle.mailbox.set_limit(spec.mailbox, spec.name or spec.id)
        if spec.name is not None:
            try:
                self._tree.registry.register(spec.name, ref)
            except AlreadyRegisteredError as error:
                _await_exit(ref, _ask_to_exit(ref, spec.shutdown_policy))
                return self._start_failed(child, context, ExitReason.crash(error), "")
        monitor = lifecycle.monitor(partial(self._tell_exit, spec.id, ref.actor_urn))
        child.attach(ref, monitor)
        self._report(StartReport, child, context=context)
        if child.standby is not None:
            child.standby.refill()  # off this thread: the spare's own thread spawns it
        if spec.heartbeat is not None:
            self._watch_heartbeats(spec.heartbeat)
        return None

    def _start_failed(
        self, child: Child, context: str, reason: ExitReason, text: str
    ) -> StartError:
        child.state = "stopped"
        self._report(StartErrorReport, child, context=context, reason=reason, trace=text)
        return StartError(child.id, reason, text)

    def _tell_exit(self, child_id: str, urn: str, reason: ExitReason) -> None:
        """The monitor of every child; runs in the exiting child's thread."""
        # If the supervisor is gone, it stopped (or is stopping) its children.
        with contextlib.suppress(pykka.ActorDeadError):
            self.actor_ref.tell(_ChildExit(child_id, urn, reason))

    # -- exits and restarts ----------------------------------------------

    def _on_child_exit(self, message: _ChildExit) -> None:
        child = self._children.get(message.child_id)
        if child is None or child.ref is None or child.ref.actor_urn != message.urn:
            return  # stale: that incarnation was already terminated or replaced
        self._report(ExitReport, child, reason=message.reason, trace=child.ref.lifecycle)
        self._detach(child, message.reason)
        restart = child.spec.restart
        if restart == "permanent" or (restart == "transient" and not message.reason.is_normal):
            self._restart(child)
        elif restart == "temporary" or self._simple:
            self._remove(child)

    def _restart(self, child: Child) -> None:
        """Restart ``child`` and, by strategy, its siblings; or give up."""
        if not self._intensity.add(time.monotonic()):
            self._report(EscalationReport, child, context=ESCALATED.detail, reason=child.last_exit)
            if self._simple:
                self._remove(child)
            self.exit(ESCALATED)
            return
        group = self._restart_group(child)
        # Temporary children are never restarted, even along with a sibling.
        survivors = [member for member in group if member.spec.restart != "temporary"]
        for member in survivors:
            member.restarts += 1
        delay = child.restart_delay(child.spec.backoff or self._flags.backoff)
        context = self._flags.strategy if delay == 0 else f"{self._flags.strategy}, in {delay:.3f}s"
        self._report(RestartReport, child, context=context, reason=child.last_exit)
        self._terminate([member for member in reversed(group) if member is not child])
        for member in group:
            if member.spec.restart == "temporary":
                self._remove(member)
            else:
                member.state = "restarting"
        child_ids = tuple(member.id for member in survivors)
        if delay > 0:
            self.send_after(delay, _StartGroup(child_ids))
        else:
            self._start_group(child_ids)

    def _restart_group(self, child: Child) -> list[Child]:
        """The children restarted with ``child``, in start order."""
        strategy = self._flags.strategy
        if strategy == "one_for_all":
            return list(self._children.values())
        if strategy == "rest_for_one":
            ids = list(self._children)
            return [self._children[key] for key in ids[ids.index(child.id) :]]
        return [child]

    def _start_group(self, child_ids: tuple[str, ...]) -> None:
        for child_id in child_ids:
            child = self._children.get(child_id)
            if child is None or child.state != "restarting":
                continue  # terminated or deleted while waiting
            if self._start(child, "restart") is not None:
                child.state = "restarting"
                self.actor_ref.tell(_Retry(child_id))
                return

    # -- stopping --------------------------------------------------------

    def _terminate(self, children: list[Child]) -> None:
        """Stop the running ones of ``children``.

        One after the other, in the given order, each given its shutdown
        time; under ``simple_one_for_one`` all at once, as in OTP.
        """
        running = [child for child in children if child.ref is not None]
        if self._simple:
            deadlines = [self._signal_shutdown(child) for child in running]
            for child, deadline in zip(running, deadlines, strict=True):
                self._await_shutdown(child, deadline)
        else:
            for child in running:
                self._await_shutdown(child, self._signal_shutdown(child))

    def _signal_shutdown(self, child: Child) -> float | None:
        assert child.ref is not None
        child.ref.lifecycle.demonitor(child.monitor)  # we wait for this exit ourselves
        return _ask_to_exit(child.ref, child.spec.shutdown_policy)

    def _await_shutdown(self, child: Child, deadline: float | None) -> None:
        ref = child.ref
        assert ref is not None
        reason = _await_exit(ref, deadline)
        self._report(ShutdownReport, child, reason=reason, trace=ref.lifecycle)
        self._detach(child, reason)

    def _detach(self, child: Child, reason: ExitReason) -> None:
        if child.spec.name is not None and child.ref is not None:
            self._tree.registry.unregister(child.spec.name, child.ref)
        child.detach(reason)

    # -- hung children ---------------------------------------------------

    def _watch_heartbeats(self, deadline: float) -> None:
        if not self._heartbeat_due:
            self._heartbeat_due = True
            self.send_after(max(MIN_HEARTBEAT_PERIOD, deadline / 4), _CheckHeartbeats())

    def _check_heartbeats(self) -> None:
        self._heartbeat_due = False
        now = time.monotonic()
        shortest = None
        for child in list(self._children.values()):
            deadline = child.spec.heartbeat
            if deadline is None:
                continue
            shortest = deadline if shortest is None else min(shortest, deadline)
            stalled = child.hung_for(now)
            if stalled is not None:
                assert child.ref is not None
                lifecycle = child.ref.lifecycle
                context = (
                    f"no message taken for {stalled:.3f}s with {lifecycle.mailbox_depth} waiting"
                )
                self._report(HungReport, child, context=context, reason=HUNG)
                # The monitor turns this into an ordinary exit with reason hung.
                lifecycle.kill(HUNG)
        if shortest is not None:
            self._watch_heartbeats(shortest)

    # -- reports ---------------------------------------------------------
    # Reports are stamped when the event happens but emitted at the end of the
    # message being handled, so formatting tracebacks and slow sinks never
    # delay a restart.

    def _report(
        self,
        kind: type[Report],
        child: Child,
        *,
        context: str = "",
        reason: ExitReason | None = None,
        trace: str | Lifecycle = "",
    ) -> None:
        """Queue a report; ``trace`` is traceback text, or a lifecycle to format later."""
        ref = child.ref
        fields = {
            "supervisor": self.path,
            "child_id": child.id,
            "child_name": child.spec.name,
            "urn": None if ref is None else ref.actor_urn,
            "context": context,
            "reason": reason,
            "restarts": child.restarts,
            "timestamp": time.time(),
            "monotonic": time.monotonic(),
        }
        self._pending_reports.append((kind, fields, trace))

    def _flush_reports(self) -> None:
        pending, self._pending_reports = self._pending_reports, []
        for kind, fields, trace in pending:
            text = trace if isinstance(trace, str) else trace.traceback
            self._tree.reporter.emit(kind(**fields, traceback=text))

    # -- the API, run in the supervisor's thread via SupervisorRef ---------
    # Refusals are returned, not raised: an exception here would crash the
    # supervisor.

    def _start_child(self, spec_or_args: ChildSpec | Sequence[Any]) -> Any:
        if self._simple:
            if isinstance(spec_or_args, ChildSpec):
                return SupervisorError("bad_start_spec", spec_or_args)
            template = self._specs[0]
            self._dynamic_serial += 1
            spec = msgspec.structs.replace(
                template,
                id=f"{template.id}#{self._dynamic_serial}",
                args=(*template.args, *spec_or_args),
            )
        elif not isinstance(spec_or_args, ChildSpec):
            return SupervisorError("bad_start_spec", spec_or_args)
        else:
            spec = spec_or_args
            existing = self._children.get(spec.id)
            if existing is not None:
                if existing.ref is None:
                    return SupervisorError("already_present", spec.id)
                return SupervisorError("already_started", spec.id)
        child = Child(spec)
        failure = self._start(child, "dynamic")
        if failure is not None:
            child.close_standby()
            return failure
        self._insert(child)
        return child.ref

    def _terminate_child(self, target: str | pykka.ActorRef[Any]) -> Any:
        if self._simple:
            if not isinstance(target, pykka.ActorRef):
                return SupervisorError("simple_one_for_one", target)
            child = next(
                (c for c in self._children.values() if c.ref is not None and c.ref is target),
                None,
            )
            if child is None and not target.is_alive():
                # Already dead, so already terminated: OTP answers ok too
                # (supervisor_SUITE child_adm_simple); one waiting for its restart
                # (a backoff) is removed, as OTP finds it by its old pid.
                urn = target.actor_urn
                for waiting in self._children.values():
                    if waiting.state == "restarting" and waiting.last_urn == urn:
                        self._remove(waiting)
                        break
                return None
        else:
            child = self._children.get(target) if isinstance(target, str) else None
        if child is None:
            return SupervisorError("not_found", target)
        self._terminate([child])
        child.state = "stopped"  # also cancels a pending restart
        child.close_standby()  # restart_child makes a new one
        if self._simple or child.spec.restart == "temporary":
            self._remove(child)
        return None

    def _settled_child(self, child_id: str) -> Child | SupervisorError:
        """The static child ``child_id`` not in the middle of a restart, or why not."""
        if self._simple:
            return SupervisorError("simple_one_for_one", child_id)
        child = self._children.get(child_id)
        if child is None:
            return SupervisorError("not_found", child_id)
        if child.state == "restarting":
            return SupervisorError("restarting", child_id)
        return child

    def _stopped_child(self, child_id: str) -> Child | SupervisorError:
        """The stopped child ``child_id``, or why it cannot be restarted/deleted."""
        child = self._settled_child(child_id)
        if isinstance(child, Child) and child.ref is not None:
            return SupervisorError("running", child_id)
        return child

    def _restart_child(self, child_id: str) -> Any:
        child = self._stopped_child(child_id)
        if isinstance(child, SupervisorError):
            return child
        return self._start(child, "restart_child") or child.ref

    def _cycle_child(self, child_id: str) -> Any:
        child = self._settled_child(child_id)
        if isinstance(child, SupervisorError):
            return child
        self._terminate([child])
        child.restarts += 1
        self._report(RestartReport, child, context="operator", reason=child.last_exit)
        return self._start(child, "restart") or child.ref

    def _delete_child(self, child_id: str) -> Any:
        child = self._stopped_child(child_id)
        if isinstance(child, SupervisorError):
            return child
        self._remove(child)
        return None

    def _which_children(self) -> list[ChildInfo]:
        return [
            ChildInfo(None if self._simple else child.id, child.ref, child.spec.type, child.state)
            for child in self._children.values()
        ]

    def _count_children(self) -> ChildCounts:
        children = list(self._children.values())
        active = sum(1 for child in children if child.ref is not None)
        supervisors = sum(1 for child in children if child.spec.type == "supervisor")
        # OTP counts the one template as the only spec of simple_one_for_one.
        specs = 1 if self._simple else len(children)
        return ChildCounts(specs, active, supervisors, len(children) - supervisors)


def _ask_to_exit(ref: SupervisedRef[Any], policy: Shutdown) -> float | None:
    """Send the exit signal for ``policy``; the kill deadline, if any."""
    lifecycle = ref.lifecycle
    if policy == "brutal_kill":
        lifecycle.kill()
        return None
    lifecycle.signal_exit(SHUTDOWN)
    return None if policy == "infinity" else time.monotonic() + policy


def _await_exit(ref: SupervisedRef[Any], deadline: float | None) -> ExitReason:
    """Wait for ``ref`` to exit, killing it at ``deadline``; its reason."""
    lifecycle = ref.lifecycle
    timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
    reason = lifecycle.wait(timeout)
    if reason is None:
        lifecycle.kill()
        reason = lifecycle.reason
        assert reason is not None
    return reason


def start_supervisor(
    flags: SupFlags,
    children: Sequence[ChildSpec] = (),
    *,
    name: str = "root",
    sinks: Sequence[Sink] = (),
    registry: Registry | None = None,
) -> SupervisorRef:
    """Start a root supervisor and its children; return once all started.

    Raises ``StartError`` (naming the child) if a child fails to start, after
    stopping the children already started.
    """
    ref = cast(
        "SupervisorRef",
        Supervisor.start(flags, tuple(children), name=name, sinks=tuple(sinks), registry=registry),
    )
    reason = ref.lifecycle.wait_started()
    if reason is not None:
        error = ref.lifecycle.error
        if isinstance(error, StartError):
            raise error
        raise StartError(name, reason, ref.lifecycle.traceback)
    return ref


def supervisor_spec(
    id: str,
    flags: SupFlags,
    children: Sequence[ChildSpec] = (),
    *,
    restart: Restart = "permanent",
    shutdown: Shutdown = "infinity",
    name: str | None = None,
) -> ChildSpec:
    """Child spec of a nested supervisor."""
    return ChildSpec(
        id,
        Supervisor.start,
        args=(flags, tuple(children)),
        restart=restart,
        shutdown=shutdown,
        type="supervisor",
        name=name,
    )
