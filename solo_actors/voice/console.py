"""The terminal conversation: ``--text`` with stdin and stdout on a terminal.

A person typing at a terminal wants a chat, not a log: a ``you>`` prompt, the reply written
after ``solo>`` as the llm writes it, and a line saying why when a turn fails or its reply
is empty. (Off a terminal ``--text`` prints one JSON line per turn instead, for scripts, as
``--json`` does anywhere.)

The console actor is a typed turn's ``reply_to``: it prints the reply's tokens as they
arrive and passes every message on to tts, which speaks the reply as for any turn. At the
turn's `TurnDone` it ends the reply's line and tells the mic `ReplyShown`; the mic's stdin
reader shows the next prompt only then, so a prompt never lands inside a reply.

`turn_problem` is what every mode says about a turn that went wrong: this actor on the
terminal, the speaker's JSON line (its ``error``) or a line on stderr otherwise.
"""

from __future__ import annotations

import sys
from typing import Any

import supervisors
from solo_actors.config import Config
from solo_actors.messages import LLMDone, LLMError, LLMToken, ReplyShown, TurnDone
from solo_actors.names import MIC, TTS
from solo_actors.voice.mail import send

PROMPT = "you> "
REPLY = "solo> "

EMPTY_REPLY = "the language model's reply was empty (only whitespace)"


def banner(model: str) -> str:
    """The conversation's first line."""
    return f"Solo, offline ({model}). Ask something; Ctrl-D to leave."


def turn_problem(done: TurnDone, *, interrupted: bool = False) -> str | None:
    """Why a finished turn gave the user no answer, or None if it did. A reply cut off by
    the user (barge-in) is no problem, however little of it there was."""
    if done.error:
        return done.error
    if not done.reply.strip() and not interrupted:
        return EMPTY_REPLY
    return None


def problem_line(problem: str) -> str:
    """The line a person reads on stderr about a turn that went wrong."""
    return f"solo: turn failed: {problem}"


class ConsoleActor(supervisors.SupervisedActor):
    """Prints typed turns' replies as they stream; see the module docstring."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.model = config.llm.model
        self.started: set[str] = set()
        """Turns whose ``solo>`` line has begun (its first word printed)."""

    def on_start(self) -> None:
        self.write(banner(self.model) + "\n")

    def on_stop(self) -> None:
        # The run ends at the prompt (Ctrl-D, Ctrl-C): the shell's starts on its own line.
        self.write("\n")

    def on_receive(self, message: Any) -> Any:
        if not isinstance(message, LLMToken | LLMDone | LLMError | TurnDone):
            return super().on_receive(message)
        send(TTS, message)
        if isinstance(message, LLMToken):
            self.show_token(message)
        elif isinstance(message, TurnDone):
            self.show_done(message)
        return None

    def show_token(self, token: LLMToken) -> None:
        turn_id = token.turn_id or ""
        text = token.text
        if turn_id not in self.started:
            text = text.lstrip()  # models often open with a space or a line break
            if not text:
                return
            self.started.add(turn_id)
            text = REPLY + text
        self.write(text)

    def show_done(self, done: TurnDone) -> None:
        if done.turn_id in self.started:
            self.started.discard(done.turn_id)
            self.write("\n")
        elif done.reply.strip():
            # Nothing streamed: the apology of a failed turn, or a workflow's answer.
            self.write(f"{REPLY}{done.reply.strip()}\n")
        problem = turn_problem(done)
        if problem:
            print(problem_line(problem), file=sys.stderr, flush=True)
        send(MIC, ReplyShown(done.turn_id))

    @staticmethod
    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()
