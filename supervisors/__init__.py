"""Erlang/OTP-style supervision trees for pykka actors.

Write workers as ``SupervisedActor`` subclasses (any unhandled exception ends
the actor: let it crash), describe children with ``ChildSpec``, and start a
tree with ``start_supervisor``. Supervisors restart children by OTP's rules,
emit typed reports to pluggable sinks, keep registered names pointing at the
current incarnation of each child, detect hung children by heartbeat, and
give an operator a ``status()`` snapshot without messaging any actor. A caller
``monitor``s the actor serving it and gets a ``Down`` the moment it exits; ``cast`` sends
without raising and says ``ok``, ``noproc`` or ``busy``. An actor's ``urgent`` message
types overtake its queue (cancels, barge-in), and ``inbox()`` lends a thread that is not an
actor a registered reply address that fails fast when the callee dies. A worker can run
in its own OS process (``ChildSpec(isolation="process")``) behind a stand-in actor.

See docs/supervision.md for the semantics and the differences from OTP.
"""

from supervisors import faults
from supervisors.actor import SupervisedActor, SupervisedRef
from supervisors.backoff import Backoff
from supervisors.codec import Codec, MsgspecCodec
from supervisors.errors import (
    ActorExitedError,
    AlreadyRegisteredError,
    NoProcError,
    StartError,
    SupervisorError,
)
from supervisors.faults import Fault, InjectedFault
from supervisors.inbox import Inbox, inbox
from supervisors.lifecycle import Figure, Lifecycle
from supervisors.mailbox import BusyError, MailboxLimit, OverflowPolicy
from supervisors.monitors import NOPROC, Down, MonitorRef, demonitor, monitor
from supervisors.process import ProcessRef
from supervisors.reasons import HUNG, KILLED, NORMAL, SHUTDOWN, ExitKind, ExitReason
from supervisors.registry import CastResult, Registry, ask, cast, default_registry, tell, whereis
from supervisors.reports import (
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
from supervisors.sinks import RingBufferSink, StructlogSink
from supervisors.spec import (
    ChildSpec,
    ChildType,
    Isolation,
    ProcessOptions,
    Restart,
    Shutdown,
    Strategy,
    SupFlags,
)
from supervisors.status import ChildCounts, ChildInfo, NodeState, NodeStatus
from supervisors.supervisor import (
    ESCALATED,
    Supervisor,
    SupervisorRef,
    start_supervisor,
    supervisor_spec,
)
from supervisors.wire import RemoteError

__all__ = [
    "ESCALATED",
    "HUNG",
    "KILLED",
    "NOPROC",
    "NORMAL",
    "SHUTDOWN",
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
]
