"""The ``info`` event: what Solo serves over Wyoming, in the shape the protocol specifies.

Every program and model names its attribution, whether it is installed, a description and
a version; the lists the spec requires are there even when they hold one entry. The names
are the config's (catalog ids), so Home Assistant shows what actually answers.
"""

from __future__ import annotations

import functools
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import msgspec

from solo_actors.config import Config
from solo_actors.skills.hook import skill_matcher
from solo_actors.voice.tts import voice_path

SOLO_URL = "file:docs/wyoming.md"
"""Solo has no public home page; the attribution points at the doc beside the code."""


@functools.cache
def solo_version() -> str:
    try:
        return version("solo")
    except PackageNotFoundError:
        return "0"


def _artifact(name: str, description: str, by: str, url: str, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "attribution": {"name": by, "url": url},
        "installed": True,
        "description": description,
        "version": solo_version() if by == "Solo" else None,
        **more,
    }


class VoiceMeta(msgspec.Struct, frozen=True):
    language: str
    rate: int


@functools.cache
def _read_voice_meta(path: str) -> VoiceMeta:
    meta = json.loads(Path(path + ".json").read_text(encoding="utf-8"))
    return VoiceMeta(str(meta["language"]["code"]), int(meta["audio"]["sample_rate"]))


def voice_meta(config: Config) -> VoiceMeta:
    """The Piper voice's language (en_US) and sample rate, from the .onnx.json beside it
    (read here: the voice itself is loaded only in tts's process)."""
    return _read_voice_meta(voice_path(config))


def info_data(config: Config) -> dict[str, Any]:
    """The ``data`` of Solo's ``info`` event."""
    voice = config.voice
    languages = [voice.stt.language]
    solo = ("Solo", SOLO_URL)
    wake_name = {"openwakeword": voice.wake.model, "wyoming": voice.wake.remote.model}.get(
        voice.wake.engine, voice.wake.keyword
    )
    matcher = skill_matcher(config)
    intents = sorted({i.name for i in matcher.intents}) if matcher is not None else []
    whisper = ("OpenAI", "https://github.com/openai/whisper")
    piper = ("Piper", "https://github.com/OHF-Voice/piper1-gpl")
    asr_model = _artifact(voice.stt.model, "Whisper", *whisper, languages=languages)
    tts_voice = _artifact(
        voice.tts.voice, "Piper voice", *piper, languages=[voice_meta(config).language]
    )
    wake_model = _artifact(
        wake_name, f"{voice.wake.engine} wake word", *solo, languages=languages, phrase=wake_name
    )
    handle_model = _artifact(
        config.llm.model, "Solo's skills, then its language model", *solo, languages=languages
    )
    intent_model = _artifact(
        "solo-skills", f"intents: {', '.join(intents)}", *solo, languages=languages
    )
    asr = _artifact(
        "solo-stt", "Solo's speech-to-text", *solo, models=[asr_model],
        supports_transcript_streaming=True, requires_external_vad=True,
        prefers_auto_gain_enabled=True, prefers_noise_reduction_enabled=True,
    )  # fmt: skip
    tts = _artifact(
        "solo-tts", "Solo's text-to-speech", *solo, voices=[tts_voice],
        supports_synthesize_streaming=True,
    )  # fmt: skip
    handle = _artifact(
        "solo", "Solo, the offline voice assistant", *solo, models=[handle_model],
        supports_handled_streaming=True, supports_home_control=False,
    )  # fmt: skip
    intent = _artifact("solo-intents", "Solo's skills matcher", *solo, models=[intent_model])
    wake = _artifact("solo-wake", "Solo's wake word detection", *solo, models=[wake_model])
    return {"asr": [asr], "tts": [tts], "handle": [handle], "intent": [intent], "wake": [wake],
            "mic": [], "snd": []}  # fmt: skip
