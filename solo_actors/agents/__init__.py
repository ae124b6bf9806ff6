"""Agents: CrewAI workflows over Solo's own llm, as the supervised "agents" actor.

Workflows are TOML data (`workflows.py`, config/workflows/); `actor.AgentsActor` runs them,
one worker thread per run, with Solo's llm actor as the model (`crew.SoloLLM`) and Solo's
actors as tools (`tools.py`); `routing.hand_off_turn` sends "plan ..." turns its way. See
docs/agents.md.

Importing this package sets CrewAI's offline environment (`offline.py`) and nothing else:
crewai itself is imported on the actor's warm-up thread, so the rest of Solo doesn't pay
for it, and the dialogue actor can import `routing` without importing the actor.
"""

from solo_actors.agents import offline

__all__ = ["offline"]
