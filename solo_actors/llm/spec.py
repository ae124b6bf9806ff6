"""How a supervisor starts the llm: the local engine's actor, or the remote one's.

Its own module because it needs both actors, and the remote actor is built on the local one.
"""

from __future__ import annotations

from solo_actors.config import Config
from solo_actors.llm.actor import LLMActor
from solo_actors.names import LLM_NAME
from solo_actors.runtime.specs import worker_spec
from supervisors import ChildSpec


def child_spec(config: Config, name: str = LLM_NAME) -> ChildSpec:
    """How a supervisor starts the llm actor, registered as `name`: the local one, or the
    remote engine's (``llm.engine = "openai"``), which answers the same messages.

    No heartbeat: generating a long reply keeps the actor away from its mailbox by design
    (cancels still get through, see `solo_actors.llm.cancel`).
    """
    if config.llm.engine == "openai":
        # Imported here: the openai client costs a second of import that a local-only
        # Solo never needs.
        from solo_actors.llm.remote import RemoteLLMActor

        return worker_spec(config, name, RemoteLLMActor, name)
    return worker_spec(config, name, LLMActor, name)
