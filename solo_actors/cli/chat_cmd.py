"""``solo chat``: talk to the language model from a terminal, through the llm actor.

Interactive (stdin is a terminal): a ``you>`` prompt with line editing, replies streamed as
they are generated with a short stats line after each, and slash commands (``/help``).
Ctrl-C while a reply streams cancels it (the actor stops within one token); Ctrl-C or
Ctrl-D at the prompt quits.

Scripted (stdin is a pipe or a file): one prompt per line; each reply is streamed to stdout
and ends with a newline; no prompt, banner, stats line or colour. Errors go to stderr and
the exit code is 1 if any request failed. Slash commands work the same, so a script can end
with ``/stats``.

The turns of a session are one conversation; ``/reset`` starts a new one. The actor runs
under a small supervisor of its own, registered as ``llm`` and isolated as in the assistant
(``[isolation]``), and is reached by that name with messages only: each reply streams into an
inbox (``supervisors.inbox``) that monitors the llm, so an llm that dies mid-reply is an
error at once.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import Any, TextIO

import msgspec
import pykka

import supervisors
from solo_actors.config import Config
from solo_actors.config.schema import LLMConfig
from solo_actors.llm import LLMEvent, child_spec
from solo_actors.messages import (
    LLMCancel,
    LLMDescribe,
    LLMDescription,
    LLMDone,
    LLMError,
    LLMForget,
    LLMRequest,
    LLMToken,
)
from solo_actors.names import LLM_NAME
from solo_actors.runtime.ids import new_id
from solo_actors.runtime.logs import configure_logging

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ASK_TIMEOUT = 30.0
"""Seconds for the llm to answer a slash command (it may be loading, or mid-reply)."""

COMMANDS = {
    "/reset": "forget this conversation and start a new one",
    "/params": "show the model, template, sampling settings and the model's process",
    "/stats": "show the actor's figures: tokens/s, cache hits, ...",
    "/help": "show this list",
    "/quit": "leave (also Ctrl-D)",
}
STATS_SHOWN = (
    "tokens_per_second",
    "time_to_first_token_ms",
    "prompt_tokens",
    "prompt_eval_tokens",
    "completion_tokens",
    "requests",
    "cache_hits",
    "cache_misses",
    "kv_restores",
    "cancelled",
    "errors",
    "conversations",
    # The remote engine's (llm.engine = "openai"; absent otherwise): docs/openai.md.
    "serving",
    "remote_error",
    "fallbacks",
)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    chat = subparsers.add_parser(
        "chat", parents=[common], help="talk to the language model (streaming, multi-turn)"
    )
    chat.add_argument("--model", metavar="ID", help="catalog id or .gguf path (default: llm.model)")
    chat.add_argument("--system", metavar="TEXT", help="system prompt (default: llm.system_prompt)")
    chat.add_argument("--temp", type=float, metavar="X", help="temperature; 0 = greedy")
    chat.add_argument("--max-tokens", type=int, metavar="N", help="longest reply in tokens")
    chat.set_defaults(handler=chat_main)


def chat_config(args: argparse.Namespace, config: Config) -> Config:
    """`config` with the command-line overrides, validated like the config file."""
    overrides = {
        "model": args.model,
        "system_prompt": args.system,
        "temperature": args.temp,
        "max_tokens": args.max_tokens,
    }
    llm = msgspec.to_builtins(config.llm) | {k: v for k, v in overrides.items() if v is not None}
    return msgspec.structs.replace(config, llm=msgspec.convert(llm, LLMConfig))


def chat_main(args: argparse.Namespace, config: Config) -> int:
    try:
        config = chat_config(args, config)
    except msgspec.ValidationError as error:
        print(f"solo chat: bad option: {error}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(config.log)
    interactive = sys.stdin.isatty()
    try:
        tree = supervisors.start_supervisor(
            supervisors.SupFlags(
                intensity=config.supervisor.intensity, period=config.supervisor.period
            ),
            [child_spec(config, LLM_NAME)],
            name="chat",
        )
    except supervisors.StartError as error:
        print(f"solo chat: {error}", file=sys.stderr)
        return EXIT_FAILED
    try:
        session = ChatSession(sys.stdout, sys.stderr, color=interactive and sys.stdout.isatty())
        lines = prompts() if interactive else script_lines(sys.stdin.buffer)
        return session.run(lines, interactive)
    finally:
        tree.stop()


def prompts() -> Iterator[str]:
    """Lines typed at a ``you>`` prompt, with readline editing; ends on Ctrl-D/Ctrl-C."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (importing it gives input() line editing and history)
    while True:
        try:
            yield input("you> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return


def script_lines(stream: Any) -> Iterator[str]:
    """Lines of a piped stdin. Undecodable bytes are kept (as surrogate escapes) so that the
    actor, not this loop, reports them, like any other bad prompt."""
    for raw in stream:
        yield raw.decode("utf-8", "surrogateescape").rstrip("\r\n")


class ChatSession:
    """One conversation with the llm actor, printed to `out`."""

    def __init__(self, out: TextIO, err: TextIO, *, color: bool) -> None:
        self.out = out
        self.err = err
        self.color = color
        self.conversation_id = new_id()
        self.failures = 0

    def run(self, lines: Iterator[str], interactive: bool) -> int:
        if interactive:
            params = self.describe()
            self.note(f"Solo chat: {params.model} ({params.template} template). /help")
        for line in lines:
            text = line.strip()
            if not text:
                continue
            if text.startswith("/"):
                if not self.command(text.split()[0].lower()):
                    break
            else:
                self.ask(line, interactive)
        return EXIT_FAILED if self.failures else EXIT_OK

    def actor(self) -> supervisors.SupervisedRef[Any]:
        ref = supervisors.whereis(LLM_NAME, timeout=30)
        if ref is None:
            raise supervisors.NoProcError(LLM_NAME)
        return ref  # type: ignore[return-value]

    def describe(self) -> LLMDescription:
        self.actor()  # waits for a restarting llm
        reply = supervisors.ask(LLM_NAME, LLMDescribe(), timeout=ASK_TIMEOUT)
        assert isinstance(reply, LLMDescription)
        return reply

    def ask(self, prompt: str, interactive: bool) -> None:
        with supervisors.inbox() as box:
            try:
                self.actor()  # waits for a restarting llm
            except pykka.ActorDeadError as error:
                self.fail(str(error))
                return
            box.monitor(LLM_NAME)
            request = LLMRequest(prompt=prompt, conversation_id=self.conversation_id,
                                 reply_to=box.name)  # fmt: skip
            if supervisors.cast(LLM_NAME, request) != "ok":
                self.fail("the language model is not running or is busy; try again")
                return
            while True:
                try:
                    if self.show(box.receive(), interactive):
                        return
                except KeyboardInterrupt:
                    # Ctrl-C can land anywhere in this loop; the reply ends with "cancelled".
                    supervisors.cast(LLM_NAME, LLMCancel(request_id=request.request_id))
                except pykka.ActorDeadError as error:
                    self.out.write("\n")
                    self.fail(f"the language model stopped: {error}")
                    return

    def show(self, event: LLMEvent, interactive: bool) -> bool:
        """Print one event of a reply; True at the end of the reply."""
        if isinstance(event, LLMToken):
            self.out.write(event.text)
            self.out.flush()
            return False
        if isinstance(event, LLMError):
            self.fail(event.message)
            return True
        self.out.write("\n")
        if interactive:
            self.note(summary(event))
        self.out.flush()
        return True

    def command(self, name: str) -> bool:
        """Run a slash command; False means leave."""
        if name in ("/quit", "/exit"):
            return False
        if name == "/reset":
            supervisors.ask(LLM_NAME, LLMForget(self.conversation_id), timeout=ASK_TIMEOUT)
            self.conversation_id = new_id()
            self.note("(new conversation)")
        elif name == "/params":
            # pid: the process the model runs in (its own, when [isolation.llm] says so).
            shown = {key: value for key, value in msgspec.structs.asdict(self.describe()).items()
                     if value != ""}  # fmt: skip
            self.table({**shown, "pid": self.actor().pid})
        elif name == "/stats":
            # Published figures are read without a message: instant even mid-reply.
            figures = self.actor().lifecycle.figures
            self.table({key: figures[key] for key in STATS_SHOWN if key in figures})
        elif name == "/help":
            self.table(COMMANDS)
        else:
            print(f"unknown command {name}; /help lists them", file=self.err)
        return True

    def table(self, rows: dict[str, Any]) -> None:
        width = max(map(len, rows), default=0)
        for key, value in rows.items():
            self.out.write(f"{key:<{width}}  {value}\n")
        self.out.flush()

    def note(self, text: str) -> None:
        """A line for people, dimmed on a colour terminal."""
        self.out.write(f"\x1b[2m{text}\x1b[0m\n" if self.color else f"{text}\n")
        self.out.flush()

    def fail(self, message: str) -> None:
        self.failures += 1
        print(f"error: {message}", file=self.err)


def summary(done: LLMDone) -> str:
    """The stats line shown after an interactive reply."""
    if done.cached:
        return f"[cached reply, {done.time_to_first_token * 1000:.1f} ms]"
    parts = [f"{done.completion_tokens} tokens"]
    if done.completion_tokens:
        parts.append(f"{done.tokens_per_second:.1f} tok/s")
        parts.append(f"first token {done.time_to_first_token * 1000:.0f} ms")
    parts.append(f"prompt {done.prompt_eval_tokens}/{done.prompt_tokens} evaluated")
    if done.finish_reason != "stop":
        parts.append(done.finish_reason)
    return f"[{', '.join(parts)}]"
