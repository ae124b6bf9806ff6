"""Who may talk to Solo's Wyoming server: loopback by default; beyond it, only the listed.

Wyoming has no authentication, so listening beyond loopback is refused by the config unless
``wyoming.allow_remote`` and ``wyoming.allowed_clients`` are both set; a connection from an
address not on the list is told why and closed. The server here is the ``wyoming`` actor
alone (a refusal happens before any other actor is asked anything), reached from this
machine's own non-loopback address with the reference library's client.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe

import supervisors
from solo_actors.config import ConfigError, load_config
from solo_actors.names import WYOMING_NAME
from solo_actors.runtime.specs import worker_spec
from solo_actors.wyoming.actor import ClientPolicy, WyomingActor
from tests.conftest import ConfigFactory, config_environment


def own_address() -> str:
    """An IPv4 address of this machine that is not loopback."""
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not address.address.startswith("127."):
                return address.address
    pytest.fail("this machine has no non-loopback IPv4 address to connect from")


def test_listening_beyond_loopback_needs_the_setting_and_an_allow_list(tmp_path: Path) -> None:
    base = {"wyoming.uri": "tcp://0.0.0.0:10800"}
    for extra in ({}, {"wyoming.allow_remote": True}):
        with pytest.raises(ConfigError, match="allowed_clients"):
            load_config("test", environ=config_environment(tmp_path, {**base, **extra}))
    listed = {**base, "wyoming.allow_remote": True, "wyoming.allowed_clients": '["kitchen"]'}
    with pytest.raises(ConfigError, match="is not an address or network"):
        load_config("test", environ=config_environment(tmp_path, listed))
    with pytest.raises(ConfigError, match="tcp://HOST:PORT"):
        load_config("test", environ=config_environment(tmp_path, {"wyoming.uri": "host:10800"}))


def test_the_allow_list_takes_addresses_and_networks() -> None:
    policy = ClientPolicy(["192.168.1.20", "10.0.0.0/8"])
    assert policy.allows("127.0.0.1") and policy.allows("::1")
    assert policy.allows("192.168.1.20") and policy.allows("10.1.2.3")
    assert policy.allows("::ffff:10.1.2.3")  # an IPv4 peer on a dual-stack socket
    assert not policy.allows("192.168.1.21") and not policy.allows("not an address")


Server = Callable[[str], tuple[str, int]]


@pytest.fixture
def server(make_config: ConfigFactory) -> Iterator[Server]:
    roots: list[supervisors.SupervisorRef] = []

    def start(allowed: str) -> tuple[str, int]:
        config = make_config(**{"wyoming.uri": "tcp://0.0.0.0:0", "wyoming.allow_remote": True,
                                "wyoming.allowed_clients": f'["{allowed}"]'})  # fmt: skip
        spec = worker_spec(config, WYOMING_NAME, WyomingActor)
        roots.append(supervisors.start_supervisor(supervisors.SupFlags(), [spec], name="wyo"))
        uri = config.solo.var_path("wyoming/uri").read_text().strip()
        return own_address(), int(uri.rsplit(":", 1)[1])

    yield start
    for root in roots:
        root.stop()


async def describe_from(host: str, port: int) -> list[str]:
    async with AsyncTcpClient(host, port) as client:
        await client.write_event(Describe().event())
        events = []
        while (event := await asyncio.wait_for(client.read_event(), 30)) is not None:
            events.append(event)
            if event.type == "info":
                break
        return [f"{event.type}: {event.data.get('text', '')}" for event in events]


def test_a_client_not_on_the_list_is_told_and_closed(server: Server) -> None:
    host, port = server("198.51.100.0/24")
    [refusal] = asyncio.run(describe_from(host, port))
    assert refusal.startswith("error: ") and f"{host} is not in wyoming.allowed_clients" in refusal
    ref = supervisors.whereis(WYOMING_NAME)
    assert ref is not None and ref.lifecycle.figures["refused"] == 1


def test_a_client_on_the_list_is_served(server: Server) -> None:
    host, port = server(str(ipaddress.ip_network(f"{own_address()}/32")))
    assert asyncio.run(describe_from(host, port)) == ["info: "]
