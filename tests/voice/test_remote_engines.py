"""Remote Wyoming services as the engines of stt, tts and wake, against the real servers.

The services are the ecosystem's own, from PyPI, each in its venv under ``.peers/`` (built
by ``make setup``): ``wyoming-faster-whisper`` on Solo's Whisper folder, ``wyoming-piper``
on Solo's Piper voice, ``wyoming-openwakeword`` with the ``hey_jarvis`` model its package
carries. Each test runs the voice turn's part of the tree (llm, dialogue, voice) with
``engine = "wyoming"``, and kills a service mid-run with SIGKILL: with no fallback the turn
says what failed and where, with fallback "local" the engine here answers.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from wyoming.audio import AudioChunk
from wyoming.event import Event
from wyoming.tts import Synthesize

import supervisors
from solo_actors.config import REPO_ROOT, ConfigError, load_config
from solo_actors.doctor.report import examine
from solo_actors.messages import (
    AudioFrame,
    StageTimes,
    SynthesizeSpeech,
    TranscribeAudio,
    Transcript,
    UserTurn,
    Utterance,
    VoiceRequestFailed,
)
from solo_actors.runtime.clock import now
from solo_actors.voice.audio import FRAME_SAMPLES, SAMPLE_RATE, frames_of
from solo_actors.voice.stt import whisper_folder
from solo_actors.voice.tts import voice_path
from tests.voice.conftest import TEST_THREADS, Speech, VoiceRun, voice_config
from tests.wyoming.conftest import exchange, run_async, start_solo, stop_solo
from tests.wyoming.test_wyoming_server import assert_clean, transcribe

TIMEOUT = 120.0
PEERS = REPO_ROOT / ".peers"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Peer:
    """A Wyoming service from PyPI, run from its venv on a free port."""

    def __init__(self, name: str, args: list[str], log: Path) -> None:
        python = PEERS / name / "bin" / "python"
        if not python.exists():
            pytest.fail(f"{PEERS / name} is missing: run `make setup` (it builds the test peers)")
        self.port = free_port()
        self.uri = f"tcp://127.0.0.1:{self.port}"
        self.command = [str(python), "-m", name.replace("-", "_"), "--uri", self.uri, *args]
        self.name = name
        self.log = log
        self.start()

    def start(self) -> None:
        """Start the service (again, on the same port) and wait until it listens."""
        name, log = self.name, self.log
        with log.open("a") as stderr:
            self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{name} exited with {self.process.returncode}: "
                            f"{log.read_text()[-2000:]}")  # fmt: skip
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        pytest.fail(f"{name} did not listen within {TIMEOUT} s: {log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # if stopped
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[Callable[[str], Peer]]:
    """Start a service by name ("whisper", "piper", "openwakeword"); all killed after the test."""
    config = load_config("test", environ={})
    voice = Path(voice_path(config))
    commands = {
        "whisper": ("wyoming-faster-whisper", [
            "--model", whisper_folder(config), "--stt-library", "faster-whisper",
            "--data-dir", str(tmp_path), "--language", "en", "--beam-size", "1",
            "--cpu-threads", str(TEST_THREADS["voice.stt.threads"]), "--compute-type", "int8",
            "--local-files-only"]),
        "piper": ("wyoming-piper", [
            "--voice", voice.stem, "--data-dir", str(voice.parent), "--local-files-only"]),
        # 1.8.2 listens only with the models loaded before a client connects.
        "openwakeword": ("wyoming-openwakeword", ["--preload-model", "hey_jarvis"]),
    }  # fmt: skip
    started: list[Peer] = []

    def start(kind: str) -> Peer:
        name, args = commands[kind]
        peer = Peer(name, args, tmp_path / f"{kind}.log")
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.kill()


ANSWERING = {"llm.model": "qwen2.5-coder-0.5b-instruct-q4_k_m", "llm.max_tokens": 32}
"""The default llm (the test profile's 135M one does not know its capitals)."""


def remote(**engines: tuple[Peer | str, str]) -> dict[str, object]:
    """Config overrides: ``stt=(peer, "none")`` makes stt remote on `peer` with that fallback
    (and the llm answers the questions)."""
    overrides: dict[str, object] = dict(ANSWERING)
    for role, (peer, fallback) in engines.items():
        overrides[f"voice.{role}.engine"] = "wyoming"
        overrides[f"voice.{role}.remote.uri"] = peer.uri if isinstance(peer, Peer) else peer
        overrides[f"voice.{role}.remote.fallback"] = fallback
        overrides[f"voice.{role}.remote.connect_timeout"] = 10.0
    return overrides


def ask(run: VoiceRun, speech: Speech, turn_id: str, count: int) -> dict[str, Any]:
    """Say "What is the capital of France?" to stt as vad would; the turn, once answered."""
    question = speech.clip(0.2, "What is the capital of France?", 0.3, steady=True)
    times = StageTimes(wake=now(), speech_end=now())
    supervisors.tell("stt", Utterance(turn_id=turn_id, pcm=question.tobytes(),
                                      sample_rate=SAMPLE_RATE, times=times))  # fmt: skip
    turns = run.wait_turns(count, TIMEOUT)
    [turn] = [turn for turn in turns if turn["turn_id"] == turn_id]
    return turn


def say_text(run: VoiceRun, text: str, count: int) -> dict[str, Any]:
    """A typed turn (no stt), answered aloud by tts."""
    times = StageTimes(speech_end=now(), transcript=now())
    turn = UserTurn(conversation_id="c1", text=text, source="text", reply_to="tts", times=times)
    supervisors.tell("tts", Transcript(turn_id=turn.turn_id, text=text, times=times))
    supervisors.tell("dialogue", turn)
    [done] = [t for t in run.wait_turns(count, TIMEOUT) if t["turn_id"] == turn.turn_id]
    return done


def test_a_voice_turn_through_remote_stt_and_tts_gets_its_answer(
    voice_tree: Callable[..., VoiceRun],
    peers: Callable[[str], Peer],
    speech: Speech,
    tmp_path: Path,
    hear: Callable[[Path], str],
) -> None:
    whisper, piper = peers("whisper"), peers("piper")
    # No fallback: the answer can only have come through the services.
    config = voice_config(tmp_path, **remote(stt=(whisper, "none"), tts=(piper, "none")))
    run = voice_tree(config)
    turn = ask(run, speech, "remote", 1)
    assert "capital of france" in turn["text"].lower()
    assert turn["error"] is None
    assert "paris" in hear(Path(turn["file"])).lower()
    for name in ("stt", "tts"):
        figures = run.figures(name)
        assert figures["engine"] == "wyoming" and figures["serving"] == "remote", figures
        assert figures["fallbacks"] == 0 and figures["remote_error"] == "", figures
    assert run.figures("tts")["sample_rate"] == 22050  # the voice's rate, as Piper here says


def test_a_killed_service_falls_back_to_the_local_engine(
    voice_tree: Callable[..., VoiceRun],
    peers: Callable[[str], Peer],
    speech: Speech,
    tmp_path: Path,
    hear: Callable[[Path], str],
) -> None:
    whisper, piper = peers("whisper"), peers("piper")
    overrides = remote(stt=(whisper, "local"), tts=(piper, "local"))
    config = voice_config(tmp_path, **overrides, **{"voice.stt.remote.retry_after": 1.0})
    run = voice_tree(config)
    first = ask(run, speech, "before", 1)
    assert "capital of france" in first["text"].lower() and first["error"] is None
    stt_before, tts_before = supervisors.whereis("stt"), supervisors.whereis("tts")

    whisper.kill()
    piper.kill()
    second = ask(run, speech, "after", 2)
    assert "capital of france" in second["text"].lower()
    assert second["error"] is None
    assert "paris" in hear(Path(second["file"])).lower()
    for name, uri, role in (("stt", whisper.uri, "speech-to-text"),
                            ("tts", piper.uri, "text-to-speech")):  # fmt: skip
        figures = run.figures(name)
        assert figures["serving"] == "local" and figures["fallbacks"] >= 1, figures
        assert f"the Wyoming {role} service at {uri}" in figures["remote_error"], figures
        assert "refused the connection" in figures["remote_error"], figures
    # Served by the fallback, not by a restart: the same actors.
    assert supervisors.whereis("stt") is stt_before and supervisors.whereis("tts") is tts_before

    whisper.start()  # back, on the same address: after retry_after it serves again
    time.sleep(1.5)
    third = ask(run, speech, "back", 3)
    assert "capital of france" in third["text"].lower() and third["error"] is None
    assert run.figures("stt")["serving"] == "remote"


def test_without_a_fallback_a_killed_service_fails_the_turn_saying_why(
    voice_tree: Callable[..., VoiceRun],
    peers: Callable[[str], Peer],
    speech: Speech,
    tmp_path: Path,
) -> None:
    whisper, piper = peers("whisper"), peers("piper")
    config = voice_config(tmp_path, **remote(stt=(whisper, "none"), tts=(piper, "none")))
    run = voice_tree(config)
    assert ask(run, speech, "before", 1)["error"] is None
    stt_before = supervisors.whereis("stt")

    whisper.kill()
    failed = ask(run, speech, "stt-down", 2)
    assert f"the Wyoming speech-to-text service at {whisper.uri} refused" in failed["error"]
    assert "start the service or check voice.stt.remote.uri" in failed["error"]
    assert failed["file"]  # the apology was said, by the text-to-speech service still up
    # Asked directly (the API's /v1/audio/transcriptions: a 503 saying why).
    question = speech.clip(0.2, "What is the capital of France?", 0.3, steady=True)
    refused = supervisors.ask("stt", TranscribeAudio(pcm=question.tobytes()), timeout=TIMEOUT)
    assert isinstance(refused, VoiceRequestFailed) and refused.unavailable
    assert f"speech-to-text service at {whisper.uri} refused" in refused.message

    piper.kill()
    unsaid = say_text(run, "What is the capital of France?", 3)
    assert "the reply could not be said" in unsaid["error"]
    assert f"the Wyoming text-to-speech service at {piper.uri} refused" in unsaid["error"]
    assert unsaid["reply"]  # written, though it could not be said
    refused = supervisors.ask("tts", SynthesizeSpeech(text="Paris."), timeout=TIMEOUT)
    assert isinstance(refused, VoiceRequestFailed) and refused.unavailable
    assert f"text-to-speech service at {piper.uri} refused" in refused.message
    # Nothing crashed: the same stt, still there.
    assert supervisors.whereis("stt") is stt_before
    assert run.figures("stt")["serving"] == "remote"  # nothing else serves it


def feed(samples: np.ndarray) -> None:
    """Hand 32 ms frames to the wake actor as the mic's pump does (one ask per frame)."""
    for sequence, pcm in enumerate(frames_of(samples)):
        supervisors.ask("wake", AudioFrame(pcm=pcm, sample_rate=SAMPLE_RATE, sequence=sequence),
                        timeout=15)  # fmt: skip


def listen_until_woken(run: VoiceRun, heard: int, what: str) -> dict[str, Any]:
    """Feed silence, as a microphone goes on doing, until the wake actor's figures count
    more than `heard` wake words (a remote service's detection comes with a later frame,
    and the figures are published every 64 frames); those figures."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        feed(np.zeros(FRAME_SAMPLES * 8, np.int16))
        time.sleep(0.1)
        figures = run.figures("wake")
        if figures.get("detections", 0) > heard:
            return figures
    pytest.fail(f"timed out after {TIMEOUT} s waiting for {what}")


def test_a_remote_wake_word_service_wakes_solo_and_the_local_engine_takes_over(
    voice_tree: Callable[..., VoiceRun],
    peers: Callable[[str], Peer],
    speech: Speech,
    tmp_path: Path,
) -> None:
    service = peers("openwakeword")
    overrides = remote(wake=(service, "local"))
    config = voice_config(tmp_path, **overrides, **{"voice.wake.remote.model": "hey_jarvis"})
    run = voice_tree(config)
    assert run.figures("wake")["keyword"] == "hey_jarvis"
    # Two seconds of room first: openWakeWord scores a window of the last 1.3 s or so.
    feed(speech.clip(2.0, "Hey Jarvis.", 0.5, steady=True))
    woken = listen_until_woken(run, 0, "the service's detection")
    assert woken["serving"] == "remote" and woken["remote_error"] == "", woken

    service.kill()
    feed(speech.clip(0.5, "Jarvis.", 1.0, steady=True))  # porcupine's "jarvis", here
    wake = listen_until_woken(run, woken["detections"], "the local engine's detection")
    assert wake["serving"] == "local"
    assert f"the Wyoming wake word service at {service.uri}" in wake["remote_error"], wake


def test_a_service_that_hangs_fails_the_turn_after_read_timeout(
    voice_tree: Callable[..., VoiceRun],
    peers: Callable[[str], Peer],
    speech: Speech,
    tmp_path: Path,
) -> None:
    whisper = peers("whisper")
    overrides = remote(stt=(whisper, "none"))
    config = voice_config(tmp_path, **overrides, **{"voice.stt.remote.read_timeout": 2.0})
    run = voice_tree(config)
    whisper.process.send_signal(signal.SIGSTOP)  # accepts (the kernel does), never answers
    failed = ask(run, speech, "hung", 1)
    assert (
        f"the Wyoming speech-to-text service at {whisper.uri} sent no transcript"
        in (failed["error"])
    )
    assert "within 2 s (voice.stt.remote.read_timeout)" in failed["error"]


def test_a_remote_engine_without_a_wyoming_address_is_refused_at_start(
    make_config: Callable[..., Any],
) -> None:
    with pytest.raises(ConfigError) as refused:
        make_config(voice__stt__engine="wyoming", voice__stt__remote__uri="http://gpu-box:10300")
    assert "voice.stt.remote.uri = 'http://gpu-box:10300' is not a Wyoming address" in str(
        refused.value
    )
    assert 'write "tcp://host:port"' in str(refused.value)


def test_the_doctor_asks_each_remote_service_to_describe_itself(
    peers: Callable[[str], Peer], make_config: Callable[..., Any]
) -> None:
    whisper, piper = peers("whisper"), peers("piper")
    overrides = {key.replace(".", "__"): value for key, value in
                 remote(stt=(whisper, "none"), tts=(piper, "local")).items()}  # fmt: skip
    config = make_config(**overrides)
    [answered] = examine(config, only={"remote"})
    assert answered.status == "pass", answered
    assert "stt: faster-whisper" in answered.detail and "tts: piper" in answered.detail

    piper.kill()
    [warned] = examine(config, only={"remote"})
    assert warned.status == "warn"  # tts falls back to Piper here
    assert f"the Wyoming text-to-speech service at {piper.uri} refused" in warned.detail
    whisper.kill()
    [failed] = examine(config, only={"remote"})
    assert failed.status == "fail"  # stt has no fallback
    assert f"speech-to-text service at {whisper.uri} refused" in failed.detail


def test_solo_serving_wyoming_on_remote_engines_says_when_a_service_is_down(
    peers: Callable[[str], Peer], speech: Speech, tmp_path: Path
) -> None:
    """Home Assistant -> Solo -> wyoming-faster-whisper / wyoming-piper, Solo in its default
    process isolation; the services killed, each request answered with an ``error``."""
    whisper, piper = peers("whisper"), peers("piper")
    server = start_solo(tmp_path / "var", **remote(stt=(whisper, "none"), tts=(piper, "none")))

    async def synthesize() -> list[Event]:
        async with server.client() as client:
            said = Synthesize(text="The capital of France is Paris.").event()
            return await exchange(client, [said], {"audio-stop", "error"})

    try:
        question = speech.clip(0.3, "What is the capital of France?", 0.6, steady=True)
        heard = run_async(transcribe(server, question.tobytes()))
        [transcript] = [event for event in heard if event.type == "transcript"]
        assert "capital of france" in transcript.data["text"].lower()
        said = run_async(synthesize())
        assert said[-1].type == "audio-stop"
        chunks = [AudioChunk.from_event(e) for e in said if e.type == "audio-chunk"]
        assert chunks and {chunk.rate for chunk in chunks} == {22050}

        whisper.kill()
        piper.kill()
        failed = run_async(transcribe(server, question.tobytes()))[-1]
        assert failed.type == "error", failed
        assert f"speech-to-text service at {whisper.uri} refused" in failed.data["text"]
        unsaid = run_async(synthesize())[-1]
        assert unsaid.type == "error", unsaid
        assert f"text-to-speech service at {piper.uri} refused" in unsaid.data["text"]
        assert_clean(server)  # no actor of Solo exited for it
    finally:
        stop_solo(server)


def test_a_wake_word_service_down_with_no_fallback_is_tried_once_per_retry_after(
    voice_tree: Callable[..., VoiceRun],
    peers: Callable[[str], Peer],
    tmp_path: Path,
) -> None:
    service = peers("openwakeword")
    config = voice_config(tmp_path, **remote(wake=(service, "none")))
    run = voice_tree(config)
    wake_before = supervisors.whereis("wake")
    feed(np.zeros(FRAME_SAMPLES * 64, np.int16))
    assert run.figures("wake")["remote_errors"] == 0

    service.kill()
    feed(np.zeros(FRAME_SAMPLES * 64 * 3, np.int16))  # 6 s of frames, every one heard
    wake = run.figures("wake")
    # One failure, not one per frame: the log is not flooded, nothing restarted.
    assert wake["remote_errors"] == 1, wake
    assert f"the Wyoming wake word service at {service.uri}" in wake["remote_error"]
    assert wake["serving"] == "remote" and supervisors.whereis("wake") is wake_before
