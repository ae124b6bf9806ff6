"""The ``wyoming`` actor: Solo's Wyoming server, its own event loop in a thread.

Like the api actor, it owns an asyncio server in a thread of its own; each client is a
`connection.Connection`. The actor's mailbox receives the replies of the requests its
connections made to Solo's actors (it is their ``reply_to``) and the `Down` of the actors
serving them, and hands both to the `bridge.Bridge`, which wakes the waiting connection.
If the server thread dies, the actor crashes with that reason and its supervisor restarts
it, with every connection.

Wyoming has no authentication, so who may connect is decided here: listening on loopback
serves this machine only; beyond it (``wyoming.allow_remote``, checked with the config) only
the addresses in ``wyoming.allowed_clients`` are served, every other connection is closed
at once. More than ``wyoming.max_connections`` clients at once are refused the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
from typing import Any

import msgspec

import supervisors
from solo_actors.config import Config
from solo_actors.names import WYOMING_NAME
from solo_actors.runtime.logs import get_logger
from solo_actors.runtime.loops import close_loop
from solo_actors.wyoming.bridge import Bridge, reply_key
from solo_actors.wyoming.connection import Connection
from solo_actors.wyoming.info import info_data
from solo_actors.wyoming.protocol import Event, reader_limit, write_event

START_TIMEOUT = 10.0
URL_FILE = "wyoming/uri"


class ServerFailed(msgspec.Struct, frozen=True):
    """Told by the server thread when its loop ended with an error."""

    error: str


class ServerFailedError(RuntimeError):
    """The Wyoming server stopped by itself, or could not listen."""


class ClientPolicy:
    """Which peers may connect: anyone on loopback; beyond it the allow-list only."""

    def __init__(self, allowed: list[str]) -> None:
        self.networks = [ipaddress.ip_network(client, strict=False) for client in allowed]

    def allows(self, address: str) -> bool:
        try:
            peer = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
            peer = peer.ipv4_mapped
        return peer.is_loopback or any(peer in network for network in self.networks)


class WyomingActor(supervisors.SupervisedActor):
    """Runs the Wyoming server for as long as it lives."""

    def __init__(self, config: Config, name: str = WYOMING_NAME) -> None:
        super().__init__()
        self.config = config
        self.settings = config.wyoming
        self.name = name
        self.log = get_logger(f"solo/{name}")
        self.policy = ClientPolicy(self.settings.allowed_clients)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: asyncio.Server | None = None
        self.thread: threading.Thread | None = None
        self.bridge: Bridge | None = None
        self.clients = 0
        self.counts = dict.fromkeys(("connections", "refused"), 0)
        self.uri = ""

    def on_start(self) -> None:
        self.bridge = Bridge(self.actor_ref)
        self.info = info_data(self.config)
        started = threading.Event()
        failure: list[BaseException] = []
        self.thread = threading.Thread(target=self.serve, args=(started, failure),
                                       name=f"solo/{self.name}-server", daemon=True)  # fmt: skip
        self.thread.start()
        if not started.wait(START_TIMEOUT):
            raise ServerFailedError(f"the Wyoming server did not start within {START_TIMEOUT:g} s")
        if failure:
            raise ServerFailedError(
                f"cannot listen on {self.settings.uri}: {failure[0]} (is another Solo or "
                "Wyoming service on that port? set wyoming.uri)"
            ) from failure[0]
        uri_file = self.config.solo.var_path(URL_FILE)
        uri_file.parent.mkdir(parents=True, exist_ok=True)
        uri_file.write_text(self.uri + "\n")
        self.publish()
        self.log.info("wyoming listening", uri=self.uri)

    def publish(self) -> None:
        self.publish_figures(uri=self.uri, clients=self.clients, **self.counts)

    def serve(self, started: threading.Event, failure: list[BaseException]) -> None:
        loop = self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.listen())
        except BaseException as error:
            failure.append(error)
            started.set()
            loop.close()
            return
        started.set()
        try:
            loop.run_forever()
        except BaseException as error:
            self.actor_ref.tell(ServerFailed(error=repr(error)))
        finally:
            if self.server is not None:
                self.server.close()
            close_loop(loop)

    async def listen(self) -> None:
        host, port = self.settings.host_port
        self.server = await asyncio.start_server(
            self.connected, host, port, limit=reader_limit(self.settings.max_event_bytes)
        )
        bound_host, bound_port = self.server.sockets[0].getsockname()[:2]
        bound_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.uri = f"tcp://{bound_host}:{bound_port}"

    async def connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        address = str(peer[0])
        refusal = None
        if not self.policy.allows(address):
            refusal = (
                f"{address} is not in wyoming.allowed_clients; Solo serves Wyoming only to the "
                "clients listed there"
            )
        elif self.clients >= self.settings.max_connections:
            refusal = (
                f"Solo serves {self.settings.max_connections} Wyoming clients at once "
                "(wyoming.max_connections); try again later"
            )
        if refusal is not None:
            self.counts["refused"] += 1
            self.log.warning("client refused", peer=address, why=refusal)
            with contextlib.suppress(OSError, TimeoutError):
                await write_event(writer, Event("error", {"text": refusal, "code": "refused"}), 1.0)
            writer.close()
            self.publish()
            return
        self.clients += 1
        self.counts["connections"] += 1
        self.publish()
        assert self.bridge is not None
        try:
            await Connection(reader, writer, self.config, self.bridge, self.name,
                             f"{address}:{peer[1]}", self.info).run()  # fmt: skip
        finally:
            self.clients -= 1
            self.publish()

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, ServerFailed):
            raise ServerFailedError(f"the Wyoming server stopped: {message.error}")
        assert self.bridge is not None
        if isinstance(message, supervisors.Down):
            self.bridge.down(message)
        elif (key := reply_key(message)) is not None:
            self.bridge.deliver(key, message)
        return None

    def on_stop(self) -> None:
        loop, thread = self.loop, self.thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(START_TIMEOUT)
        uri_file = self.config.solo.var_path(URL_FILE)
        if uri_file.exists() and uri_file.read_text().strip() == self.uri:
            uri_file.unlink()

    def on_failure(self, *_exc_info: object) -> None:
        self.on_stop()
