"""``solo mcp``: Solo as an MCP server on stdio, for MCP clients that start their servers
(Claude Desktop, editors, ``mcp`` client scripts).

It starts Solo's tree without the voice pipeline (no microphone, no speaker; the API runs as
configured, so ``GET /timers`` shows what the tools set) and serves `build_server`'s tools
on stdin/stdout until the client closes stdin or a signal arrives. The MCP messages own the
real stdout: file descriptor 1 is pointed at stderr before anything starts, so no log line,
library print or child process can corrupt the protocol. A running Solo with the same
``var_dir`` holds its database: give ``solo mcp`` its own (``SOLO__SOLO__VAR_DIR``) or use
the running one's /mcp endpoint instead (docs/openai.md).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from typing import Any

import anyio
from mcp.server.stdio import stdio_server

import supervisors
from solo_actors.config import Config
from solo_actors.names import VOICE
from solo_actors.reports import ReportForwarder
from solo_actors.runtime.logs import configure_logging, get_logger
from solo_actors.runtime.private import private_var_dir
from solo_actors.runtime.tree import ROOT_NAME, root_children, root_flags

EXIT_OK = 0
EXIT_FAILED = 1


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    command = subparsers.add_parser(
        "mcp", parents=[common], help="serve Solo's skills, memory and answers as MCP tools (stdio)"
    )
    command.set_defaults(handler=serve)


def protocol_stdout() -> io.TextIOWrapper:
    """The real stdout, for MCP messages only; fd 1 is stderr from now on."""
    sys.stdout.flush()
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
    os.dup2(2, 1)
    return protocol


def serve(args: argparse.Namespace, config: Config) -> int:
    from solo_actors.mcp.server import build_server

    protocol = protocol_stdout()
    configure_logging(config.log)
    log = get_logger(ROOT_NAME)
    private_var_dir(config)
    forwarder = ReportForwarder(config.reports.pending_max)
    children = [spec for spec in root_children(config) if spec.id != VOICE]
    try:
        root = supervisors.start_supervisor(
            root_flags(config),
            children,
            name=ROOT_NAME,
            sinks=[supervisors.StructlogSink(), forwarder],
        )
    except supervisors.StartError as error:
        print(f"solo mcp: could not start: {error}", file=sys.stderr)
        return EXIT_FAILED
    server = build_server(config.dialogue.turn_timeout)

    async def run() -> None:
        async with stdio_server(stdout=anyio.wrap_file(protocol)) as (read, write):
            await server.run(read, write, server.create_initialization_options())

    log.info("solo mcp serving on stdio", pid=os.getpid())
    try:
        anyio.run(run)
    except KeyboardInterrupt:
        pass
    finally:
        root.stop()
        forwarder.write_pending(config)
    return EXIT_OK
