"""Which ``Host`` and ``Origin`` values the API answers to: its defence against web pages.

A page in the operator's browser can send requests to ``127.0.0.1`` (the browser does not
ask the server first for a ``text/plain`` POST, a form, or a WebSocket), and a DNS-rebinding
page can even read the answers, since to the browser they come from the page's own name. So:

- ``Host`` must name the address the request came in on, or ``localhost``, with the port it
  came in on, or one of ``api.allowed_hosts``: a rebinding page's Host is its own name;
- a request that changes something (any method but GET, HEAD and OPTIONS) and ``/ws`` must
  carry no ``Origin`` (curl, scripts) or one whose host passes the same check.

Both hold with auth on as well: tokens guard the routes, not ``/health`` or ``/openapi.json``.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from dataclasses import dataclass

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def normal_address(host: str) -> str:
    """``host`` lower-cased, an IPv4-mapped IPv6 address (``::ffff:127.0.0.1``, as a
    dual-stack socket reports it) as the IPv4 address."""
    host = host.lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def split_authority(authority: str) -> tuple[str, int | None] | None:
    """``(host, port or None)`` of ``name``, ``name:port`` or ``[v6]:port``; None when
    malformed (a user part, a path, a bad port)."""
    try:
        parts = urllib.parse.urlsplit(f"//{authority}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or parts.path or parts.query:
        return None
    return normal_address(parts.hostname), port


@dataclass(frozen=True)
class HostPolicy:
    """The names the server answers to besides the address a request came in on."""

    allowed: frozenset[tuple[str, int | None]]
    """``api.allowed_hosts`` as (host, port); port None: any port."""
    scheme: str
    """``https`` when the server speaks TLS, else ``http``."""

    @classmethod
    def from_settings(cls, allowed_hosts: list[str], tls: bool) -> HostPolicy:
        entries = {parsed for name in allowed_hosts if (parsed := split_authority(name))}
        return cls(frozenset(entries), "https" if tls else "http")

    def allows(self, authority: str, scheme: str, local: tuple[str, int]) -> bool:
        """Whether ``authority`` (``host[:port]``, as a ``scheme`` URL writes it) names
        this server for a connection that came in on ``local`` (address, port)."""
        parsed = split_authority(authority)
        if parsed is None:
            return False
        host, explicit = parsed
        port = explicit or DEFAULT_PORTS[scheme]
        if (host, port) in self.allowed or (host, None) in self.allowed:
            return True
        local_host, local_port = local
        return port == local_port and host in ("localhost", normal_address(local_host))

    def host_allowed(self, header: str | None, local: tuple[str, int]) -> bool:
        return header is not None and self.allows(header, self.scheme, local)

    def origin_allowed(self, origin: str, local: tuple[str, int]) -> bool:
        """Whether a browser's ``Origin`` (``scheme://host[:port]``, or ``null``) is this
        server's own: a page it served, or one behind an allowed name."""
        try:
            parts = urllib.parse.urlsplit(origin)
        except ValueError:
            return False
        if parts.scheme not in DEFAULT_PORTS or parts.path not in ("", "/"):
            return False
        return self.allows(parts.netloc, parts.scheme, local)
