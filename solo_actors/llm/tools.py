"""Function calling for the llm actor: which tools to offer, reading calls, running them.

The model is shown tools through its own chat template (`ChatTemplate.supports_tools`).
Qwen2.5 and Hermes-style models answer a call as ``<tool_call>{"name": ..., "arguments":
{...}}</tool_call>``; small models also write the bare JSON object or fence it in a code
block, so `parse_calls` accepts all three. A call is recognised at the *start* of a reply
(`CallGate`): a reply that starts otherwise streams exactly as it would with no tools, and
only a reply that starts like a call is held back until it ends.

Tools belong to actors (``llm.tool_owners``). `ToolDirectory` asks each owner for its list
(`ListTools`), briefly, keeping the last good answer of an owner that is busy; `call_tool`
asks the owner to run a call (`CallTool`) with a timeout, on a helper thread, so the llm's
own thread keeps reading its cancel board and stops waiting the moment a turn is interrupted.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pykka

import supervisors
from solo_actors.messages import (
    CallTool,
    FunctionCall,
    ListTools,
    ToolDefinition,
    ToolResult,
    Tools,
)

CALL_OPEN = "<tool_call>"
CALL_CLOSE = "</tool_call>"
# How a reply that may be a call starts; held back until it is clear (see `CallGate`).
CALL_STARTS = (CALL_OPEN, "{", "```")
_CALL_BLOCK = re.compile(re.escape(CALL_OPEN) + r"(.*?)(?:" + re.escape(CALL_CLOSE) + r"|$)", re.S)
_NAMED = re.compile(r'{\s*"name"\s*:')
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")
LIST_TIMEOUT = 0.5
"""Seconds an owner gets to list its tools before its last list is used."""
POLL_S = 0.02
"""How often the llm reads its cancel board while a tool runs."""


class MalformedCall(ValueError):
    """The reply looks like a tool call but is not a valid one; the message says how."""


CALL_FORMAT = '<tool_call>{"name": "<tool name>", "arguments": {<arguments as JSON>}}</tool_call>'


def openai_entries(tools: Iterable[ToolDefinition]) -> list[dict[str, object]]:
    """Tools in the shape chat templates (and OpenAI's API) expect."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in tools
    ]


def _call_from(value: object) -> FunctionCall:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise MalformedCall(f'a tool call is a JSON object with a "name"; write {CALL_FORMAT}')
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):  # OpenAI-style: the arguments as a JSON string
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as error:
            raise MalformedCall(f"the arguments of {value['name']} are not JSON: {error}") from None
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise MalformedCall(f"the arguments of {value['name']} must be a JSON object")
    return FunctionCall(name=value["name"], arguments=arguments)


def _objects(text: str) -> list[object]:
    """The JSON values in `text`: one, or several one after another (one per line)."""
    decoder = json.JSONDecoder()
    values, index, text = [], 0, text.strip()
    while index < len(text):
        try:
            value, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError as error:
            raise MalformedCall(
                f"the tool call is not valid JSON ({error}); write {CALL_FORMAT}"
            ) from None
        values.append(value)
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
    return values


def _undoubled(text: str) -> str:
    """A call in doubled braces with its outer pair taken off. Qwen2.5's own chat template
    shows the format as ``{{"name": <function-name>, ...}}`` (the braces of a Jinja string,
    written out literally), and its models copy it: "What is 17 times 23?" was answered
    ``{{"name": "calculate", "arguments": {"expression": "17 times 23"}}}``."""
    if text.startswith("{{") and text.endswith("}}"):
        return text[1:-1].strip()
    return text


def parse_calls(text: str) -> list[FunctionCall] | None:
    """The calls in a reply, None if it is no call at all; `MalformedCall` if it tries."""
    stripped = _undoubled(text.strip())
    if stripped.startswith(CALL_OPEN):
        blocks = [
            _undoubled(_FENCE.sub("", block.strip())) for block in _CALL_BLOCK.findall(stripped)
        ]
        calls = [_call_from(value) for block in blocks for value in _objects(block)]
        if not calls:
            raise MalformedCall(f"the tool call is empty; write {CALL_FORMAT}")
        return calls
    if stripped.startswith("```"):
        stripped = _FENCE.sub("", stripped)
    if not stripped.startswith("{"):
        return None
    try:
        values = _objects(stripped)
    except MalformedCall:
        if _NAMED.match(stripped):
            raise  # '{"name": ...' cut short or broken: a call, badly written
        return None  # text that starts with a brace but is no JSON: an ordinary reply
    if not all(isinstance(v, dict) and "name" in v for v in values):
        return None
    return [_call_from(value) for value in values]


def forced_start(template: str, name: str | None) -> str:
    """The first characters of a reply that must be a call, of the tool `name` (of any
    tool when None), as the model's chat `template` shows calls: in ``<tool_call>`` when it
    uses them (Qwen2.5, Hermes), else as the bare JSON object. Written into the prompt,
    they leave the model only the call's name (or arguments) to write. The arguments'
    opening brace is written too: left the bare value, the 1.5B wrote ``"arguments": 5``."""
    opening = CALL_OPEN + "\n" if CALL_OPEN in template else ""
    chosen = f'{json.dumps(name)}, "arguments": {{' if name is not None else '"'
    return f'{opening}{{"name": {chosen}'


class CallGate:
    """Decides, from a reply's first characters, whether it streams or is held as a call,
    and keeps the names of Solo's own tools out of a reply that streams.

    `feed` returns the text to stream now. While the start may still be a call nothing is
    returned; once it can't be, everything held is released and the rest passes straight
    through. A reply that starts like a call is held whole: `held` is its text.

    A reply that streams but tells the user to use or call one of `tools` (backquoted, or
    an underscored name bare: "you would use the `set_alarm` function with ...") is a call
    the model described instead of making. The coder models do this, then write the
    arguments as a JSON block, all of it read out by tts. The gate streams nothing from the
    name on and says which tool it was (`talked_of`), so the llm can make the call for it.
    A name not so introduced (a list of the tools) streams as it comes. To know a name
    before it streams, the gate holds a reply's last word while it may still become one
    ("`set"), one token at most.
    """

    def __init__(self, forced: str = "", tools: Iterable[str] = ()) -> None:
        self.held = ""
        self.deciding = True
        self.holding = False
        self.talked_of: str | None = None
        """The tool the streamed text named (and stopped at); None while it names none."""
        self.streamed = ""
        """The text released so far."""
        self._names = tuple(sorted(tools, key=len, reverse=True))
        self._mentions = _mentions(self._names) if self._names else None
        self._word = ""  # the last word, held while it may become a tool's name
        self.feed(forced)  # a forced call's start, written for the model: held as its own

    def feed(self, text: str) -> str:
        if not self.deciding:
            if self.holding:
                self.held += text
                return ""
            return self._screened(text)
        self.held += text
        start = self.held.lstrip()
        if not start or any(marker.startswith(start) for marker in CALL_STARTS):
            return ""  # still undecided: "<tool" may become "<tool_call>"
        self.deciding = False
        if start.startswith(CALL_STARTS):
            self.holding = True
            return ""
        released, self.held = self.held, ""
        return self._screened(released)

    def finish(self) -> str:
        """The end of the reply: an undecided start ("<tool") was text after all, and a
        last word held in case it became a tool's name was not one."""
        if self.deciding:
            self.deciding = False
            released, self.held = self.held, ""
            return self._screened(released) + self.finish()
        if self.holding or self.talked_of is not None:
            return ""
        released, self._word = self._word, ""
        self.streamed += released
        return released

    def _screened(self, text: str) -> str:
        """What of `text` (after the held last word) streams: all of it up to a tool's name
        the user is told to use or call, or to a last word that may still become one."""
        if self.talked_of is not None:
            return ""
        if self._mentions is None:
            self.streamed += text
            return text
        text, self._word = self._word + text, ""
        named = _named_tool(text, self._mentions)
        if named is not None:
            name, start = named
            if _USE_BEFORE.search(self.streamed[-40:] + text[:start]):
                self.talked_of = name
                self.streamed += text[:start]
                return text[:start]
            end = text.index(name, start) + len(name)  # named, not as a call: it streams
            self.streamed += text[:end]
            return text[:end] + self._screened(text[end:])
        end = _last_word_start(text, self._names)
        self._word = text[end:]
        self.streamed += text[:end]
        return text[:end]


_USE_BEFORE = re.compile(
    r"\b(?:use|using|call|calling|run|running|invoke|invoking)\s+(?:the\s+|a\s+)?$", re.I
)
"""What comes before a tool's name when the model tells the user to make the call."""
_LAST_WORD = re.compile(r"`?\w*$")


def _mentions(names: Sequence[str]) -> re.Pattern[str]:
    """A mention of one of `names`: backquoted, or bare with an underscore (compiled once per
    reply, not per token)."""
    quoted = "|".join(map(re.escape, names))
    bare = "|".join(re.escape(name) for name in names if "_" in name) or "(?!)"
    return re.compile(rf"(?<!\w)(?:`(?P<quoted>{quoted})|(?P<bare>{bare}))(?!\w)")


def _named_tool(text: str, mentions: re.Pattern[str]) -> tuple[str, int] | None:
    """The first tool `text` names (`_mentions`) and where its mention starts; None if it
    names none."""
    found = mentions.search(text)
    if found is None:
        return None
    return found.group("quoted") or found.group("bare"), found.start()


def _last_word_start(text: str, names: Sequence[str]) -> int:
    """Where the last word of `text` starts if it may still become a tool's name (a prefix
    of one, backquoted or underscored; a lone backquote), else the end of `text`."""
    match = _LAST_WORD.search(text)
    assert match is not None  # the pattern matches the empty end
    word = match.group()
    bare = word.removeprefix("`")
    if word.startswith("`") and any(name.startswith(bare) for name in names):
        return match.start()
    if bare and any("_" in name and name.startswith(bare) for name in names):
        return match.start()
    return len(text)


@dataclass(frozen=True)
class Offered:
    """The tools offered to one request: what the template renders, and who runs each."""

    definitions: list[ToolDefinition]
    owners: dict[str, str]
    """Tool name -> the registered name of the actor that runs it (empty: the caller's
    tools, returned to the caller instead)."""

    @property
    def entries(self) -> list[dict[str, object]]:
        return openai_entries(self.definitions)


class ToolDirectory:
    """The tools of ``llm.tool_owners``, by name, each with the actor that owns it."""

    def __init__(self, owners: Sequence[str], list_timeout: float) -> None:
        self.owners = tuple(owners)
        self.list_timeout = list_timeout
        self._known: dict[str, list[ToolDefinition]] = {}

    def refresh(self) -> Offered:
        """Ask every owner for its tools now; an owner that does not answer in time keeps
        its last list, one that is not running offers nothing."""
        for owner in self.owners:
            try:
                answer = supervisors.ask(owner, ListTools(), timeout=self.list_timeout)
            except pykka.Timeout:
                continue
            except (pykka.ActorDeadError, supervisors.BusyError):
                self._known.pop(owner, None)
                continue
            if isinstance(answer, Tools):
                self._known[owner] = list(answer.items)
        return self.current()

    def current(self) -> Offered:
        """The tools as last listed (the first owner to offer a name keeps it)."""
        owners: dict[str, str] = {}
        definitions: list[ToolDefinition] = []
        for owner in self.owners:
            for tool in self._known.get(owner, ()):
                if tool.name not in owners:
                    owners[tool.name] = owner
                    definitions.append(tool)
        return Offered(definitions, owners)


_callers = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="llm-tool")


def call_tool(
    owner: str,
    call: FunctionCall,
    said: str,
    room: str | None,
    timeout: float,
    stop: Callable[[], bool],
) -> ToolResult | None:
    """Ask `owner` to run `call`, made for the user's words `said` in `room` (None: Solo's
    own), waiting at most `timeout` seconds; None if `stop()` turned true first (the turn
    was interrupted: its answer no longer matters)."""
    request = CallTool(name=call.name, arguments=call.arguments, call_id=call.call_id,
                       said=said, room=room)  # fmt: skip
    pending = _callers.submit(supervisors.ask, owner, request, timeout)
    while True:
        try:
            answer = pending.result(timeout=POLL_S)
            break
        except concurrent.futures.TimeoutError:
            if stop():
                return None
        except pykka.Timeout:
            return _failed(call, f"the tool {call.name} did not answer within {timeout:g} s")
        except (pykka.ActorDeadError, supervisors.BusyError) as error:
            why = "is busy" if isinstance(error, supervisors.BusyError) else "is not running"
            return _failed(call, f"the tool {call.name} is unavailable: {owner} {why}")
    if not isinstance(answer, ToolResult):
        return _failed(call, f"the tool {call.name} gave no result ({type(answer).__name__})")
    return answer


def _failed(call: FunctionCall, message: str) -> ToolResult:
    return ToolResult(call_id=call.call_id, name=call.name, content=message, error=True)


def result_text(result: ToolResult) -> str:
    """A tool's answer as the model reads it: errors say so, so it does not present them
    as results."""
    return f"Error: {result.content}" if result.error else result.content
