"""Solo's supervision tree, declared as data.

Like an OTP application's child specs, this module only *describes* the tree: which actors
exist, in which order they start, how each is restarted and how long each gets to stop.
`solo_actors.runtime.app` starts it. Order matters: ``reports`` starts first so that every later
start, crash and restart is on disk; actors that others call by name start before them.

    solo (one_for_one)
    ├── reports   supervisor report log (JSONL files)
    ├── store     the database's single writer: turns, events, metrics, reports (docs/storage.md)
    ├── memory    long-term memories recalled by meaning (LanceDB | pgvector)
    ├── mcp       supervisor (one_for_one): one actor per [[mcp.servers]] entry, mcp.<name>:
    │             tools from MCP servers for the llm and agents (docs/openai.md)
    ├── llm       the language model
    ├── skills    local intents before the llm: time, timers, alarms, reminders (docs/skills.md)
    ├── dialogue  turns from every source -> skills or llm -> replies and TurnDone
    ├── voice     supervisor (one_for_one): turn-watch, speaker, tts, stt, vad, wake, mic
    │             mic -> wake -> vad -> stt -> dialogue -> tts -> speaker (docs/voice.md)
    ├── rooms     supervisor (one_for_one): one actor per Wyoming satellite, reconnected with
    │             backoff (docs/wyoming.md; when [[satellites]] are configured)
    ├── agents    CrewAI workflows over the llm; "plan ..." turns (docs/agents.md)
    ├── wyoming   Wyoming server: asr, tts, wake, handle, intent (docs/wyoming.md; when
    │             wyoming.enabled)
    └── api       operator HTTP API, events and dashboard (docs/api.md; when api.enabled)
"""

from __future__ import annotations

import supervisors
from solo_actors.agents.actor import child_spec as agents_spec
from solo_actors.api import ApiActor
from solo_actors.config import Config
from solo_actors.dialogue import DialogueActor
from solo_actors.llm import child_spec as llm_spec
from solo_actors.mcp import mcp_spec
from solo_actors.memory.actor import MemoryActor
from solo_actors.names import (
    API_NAME,
    DIALOGUE_NAME,
    MEMORY_NAME,
    REPORTS_NAME,
    ROOT_NAME,
    SKILLS_NAME,
    STORE_NAME,
    WYOMING_NAME,
)
from solo_actors.reports import ReportsActor
from solo_actors.rooms.tree import rooms_spec
from solo_actors.runtime.specs import worker_spec
from solo_actors.skills.actor import SkillsActor
from solo_actors.store.actor import StoreActor
from solo_actors.voice.options import RunOptions
from solo_actors.voice.tree import voice_spec
from solo_actors.wyoming.actor import WyomingActor


def root_flags(config: Config) -> supervisors.SupFlags:
    return supervisors.SupFlags(
        strategy="one_for_one",
        intensity=config.supervisor.intensity,
        period=config.supervisor.period,
    )


def root_children(config: Config, options: RunOptions | None = None) -> list[supervisors.ChildSpec]:
    """The root's children; `options` says where voice input comes from and replies go."""
    children = [
        worker_spec(config, REPORTS_NAME, ReportsActor),
        worker_spec(config, STORE_NAME, StoreActor),
        worker_spec(config, MEMORY_NAME, MemoryActor),
        mcp_spec(config),
        llm_spec(config),
        worker_spec(config, SKILLS_NAME, SkillsActor),
        worker_spec(config, DIALOGUE_NAME, DialogueActor),
        voice_spec(config, options or RunOptions()),
    ]
    if config.satellites:
        children.append(rooms_spec(config))  # after the voice actors its rooms use
    children.append(agents_spec(config))
    if config.wyoming.enabled:
        # After the actors it serves; before the api, which shows its figures.
        children.append(worker_spec(config, WYOMING_NAME, WyomingActor))
    if config.api.enabled:
        # Last: it reads every other actor, and stops first, while they still answer.
        children.append(worker_spec(config, API_NAME, ApiActor, ROOT_NAME, declared_tree))
    return children


def declared_tree(config: Config) -> tuple[supervisors.SupFlags, list[supervisors.ChildSpec]]:
    """The root's flags and children for ``config``: what the api shows as declared."""
    return root_flags(config), root_children(config)
