"""How Solo declares a worker child: one function, so every actor is specified alike.

A Solo worker is registered under its child id (callers find it by that name, restarted or
not), is started with the config first, gets ``[supervisor] shutdown_timeout`` seconds
to stop before it is killed, and has the mailbox bound ``[mailboxes]`` gives its name.
Anything else about a child (restart type, heartbeat) differs per actor and is passed
explicitly where it does.
"""

from __future__ import annotations

from typing import Any

import supervisors
from solo_actors.config import Config


def worker_spec(
    config: Config, name: str, actor: type[supervisors.SupervisedActor], *args: Any
) -> supervisors.ChildSpec:
    """The child spec of ``actor`` registered as ``name``, started as
    ``actor.start(config, *args)``."""
    return supervisors.ChildSpec(
        id=name,
        name=name,
        start=actor.start,
        args=(config, *args),
        shutdown=config.supervisor.shutdown_timeout,
        mailbox=config.mailboxes.limit_for(name),
    )
