"""How a finished or streaming turn is shown: the console actor (``--text`` at a terminal)
and the speaker's per-turn report in the other modes.

The actors' message handlers are called directly, one message at a time, so what each
message prints is seen before the next one (streaming) without a tree; what the console
passes on (to tts, and to the mic) is recorded instead of sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from solo_actors.config import Config
from solo_actors.messages import LLMDone, LLMToken, Message, ReplyShown, StageTimes, TurnDone
from solo_actors.runtime.logs import configure_logging
from solo_actors.voice import console as console_module
from solo_actors.voice.console import EMPTY_REPLY, ConsoleActor, turn_problem
from solo_actors.voice.options import RunOptions
from solo_actors.voice.speaker import SpeakerActor

TURN = "t1"


def done(reply: str, error: str | None = None) -> TurnDone:
    return TurnDone(
        turn_id=TURN,
        conversation_id="c",
        source="text",
        text="What is the capital of France?",
        reply=reply,
        times=StageTimes(speech_end=1.0, done=2.0),
        error=error,
    )


def token(text: str, index: int) -> LLMToken:
    return LLMToken(request_id="r", text=text, index=index, turn_id=TURN)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Message]]:
    """What the console actor sends, by name, instead of sending it."""
    messages: list[tuple[str, Message]] = []
    monkeypatch.setattr(
        console_module, "send", lambda name, message: messages.append((name, message)) or True
    )
    return messages


def test_the_console_prints_each_token_as_it_comes(
    make_config: Callable[..., Config],
    capsys: pytest.CaptureFixture[str],
    sent: list[tuple[str, Message]],
) -> None:
    console = ConsoleActor(make_config())
    shown = []
    for index, piece in enumerate(["\n", " The", " capital", " is Paris."]):
        console.on_receive(token(piece, index))
        shown.append(capsys.readouterr().out)
    # Leading blank output is held back; then every token is on screen before the next.
    assert shown == ["", "solo> The", " capital", " is Paris."]
    console.on_receive(LLMDone(request_id="r", text="The capital is Paris.", prompt_tokens=9,
                               prompt_eval_tokens=9, completion_tokens=4, tokens_per_second=9.0,
                               time_to_first_token=0.1, finish_reason="stop"))  # fmt: skip
    console.on_receive(done("The capital is Paris."))
    out, err = capsys.readouterr()
    assert (out, err) == ("\n", "")
    # Everything goes on to tts, which speaks it; then the mic may show the next prompt.
    assert [name for name, _ in sent] == ["tts"] * 6 + ["mic"]
    assert sent[-1][1] == ReplyShown(TURN)


def test_the_console_says_why_a_turn_failed(
    make_config: Callable[..., Config],
    capsys: pytest.CaptureFixture[str],
    sent: list[tuple[str, Message]],
) -> None:
    console = ConsoleActor(make_config())
    console.on_receive(done("Sorry, something went wrong.", error="no reply within 1 s"))
    out, err = capsys.readouterr()
    assert out == "solo> Sorry, something went wrong.\n"  # the apology, though nothing streamed
    assert err == "solo: turn failed: no reply within 1 s\n"


def test_the_console_says_a_reply_was_empty(
    make_config: Callable[..., Config],
    capsys: pytest.CaptureFixture[str],
    sent: list[tuple[str, Message]],
) -> None:
    console = ConsoleActor(make_config())
    console.on_receive(token(" \n", 0))
    console.on_receive(done(" \n"))
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"solo: turn failed: {EMPTY_REPLY}\n"


def test_a_reply_cut_off_by_the_user_is_no_problem() -> None:
    assert turn_problem(done(""), interrupted=True) is None
    assert turn_problem(done("  ")) == EMPTY_REPLY
    assert turn_problem(done("Paris.")) is None
    assert turn_problem(done("Sorry.", error="boom")) == "boom"


@pytest.mark.parametrize(
    ("turn", "problem"),
    [(done("\n \n"), EMPTY_REPLY), (done("Sorry.", error="the llm crashed"), "the llm crashed")],
)
def test_the_speaker_reports_the_problem_in_every_mode(
    turn: TurnDone,
    problem: str,
    make_config: Callable[..., Config],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    config = make_config()
    configure_logging(config.log)  # the test profile's: warnings only, on stderr
    json_lines = SpeakerActor(config, RunOptions(json=True, output_dir=str(tmp_path)))
    json_lines.report(turn, None, interrupted=False)
    out, err = capsys.readouterr()
    assert json.loads(out)["error"] == problem
    assert err == ""

    speaker = SpeakerActor(config, RunOptions(input="q.wav"))  # replies only spoken
    speaker.report(turn, None, interrupted=False)
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"solo: turn failed: {problem}\n")

    at_terminal = SpeakerActor(config, RunOptions(text=True, console=True))
    at_terminal.report(turn, None, interrupted=False)
    assert capsys.readouterr() == ("", "")  # the console actor said it already


@pytest.mark.parametrize(
    ("options", "json_lines"),
    [
        (RunOptions(text=True), True),  # piped typed lines: scripts read JSON
        (RunOptions(text=True, console=True), False),  # at a terminal: the conversation
        (RunOptions(input="q.wav"), False),  # replies spoken, problems on stderr
        (RunOptions(input="q.wav", json=True), True),
        (RunOptions(input="q.wav", output_dir="out"), True),
        (RunOptions(), False),  # the microphone
    ],
)
def test_who_gets_json_lines(options: RunOptions, json_lines: bool) -> None:
    assert options.json_lines is json_lines
