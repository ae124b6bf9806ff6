"""Every registered name in Solo, in one place (OTP's registered process names).

Actors reach each other by these names, never by a stored reference, so a restarted actor is
found again. Each name is written here once and imported everywhere else;
``tests/test_names.py`` fails when a registered name is written as a string literal in
another module of ``solo_actors``.
"""

from __future__ import annotations

ROOT_NAME = "solo"
"""The root supervisor (its path: children are ``solo/<name>``)."""

REPORTS_NAME = "reports"
STORE_NAME = "store"
MEMORY_NAME = "memory"
LLM_NAME = "llm"
SKILLS_NAME = "skills"
DIALOGUE_NAME = "dialogue"
AGENTS_NAME = "agents"
API_NAME = "api"
MCP_NAME = "mcp"
"""The MCP servers' supervisor; each server's actor is ``mcp.<name>`` (`McpServer.actor_name`)."""
WYOMING_NAME = "wyoming"
"""Solo's Wyoming server (Home Assistant, satellites' services)."""
ROOMS_NAME = "rooms"
"""The satellites' supervisor; each room's actor is ``room-<name>``."""

VOICE = "voice"
"""The voice supervisor; its children follow."""
MIC = "mic"
WAKE = "wake"
VAD = "vad"
STT = "stt"
TTS = "tts"
SPEAKER = "speaker"
TURN_WATCH = "turn-watch"
"""Fails a spoken turn that a crashed voice stage swallowed (voice/turn_watch.py)."""
CONSOLE = "console"
"""Prints a typed turn's reply (``solo run --text`` without a speaker)."""
INPUT_END = "input-end"
"""The app's inbox while a finite input runs: told when the input is used up and answered."""

REGISTERED = frozenset({
    ROOT_NAME, REPORTS_NAME, STORE_NAME, MEMORY_NAME, LLM_NAME, SKILLS_NAME, DIALOGUE_NAME,
    AGENTS_NAME, API_NAME, MCP_NAME, WYOMING_NAME, ROOMS_NAME, VOICE, MIC, WAKE, VAD, STT, TTS,
    SPEAKER, TURN_WATCH, CONSOLE, INPUT_END,
})  # fmt: skip
"""All of the above."""
