"""Solo speaks Wyoming, Home Assistant's voice protocol (docs/wyoming.md).

`protocol` reads and writes events; `audio` checks and converts the audio formats peers
announce; `bridge` takes a request from asyncio to an actor and its replies back; `info`
describes what Solo serves; `connection` serves one client's events, role by role;
`actor` is the ``wyoming`` actor that owns the server.
"""

from solo_actors.names import WYOMING_NAME

__all__ = ["WYOMING_NAME"]
