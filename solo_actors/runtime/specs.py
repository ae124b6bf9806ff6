"""How Solo declares a worker child: one function, so every actor is specified alike.

A Solo worker is registered under its child id (callers find it by that name, restarted or
not), is started with the config first, gets ``[supervisor] shutdown_timeout`` seconds
to stop before it is killed, and has the mailbox bound ``[mailboxes]`` gives its name.
``[isolation.<name>]`` decides whether it runs in Solo's process or in its own (with its
limits); nothing else changes for its callers. Anything else about a child (restart type,
heartbeat) differs per actor and is passed explicitly where it does.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import supervisors
from solo_actors.config import Config
from solo_actors.runtime.codec import MESSAGE_CODEC
from solo_actors.runtime.logs import configure_logging
from solo_actors.runtime.trace import configure_tracing


def worker_spec(
    config: Config, name: str, actor: type[supervisors.SupervisedActor], *args: Any
) -> supervisors.ChildSpec:
    """The child spec of ``actor`` registered as ``name``, started as
    ``actor.start(config, *args)``, in its own process if ``[isolation.<name>]`` says so."""
    return supervisors.ChildSpec(
        id=name,
        name=name,
        start=actor.start,
        args=(config, *args),
        shutdown=config.supervisor.shutdown_timeout,
        mailbox=config.mailboxes.limit_for(name),
        **isolation_of(config, name),
    )


def configure_process(config: Config) -> None:
    """What every process of the tree sets up first: its logging and its tracing."""
    configure_logging(config.log)
    configure_tracing(config)


def isolation_of(config: Config, name: str) -> dict[str, Any]:
    """The ``isolation``/``process`` fields of ``name``'s child spec, from the config."""
    settings = config.isolation.get(name)
    if settings is None or settings.mode == "thread":
        return {}
    nice = None
    if settings.nice:
        nice = min(19, os.getpriority(os.PRIO_PROCESS, 0) + settings.nice)
    options = supervisors.ProcessOptions(
        codec=MESSAGE_CODEC,
        heartbeat=settings.heartbeat,
        memory_mb=settings.memory_mb or None,
        cpus=tuple(settings.cpus) or None,
        nice=nice,
        standby=settings.standby,
        # The child logs (same format, level and stream) and traces as Solo does.
        init=functools.partial(configure_process, config),
    )
    return {"isolation": "process", "process": options}
