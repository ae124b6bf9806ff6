"""Turns that ask for a workflow ("plan my Saturday") go to the agents actor.

The dialogue actor calls `hand_off_turn` first for every turn. A turn whose first word is a
workflow's trigger becomes a `RunWorkflow` carrying the turn; the agents actor answers it
like a reply (`LLMToken`, `LLMDone`, `TurnDone` to the turn's ``reply_to``), so voice speaks
the result and the API returns it. Everything else, or any turn while the agents actor is
down, stays an ordinary turn. Nothing here imports crewai.
"""

from __future__ import annotations

import supervisors
from solo_actors.agents.tools import toolbox
from solo_actors.agents.workflows import IntentRouter, configured_workflows
from solo_actors.config import Config
from solo_actors.messages import RunWorkflow, UserTurn
from solo_actors.names import AGENTS_NAME


def agent_intents(config: Config) -> IntentRouter | None:
    """The router for ``config``'s workflows, or None when ``agents.intents`` is off."""
    if not config.agents.intents:
        return None
    return IntentRouter(
        configured_workflows(config.agents, toolbox(mcp=config.mcp)).workflows.values()
    )


def hand_off_turn(router: IntentRouter | None, turn: UserTurn) -> bool:
    """Send ``turn`` to the agents actor if it asks for a workflow; True when sent."""
    route = router.route(turn.text) if router is not None else None
    if route is None:
        return False
    workflow, text = route
    request = RunWorkflow(
        workflow=workflow, input=text, conversation_id=turn.conversation_id, turn=turn
    )
    # Not running or busy: the turn goes to the llm as an ordinary question instead.
    return supervisors.cast(AGENTS_NAME, request) == "ok"
