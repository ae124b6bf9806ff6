"""Fuzz: hypothesis over the message decoders, the API's JSON bodies and WAV inputs.

Three targets share ``--minutes`` (default 3) equally; each runs hypothesis in rounds with
fresh seeds until its time is up. The property everywhere: nothing crashes but the targeted
request, which is refused with a clear error.

* ``decoders``: random bytes and random JSON/MessagePack values decoded as Solo's messages
  (``msgspec.json`` over the tagged union of every ``Message``, and the MessagePack
  ``MsgspecCodec`` isolated actors use): only ``msgspec`` decode/validation errors.
* ``api``: random JSON values and random bytes POSTed to the body-taking routes of a real
  ``run.py`` (test profile, its own process): every answer below 500, a JSON body with an
  ``error`` for each refusal; afterwards the process is alive, /health answers and the
  tree is fully running.
* ``wav``: random bytes and mutated valid WAV files read as ``--input`` reads them
  (``read_wav``): a result or ``AudioInputError``, nothing else.

Prints one JSON object: examples tried per target, failures (the first few, with input).

Usage: python bench/bench_fuzz.py [--minutes 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union

import msgspec
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import supervisors
from solo_actors import messages
from solo_actors.voice.audio import AudioInputError, read_wav

REPO = Path(__file__).resolve().parent.parent
API_SETTINGS = {"SOLO__API__PORT": "0", "SOLO__LLM__MAX_TOKENS": "4", "SOLO__LLM__CACHE": "false",
                "SOLO__API__RATE_PER_TOKEN": "100000", "SOLO__API__RATE_PER_ADDRESS": "100000",
                "SOLO__API__RATE_BURST": "100000"}  # fmt: skip
BODY_ROUTES = ("/ask", "/say", "/config/reload", "/actors/solo/llm/restart")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
# Objects shaped like the real bodies (known keys, any values) reach deeper than noise.
body_like = st.dictionaries(
    st.sampled_from(["text", "conversation_id", "stream", "turn_id", "profile", "type", "x"]),
    json_values, max_size=4,
)  # fmt: skip


def message_types() -> list[type[messages.Message]]:
    found, todo = [], [messages.Message]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


class Target:
    """One fuzz target: a hypothesis test run in rounds until its time is up."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.examples = 0
        self.failures: list[str] = []

    def fail(self, what: str) -> None:
        if len(self.failures) < 5:
            self.failures.append(what[:500])

    def run_for(self, seconds: float, make_test: Callable[[], Callable[[], None]]) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            test = settings(max_examples=200, deadline=None, database=None,
                            suppress_health_check=list(HealthCheck))(make_test())  # fmt: skip
            test._hypothesis_internal_use_seed = random.getrandbits(64)  # type: ignore[attr-defined]
            test()


def fuzz_decoders(target: Target, seconds: float) -> None:
    types = message_types()
    union = Union[tuple(types)]  # noqa: UP007  (a runtime tuple of types)
    json_decoder = msgspec.json.Decoder(union)
    codec = supervisors.MsgspecCodec(*types)
    allowed = (msgspec.DecodeError, msgspec.ValidationError)

    def check(data: bytes, decode: Callable[[bytes], Any]) -> None:
        target.examples += 1
        try:
            decode(data)
        except allowed:
            pass
        except Exception as error:
            target.fail(f"{error!r} from {decode.__self__!r:.30}.decode({data!r})")

    def make() -> Callable[[], None]:
        @given(
            st.binary(max_size=256)
            | json_values.map(lambda v: json.dumps(v).encode())
            | st.builds(
                lambda tag, rest: json.dumps({"type": tag, **rest}).encode(),
                st.sampled_from([t.__name__ for t in types]),
                body_like,
            )
        )
        def test(data: bytes) -> None:
            check(data, json_decoder.decode)
            check(data, codec.decode)
            check(msgspec.msgpack.encode(data), codec.decode)

        return test  # fmt: skip

    target.run_for(seconds, make)


def fuzz_api(target: Target, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        var_dir = Path(folder) / "var"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("SOLO")}
        environ.update(API_SETTINGS, SOLO__SOLO__VAR_DIR=str(var_dir))
        process = subprocess.Popen([sys.executable, str(REPO / "run.py"), "--profile", "test"],
                                   env=environ, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            url_file, token_file = var_dir / "api" / "url", var_dir / "api" / "admin.token"
            deadline = time.monotonic() + 180
            while not (url_file.exists() and token_file.exists() and url_file.read_text()):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("run.py did not start")
                time.sleep(0.2)
            url = url_file.read_text().strip()
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token_file.read_text().strip()}"

            def post(route: str, data: bytes) -> None:
                target.examples += 1
                answer = session.post(url + route, data=data, timeout=120,
                                      headers={"Content-Type": "application/json"})  # fmt: skip
                if answer.status_code >= 500 and answer.status_code not in (503, 504):
                    target.fail(f"{route} {data!r}: {answer.status_code} {answer.text}")
                elif answer.status_code >= 400:
                    try:
                        if "error" not in answer.json():
                            target.fail(f"{route} {data!r}: no error in {answer.text}")
                    except ValueError:
                        target.fail(f"{route} {data!r}: not JSON: {answer.text}")

            def make() -> Callable[[], None]:
                @given(
                    st.sampled_from(BODY_ROUTES),
                    st.binary(max_size=128)
                    | json_values.map(lambda v: json.dumps(v).encode())
                    | body_like.map(lambda v: json.dumps(v).encode()),
                )
                def test(route: str, data: bytes) -> None:
                    post(route, data)

                return test  # fmt: skip

            target.run_for(seconds, make)
            alive = process.poll() is None
            health = session.get(url + "/health", timeout=30).status_code
            ready = session.get(url + "/ready", timeout=30)
            return {"alive": alive, "health": health, "ready": ready.json()}
        finally:
            process.terminate()
            process.wait(60)


def fuzz_wav(target: Target, seconds: float) -> None:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(bytes(3200))
    valid = buffer.getvalue()
    path = Path(tempfile.mkdtemp()) / "fuzz.wav"

    def make() -> Callable[[], None]:
        @given(
            st.binary(max_size=512)
            | st.builds(
                lambda at, junk: valid[:at] + junk + valid[at + len(junk) :],
                st.integers(0, len(valid)),
                st.binary(min_size=1, max_size=16),
            )
        )
        def test(data: bytes) -> None:
            target.examples += 1
            path.write_bytes(data)
            try:
                read_wav(path)
            except AudioInputError:
                pass
            except Exception as error:
                target.fail(f"{data[:64]!r}...: {error!r}")

        return test  # fmt: skip

    target.run_for(seconds, make)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args()
    share = args.minutes * 60 / 3
    targets = {name: Target(name) for name in ("decoders", "api", "wav")}
    fuzz_decoders(targets["decoders"], share)
    after_api = fuzz_api(targets["api"], share)
    fuzz_wav(targets["wav"], share)
    print(json.dumps({
        "minutes": args.minutes,
        "targets": {t.name: {"examples": t.examples, "failures": t.failures}
                    for t in targets.values()},
        "api_after_fuzz": after_api,
        "load_average": os.getloadavg(),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
