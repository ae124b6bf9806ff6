"""A room's event service for wyoming-satellite's --event-uri: keeps every event the
satellite forwards (all that Solo sends it but audio) as JSON lines, so a test can see the
``timer-*`` events that reached this room.

    room_events.py URI EVENTS.jsonl

Runs on the satellite's own venv, with the `wyoming` library's own server.
"""

from __future__ import annotations

import asyncio
import json
import sys
from functools import partial
from typing import Any

from wyoming.event import Event
from wyoming.server import AsyncEventHandler, AsyncServer


class Keep(AsyncEventHandler):
    def __init__(self, path: str, *args: Any) -> None:
        super().__init__(*args)
        self.path = path

    async def handle_event(self, event: Event) -> bool:
        with open(self.path, "a") as file:
            file.write(json.dumps({"type": event.type, "data": event.data}) + "\n")
        return True


def main() -> None:
    uri, path = sys.argv[1], sys.argv[2]
    asyncio.run(AsyncServer.from_uri(uri).run(partial(Keep, path)))


if __name__ == "__main__":
    main()
