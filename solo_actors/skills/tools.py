"""The skills as tools for the llm (function calling), declared as data.

``skills.tools_file`` (config/tools/skills.toml) lists each tool: its name, the description
and parameters the model is shown, and sentences that say a call in words. `SkillTools`
turns a call into the first sentence whose placeholders all have arguments; the skills actor
then matches it with the ordinary skill templates, so a call is parsed, checked, refused and
stored exactly like the same request spoken (no second code path to keep right).

A call acts only on what the user said: a timer's length or an alarm's or reminder's time
that is not in the user's words (`CallTool.said`) is refused, not guessed (`unsaid`).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import msgspec

from solo_actors.messages import ToolDefinition
from solo_actors.skills.templates import Matcher, SkillMatch
from solo_actors.skills.words import ClockTime

_PLACEHOLDER = re.compile(r"{(\w+)}")


GROUNDED = ("duration", "time")
"""Slots (named as their kind in every template) a call may act on only if the user said
them. A small model fills them in from anything: "set the thermostat to 21 degrees" became
a 21-minute timer, "call my sister" a reminder."""


def same_value(kind: str, called: object, said: object) -> bool:
    if kind == "duration":
        return abs(float(called) - float(said)) < 1  # type: ignore[arg-type]
    assert isinstance(called, ClockTime) and isinstance(said, ClockTime)
    # "7" said, "7:00 PM" called: the model may settle morning or evening.
    return (called.hour % 12, called.minute) == (said.hour % 12, said.minute)


def unsaid(matcher: Matcher, match: SkillMatch, said: str) -> str | None:
    """The first of the `GROUNDED` slots of ``match`` whose value the user's words ``said``
    do not say; None when every one of them was said."""
    for kind in GROUNDED:
        value = match.slots.get(kind)
        if value is None:
            continue
        if not any(same_value(kind, value, heard) for heard in matcher.values_said(said, kind)):
            return kind
    return None


class ToolsFileError(ValueError):
    """The tools file is missing or malformed; the message names the file and the problem."""


class Parameter(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    type: str = "string"
    description: str = ""
    required: bool = False
    number_unit: str = ""
    """Appended to a bare number the model gives ("300" -> "300 seconds")."""


class SkillTool(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: str
    description: str
    sentences: list[str]
    parameters: dict[str, Parameter] = msgspec.field(default_factory=dict)
    answer_all: bool = False
    """Say every sentence (the time *and* the date) instead of the first that fits."""

    def definition(self) -> ToolDefinition:
        properties = {
            name: {"type": p.type, "description": p.description}
            for name, p in self.parameters.items()
        }
        required = [name for name, p in self.parameters.items() if p.required]
        schema: dict[str, object] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        return ToolDefinition(name=self.name, description=self.description, parameters=schema)

    def sentences_for(self, arguments: dict[str, object]) -> list[str]:
        """The sentences that say this call (one, or all with `answer_all`); a `ValueError`
        naming the problem when the arguments fit none."""
        unknown = sorted(set(arguments) - set(self.parameters))
        if unknown:
            known = ", ".join(self.parameters) or "none"
            raise ValueError(f"{self.name} has no argument {', '.join(unknown)} (known: {known})")
        values = {name: self._text(name, value) for name, value in arguments.items()}
        values = {name: value for name, value in values.items() if value}
        missing = [n for n, p in self.parameters.items() if p.required and n not in values]
        if missing:
            raise ValueError(f"{self.name} needs {', '.join(missing)}")
        fitting = [
            _PLACEHOLDER.sub(lambda m: values[m[1]], sentence)
            for sentence in self.sentences
            if set(_PLACEHOLDER.findall(sentence)) <= set(values)
        ]
        if not fitting:
            raise ValueError(f"{self.name}: these arguments fit none of its uses")
        return fitting if self.answer_all else fitting[:1]

    def _text(self, name: str, value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"{self.name}: {name} must be text, got {value!r}")
        text = str(value).strip()
        unit = self.parameters[name].number_unit
        if unit and re.fullmatch(r"\d+(\.\d+)?", text):
            text = f"{text} {unit}"
        return text


class _File(msgspec.Struct, forbid_unknown_fields=True):
    tool: list[SkillTool]


def load_tools(path: Path) -> dict[str, SkillTool]:
    """The tools of a tools file, by name."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        tools = msgspec.convert(data, _File).tool
    except (OSError, tomllib.TOMLDecodeError, msgspec.ValidationError) as error:
        raise ToolsFileError(f"{path}: {error}") from None
    return {tool.name: tool for tool in tools}
