"""The ``voice`` supervisor and its children, as data.

Children start consumers first (the turn watch, speaker, tts, stt, vad, wake, on a
terminal the console, then mic), so by the time the microphone produces a frame every name
it flows to is registered. The strategy is one_for_one: each actor holds only its own part
of a turn, and every message carries the turn id, so a restarted actor loses at most the
turns it was handling or held in its mailbox (answered with an apology: by the actor itself,
or by the turn watch) and needs none of its peers restarted. rest_for_one would restart the mic when
stt crashes, which re-opens the device and, for a file input, plays the file again from the
start. docs/voice.md has the full reasoning.
"""

from __future__ import annotations

import supervisors
from solo_actors.config import Config
from solo_actors.names import CONSOLE, MIC, SPEAKER, STT, TTS, TURN_WATCH, VAD, VOICE, WAKE
from solo_actors.runtime.specs import worker_spec
from solo_actors.voice.console import ConsoleActor
from solo_actors.voice.mic import MicActor
from solo_actors.voice.options import RunOptions
from solo_actors.voice.speaker import SpeakerActor
from solo_actors.voice.stt import SttActor
from solo_actors.voice.tts import TtsActor
from solo_actors.voice.turn_watch import TurnWatchActor
from solo_actors.voice.vad import VadActor
from solo_actors.voice.wake import WakeActor


def voice_children(config: Config, options: RunOptions) -> list[supervisors.ChildSpec]:
    children = [
        worker_spec(config, TURN_WATCH, TurnWatchActor, options),
        worker_spec(config, SPEAKER, SpeakerActor, options),
        worker_spec(config, TTS, TtsActor),
        worker_spec(config, STT, SttActor, options),
        worker_spec(config, VAD, VadActor, options),
        worker_spec(config, WAKE, WakeActor),
    ]
    if options.console:
        # Typed turns' replies pass through it to tts, so it starts before the mic.
        children.append(worker_spec(config, CONSOLE, ConsoleActor))
    return [*children, worker_spec(config, MIC, MicActor, options)]


def voice_spec(config: Config, options: RunOptions) -> supervisors.ChildSpec:
    flags = supervisors.SupFlags(
        strategy="one_for_one", intensity=config.voice.intensity, period=config.voice.period
    )
    return supervisors.supervisor_spec(VOICE, flags, voice_children(config, options), name=VOICE)
