"""How this run of the assistant gets its input and gives its output, as data.

The CLI builds a `RunOptions` from ``solo run`` flags and the tree hands it to the voice
actors, so a restarted actor gets exactly the options its first incarnation had.
"""

from __future__ import annotations

import msgspec

from solo_actors.runtime.ids import new_id


class RunOptions(msgspec.Struct, frozen=True, kw_only=True):
    input: str | None = None
    """A WAV file to listen to instead of the microphone."""
    realtime: bool = False
    """Feed the file (and play the replies) at the speed of real time, as a device would."""
    no_wake: bool = False
    """With `input`: the whole file is one question (no wake word, no end-of-speech)."""
    text: bool = False
    """Read the user's turns as lines from stdin, skipping the wake word and STT."""
    console: bool = False
    """With `text` on a terminal: the conversation is printed for a person (`console`)."""
    json: bool = False
    """Print one JSON line per finished turn, whatever stdout is."""
    output_dir: str | None = None
    """Write each reply to a WAV file here instead of the speaker."""
    conversation_id: str = msgspec.field(default_factory=new_id)
    """One conversation per run: the llm keeps its history across the run's turns."""

    @property
    def finite(self) -> bool:
        """The input ends (a file, stdin), so the run ends once it is answered."""
        return self.input is not None or self.text

    @property
    def json_lines(self) -> bool:
        """Each finished turn is one JSON line on stdout, for scripts: asked for with
        ``--json``, and the form of ``--text`` off a terminal and of ``--output-dir``."""
        return not self.console and (self.json or self.text or self.output_dir is not None)
