"""The api actor: owns the aiohttp server, which runs its own event loop in a thread.

Each request that starts a turn waits for its replies in an inbox of its own
(``supervisors.inbox``), so the server thread never blocks the actor and the actor never
blocks the server. If the server thread dies, it tells the actor, which crashes with that
reason, so the supervisor restarts the whole api.

Start-up makes the first-run admin token, serves HTTPS when ``api.tls_cert`` and
``api.tls_key`` are set, and writes the bound URL to ``<var_dir>/api/url`` so ``solo status``
finds a server on a port picked by the system. (A bind address other than loopback with
``api.auth`` off never gets this far: the config refuses it, before anything starts.)
"""

from __future__ import annotations

import asyncio
import ssl
import sys
import threading
from typing import Any

import msgspec
from aiohttp import web

import supervisors
from solo_actors.api.auth import RateLimiter, TokenStore
from solo_actors.api.origin import HostPolicy
from solo_actors.api.server import build_app
from solo_actors.api.specs import DeclaredTree
from solo_actors.api.state import ApiState
from solo_actors.config import REPO_ROOT, Config
from solo_actors.names import API_NAME
from solo_actors.runtime.logs import get_logger
from solo_actors.runtime.loops import close_loop

URL_FILE = "api/url"
START_TIMEOUT = 10.0


class ServerFailed(msgspec.Struct, frozen=True):
    """Told by the server thread when its loop ended with an error."""

    error: str


class ServerFailedError(RuntimeError):
    """The aiohttp server stopped by itself."""


def tls_context(config: Config) -> ssl.SSLContext | None:
    """The server's TLS context from ``api.tls_cert`` and ``api.tls_key``; None: plain HTTP."""
    settings = config.api
    if not settings.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(REPO_ROOT / settings.tls_cert, REPO_ROOT / settings.tls_key)
    return context


class ApiActor(supervisors.SupervisedActor):
    """Runs the API server for as long as it lives."""

    def __init__(self, config: Config, root_name: str, declared: DeclaredTree) -> None:
        super().__init__()
        settings = config.api
        self.config = config
        self.path = f"{root_name}/{API_NAME}"
        self.log = get_logger(self.path)
        self.state = ApiState(
            config=config, root_name=root_name, actor_name=API_NAME, declared=declared,
            tokens=TokenStore(config.solo.var_path(settings.tokens_file)),
            per_token=RateLimiter(settings.rate_per_token, settings.rate_burst),
            per_address=RateLimiter(settings.rate_per_address, settings.rate_burst),
            hosts=HostPolicy.from_settings(settings.allowed_hosts, tls=bool(settings.tls_cert)),
        )  # fmt: skip
        self.loop: asyncio.AbstractEventLoop | None = None
        self.runner: web.AppRunner | None = None
        self.thread: threading.Thread | None = None
        self.url = ""

    def on_start(self) -> None:
        settings = self.config.api
        if settings.auth:
            clear = self.config.solo.var_path(settings.admin_token_file)
            if self.state.tokens.ensure_admin_token(clear):
                self.log.warning("first run: admin token written", path=str(clear))
                print(f"solo: first-run admin token written to {clear} (mode 0600)",
                      file=sys.stderr)  # fmt: skip
        started = threading.Event()
        failure: list[BaseException] = []
        self.thread = threading.Thread(target=self.serve, args=(started, failure),
                                       name=f"{self.path}-http", daemon=True)  # fmt: skip
        self.thread.start()
        if not started.wait(START_TIMEOUT):
            raise ServerFailedError(f"the http server did not start within {START_TIMEOUT:g} s")
        if failure:
            raise ServerFailedError(
                f"cannot serve on {settings.host}:{settings.port}: {failure[0]} (is another "
                "Solo running? set api.port)"
            ) from failure[0]
        url_file = self.config.solo.var_path(URL_FILE)
        url_file.parent.mkdir(parents=True, exist_ok=True)
        url_file.write_text(self.url + "\n")
        self.publish_figures(url=self.url, auth=settings.auth)
        self.log.info("api listening", url=self.url, auth=settings.auth)

    def serve(self, started: threading.Event, failure: list[BaseException]) -> None:
        """The server thread: its own event loop until ``on_stop`` ends it."""
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
            if self.runner is not None:
                loop.run_until_complete(self.runner.cleanup())
            close_loop(loop)  # an event stream still open is a handler task still pending

    async def listen(self) -> None:
        settings = self.config.api
        # The default access log prints the request line, query string included; ours
        # (in server.guard) logs the path only.
        self.runner = web.AppRunner(build_app(self.state, self.path), access_log=None,
                                    handle_signals=False, shutdown_timeout=1.0)  # fmt: skip
        await self.runner.setup()
        context = tls_context(self.config)
        site = web.TCPSite(self.runner, settings.host, settings.port, ssl_context=context)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        host = f"[{host}]" if ":" in host else host
        self.url = f"{'https' if context else 'http'}://{host}:{port}"

    def on_receive(self, message: Any) -> None:
        if isinstance(message, ServerFailed):
            raise ServerFailedError(f"the http server stopped: {message.error}")

    def on_stop(self) -> None:
        loop, thread = self.loop, self.thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(START_TIMEOUT)
        url_file = self.config.solo.var_path(URL_FILE)
        if url_file.exists() and url_file.read_text().strip() == self.url:
            url_file.unlink()

    def on_failure(self, *_exc_info: object) -> None:
        self.on_stop()
