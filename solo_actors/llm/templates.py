"""Prompt formatting: the GGUF's own chat template first, a small template library second.

A chat template turns ``[{"role", "content"}, ...]`` into the exact text the model was
trained on. Most GGUF files carry theirs under ``tokenizer.chat_template``; for those that
don't, `LIBRARY` holds one entry per model family. The library is data: adding a family
means adding a `Family` row, never a code branch. Each family also lists the strings that
end an assistant turn when a model writes them as plain text (`Family.stops`) and the
header that opens an assistant turn (echoed by weak models at the start of a reply); the
sanitiser uses both, also for GGUF templates once the family is recognised from the
template's markers.

Function calling: a template that reads a ``tools`` variable (Qwen2.5's, Hermes', Llama
3.1's GGUF templates do) `supports_tools`; the llm then renders the offered tools with it
and reads calls from the reply (`solo_actors.llm.tools`). The library's templates have no
tool section, so a model without one simply gets no tools.

Templates are rendered with llama-cpp-python's `Jinja2ChatFormatter`, the same sandboxed
Jinja2 set-up (and Hugging Face extensions) it uses for GGUF templates, so a library
template and a GGUF template behave alike.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

from llama_cpp.llama_chat_format import Jinja2ChatFormatter

GGUF_TEMPLATE_KEY = "tokenizer.chat_template"
AUTO = "auto"
FALLBACK_FAMILY = "chatml"
# A Jinja expression or statement that reads the `tools` variable ("{% if tools %}",
# "{{ tools | tojson }}", "for tool in tools").
_READS_TOOLS = re.compile(r"{[{%][^}]*\btools\b")


class TemplateError(ValueError):
    """An unknown template name or a template that does not render."""


@dataclass(frozen=True, slots=True)
class Family:
    """One chat-format family: its Jinja template and how to recognise its models."""

    name: str
    template: str
    assistant_header: str
    """What opens an assistant turn; a reply that starts with it is a role echo."""
    stops: tuple[str, ...]
    """Strings that end the turn when the model writes them as text."""
    markers: tuple[str, ...]
    """Substrings that identify this family inside a GGUF's own template."""
    architectures: tuple[str, ...] = ()
    """``general.architecture`` values that mean this family when no name hint matches."""
    name_hints: tuple[str, ...] = ()
    """Lower-case substrings of ``general.name``/``general.basename`` (checked first)."""


# The templates are written for Jinja2ChatFormatter's trim_blocks/lstrip_blocks settings;
# every newline in the output is an explicit "\n" inside the text, never after a tag.
LIBRARY: tuple[Family, ...] = (
    Family(
        name="chatml",
        template=(
            "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
            "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
        ),
        assistant_header="<|im_start|>assistant\n",
        stops=("<|im_end|>", "<|im_start|>", "<|endoftext|>"),
        markers=("<|im_start|>",),
        architectures=("qwen2", "qwen2moe", "qwen3", "qwen3moe"),
        name_hints=("qwen", "smollm", "hermes", "chatml"),
    ),
    Family(
        name="llama3",
        template=(
            "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}"
            "<|end_header_id|>\n\n{{ m.content | trim }}<|eot_id|>{% endfor %}"
            "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n"
            "{% endif %}"
        ),
        assistant_header="<|start_header_id|>assistant<|end_header_id|>",
        stops=("<|eot_id|>", "<|start_header_id|>", "<|end_of_text|>"),
        markers=("<|start_header_id|>",),
        name_hints=("llama-3", "llama 3", "llama3"),
    ),
    Family(
        name="mistral",
        # Mistral has no system role: the system prompt leads the first user turn.
        template=(
            "{{ bos_token }}{% set system = messages[0].content "
            "if messages[0].role == 'system' else '' %}"
            "{% for m in messages if m.role != 'system' %}{% if m.role == 'user' %}[INST] "
            "{% if loop.first and system %}{{ system }}\n\n{% endif %}{{ m.content }} [/INST]"
            "{% else %}{{ m.content }}{{ eos_token }}{% endif %}{% endfor %}"
        ),
        assistant_header="[/INST]",
        stops=("[INST]", "[/INST]", "</s>"),
        markers=("[INST]",),
        architectures=("mistral",),
        name_hints=("mistral", "mixtral"),
    ),
    Family(
        name="phi3",
        template=(
            "{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}<|end|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
        ),
        assistant_header="<|assistant|>",
        stops=("<|end|>", "<|user|>", "<|assistant|>", "<|endoftext|>"),
        markers=("<|assistant|>", "<|end|>"),
        architectures=("phi3",),
        name_hints=("phi-3", "phi3", "phi-4"),
    ),
    Family(
        name="gemma",
        # Gemma has no system role and calls the assistant "model".
        template=(
            "{{ bos_token }}{% set system = messages[0].content "
            "if messages[0].role == 'system' else '' %}"
            "{% for m in messages if m.role != 'system' %}<start_of_turn>"
            "{{ 'model' if m.role == 'assistant' else 'user' }}\n"
            "{% if loop.first and system %}{{ system }}\n\n{% endif %}"
            "{{ m.content }}<end_of_turn>\n{% endfor %}"
            "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
        ),
        assistant_header="<start_of_turn>model\n",
        stops=("<end_of_turn>", "<start_of_turn>"),
        markers=("<start_of_turn>",),
        architectures=("gemma", "gemma2", "gemma3"),
        name_hints=("gemma",),
    ),
)

FAMILIES: Mapping[str, Family] = {family.name: family for family in LIBRARY}

# Any family's turn markers written as text end a reply, whatever the model's own family:
# a weak model sometimes drifts into another format it saw in training. A hallucinated next
# user turn ("\nUser:") ends it too.
ALL_STOPS: tuple[str, ...] = (
    *dict.fromkeys(stop for family in LIBRARY for stop in family.stops),
    "\nUser:",
    "\nuser:",
)
ROLE_ECHOES: tuple[str, ...] = (
    *dict.fromkeys(family.assistant_header.strip() for family in LIBRARY),
    "assistant:",
    "assistant\n",
    "### assistant:",
)


def guess_family(metadata: Mapping[str, str]) -> Family:
    """The library family of a model, from its template markers, name, then architecture."""
    gguf_template = metadata.get(GGUF_TEMPLATE_KEY, "")
    for family in LIBRARY:
        if gguf_template and any(marker in gguf_template for marker in family.markers):
            return family
    names = f"{metadata.get('general.name', '')} {metadata.get('general.basename', '')}".lower()
    for family in LIBRARY:
        if any(hint in names for hint in family.name_hints):
            return family
    architecture = metadata.get("general.architecture", "")
    for family in LIBRARY:
        if architecture in family.architectures:
            return family
    return FAMILIES[FALLBACK_FAMILY]


@dataclass(frozen=True)
class ChatTemplate:
    """A compiled chat template plus what the sanitiser needs to know about its family."""

    source: str
    origin: str
    """"gguf" or the library family name; shown by `solo chat /params`."""
    family: Family
    bos_token: str = ""
    eos_token: str = ""
    _formatters: dict[bool, Jinja2ChatFormatter] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        try:
            for add_generation_prompt in (True, False):
                self._formatters[add_generation_prompt] = Jinja2ChatFormatter(
                    template=self.source,
                    eos_token=self.eos_token,
                    bos_token=self.bos_token,
                    add_generation_prompt=add_generation_prompt,
                )
        except Exception as error:  # jinja2 raises several unrelated types
            message = f"chat template ({self.origin}) does not compile: {error}"
            raise TemplateError(message) from None

    @cached_property
    def supports_tools(self) -> bool:
        """The template renders a ``tools`` list: the model was trained on function calls."""
        return bool(_READS_TOOLS.search(self.source))

    @cached_property
    def digest(self) -> str:
        """sha256 of the template text: part of the response-cache key."""
        return hashlib.sha256(self.source.encode()).hexdigest()

    def render(
        self,
        messages: Sequence[Mapping[str, str]],
        add_generation_prompt: bool,
        tools: Sequence[Mapping[str, object]] | None = None,
    ) -> str:
        """The prompt text for `messages`, ending with an open assistant turn if asked;
        `tools` (OpenAI-style ``{"type": "function", "function": ...}`` entries) are
        rendered where the template puts them."""
        formatter = self._formatters[add_generation_prompt]
        # llama-cpp-python types each message as a TypedDict per role; ours are plain.
        chat = cast("list[Any]", [dict(message) for message in messages])
        listed = cast("list[Any]", list(tools)) if tools else None
        return formatter(messages=chat, tools=listed).prompt


def select_template(
    setting: str, metadata: Mapping[str, str], bos_token: str = "", eos_token: str = ""
) -> ChatTemplate:
    """The template for `setting` ("auto" or a family name) and a model's GGUF metadata."""
    if setting == AUTO:
        family = guess_family(metadata)
        gguf_template = metadata.get(GGUF_TEMPLATE_KEY)
        if gguf_template:
            source, origin = gguf_template, "gguf"
        else:
            source, origin = family.template, family.name
    elif setting in FAMILIES:
        family = FAMILIES[setting]
        source, origin = family.template, family.name
    else:
        known = ", ".join([AUTO, *FAMILIES])
        raise TemplateError(f"llm.template: unknown template {setting!r} (known: {known})")
    return ChatTemplate(
        source=source, origin=origin, family=family, bos_token=bos_token, eos_token=eos_token
    )
