"""The security audit's findings (issue 16), each as the request that showed it.

Web pages must not drive the assistant (foreign Host and Origin, non-JSON bodies), with auth
off and on; no token reaches any log format, however a client misbehaves; control characters
are refused and cannot spend a supervisor's restart intensity; a revoked token ends its open
streams; var/ and the token file are private and safe under concurrent writers; and HTTPS.
"""

from __future__ import annotations

import asyncio
import datetime
import io
import ipaddress
import json
import logging
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from solo_actors.api.actors import actor_action
from solo_actors.api.auth import RateLimiter, TokenStore
from solo_actors.api.origin import HostPolicy
from solo_actors.api.server import build_app
from solo_actors.api.state import SCOPE, STATE, ApiError, ApiState
from solo_actors.cli import main
from solo_actors.config import REPO_ROOT, ConfigError, load_config
from solo_actors.messages import StageTimes, TurnDone
from solo_actors.runtime.events import HUB
from solo_actors.runtime.logs import configure_logging, get_logger
from solo_actors.runtime.tree import declared_tree
from solo_actors.voice.tts import speakable
from tests.api.apikit import BareApi, RunningApi, running_assistant, start_bare_api
from tests.conftest import config_environment

EVIL = "http://evil.example"
RECHECK = 0.5


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    # Streams re-check their token every half second, so a revocation shows at once.
    yield from running_assistant(
        tmp_path_factory.mktemp("security") / "var", {"api.token_recheck": RECHECK}
    )


@pytest.fixture(scope="module")
def open_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BareApi]:
    """Auth off, as on a loopback-only install: only Host and Origin stand in a page's way."""
    bare = start_bare_api(tmp_path_factory.mktemp("open") / "var",
                          {"api.auth": False, "api.allowed_hosts": ["solo.lan"]})  # fmt: skip
    yield bare
    bare.stop()


def authority(url: str) -> str:
    return url.split("://", 1)[1]


def publish_turn() -> None:
    HUB.publish(TurnDone(turn_id="t", conversation_id="c", source="api", text="", reply="hi",
                         times=StageTimes()))  # fmt: skip


def first_turn_event(socket_: Any, timeout: float = 10) -> dict[str, Any]:
    """The first event a WebSocket gets, a turn published again until one comes: the server
    subscribes once it has the handshake (and the token frame) in hand, and says nothing
    then, so a turn published before that is not for this socket."""
    deadline = time.monotonic() + timeout
    while True:
        publish_turn()
        try:
            return dict(json.loads(socket_.recv(timeout=0.5)))
        except TimeoutError:
            assert time.monotonic() < deadline, f"no event on the WebSocket within {timeout} s"


# -- web pages: Host, Origin, content types ------------------------------------------------


def test_a_foreign_page_cannot_drive_an_api_without_auth(open_api: BareApi) -> None:
    url = open_api.url
    refused = [
        requests.post(f"{url}/ask", data='{"text": "hi"}', timeout=10,
                      headers={"Content-Type": "text/plain", "Origin": EVIL}),
        requests.post(f"{url}/say", data='{"text": "hi"}', timeout=10,
                      headers={"Content-Type": "text/plain", "Origin": EVIL}),
        requests.post(f"{url}/actors/voice/vad/restart", data={"a": "b"}, timeout=10,
                      headers={"Origin": EVIL}),
        requests.post(f"{url}/actors/agents/stop", timeout=10, headers={"Origin": EVIL}),
        requests.post(f"{url}/actors/agents/stop", timeout=10, headers={"Origin": "null"}),
    ]  # fmt: skip
    for response in refused:
        assert response.status_code == 403, response.text
        assert "cross-origin" in response.json()["error"]
    # Without an Origin (a form a browser might still send): the body type is refused.
    plain = requests.post(f"{url}/say", data='{"text": "hi"}', timeout=10,
                          headers={"Content-Type": "text/plain"})  # fmt: skip
    assert plain.status_code == 415 and "application/json" in plain.json()["error"]
    form = requests.post(f"{url}/actors/voice/vad/restart", data={"a": "b"}, timeout=10)
    assert form.status_code == 415
    # DNS rebinding: the page's own name as Host, reading stored turns or the health.
    port = authority(url).rsplit(":", 1)[1]
    for path in ("/turns", "/health", "/openapi.json", "/"):
        rebound = requests.get(url + path, headers={"Host": f"evil.example:{port}"}, timeout=10)
        assert rebound.status_code == 421, path
        assert "api.allowed_hosts" in rebound.json()["error"]
    # The server's own pages, localhost and configured names are answered.
    own = requests.post(f"{url}/say", json={"text": "hi"}, headers={"Origin": url}, timeout=10)
    assert own.status_code == 503, own.text  # accepted; no tts runs without the tree
    for host in (f"localhost:{port}", "solo.lan", "solo.lan:8443"):
        assert requests.get(f"{url}/health", headers={"Host": host}, timeout=10).ok, host
    allowed_origin = requests.post(f"{url}/actors/agents/stop", timeout=10,
                                   headers={"Origin": "https://solo.lan"})  # fmt: skip
    assert allowed_origin.status_code == 503
    wrong_port = requests.get(f"{url}/health", headers={"Host": "127.0.0.1:1"}, timeout=10)
    assert wrong_port.status_code == 421


def test_a_websocket_from_a_foreign_origin_is_refused(open_api: BareApi) -> None:
    ws_url = open_api.url.replace("http://", "ws://") + "/ws?topics=turn"
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(ws_url, origin=EVIL, open_timeout=10) as socket_,  # type: ignore[arg-type]
    ):
        socket_.recv(timeout=5)
    assert refused.value.response.status_code == 403
    with connect(ws_url, origin=open_api.url, open_timeout=10) as socket_:  # type: ignore[arg-type]
        assert first_turn_event(socket_)["topic"] == "turn"  # auth is off: no token frame


def test_host_and_origin_are_checked_with_auth_on_too(api: RunningApi) -> None:
    port = authority(api.url).rsplit(":", 1)[1]
    for path in ("/health", "/ready", "/openapi.json"):
        response = api.get(path, scope=None, headers={"Host": f"rebind.example:{port}"})
        assert response.status_code == 421, path
    foreign = api.post("/ask", scope="control", json={"text": "hi"}, headers={"Origin": EVIL})
    assert foreign.status_code == 403 and "cross-origin" in foreign.json()["error"]
    plain = api.post("/say", scope="control", data="hello",
                     headers={"Content-Type": "text/plain"})  # fmt: skip
    assert plain.status_code == 415
    ws_url = api.url.replace("http://", "ws://") + "/ws"
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(ws_url, origin=EVIL, open_timeout=10) as socket_,  # type: ignore[arg-type]
    ):
        socket_.send(json.dumps({"token": api.tokens["read"]}))
    assert refused.value.response.status_code == 403


def test_every_answer_carries_the_browser_protections(api: RunningApi) -> None:
    for path in ("/", "/static/app.js", "/health", "/nothing-here"):
        headers = api.get(path, scope=None).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"


# -- no token in any log -------------------------------------------------------------------


def raw_request(url: str, data: bytes) -> bytes:
    host, port = authority(url).rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(data)
        return connection.recv(4096)


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_no_token_reaches_any_log_format(api: RunningApi, log_format: str) -> None:
    captured = io.StringIO()
    configure_logging(msgspec.structs.replace(api.config.log, level="debug", format=log_format),
                      captured)  # fmt: skip
    logging.getLogger("urllib3").setLevel(logging.INFO)  # the client's own lines
    token = api.tokens["control"]
    bearer = {"Authorization": f"Bearer {token}"}
    try:
        # Streams the client drops: the server's next write meets a closed connection.
        with api.get("/events?topics=turn", scope="control", stream=True) as events:
            next(events.iter_lines())
        with connect(api.url.replace("http://", "ws://") + "/ws?topics=turn",
                     additional_headers=bearer, open_timeout=10):  # fmt: skip
            time.sleep(0.2)
        with api.post("/ask?stream=1", scope="control", json={"text": "Count to ten."},
                      stream=True) as asked:  # fmt: skip
            next(asked.iter_lines())
        for _ in range(3):
            publish_turn()
            time.sleep(0.3)
        # A body that is not UTF-8: a JSON 400, not a traceback.
        bad = api.post("/say", scope="control", data=b'{"text": "\xff\xfe"}',
                       headers={"Content-Type": "application/json"})  # fmt: skip
        # Header lines aiohttp cannot parse, which it logs as they came.
        for line in (f"Authorization: Bearer {token}\x01", f"Authorization Bearer {token}"):
            answer = raw_request(api.url, f"GET /status HTTP/1.1\r\n{line}\r\n\r\n".encode())
            assert answer.startswith(b"HTTP/1.")
        time.sleep(1.0)  # the dropped /ask finishes its turn
    finally:
        configure_logging(msgspec.structs.replace(api.config.log, level="debug", format="json"),
                          api.log)  # fmt: skip
    text = captured.getvalue()
    assert "/events" in text and "/say" in text  # the capture did see the requests
    for secret in api.tokens.values():
        assert secret not in text
    assert bad.status_code == 400 and "UTF-8" in bad.json()["error"]


def test_a_logger_made_before_logging_is_configured_masks_too(tmp_path: Path) -> None:
    early = get_logger("solo/early")  # as a module-level logger is, at import
    config = load_config("test", environ=config_environment(tmp_path / "var", {}))
    captured = io.StringIO()
    configure_logging(msgspec.structs.replace(config.log, format="json", level="info"), captured)
    try:
        early.info("early line", token="solo_" + "e" * 43)
    finally:
        configure_logging(config.log)
    line = json.loads(captured.getvalue())
    assert line["event"] == "early line" and line["token"] == "[masked]"


def test_an_unexpected_error_is_a_json_500_and_its_secret_stays_out_of_the_log(
    tmp_path: Path,
) -> None:
    config = load_config("test", environ=config_environment(tmp_path / "var", {}))
    captured = io.StringIO()  # first: the app's logger takes the configuration it finds
    configure_logging(msgspec.structs.replace(config.log, format="console"), captured)
    state = ApiState(
        config=config, root_name="solo", actor_name="api", declared=declared_tree,
        tokens=TokenStore(tmp_path / "tokens.json"), per_token=RateLimiter(10, 10),
        per_address=RateLimiter(10, 10), hosts=HostPolicy.from_settings([], tls=False),
    )  # fmt: skip
    app = build_app(state, "solo/api")
    secret = "solo_" + "s" * 43

    async def broken(_request: web.Request) -> web.Response:
        raise RuntimeError(f"a bug that shows {secret}")

    app.router.add_get("/broken", broken)

    async def call() -> tuple[int, Any]:
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/broken")
            return response.status, await response.json()

    try:
        status, body = asyncio.run(call())
    finally:
        configure_logging(config.log)
    assert status == 500 and body["status"] == 500 and "log" in body["error"]
    assert "RuntimeError" in captured.getvalue() and secret not in captured.getvalue()


# -- control characters --------------------------------------------------------------------


def test_control_characters_are_refused_and_cannot_crash_speech(api: RunningApi) -> None:
    before = api.node("solo/voice/tts")
    assert before is not None and before.state == "running"
    for _ in range(8):  # eight in a few seconds once escalated solo/voice
        response = api.post("/say", scope="control", json={"text": "a\u0000b"})
        assert response.status_code == 400 and "control character" in response.json()["error"]
    for path, body in (("/ask", {"text": "red \u001b[31m"}),
                       ("/ask", {"text": "hi", "conversation_id": "c\u0007"}),
                       ("/agents/run", {"workflow": "plan", "input": "x\u007f"})):  # fmt: skip
        assert api.post(path, scope="control", json=body).status_code == 400, body
    assert api.get("/memories?q=a%00b", scope="read").status_code == 400
    assert api.post("/say", scope="control", json={"text": "Tab\tand\nnewline."}).status_code == 202
    time.sleep(1.0)
    after = api.node("solo/voice/tts")
    assert after is not None and after.state == "running" and after.restarts == before.restarts


def test_speech_strips_control_characters_a_model_might_write() -> None:
    assert speakable("a\u0000b\u0007c\u0085d\u007f") == "a b c d"


# -- revoked tokens and open streams -------------------------------------------------------


def test_a_revoked_token_ends_its_open_streams(api: RunningApi) -> None:
    store = TokenStore(api.config.solo.var_path(api.config.api.tokens_file))
    token, entry = store.create("read", label="to revoke")
    events = requests.get(f"{api.url}/events?topics=turn", stream=True, timeout=30,
                          headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    lines = events.iter_lines(decode_unicode=True)
    assert next(lines).startswith(":")
    with connect(api.url.replace("http://", "ws://") + "/ws?topics=turn",
                 open_timeout=10) as socket_:  # fmt: skip
        socket_.send(json.dumps({"token": token}))
        assert first_turn_event(socket_)["topic"] == "turn"
        store.revoke(entry.id)
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                socket_.recv(timeout=10 * RECHECK)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    seen = [line for line in lines if line.startswith("event: ")]  # ends with the stream
    events.close()
    assert seen[-1] == "event: revoked"
    assert time.monotonic() - started < 10 * RECHECK
    assert api.get("/status", scope=None, headers={"Authorization": f"Bearer {token}"}
                   ).status_code == 401  # fmt: skip


# -- files ---------------------------------------------------------------------------------


def test_var_is_private_to_its_owner(api: RunningApi) -> None:
    var_dir = api.config.solo.var_path()
    assert stat.S_IMODE(var_dir.stat().st_mode) == 0o700
    checked = 0
    for folder, names, files in os.walk(var_dir):
        for name in [*names, *files]:
            mode = os.lstat(Path(folder, name)).st_mode
            if not stat.S_ISLNK(mode):
                assert stat.S_IMODE(mode) & 0o077 == 0, f"{folder}/{name}: {oct(mode)}"
                checked += 1
    assert checked > 5  # the store, the reports, the token files ...


CREATE_AT = """
import sys, time
from solo_actors.cli import main
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
sys.exit(main(["token", "create", "--scope", "read", "--label", sys.argv[2], "--profile", "test"]))
"""


def test_concurrent_token_creations_lose_no_entry(tmp_path: Path) -> None:
    environment = {**os.environ, "SOLO__SOLO__VAR_DIR": str(tmp_path / "var"),
                   "PYTHONPATH": str(REPO_ROOT)}  # fmt: skip
    start = time.time() + 8  # every process imported and waiting: they write at once
    command = [sys.executable, "-c", CREATE_AT, str(start)]
    processes = [
        subprocess.Popen([*command, f"n{index}"], env=environment, cwd=REPO_ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for index in range(20)
    ]  # fmt: skip
    tokens = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
        tokens.append(out.decode().strip())
    store = TokenStore(tmp_path / "var" / "api" / "tokens.json")
    assert sorted(e.label for e in store.entries()) == sorted(f"n{i}" for i in range(20))
    assert all(store.authenticate(token) is not None for token in tokens)


# -- the document and the router -----------------------------------------------------------


def test_the_document_says_what_the_server_does(api: RunningApi) -> None:
    document = api.get("/openapi.json", scope=None).json()
    stop = document["paths"]["/actors/{path}/stop"]["post"]
    assert stop["security"] == [{"bearer": ["admin"]}]
    for path, operations in document["paths"].items():
        for operation in operations.values():
            assert {"405", "413", "415", "421", "500"} <= operation["responses"].keys(), path
            for param in operation["parameters"]:
                if param["in"] == "path" and path.startswith("/actors/"):
                    assert param["schema"]["pattern"] == "^[^/]+$"
    # The documented form of a nested actor path reaches the actor it names.
    nested = api.post("/actors/solo%2Fvoice%2Fnobody/restart", scope="control")
    assert nested.status_code == 404 and "'solo/voice/nobody'" in nested.json()["error"]
    stream = api.post("/ask?stream=yes", scope="control", json={"text": "hi"})
    assert stream.status_code == 400 and "`stream`" in stream.json()["error"]


# -- scope checks --------------------------------------------------------------------------


def test_actor_action_fails_closed_without_a_scope() -> None:
    app = web.Application()
    app[STATE] = None  # type: ignore[assignment]  # refused before the state is used
    for held in (None, "control"):
        request = make_mocked_request("POST", "/actors/llm/stop", app=app,
                                      match_info={"path": "llm", "action": "stop"})  # fmt: skip
        if held is not None:
            request[SCOPE] = held
        with pytest.raises(ApiError) as refused:
            asyncio.run(actor_action(request))
        assert refused.value.status == 403 and "'admin'" in refused.value.message


# -- HTTPS ---------------------------------------------------------------------------------


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert, private = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))  # fmt: skip
    return cert, private


def test_the_api_serves_https_with_a_configured_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, key = self_signed(tmp_path)
    tls = {"api.tls_cert": str(cert), "api.tls_key": str(key)}
    bare = start_bare_api(tmp_path / "var", tls)
    try:
        assert bare.url.startswith("https://127.0.0.1:")
        health = requests.get(bare.url + "/health", verify=str(cert), timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        admin = bare.config.solo.var_path(bare.config.api.admin_token_file).read_text().strip()
        status = requests.get(
            bare.url + "/status",
            verify=str(cert),
            timeout=10,
            headers={"Authorization": f"Bearer {admin}", "Origin": bare.url},
        )
        assert status.status_code not in (401, 403, 421), status.text  # let in
        with pytest.raises(requests.ConnectionError):
            requests.get(bare.url.replace("https://", "http://") + "/health", timeout=10)
        # `solo status` trusts the configured certificate: it reaches the API (which answers
        # 503 when no tree runs in this process), instead of failing the TLS handshake.
        for name, value in config_environment(tmp_path / "var", tls).items():
            monkeypatch.setenv(name, value)
        code = main(["status", "--profile", "test"])
        assert code == 0 or "refused: 503" in capsys.readouterr().err
    finally:
        bare.stop()


def test_tls_needs_both_a_certificate_and_a_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"tls_cert and api\.tls_key"):
        load_config("test", environ=config_environment(tmp_path, {"api.tls_cert": "c.pem"}))
