"""Erlang/OTP-style supervision trees for pykka actors.

Write workers as ``SupervisedActor`` subclasses (any unhandled exception ends
the actor: let it crash), describe children with ``ChildSpec``, and start a
tree with ``start_supervisor``. Supervisors restart children by OTP's rules,
emit typed reports to pluggable sinks, keep registered names pointing at the
current incarnation of each child, detect hung children by heartbeat, and
give an operator a ``status()`` snapshot without messaging any actor. A caller
``monitor``s the actor serving it and gets a ``Down`` the moment it exits; ``cast`` sends
without raising and says ``ok``, ``noproc`` or ``busy``. An actor's ``urgent`` message
types overtake its queue (cancels, barge-in), its ``contained`` types fail a request alone
(``RequestFailedError``) instead of the actor, ``UNANSWERED`` and ``why_unanswered`` name
every way an ask can end without a reply, and ``inbox()`` lends a thread that is not an
actor a registered reply address that fails fast when the callee dies. A worker can run
in its own OS process (``ChildSpec(isolation="process")``) behind a stand-in actor.

See docs/supervision.md for the semantics and the differences from OTP.
"""

from supervisors import faults
from supervisors._actor import SupervisedActor, SupervisedRef
from supervisors._backoff import Backoff
from supervisors._codec import Codec, MsgspecCodec
from supervisors._errors import (
    ActorExitedError,
    AlreadyRegisteredError,
    NoProcError,
    RequestFailedError,
    StartError,
    SupervisorError,
)
from supervisors._inbox import Inbox, inbox
from supervisors._lifecycle import Figure, Lifecycle
from supervisors._mailbox import BusyError, MailboxLimit, OverflowPolicy
from supervisors._monitors import demonitor, monitor
from supervisors._process import ProcessRef
from supervisors._reasons import (
    HUNG,
    KILLED,
    NOPROC,
    NORMAL,
    SHUTDOWN,
    Down,
    ExitKind,
    ExitReason,
    MonitorRef,
)
from supervisors._registry import CastResult, Registry, ask, cast, default_registry, tell, whereis
from supervisors._reports import (
    AnyReport,
    EscalationReport,
    ExitReport,
    HungReport,
    Report,
    ReportKind,
    RestartReport,
    ShutdownReport,
    Sink,
    StartErrorReport,
    StartReport,
)
from supervisors._sinks import RingBufferSink, StructlogSink
from supervisors._spec import (
    ChildSpec,
    ChildType,
    Isolation,
    ProcessOptions,
    Restart,
    Shutdown,
    Strategy,
    SupFlags,
)
from supervisors._status import ChildCounts, ChildInfo, NodeState, NodeStatus
from supervisors._supervisor import (
    ESCALATED,
    Supervisor,
    SupervisorRef,
    start_supervisor,
    supervisor_spec,
)
from supervisors._unanswered import UNANSWERED, why_unanswered
from supervisors._wire import RemoteError
from supervisors.faults import Fault, InjectedFault

__all__ = [
    "ESCALATED",
    "HUNG",
    "KILLED",
    "NOPROC",
    "NORMAL",
    "SHUTDOWN",
    "UNANSWERED",
    "ActorExitedError",
    "AlreadyRegisteredError",
    "AnyReport",
    "Backoff",
    "BusyError",
    "CastResult",
    "ChildCounts",
    "ChildInfo",
    "ChildSpec",
    "ChildType",
    "Codec",
    "Down",
    "EscalationReport",
    "ExitKind",
    "ExitReason",
    "ExitReport",
    "Fault",
    "Figure",
    "HungReport",
    "Inbox",
    "InjectedFault",
    "Isolation",
    "Lifecycle",
    "MailboxLimit",
    "MonitorRef",
    "MsgspecCodec",
    "NoProcError",
    "NodeState",
    "NodeStatus",
    "OverflowPolicy",
    "ProcessOptions",
    "ProcessRef",
    "Registry",
    "RemoteError",
    "Report",
    "ReportKind",
    "RequestFailedError",
    "Restart",
    "RestartReport",
    "RingBufferSink",
    "Shutdown",
    "ShutdownReport",
    "Sink",
    "StartError",
    "StartErrorReport",
    "StartReport",
    "Strategy",
    "StructlogSink",
    "SupFlags",
    "SupervisedActor",
    "SupervisedRef",
    "Supervisor",
    "SupervisorError",
    "SupervisorRef",
    "ask",
    "cast",
    "default_registry",
    "demonitor",
    "faults",
    "inbox",
    "monitor",
    "start_supervisor",
    "supervisor_spec",
    "tell",
    "whereis",
    "why_unanswered",
]
