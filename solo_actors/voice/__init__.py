"""The voice pipeline: microphone to wake word to speech to an answer spoken aloud.

Six actors under the ``voice`` supervisor, each reached by its registered name
(`solo_actors.names`):

    mic -> wake -> vad -> stt -> dialogue -> tts -> speaker
                \\-> speaker (acknowledgement, barge-in)

See docs/voice.md for the flow, the settings and the supervision strategy.
"""
