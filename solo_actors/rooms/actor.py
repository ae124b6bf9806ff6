"""The satellite actor of one room: keeps its satellite connected and answered.

Its connection (`session.RoomSession`) runs on an event loop in a thread of the actor's own.
The actor's mailbox receives the replies of the requests the session made to Solo's actors
(it is their ``reply_to``) and the `Down` of the actors serving them, and hands both to the
session's `Bridge`. When the connection cannot be made or is lost, the actor crashes with
the reason (`SatelliteLostError`): the ``rooms`` supervisor restarts it after its backoff
(``rooms.backoff_min`` doubling to ``backoff_max``), which is the reconnect. So a room's
state is the supervisor's: running (``link`` figure: connecting or connected),
restarting (waiting to reconnect) with ``last_exit`` the last error, in ``/status`` and on
the dashboard. One room's failure touches no other room and nothing else in the tree.

The skills actor is told (`RoomLink`) when the satellite connects and when it is lost, so a
timer set in this room rings here, or waits for the room to come back; it tells the actor
what to say here (`SayInRoom`: a ring, an announcement) and the room's ``timer-*`` events
(`RoomTimer`), which the session sends while connected.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import msgspec

import supervisors
from solo_actors.config import Config, SatelliteConfig
from solo_actors.messages import (
    ChangeVolume,
    Message,
    RoomLink,
    RoomTimer,
    SayInRoom,
    TellRoomLink,
)
from solo_actors.names import SKILLS_NAME
from solo_actors.rooms import room_name
from solo_actors.rooms.session import RoomSession
from solo_actors.runtime.logs import get_logger
from solo_actors.runtime.loops import close_loop
from solo_actors.voice.volume import Volume, volume_file
from solo_actors.wyoming.bridge import Bridge, reply_key

JOIN_TIMEOUT = 5.0


class SatelliteLost(msgspec.Struct, frozen=True):
    """Told by the session thread when the connection ended or could not be made."""

    error: str


class SatelliteLostError(ConnectionError):
    """The room's satellite is unreachable or went away; the supervisor reconnects."""


class SatelliteActor(supervisors.SupervisedActor):
    """One room's satellite; see the module docstring."""

    def __init__(self, config: Config, satellite: SatelliteConfig) -> None:
        super().__init__()
        self.config = config
        self.satellite = satellite
        self.name = room_name(satellite.name)
        self.log = get_logger(f"solo/rooms/{self.name}")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.session: RoomSession | None = None
        self.main: asyncio.Task[None] | None = None
        self.volume = Volume(volume_file(config.solo, satellite.name))
        """How loud this room's satellite plays Solo's voice (`solo_actors.voice.volume`)."""

    def on_start(self) -> None:
        self.session = RoomSession(self.config, self.satellite, Bridge(self.actor_ref), self.name,
                                   self.volume)  # fmt: skip
        self.figures("connecting")
        self.thread = threading.Thread(target=self.run, name=f"solo/rooms/{self.name}",
                                       daemon=True)  # fmt: skip
        self.thread.start()

    def figures(self, link: str) -> None:
        self.publish_figures(link=link, area=self.satellite.area, uri=self.satellite.uri,
                             turns=self.session.turns if self.session else 0,
                             volume=self.volume.level)  # fmt: skip

    def run(self) -> None:
        loop = self.loop = asyncio.new_event_loop()
        assert self.session is not None
        self.main = loop.create_task(self.session.run(self.connected))
        try:
            loop.run_until_complete(self.main)
        except asyncio.CancelledError:
            return  # stopped
        except Exception as error:
            self.actor_ref.tell(SatelliteLost(error=str(error) or repr(error)))
        finally:
            close_loop(loop)

    def connected(self) -> None:
        self.log.info("satellite connected", uri=self.satellite.uri, area=self.satellite.area)
        self.figures("connected")
        self.tell_link(True)

    def tell_link(self, connected: bool) -> None:
        link = RoomLink(room=self.satellite.name, connected=connected)
        if supervisors.cast(SKILLS_NAME, link) != "ok":  # skills asks again when it starts
            self.log.debug("skills not told the room's link", connected=connected)

    def to_session(self, message: Message) -> None:
        """Hand a ring, an announcement or a timer event to the connection's loop."""
        loop, session = self.loop, self.session
        if loop is None or session is None or session.writer is None or loop.is_closed():
            self.log.warning("not connected: dropped", message=type(message).__name__)
            return
        loop.call_soon_threadsafe(session.deliver, message)

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, SatelliteLost):
            self.log.warning("satellite lost", uri=self.satellite.uri, error=message.error)
            where = f"{self.satellite.name} ({self.satellite.uri})"
            raise SatelliteLostError(f"{where}: {message.error}")
        assert self.session is not None
        if isinstance(message, SayInRoom | RoomTimer):
            self.to_session(message)
        elif isinstance(message, TellRoomLink):
            self.tell_link(self.session.writer is not None)
        elif isinstance(message, ChangeVolume):
            answer = self.volume.change(message)
            self.publish_figures(volume=answer.level)
            return answer
        elif isinstance(message, supervisors.Down):
            self.session.bridge.down(message)
        elif (key := reply_key(message)) is not None:
            self.session.bridge.deliver(key, message)
        return None

    def on_stop(self) -> None:
        self.tell_link(False)
        loop, thread = self.loop, self.thread
        if loop is not None and self.main is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(self.main.cancel)
            thread.join(JOIN_TIMEOUT)

    def on_failure(self, *_exc_info: object) -> None:
        self.on_stop()
