"""Fault injection, for chaos tests and debugging: make a running actor fail on demand.

A test must be able to make any actor crash or hang the way a real fault would, without
reaching into its internals. Sending it a ``Fault`` message does that: the actor loop (of
every ``SupervisedActor``) handles it itself, in the actor's own thread, as if the actor's
handler had raised (``raise``) or stopped answering (``hang``). It is off unless enabled
(``enable()``, or ``SUPERVISORS_FAULT_INJECTION=1`` in the environment of the process),
so a production actor told a ``Fault`` only logs a warning.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Literal, NamedTuple

__all__ = ["ENV_VARIABLE", "Fault", "FaultKind", "InjectedFault", "enable", "enabled"]

logger = logging.getLogger("supervisors")

ENV_VARIABLE = "SUPERVISORS_FAULT_INJECTION"

FaultKind = Literal["raise", "hang", "noop"]

_enabled = os.environ.get(ENV_VARIABLE, "") not in ("", "0")


class InjectedFault(RuntimeError):
    """The exception a ``Fault("raise")`` makes the actor die of."""


class Fault(NamedTuple):
    """Tell or ask an actor this to make it fail (when fault injection is enabled).

    * ``raise``: the handler raises ``InjectedFault``: the actor crashes.
    * ``hang``: the handler blocks for ``seconds`` (a hang, as seen by a heartbeat).
    * ``noop``: handled and answered None; mail to wait behind a hang.
    """

    kind: FaultKind
    seconds: float = 0.0
    label: str = ""
    """Names the fault in the exception, so a report can be matched to its injection."""


def enable(on: bool = True) -> None:
    """Turn fault injection on (or off) for this process."""
    global _enabled
    _enabled = on


def enabled() -> bool:
    return _enabled


def inject(fault: Fault) -> None:
    """Carry out ``fault`` in the calling actor's thread (called by the actor loop)."""
    if not _enabled:
        logger.warning("fault injection is off; ignored %r", fault)
        return
    if fault.kind == "raise":
        raise InjectedFault(f"injected fault {fault.label}".rstrip())
    if fault.kind == "hang":
        time.sleep(fault.seconds)
