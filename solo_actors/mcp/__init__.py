"""MCP, both ways: servers whose tools Solo uses (`client`, one supervised actor per
``[[mcp.servers]]`` entry under the ``mcp`` supervisor) and Solo's own MCP server
(`server`: ``solo mcp`` on stdio, /mcp on the API server)."""

from __future__ import annotations

import supervisors
from solo_actors.config import Config
from solo_actors.names import MCP_NAME
from solo_actors.runtime.specs import worker_spec


def mcp_spec(config: Config) -> supervisors.ChildSpec:
    """The ``mcp`` supervisor: one `McpServerActor` per configured server, one_for_one (a
    server's crash restarts that server only)."""
    flags = supervisors.SupFlags(
        strategy="one_for_one", intensity=config.mcp.intensity, period=config.mcp.period
    )
    children = []
    if config.mcp.servers:
        # The SDK takes most of a second to import: a Solo without servers does not pay it.
        from solo_actors.mcp.client import McpServerActor

        children = [
            worker_spec(config, server.actor_name, McpServerActor, server)
            for server in config.mcp.servers
        ]
    return supervisors.supervisor_spec(MCP_NAME, flags, children, name=MCP_NAME)
